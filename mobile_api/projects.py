"""Monitoring projects (项目登记, seed 002): registering, staff, attachments, the review moves, the
status history and the export. Views parse and authorise; ``server.fieldwork.services`` decides."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import XLSX, AttachmentField, FilterSet, ReasonIn, RegionNameField, parse, parse_query
from mobile_api.exports import CSV, ExportIn, FileFormatNegotiation, table_response
from server import access
from server.fields import DayField, IdField
from server.fieldwork import services as project_services
from server.fieldwork.models import MonitoringProject, ProjectAssignment, ProjectAttachment, ProjectEvent
from server.regions import region_name

# --- Monitoring projects --------------------------------------------------------------------------


class AssignmentOut(serializers.ModelSerializer):
    employment = serializers.IntegerField(source="employment_id")
    name = serializers.CharField(source="employment.person.name")
    post = serializers.CharField(source="post.code")

    class Meta:
        model = ProjectAssignment
        fields = ["id", "employment", "name", "post"]


class AttachmentOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = ProjectAttachment
        fields = ["id", "kind", "kind_label", "name", "sha256", "size", "uploaded_at", "number", "issued_on"]


class RequiredAttachmentOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ProjectAttachment.Kind.choices)
    label = serializers.CharField(help_text="附件类型的中文名称")
    present = serializers.BooleanField(help_text="已上传（未删除）")


class ProjectOut(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    region_name = RegionNameField(source="region_code")
    commission_category_label = serializers.CharField(
        source="get_commission_category_display", read_only=True
    )
    assignments = AssignmentOut(many=True, read_only=True)
    attachments = AttachmentOut(many=True, read_only=True)
    required_attachments = serializers.SerializerMethodField(
        help_text="提交前须上传的附件（合同；监测类型要求的，如危险废物鉴别的鉴别方案和鉴别报告；分包时的分包单位资质），"
        "各自是否已上传。"
    )

    class Meta:
        model = MonitoringProject
        fields = [
            "id",
            "agency",
            "agency_name",
            "number",
            "name",
            "monitoring_type",
            "enterprise",
            "enterprise_name",
            "contract",
            "region_code",
            "region_name",
            "monitoring_items",
            "commission_category",
            "commission_category_label",
            "client_contact",
            "client_phone",
            "subcontracted",
            "subcontractor_name",
            "subcontractor_credit_code",
            "training_on",
            "training_content",
            "status",
            "status_label",
            "return_reason",
            "assignments",
            "attachments",
            "required_attachments",
            "created_at",
        ]

    @extend_schema_field(RequiredAttachmentOut(many=True))
    def get_required_attachments(self, project: MonitoringProject) -> list[dict]:
        # One read of the requirements table per answer, however many projects it lists.
        if "attachment_requirements" not in self.context:
            self.context["attachment_requirements"] = project_services.attachment_requirements()
        requirements = self.context["attachment_requirements"]
        present = {a.kind for a in project.attachments.all()}  # prefetched, live ones only
        return project_services.attachment_checklist(project, present, requirements)


class ProjectDetailsIn(serializers.Serializer):
    """监测信息, 委托信息 (是否分包) and 培训信息 (seed 002 项目登记)."""

    monitoring_items = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=100,
        help_text='监测项目（因子），如 ["pH", "化学需氧量"]',
    )
    commission_category = serializers.ChoiceField(
        choices=MonitoringProject.CommissionCategory.choices, required=False, allow_blank=True
    )
    client_contact = serializers.CharField(max_length=50, required=False, allow_blank=True)
    client_phone = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="手机号或带区号的固定电话；格式不对：client_phone_invalid",
    )
    subcontracted = serializers.BooleanField(required=False)
    subcontractor_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    subcontractor_credit_code = serializers.CharField(
        max_length=18,
        required=False,
        allow_blank=True,
        help_text="分包单位统一社会信用代码（GB 32100，校验位）；分包时必填："
        "subcontractor_required / invalid_credit_code",
    )
    training_on = DayField(required=False, allow_null=True)
    training_content = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class ProjectIn(ProjectDetailsIn):
    number = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    monitoring_type = serializers.ChoiceField(choices=MonitoringProject.MonitoringType.choices)
    contract = serializers.IntegerField()
    region_code = serializers.CharField(
        max_length=6,
        required=False,
        help_text="Optional: a project's region is always its client enterprise's (jurisdiction follows "
        "the enterprise); naming another is refused with project_region_not_enterprise.",
    )


class ProjectUpdateIn(ProjectDetailsIn):
    """编辑: only the fields sent change, while the project is unfinished or returned (project_locked
    otherwise). The contract, the enterprise and the region stay."""

    number = serializers.CharField(max_length=64, required=False)
    name = serializers.CharField(max_length=200, required=False)
    monitoring_type = serializers.ChoiceField(
        choices=MonitoringProject.MonitoringType.choices,
        required=False,
        help_text="Not once the project has tasks: project_type_has_tasks.",
    )


class AssignIn(serializers.Serializer):
    employment = IdField()
    post = serializers.SlugField()


class AttachIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ProjectAttachment.Kind.choices)
    file = AttachmentField(max_length=200)
    number = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="报告编号 (kind report only): unique within the agency; the public look-up finds it.",
    )
    issued_on = DayField(
        required=False, allow_null=True, default=None, help_text="签发日期 (kind report only)."
    )


S = MonitoringProject.Status
# What each move of the project's table means to the people in seed 002 (查询统计: 提交, 退回再提交).
PROJECT_EVENT_ACTIONS = {
    (S.UNFINISHED, S.SUBMITTED): "submit",
    (S.RETURNED, S.SUBMITTED): "resubmit",
    (S.SUBMITTED, S.RETURNED): "return",
    (S.SUBMITTED, S.DONE): "accept",
    (S.UNFINISHED, S.DELETED): "delete",
    (S.RETURNED, S.DELETED): "delete",
}


class ProjectEventOut(serializers.ModelSerializer):
    action = serializers.SerializerMethodField(help_text="submit | resubmit | return | accept | delete")
    from_status_label = serializers.CharField(source="get_from_status_display", read_only=True)
    to_status_label = serializers.CharField(source="get_to_status_display", read_only=True)
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = ProjectEvent
        fields = [
            "id",
            "action",
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "actor",
            "reason",
            "at",
        ]

    def get_action(self, event: ProjectEvent) -> str:
        return PROJECT_EVENT_ACTIONS.get((event.from_status, event.to_status), "")


PROJECT_EXPORT_HEADERS = (
    "项目编号",
    "项目名称",
    "监测类型",
    "委托企业",
    "项目区域",
    "监测状态",
    "退回原因",
    "监测项目",
    "委托类别",
    "委托企业联系人",
    "委托企业联系电话",
    "是否分包",
    "分包单位名称",
    "分包单位统一社会信用代码",
    "培训日期",
    "培训内容",
    "登记时间",
)


def project_export_row(project: MonitoringProject) -> list:
    return [
        project.number,
        project.name,
        project.get_monitoring_type_display(),
        project.enterprise.name,
        region_name(project.region_code),  # a person reads 上海市徐汇区, not 310104 (issue 23)
        project.get_status_display(),
        project.return_reason,
        "、".join(project.monitoring_items),
        project.get_commission_category_display(),
        project.client_contact,
        project.client_phone,
        "是" if project.subcontracted else "否",
        project.subcontractor_name,
        project.subcontractor_credit_code,
        project.training_on.isoformat() if project.training_on else "",
        project.training_content,
        # Local time, to the second: Excel has no time zones, people read Beijing time.
        timezone.localtime(project.created_at).replace(tzinfo=None, microsecond=0),
    ]


class ProjectFilter(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    region = filters.CharFilter(field_name="region_code", lookup_expr="startswith")
    since = filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="Registered on or after (Asia/Shanghai)."
    )
    until = filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text="Registered on or before (Asia/Shanghai)."
    )

    class Meta:
        model = MonitoringProject
        fields = ["status", "number", "monitoring_type", "enterprise", "agency", "contract", "since", "until"]


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """项目登记 and 查询统计. A deleted project is in no answer (404, as another agency's)."""

    queryset = MonitoringProject.objects.none()  # for the schema; requests use get_queryset
    serializer_class = ProjectOut
    filterset_class = ProjectFilter

    def get_queryset(self):
        return (
            access.projects_for(self.request.user)
            .select_related("agency", "enterprise")
            .prefetch_related(
                Prefetch(
                    "assignments",
                    queryset=ProjectAssignment.objects.select_related("employment__person", "post").order_by(
                        "id"
                    ),
                ),
                Prefetch(
                    "attachments",
                    queryset=ProjectAttachment.objects.filter(deleted_at__isnull=True).order_by(
                        "uploaded_at", "id"
                    ),
                ),
            )
            .order_by("-created_at", "id")
        )

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    def _render(self, project: MonitoringProject, code: int = status.HTTP_200_OK) -> Response:
        return Response(ProjectOut(access.get_visible(self.get_queryset(), project.pk)).data, status=code)

    @extend_schema(request=ProjectIn, responses={201: ProjectOut})
    def create(self, request: Request) -> Response:
        agency = access.require_agency_admin(request.user)
        data = parse(ProjectIn, request.data)
        contract = access.access_contract(request.user, data.pop("contract"), field="contract")
        project = project_services.project_create(
            agency=agency, actor=request.user, enterprise=contract.enterprise, contract=contract, **data
        )
        return self._render(project, status.HTTP_201_CREATED)

    def _managed(self, request: Request) -> MonitoringProject:
        project = self.get_object()
        access.require_agency_admin(request.user, project.agency)
        return project

    @extend_schema(request=ProjectUpdateIn, responses=ProjectOut)
    def partial_update(self, request: Request, pk=None) -> Response:
        """编辑: while unfinished or returned; what the registration rules refuse, with its code."""
        project = self._managed(request)
        changes = parse(ProjectUpdateIn, request.data)
        project_services.project_update(project=project, actor=request.user, **changes)
        return self._render(project)

    @extend_schema(request=ReasonIn, responses={204: None})
    def destroy(self, request: Request, pk=None) -> Response:
        """删除: while unfinished or returned, and without started or ended tasks (project_has_work).
        The project leaves every list and pull; its history (a ``delete`` event) stays."""
        project = self._managed(request)
        reason = parse(ReasonIn, request.data)["reason"]
        project_services.project_delete(project=project, actor=request.user, reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _attachment(self, request: Request, attachment_id) -> ProjectAttachment:
        project = self.get_object()
        live = ProjectAttachment.objects.filter(project=project, deleted_at__isnull=True)
        return access.get_visible(live.select_related("project__agency"), attachment_id)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)/file")
    def attachment_file(self, request: Request, pk=None, attachment_id=None) -> FileResponse:
        """下载: the file as uploaded, for whoever sees the project."""
        attachment = self._attachment(request, attachment_id)
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)

    @extend_schema(request=None, responses=ProjectOut)
    @action(detail=True, methods=["delete"], url_path=r"attachments/(?P<attachment_id>[0-9]+)")
    def attachment_delete(self, request: Request, pk=None, attachment_id=None) -> Response:
        """删除附件 while the project is unfinished or returned; kept in the audit trail."""
        attachment = self._attachment(request, attachment_id)
        access.require_agency_admin(request.user, attachment.project.agency)
        project_services.project_attachment_delete(attachment=attachment, actor=request.user)
        return self._render(attachment.project)

    @extend_schema(request=AssignIn, responses={201: ProjectOut})
    @action(detail=True, methods=["post"])
    def assignments(self, request: Request, pk=None) -> Response:
        project = self.get_object()
        access.require_agency_admin(request.user, project.agency)
        data = parse(AssignIn, request.data)
        employment = access.access_employment(request.user, data["employment"], field="employment")
        project_services.project_assign(project=project, employment=employment, post_code=data["post"])
        return self._render(project, status.HTTP_201_CREATED)

    @extend_schema(request=AttachIn, responses={201: ProjectOut})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request: Request, pk=None) -> Response:
        project = self.get_object()
        access.require_agency_admin(request.user, project.agency)
        data = parse(AttachIn, request.data)
        project_services.project_attach(
            project=project,
            kind=data["kind"],
            upload=data["file"],
            actor=request.user,
            number=data["number"],
            issued_on=data["issued_on"],
        )
        return self._render(project, status.HTTP_201_CREATED)

    def _transition(self, request: Request, to: str) -> Response:
        project = self.get_object()
        reason = parse(ReasonIn, request.data)["reason"]
        project_services.project_transition(project=project, to=to, actor=request.user, reason=reason)
        return self._render(project)

    @extend_schema(request=None, responses=ProjectOut)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk=None) -> Response:
        return self._transition(request, MonitoringProject.Status.SUBMITTED)

    @extend_schema(request=ReasonIn, responses=ProjectOut)
    @action(detail=True, methods=["post"], url_path="return")
    def return_project(self, request: Request, pk=None) -> Response:
        return self._transition(request, MonitoringProject.Status.RETURNED)

    @extend_schema(request=None, responses=ProjectOut)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk=None) -> Response:
        return self._transition(request, MonitoringProject.Status.DONE)

    @extend_schema(responses=ProjectEventOut(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a short history, whole
    def events(self, request: Request, pk=None) -> Response:
        """The project's status history: submitted, returned with its reason, resubmitted, accepted."""
        project = access.access_project(request.user, pk)
        events = ProjectEvent.objects.filter(project=project).order_by("at", "id")
        return Response(ProjectEventOut(events, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["xlsx", "csv"], description="xlsx (default) or csv")
        ],
        responses={(200, XLSX): OpenApiTypes.BINARY, (200, CSV): OpenApiTypes.STR},
        filters=True,
    )
    @action(detail=False, methods=["get"], content_negotiation_class=FileFormatNegotiation)
    def export(self, request: Request) -> HttpResponse | StreamingHttpResponse:
        """导出: the projects the list shows for the same filters, as Excel or CSV (UTF-8 with BOM)."""
        file_format = parse_query(ExportIn, request.query_params)["format"]
        projects = self.filter_queryset(
            access.projects_for(request.user).select_related("enterprise").order_by("-created_at", "id")
        )
        rows = (project_export_row(p) for p in projects.iterator(chunk_size=500))
        return table_response(file_format, title="监测项目", headers=PROJECT_EXPORT_HEADERS, rows=rows)
