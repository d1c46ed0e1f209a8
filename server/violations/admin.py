"""Back-office admin for violations and rectifications.

Shown, never edited here: a violation is opened, rectified and judged through ``services.py``, whose
table (VIOLATION_TRANSITIONS) is the only writer of its status; every move is a history row.
"""

from __future__ import annotations

from django.contrib import admin

from server.registry.admin import ReadOnlyAdmin, ReadOnlyInline
from server.violations.models import Rectification, Violation, ViolationEvent, overdue_expression


class RectificationInline(ReadOnlyInline):
    model = Rectification
    fields = ("submitted_at", "submitted_by", "text", "file", "outcome", "rejection_reason", "reviewed_by")
    readonly_fields = fields
    verbose_name_plural = "整改记录（只读）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("submitted_by", "reviewed_by")


class ViolationEventInline(ReadOnlyInline):
    model = ViolationEvent
    fields = ("at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    show_change_link = False
    verbose_name = "状态记录"
    verbose_name_plural = "状态记录（只读）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class OverdueFilter(admin.SimpleListFilter):
    title = "是否逾期"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("1", "已逾期"), ("0", "未逾期"))

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(overdue=self.value() == "1")
        return queryset


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = (
        "project",
        "om_task",
        "agency",
        "short_description",
        "deadline",
        "status",
        "is_overdue",
        "opened_by",
        "opened_at",
    )
    list_filter = ("status", OverdueFilter, "deadline")
    list_select_related = ("project__agency", "om_task__agency", "opened_by")
    search_fields = (
        "project__number",
        "project__name",
        "project__agency__name",
        "om_task__number",
        "om_task__name",
        "om_task__agency__name",
        "description",
    )
    search_help_text = "按项目或运维任务的编号、名称、机构或违规情况搜索。"
    date_hierarchy = "opened_at"
    fields = (
        "project",
        "om_task",
        "description",
        "deadline",
        "status",
        "photo",
        "checkin",
        "om_record",
        "opened_by",
        "opened_at",
        "updated_at",
    )
    inlines = (RectificationInline, ViolationEventInline)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(overdue=overdue_expression())

    @admin.display(description="机构")
    def agency(self, obj: Violation):
        return (obj.project or obj.om_task).agency

    @admin.display(description="违规情况")
    def short_description(self, obj: Violation) -> str:
        return obj.description if len(obj.description) <= 40 else obj.description[:40] + "…"

    @admin.display(description="已逾期", boolean=True, ordering="overdue")
    def is_overdue(self, obj: Violation) -> bool:
        return obj.overdue


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = (
        "violation",
        "project",
        "submitted_by",
        "submitted_at",
        "outcome",
        "rejection_reason",
        "reviewed_by",
        "reviewed_at",
    )
    list_filter = ("outcome",)
    list_select_related = ("violation__project", "violation__om_task", "submitted_by", "reviewed_by")
    search_fields = (
        "violation__project__number",
        "violation__project__name",
        "violation__om_task__number",
        "violation__om_task__name",
        "text",
        "rejection_reason",
    )
    date_hierarchy = "submitted_at"
    fields = (
        "violation",
        "text",
        "file",
        "file_name",
        "sha256",
        "size",
        "submitted_by",
        "submitted_at",
        "outcome",
        "rejection_reason",
        "reviewed_by",
        "reviewed_at",
    )

    @admin.display(description="监测项目 / 运维任务")
    def project(self, obj: Rectification):
        return obj.violation.project or obj.violation.om_task


@admin.register(ViolationEvent)
class ViolationEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "violation", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status", "from_status")
    list_select_related = ("violation__project", "violation__om_task", "actor")
    search_fields = ("violation__project__number", "violation__project__name", "actor__username", "reason")
    date_hierarchy = "at"
