"""Back-office admin for O&M tasks, their staff and plans. The forms apply the rules of
``server/om/services.py`` (contract, points, instruments, eligible staff, plan windows)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count

from server.errors import DomainError
from server.om import errors
from server.om.models import (
    ChangeRequest,
    ChangeRequestEvent,
    ConfirmedVersion,
    DayConfirmation,
    FormTemplate,
    LimitSet,
    OmPlan,
    OmRecord,
    OmRecordEvent,
    OmRecordVersion,
    OmReport,
    OmTask,
    OmTaskEvent,
    OmTaskStaff,
    Review,
    ReviewedVersion,
)
from server.om.services import _check_plan, _check_plan_templates, _check_staff
from server.registry.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    add_domain_error,
    check_number_free,
    check_period,
    domain_message,
)
from server.registry.models import Contract
from server.registry.services import ensure_agency_approved, ensure_contract_accepted


class OmTaskForm(forms.ModelForm):
    """The rules of ``services.om_task_create``."""

    def clean(self):
        cleaned = super().clean()
        agency = cleaned.get("agency") or (self.instance.agency if self.instance.agency_id else None)
        contract, kind = cleaned.get("contract"), cleaned.get("kind")
        check_period(self, "starts_on", "ends_on", "任务结束日期不能早于开始日期。")
        if agency is None:
            return cleaned
        if self.instance.pk is None:
            try:
                ensure_agency_approved(agency)
            except DomainError as exc:
                add_domain_error(self, exc)
        if contract is not None and (
            contract.agency_id != agency.pk or contract.nature != Contract.Nature.OM
        ):
            self.add_error("contract", domain_message(DomainError(errors.OM_CONTRACT_MISMATCH)))
        elif contract is not None and "contract" in self.changed_data:
            try:
                ensure_contract_accepted(contract)
            except DomainError as exc:
                self.add_error("contract", domain_message(exc))
        points = cleaned.get("points")
        if contract is not None and kind and points is not None:
            if any(p.enterprise_id != contract.enterprise_id or p.kind != kind for p in points):
                self.add_error("points", domain_message(DomainError(errors.OM_POINT_NOT_IN_CONTRACT)))
            point_ids = {p.pk for p in points}
            if any(i.outlet_id not in point_ids for i in cleaned.get("instruments") or ()):
                self.add_error("instruments", domain_message(DomainError(errors.OM_INSTRUMENT_NOT_AT_POINT)))
        check_number_free(self, OmTask, agency, errors.OM_TASK_NUMBER_TAKEN)
        return cleaned


class OmTaskStaffInline(ReadOnlyInline):
    model = OmTaskStaff
    fields = ("employment", "role")
    readonly_fields = fields
    verbose_name_plural = "运维人员（在“运维人员”页面编辑）"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("task", "employment__person", "employment__agency")
        )


class OmPlanInline(ReadOnlyInline):
    model = OmPlan
    fields = ("title", "frequency", "interval_days", "window_start", "window_end", "outlet")
    readonly_fields = fields
    verbose_name_plural = "运维计划（在“运维计划”页面编辑）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("outlet__enterprise")


@admin.register(OmTask)
class OmTaskAdmin(admin.ModelAdmin):
    form = OmTaskForm
    list_display = (
        "number",
        "name",
        "agency",
        "contract",
        "kind",
        "starts_on",
        "ends_on",
        "status",
        "point_count",
    )
    list_filter = ("status", "kind")
    list_select_related = ("agency", "contract")
    search_fields = ("number", "name", "agency__name", "contract__number", "contract__enterprise__name")
    search_help_text = "按任务编号、名称、机构、合同编号或委托企业搜索。"
    date_hierarchy = "starts_on"
    autocomplete_fields = ("agency", "contract", "points", "instruments")
    inlines = (OmTaskStaffInline, OmPlanInline)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_point_count=Count("points", distinct=True))

    @admin.display(description="点位数", ordering="_point_count")
    def point_count(self, obj: OmTask) -> int:
        return obj._point_count

    def get_readonly_fields(self, request, obj=None):
        # 已完结 is a move with a history row (services.om_task_move), never an edit here.
        return ("agency", "status") if obj is not None else ("status",)


class OmTaskStaffForm(forms.ModelForm):
    """The rules of ``services.om_task_add_staff``."""

    def clean(self):
        cleaned = super().clean()
        task, employment, role = cleaned.get("task"), cleaned.get("employment"), cleaned.get("role")
        if task is not None and employment is not None and role:
            try:
                _check_staff(task.agency, [(employment, role)])
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(OmTaskStaff)
class OmTaskStaffAdmin(admin.ModelAdmin):
    form = OmTaskStaffForm
    list_display = ("task", "employment", "role")
    list_filter = ("role",)
    list_select_related = ("task", "employment__person", "employment__agency")
    search_fields = ("task__number", "task__name", "employment__person__name", "employment__agency__name")
    autocomplete_fields = ("task", "employment")


class OmPlanForm(forms.ModelForm):
    """The rules of ``services.om_plan_add``."""

    def clean(self):
        cleaned = super().clean()
        check_period(self, "window_start", "window_end", "执行结束不能早于执行开始。")
        task, outlet = cleaned.get("task"), cleaned.get("outlet")
        start, end, frequency = (
            cleaned.get("window_start"),
            cleaned.get("window_end"),
            cleaned.get("frequency"),
        )
        if task is None or start is None or end is None or not frequency:
            return cleaned
        try:
            _check_plan(task, start, end, frequency, cleaned.get("interval_days"))
            cleaned["template_codes"] = _check_plan_templates(task, cleaned.get("template_codes") or [])
            if outlet is not None and not task.points.filter(pk=outlet.pk).exists():
                raise DomainError(errors.OM_POINT_NOT_IN_CONTRACT)
        except DomainError as exc:
            add_domain_error(self, exc)
        if frequency != OmPlan.Frequency.CUSTOM:
            cleaned["interval_days"] = None
        return cleaned


@admin.register(OmPlan)
class OmPlanAdmin(admin.ModelAdmin):
    form = OmPlanForm
    list_display = (
        "title",
        "task",
        "frequency",
        "interval_days",
        "window_start",
        "window_end",
        "outlet",
        "template_codes",
    )
    list_filter = ("frequency",)
    list_select_related = ("task", "outlet__enterprise")
    search_fields = ("title", "task__number", "task__name", "outlet__name")
    date_hierarchy = "window_start"
    autocomplete_fields = ("task", "outlet")


# --- Daily records: written on the phones through server/om/records.py, shown here -----------------
@admin.register(FormTemplate)
class FormTemplateAdmin(ReadOnlyAdmin):
    """Loaded from server/om/forms_data by ``manage.py om_forms_load``; a changed form is a new version."""

    list_display = ("code", "version", "name", "outlet_kind", "loaded_at")
    list_filter = ("outlet_kind",)
    search_fields = ("code", "name")


@admin.register(LimitSet)
class LimitSetAdmin(admin.ModelAdmin):
    """Judgement limits: correct a value or confirm its clause here (or in forms_data/limits.json and
    ``om_forms_load``). Records keep the limit they were judged with."""

    list_display = ("key", "measure", "analyte", "confirmed", "source")
    list_filter = ("confirmed", "measure", "analyte")
    search_fields = ("key", "source", "note")
    readonly_fields = ("key",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OmRecordVersionInline(ReadOnlyInline):
    model = OmRecordVersion
    fields = ("number", "saved_by", "saved_at", "note")
    readonly_fields = fields


class OmRecordEventInline(ReadOnlyInline):
    model = OmRecordEvent
    fields = ("at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields


@admin.register(OmRecord)
class OmRecordAdmin(ReadOnlyAdmin):
    list_display = ("om_date", "template", "outlet", "task", "filled_by", "status", "version", "submitted_at")
    list_filter = ("status", "template__outlet_kind", "template__code")
    list_select_related = ("template", "outlet__enterprise", "task", "filled_by")
    search_fields = (
        "=id",
        "task__number",
        "task__name",
        "outlet__name",
        "enterprise__name",
        "filled_by__username",
    )
    date_hierarchy = "om_date"
    inlines = (OmRecordVersionInline, OmRecordEventInline)
    exclude = ("instruments",)


# --- Task status history and 信息变更申请 (issue F13): moved by server/om/services.py and changes.py only
@admin.register(OmTaskEvent)
class OmTaskEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "task", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status",)
    list_select_related = ("task", "actor")
    search_fields = ("task__number", "task__name", "actor__username", "reason")
    date_hierarchy = "at"


class ChangeRequestEventInline(ReadOnlyInline):
    model = ChangeRequestEvent
    fields = ("at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    """Decided by the enterprise or its region's regulator (``changes.change_request_move``), never here."""

    list_display = ("requested_at", "contract", "task", "agency", "enterprise", "status")
    list_filter = ("status",)
    list_select_related = ("contract", "task", "agency", "enterprise")
    search_fields = ("contract__number", "task__number", "agency__name", "enterprise__name")
    date_hierarchy = "requested_at"
    inlines = (ChangeRequestEventInline,)


@admin.register(ChangeRequestEvent)
class ChangeRequestEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "request", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status",)
    list_select_related = ("request__contract", "request__task", "actor")
    search_fields = ("actor__username", "reason")
    date_hierarchy = "at"


@admin.register(OmRecordVersion)
class OmRecordVersionAdmin(ReadOnlyAdmin):
    list_display = ("record", "number", "saved_by", "saved_at")
    list_select_related = ("record__template", "saved_by")
    search_fields = ("=record__id", "note")


@admin.register(OmRecordEvent)
class OmRecordEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "record", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status",)
    list_select_related = ("record__template", "actor")
    search_fields = ("=record__id", "actor__username", "reason")
    date_hierarchy = "at"


class ConfirmedVersionInline(ReadOnlyInline):
    model = ConfirmedVersion
    fields = ("record", "version", "invalidated_at", "invalidated_by_version")
    readonly_fields = fields


@admin.register(DayConfirmation)
class DayConfirmationAdmin(ReadOnlyAdmin):
    list_display = ("om_date", "enterprise", "actor", "at")
    list_select_related = ("enterprise", "actor")
    search_fields = ("enterprise__name", "actor__username")
    date_hierarchy = "om_date"
    inlines = (ConfirmedVersionInline,)


@admin.register(ConfirmedVersion)
class ConfirmedVersionAdmin(ReadOnlyAdmin):
    list_display = ("confirmation", "record", "version", "invalidated_at", "invalidated_by_version")
    list_filter = (("invalidated_at", admin.EmptyFieldListFilter),)
    list_select_related = ("confirmation__enterprise", "record__template")
    search_fields = ("=record__id",)


class ReviewedVersionInline(ReadOnlyInline):
    model = ReviewedVersion
    fields = ("record", "version")
    readonly_fields = fields


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("at", "agency", "actor", "decision", "reason")
    list_filter = ("decision",)
    list_select_related = ("agency", "actor")
    search_fields = ("agency__name", "actor__username", "reason")
    date_hierarchy = "at"
    inlines = (ReviewedVersionInline,)


@admin.register(ReviewedVersion)
class ReviewedVersionAdmin(ReadOnlyAdmin):
    list_display = ("review", "record", "version")
    list_select_related = ("review__agency", "record__template")
    search_fields = ("=record__id",)


@admin.register(OmReport)
class OmReportAdmin(ReadOnlyAdmin):
    list_display = ("name", "category", "task", "uploaded_by", "uploaded_at", "file_size")
    list_filter = ("category",)
    list_select_related = ("task", "uploaded_by")
    search_fields = ("name", "task__number", "task__name", "file_name", "file_sha256")
    date_hierarchy = "uploaded_at"
    exclude = ("records",)
