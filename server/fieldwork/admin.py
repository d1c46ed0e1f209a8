"""Back-office admin for monitoring projects.

A project's status is read-only here: it changes only through ``services.project_transition``,
which the "验收通过" action calls. Status changes are listed as read-only history rows.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from server.errors import DomainError
from server.fieldwork import errors
from server.fieldwork.models import (
    MonitoringProject,
    MonitoringTask,
    ProjectAssignment,
    ProjectAttachment,
    ProjectAttachmentRequirement,
    ProjectEvent,
    TaskEvent,
    TaskPhotoType,
)
from server.fieldwork.services import DETAIL_FIELDS, check_assignment, project_transition
from server.registry.admin import (
    HistoryInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    add_domain_error,
    check_number_free,
    domain_message,
    run_for_each,
)
from server.registry.models import Contract
from server.registry.services import ensure_agency_approved, ensure_contract_accepted

S = MonitoringProject.Status
EDITABLE = (S.UNFINISHED, S.RETURNED)


def _locked_error(project: MonitoringProject) -> DomainError:
    return DomainError(errors.PROJECT_LOCKED, state=S(project.status).label)


class ProjectForm(forms.ModelForm):
    """The rules of ``services.project_create``."""

    def clean(self):
        cleaned = super().clean()
        agency = cleaned.get("agency") or (self.instance.agency if self.instance.agency_id else None)
        enterprise, contract = cleaned.get("enterprise"), cleaned.get("contract")
        if agency is None:
            return cleaned
        if self.instance.pk is None:
            try:
                ensure_agency_approved(agency)
            except DomainError as exc:
                add_domain_error(self, exc)
        if contract is not None and enterprise is not None:
            if (
                contract.agency_id != agency.pk
                or contract.nature != Contract.Nature.MONITORING
                or contract.enterprise_id != enterprise.pk
            ):
                self.add_error("contract", domain_message(DomainError(errors.PROJECT_CONTRACT_MISMATCH)))
            elif contract.status != Contract.Status.ACTIVE and "contract" in self.changed_data:
                self.add_error("contract", domain_message(DomainError(errors.PROJECT_CONTRACT_NOT_ACTIVE)))
            elif "contract" in self.changed_data:
                try:
                    ensure_contract_accepted(contract)
                except DomainError as exc:
                    self.add_error("contract", domain_message(exc))
        check_number_free(self, MonitoringProject, agency, errors.PROJECT_NUMBER_TAKEN)
        return cleaned


class ProjectAssignmentInline(ReadOnlyInline):
    model = ProjectAssignment
    fields = ("employment", "post")
    readonly_fields = fields
    verbose_name_plural = "项目人员（在“项目人员”页面编辑）"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("project", "employment__person", "employment__agency", "post")
        )


class ProjectAttachmentInline(ReadOnlyInline):
    model = ProjectAttachment
    fields = ("kind", "name", "file", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


class ProjectEventInline(HistoryInline):
    model = ProjectEvent
    verbose_name = "状态记录"
    verbose_name_plural = "状态记录（只读）"


@admin.register(MonitoringProject)
class MonitoringProjectAdmin(admin.ModelAdmin):
    form = ProjectForm
    list_display = (
        "number",
        "name",
        "agency",
        "enterprise",
        "monitoring_type",
        "status",
        "region_code",
        "created_at",
    )
    list_filter = ("status", "monitoring_type")
    list_select_related = ("agency", "enterprise")
    search_fields = ("number", "name", "agency__name", "enterprise__name", "contract__number", "^region_code")
    search_help_text = "按项目编号、名称、机构、委托企业、合同编号或行政区划代码（前缀）搜索。"
    date_hierarchy = "created_at"
    autocomplete_fields = ("agency", "enterprise", "contract")
    fieldsets = (
        (None, {"fields": ("agency", "number", "name", "monitoring_type", "region_code")}),
        ("委托", {"fields": ("enterprise", "contract")}),
        # Changed on the workspace's 编辑 page or PATCH /projects/{id} (services.project_update checks
        # the phone, the subcontractor's code); shown here.
        ("登记信息", {"fields": DETAIL_FIELDS}),
        ("状态", {"fields": ("status", "return_reason", "created_by", "created_at")}),
    )
    inlines = (ProjectAssignmentInline, ProjectAttachmentInline, ProjectEventInline)
    actions = ("accept_done",)

    STATUS_FIELDS = ("status", "return_reason", "created_by", "created_at", *DETAIL_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("region_code", *self.STATUS_FIELDS)
        if obj.status not in EDITABLE:
            # Submitted or done: locked, as services._ensure_editable has it.
            return (
                "agency",
                "number",
                "name",
                "monitoring_type",
                "region_code",
                "enterprise",
                "contract",
                *self.STATUS_FIELDS,
            )
        return ("agency", "region_code", *self.STATUS_FIELDS)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        # A project's region is its enterprise's (issue F9.5), as services.project_create sets it.
        obj.region_code = obj.enterprise.region_code
        super().save_model(request, obj, form, change)

    @admin.action(description="验收通过所选项目（已完成）", permissions=["change"])
    def accept_done(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda project: project_transition(project=project, to=S.DONE, actor=request.user),
            "已验收 {count} 个项目。",
        )


class ProjectAssignmentForm(forms.ModelForm):
    """The rules of ``services.project_assign``."""

    def clean(self):
        cleaned = super().clean()
        project, employment, post = cleaned.get("project"), cleaned.get("employment"), cleaned.get("post")
        if project is None or employment is None or post is None:
            return cleaned
        try:
            check_assignment(project=project, employment=employment, post=post)
        except DomainError as exc:
            add_domain_error(self, exc)
        return cleaned


@admin.register(ProjectAssignment)
class ProjectAssignmentAdmin(admin.ModelAdmin):
    form = ProjectAssignmentForm
    list_display = ("project", "employment", "post", "project_status")
    list_filter = ("post", "project__status")
    list_select_related = ("project", "employment__person", "employment__agency", "post")
    search_fields = (
        "project__number",
        "project__name",
        "employment__person__name",
        "employment__agency__name",
    )
    autocomplete_fields = ("project", "employment")

    @admin.display(description="项目状态", ordering="project__status")
    def project_status(self, obj: ProjectAssignment) -> str:
        return obj.project.get_status_display()

    def get_actions(self, request):
        # Unassigning is per project state (services.project_unassign): one at a time, not in bulk.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.project.status not in EDITABLE:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.project.status not in EDITABLE:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ProjectAttachment)
class ProjectAttachmentAdmin(ReadOnlyAdmin):
    """Attachments are stored by ``services.project_attach`` (checksummed once); shown here only."""

    list_display = ("name", "project", "kind", "number", "issued_on", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind",)
    list_select_related = ("project", "uploaded_by")
    search_fields = ("name", "=number", "sha256", "project__number", "project__name")
    date_hierarchy = "uploaded_at"
    fields = (
        "project",
        "kind",
        "name",
        "number",
        "issued_on",
        "file",
        "sha256",
        "size",
        "uploaded_by",
        "uploaded_at",
        "deleted_at",
        "deleted_by",
    )


@admin.register(ProjectAttachmentRequirement)
class ProjectAttachmentRequirementAdmin(admin.ModelAdmin):
    """The attachments a monitoring type's projects are submitted with (besides the contract, and a
    subcontractor's qualification when subcontracted): data, tuned here."""

    list_display = ("monitoring_type", "kind")
    list_filter = ("monitoring_type", "kind")
    ordering = ("monitoring_type", "id")


@admin.register(ProjectEvent)
class ProjectEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "project", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status", "from_status")
    list_select_related = ("project", "actor")
    search_fields = ("project__number", "project__name", "actor__username", "reason")
    date_hierarchy = "at"


@admin.register(MonitoringTask)
class MonitoringTaskAdmin(ReadOnlyAdmin):
    """Tasks are created on the phones and merged by the sync engine (``version``, ``field_stamps``):
    an edit here would bypass the merge, so they are shown only."""

    list_display = (
        "name",
        "project",
        "status",
        "created_by",
        "version",
        "created_at",
        "received_at",
        "updated_at",
        "deleted_at",
    )
    list_filter = ("status", ("deleted_at", admin.EmptyFieldListFilter))
    list_select_related = ("project", "created_by")
    search_fields = ("name", "note", "project__number", "project__name", "created_by__username")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "project",
        "name",
        "sample_codes",
        "note",
        "status",
        "created_by",
        "version",
        "created_at",
        "received_at",
        "updated_at",
        "deleted_at",
    )


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "task", "from_status", "to_status", "actor", "applied", "reason")
    list_filter = ("to_status", "from_status", "applied")
    list_select_related = ("task", "actor")
    search_fields = ("=task__id", "task__name", "actor__username", "reason")
    date_hierarchy = "at"


@admin.register(TaskPhotoType)
class TaskPhotoTypeAdmin(admin.ModelAdmin):
    """Which photo types a monitoring type takes, and which it needs before its task can end: data,
    tuned here."""

    list_display = ("monitoring_type", "photo_type", "required")
    list_editable = ("required",)
    list_filter = ("monitoring_type", "required")
    list_select_related = ("photo_type",)
