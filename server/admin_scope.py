"""Regulators in the admin: they sign in, view only, and only what lies in their region.

One place decides it. ``FieldtraceAdminSite`` (the default site, see ``server.apps.AdminConfig``)
lets an active regulator in, and every ModelAdmin registered on it is given ``RegulatorScope``:

- a model with a scope in ``SCOPES`` (the ``*_for(user)`` functions of ``server/access.py`` and the
  violations selectors) is listed, shown and searched (autocomplete too) within that scope; an
  object outside it is "not found" (the admin redirects to its index);
- a model without a scope is not shown to regulators at all; its inlines are left out too;
- nothing is added, changed or deleted by a regulator, and no action is offered.

Platform administrators and other staff accounts are untouched; other roles still cannot enter.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Model, QuerySet

from server.accounts.models import Role


def is_regulator(user) -> bool:
    """A regulator account: whatever else it has (even ``is_staff``), its role decides."""
    return getattr(user, "role", None) == Role.REGULATOR


def may_enter(user) -> bool:
    """An active regulator with a region (without one, a scope would cover the whole country)."""
    return bool(user.is_active and is_regulator(user) and user.region_code)


@cache
def scopes() -> dict[type[Model], Callable]:
    """Model -> its scope: the rows a user may see. Read once, after the apps are loaded."""
    from media_rules.models import Photo
    from server import access
    from server.fieldwork.models import MonitoringProject, MonitoringTask
    from server.om.models import OmRecord, OmTask
    from server.registry.models import (
        Agency,
        Certificate,
        Contract,
        Employment,
        Enterprise,
        Instrument,
        Outlet,
    )
    from server.tracks.models import CheckIn
    from server.violations.models import Rectification, Violation
    from server.violations.selectors import rectifications_for, violations_for

    return {
        Agency: access.agencies_for,
        Enterprise: access.enterprises_for,
        Outlet: access.outlets_for,
        Instrument: access.instruments_for,
        Contract: access.contracts_for,
        Employment: access.employments_for,
        Certificate: access.certificates_for,
        MonitoringProject: access.projects_for,
        MonitoringTask: access.tasks_for,
        Photo: access.photos_for,
        CheckIn: access.checkins_for,
        OmTask: access.om_tasks_for,
        OmRecord: access.om_records_for,
        Violation: violations_for,
        Rectification: rectifications_for,
    }


def scope_for(model: type[Model]) -> Callable | None:
    return scopes().get(model)


class RegulatorReadOnly:
    """For a regulator: view a scoped model within its scope, nothing else. Others: unchanged.
    Shared by the ModelAdmins and by the inlines they show."""

    def _regulator(self, request) -> bool:
        return is_regulator(request.user)

    def _scoped(self, request) -> bool:
        return may_enter(request.user) and scope_for(self.model) is not None

    def get_queryset(self, request) -> QuerySet:
        qs = super().get_queryset(request)
        if not self._regulator(request):
            return qs
        scope = scope_for(self.model)
        if scope is None or not may_enter(request.user):
            return qs.none()
        # Filter the admin's own queryset (its annotations, ordering and select_related stay).
        return qs.filter(pk__in=scope(request.user).values("pk"))

    def has_view_permission(self, request, obj=None) -> bool:
        if self._regulator(request):
            if not self._scoped(request):
                return False
            if obj is None or isinstance(self, admin.options.InlineModelAdmin):
                return True  # an inline's obj is the parent; its rows come from get_queryset
            return scope_for(self.model)(request.user).filter(pk=obj.pk).exists()
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs) -> bool:
        if self._regulator(request):
            return False
        return super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        if self._regulator(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if self._regulator(request):
            return False
        return super().has_delete_permission(request, obj)


class RegulatorScope(RegulatorReadOnly):
    """Mixed into every ModelAdmin registered on the site."""

    def has_module_permission(self, request) -> bool:
        if self._regulator(request):
            return self._scoped(request)
        return super().has_module_permission(request)

    def get_actions(self, request):
        if self._regulator(request):
            return {}
        return super().get_actions(request)

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        if not self._regulator(request):
            return inlines
        return [scoped_class(inline) for inline in inlines if scope_for(inline.model) is not None]


@cache
def scoped_class(admin_class: type) -> type:
    """``admin_class`` with ``RegulatorScope`` (or, for an inline, ``RegulatorReadOnly``) in front,
    under the same name."""
    if issubclass(admin_class, RegulatorReadOnly):
        return admin_class
    mixin = RegulatorReadOnly if issubclass(admin_class, admin.options.InlineModelAdmin) else RegulatorScope
    return type(
        admin_class.__name__,
        (mixin, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )


class RegulatorAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, which also lets an active regulator in."""

    def confirm_login_allowed(self, user) -> None:
        if may_enter(user):
            AuthenticationForm.confirm_login_allowed(self, user)
            return
        super().confirm_login_allowed(user)


class FieldtraceAdminSite(admin.AdminSite):
    login_form = RegulatorAuthenticationForm

    def has_permission(self, request) -> bool:
        return super().has_permission(request) or may_enter(request.user)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = scoped_class(admin_class or admin.ModelAdmin)
        return super().register(model_or_iterable, admin_class, **options)
