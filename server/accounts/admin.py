"""Back-office admin for accounts, devices, device tokens and WeChat bindings.

Tokens are issued by signing in and revoked through ``services.token_revoke`` (the "撤销所选令牌"
action); their hash is never shown. Accounts follow the scope rules of ``services.account_create``.
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, Q

from server.accounts.models import AGENCY_ROLES, STAFF_ROLES, Device, DeviceToken, Role, User, WeChatBinding
from server.accounts.services import (
    account_close,
    check_person_free,
    check_phone_free,
    check_staff_person,
    device_revoke,
    normalize_mobile,
    token_revoke,
)
from server.errors import DomainError
from server.registry.admin import ReadOnlyAdmin, ReadOnlyInline, domain_message, run_for_each

SCOPE_FIELDS = ("role", "agency", "person", "enterprise", "region_code", "phone")


class ScopeFormMixin:
    """The scope an account's role needs (the ``user_scope_matches_role`` constraint and the rules
    of ``services.account_create``), reported per field instead of as a database error."""

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if not role:
            return cleaned
        agency, person = cleaned.get("agency"), cleaned.get("person")
        enterprise, region_code = cleaned.get("enterprise"), cleaned.get("region_code") or ""
        if role in AGENCY_ROLES and agency is None:
            self.add_error("agency", "机构账号须选择所属机构。")
        if role not in AGENCY_ROLES and agency is not None:
            self.add_error("agency", "该角色的账号不属于机构，请清空。")
        if role == Role.ENTERPRISE and enterprise is None:
            self.add_error("enterprise", "排污企业确认人须选择所属企业。")
        if role != Role.ENTERPRISE and enterprise is not None:
            self.add_error("enterprise", "该角色的账号不属于排污企业，请清空。")
        if role == Role.REGULATOR and not re.fullmatch(r"\d{6}", region_code):
            self.add_error("region_code", "监管方账号须填写 6 位辖区行政区划代码，如 310104。")
        is_active = cleaned.get("is_active", self.instance.is_active if self.instance.pk else True)
        if role in STAFF_ROLES:
            try:
                check_staff_person(person=person, agency=agency)
                if is_active:
                    # The admin is one more path that gives accounts (issue 23): the same rule.
                    check_person_free(person=person, exclude=self.instance)
            except DomainError as exc:
                self.add_error("person", domain_message(exc))
        elif person is not None:
            self.add_error("person", "只有现场人员和审核人员的账号关联技术人员，请清空。")
        phone = cleaned.get("phone") or ""
        if phone and is_active and ("phone" in self.changed_data or not self.instance.pk):
            try:
                cleaned["phone"] = normalize_mobile(phone)
                check_phone_free(phone=cleaned["phone"], exclude=self.instance)
            except DomainError as exc:
                self.add_error("phone", domain_message(exc))
        if role == Role.AGENCY_MAIN and agency is not None and is_active:
            other_main = (
                User.objects.filter(agency=agency, role=Role.AGENCY_MAIN, is_active=True)
                .exclude(pk=self.instance.pk)
                .exists()
            )
            if other_main:
                self.add_error("role", "该机构已有启用的主账号（每个机构一个主账号）。")
        return cleaned


class UserAddForm(ScopeFormMixin, AdminUserCreationForm):
    pass


class UserEditForm(ScopeFormMixin, UserChangeForm):
    pass


class UserDeviceTokenInline(ReadOnlyInline):
    model = DeviceToken
    fk_name = "user"
    fields = ("prefix", "device", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    verbose_name_plural = "设备令牌（只读；在“设备令牌”页面撤销）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device", "user")


class UserWeChatBindingInline(ReadOnlyInline):
    model = WeChatBinding
    fields = ("appid", "openid", "bound_at")
    readonly_fields = fields


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    fieldsets = (
        *BaseUserAdmin.fieldsets[:2],
        ("角色与范围", {"fields": (*SCOPE_FIELDS, "created_by")}),
        *BaseUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("角色与范围", {"classes": ("wide",), "fields": ("first_name", *SCOPE_FIELDS)}),
    )
    list_display = (
        "username",
        "first_name",
        "role",
        "agency",
        "enterprise",
        "region_code",
        "phone",
        "is_active",
        "is_staff",
        "last_login",
    )
    list_filter = ("role", "is_active", "is_staff", "is_superuser", "groups")
    list_select_related = ("agency", "enterprise")
    search_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "phone",
        "agency__name",
        "enterprise__name",
        "^region_code",
    )
    autocomplete_fields = ("agency", "person", "enterprise")
    readonly_fields = ("created_by",)
    date_hierarchy = "date_joined"
    inlines = (UserDeviceTokenInline, UserWeChatBindingInline)
    actions = ("close_accounts",)

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="停用所选账号（并撤销其设备令牌）", permissions=["change"])
    def close_accounts(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda user: account_close(user=user, actor=request.user),
            "已停用 {count} 个账号。",
        )


class RevokeMixin:
    """A "revoke" action permission: whoever may change the model may revoke, even though the
    rows themselves are read-only here."""

    def has_revoke_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


class DeviceTokenInline(ReadOnlyInline):
    model = DeviceToken
    fk_name = "device"
    fields = ("prefix", "user", "created_at", "last_used_at", "revoked_at", "revoked_by")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device", "user", "revoked_by")


@admin.register(Device)
class DeviceAdmin(RevokeMixin, ReadOnlyAdmin):
    list_display = (
        "__str__",
        "user",
        "platform",
        "app_version",
        "model_name",
        "has_live_token",
        "enrolled_at",
        "last_seen_at",
    )
    list_filter = ("platform",)
    list_select_related = ("user",)
    search_fields = ("model_name", "app_version", "user__username", "user__first_name")
    date_hierarchy = "last_seen_at"
    fields = (
        "id",
        "user",
        "platform",
        "app_version",
        "model_name",
        "public_key",
        "enrolled_at",
        "last_seen_at",
    )
    inlines = (DeviceTokenInline,)
    actions = ("revoke_device_tokens",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_live_tokens=Count("tokens", filter=Q(tokens__revoked_at__isnull=True)))
        )

    @admin.display(description="有有效令牌", boolean=True)
    def has_live_token(self, obj: Device) -> bool:
        return obj._live_tokens > 0

    @admin.action(description="撤销所选设备的令牌", permissions=["revoke"])
    def revoke_device_tokens(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda device: device_revoke(device=device, actor=request.user),
            "已撤销 {count} 台设备的令牌。",
        )


class TokenStateFilter(admin.SimpleListFilter):
    title = "令牌状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("live", "有效"), ("revoked", "已撤销"))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(DeviceToken)
class DeviceTokenAdmin(RevokeMixin, ReadOnlyAdmin):
    # key_hash is never shown: it is the only thing that ties a bearer token to an account.
    fields = ("prefix", "device", "user", "created_at", "last_used_at", "revoked_at", "revoked_by")
    exclude = ("key_hash",)
    list_display = ("prefix", "user", "device", "created_at", "last_used_at", "revoked_at", "revoked_by")
    list_filter = (TokenStateFilter, "device__platform")
    list_select_related = ("user", "device", "revoked_by")
    search_fields = ("prefix", "user__username", "user__first_name")
    date_hierarchy = "created_at"
    actions = ("revoke_tokens",)

    @admin.action(description="撤销所选令牌", permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda record: token_revoke(record=record, actor=request.user),
            "已撤销 {count} 个令牌。",
        )


@admin.register(WeChatBinding)
class WeChatBindingAdmin(ReadOnlyAdmin):
    """Bindings are made by signing in through WeChat; deleting one unbinds that WeChat user."""

    list_display = ("user", "appid", "openid", "unionid", "bound_at")
    list_filter = ("appid",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__first_name", "=openid", "=unionid")
    date_hierarchy = "bound_at"
    fields = ("user", "appid", "openid", "unionid", "bound_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("accounts.delete_wechatbinding")
