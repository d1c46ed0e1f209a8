"""O&M management (运维管理, seed 003 §2.4), the overdue list (超期) and reports (上传报告, §2.5).

- ``GET /om-tasks/{id}/manage?view=week|month|all|overdue&plan=&start=&end=``: the plan
  occurrences of a task with what was done for each (server/om/plans.py);
- ``GET /om/overdue``: every overdue occurrence of the active tasks the user sees;
- ``GET|POST /om-tasks/{id}/reports`` and ``GET /om/reports/{id}/file``.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import Pagination, parse, parse_query
from server import access
from server.accounts.models import Role
from server.errors import DomainError
from server.fields import DayField, IdField, InstantField
from server.om import errors, plans, reports
from server.om.models import FormTemplate, OmRecord, OmReport, OmTask

logger = logging.getLogger(__name__)


def _person_name(user) -> str:
    if user is None:
        return ""
    return user.person.name if user.person_id else user.username


# --- Output ---------------------------------------------------------------------------------------
class ReportRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()
    file_name = serializers.CharField()


class InstrumentRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class RecordCellOut(serializers.Serializer):
    """One record done for an occurrence: 点位名称, 运维内容, 运维时间, 运维人员, 运维设备, 运维描述."""

    id = serializers.UUIDField(help_text="表单详情：运维记录的 id。")
    outlet = serializers.IntegerField(source="outlet_id")
    outlet_name = serializers.CharField(source="outlet.name")
    template_code = serializers.CharField(source="template.code")
    template_name = serializers.CharField(source="template.name")
    om_date = DayField()
    om_time = serializers.SerializerMethodField(help_text="表单的“运维时间”，未填则为空。")
    submitted_at = InstantField(allow_null=True)
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    filled_by = serializers.IntegerField(source="filled_by_id")
    filled_by_name = serializers.SerializerMethodField()
    instruments = InstrumentRefOut(many=True, source="instruments.all")
    remark = serializers.SerializerMethodField(help_text="运维描述：表单的“备注”。")
    reports = serializers.SerializerMethodField(help_text="关联此记录的报告 id。")

    def get_om_time(self, record: OmRecord) -> str | None:
        value = (record.answers or {}).get("om_time")
        return value if isinstance(value, str) and value else None

    def get_filled_by_name(self, record: OmRecord) -> str:
        return _person_name(record.filled_by)

    def get_remark(self, record: OmRecord) -> str:
        value = (record.answers or {}).get("remark")
        return value.strip() if isinstance(value, str) else ""

    def get_reports(self, record: OmRecord) -> list[int]:
        return [r.pk for r in record.reports.all()]


class ManageRowOut(serializers.Serializer):
    """One occurrence of a plan (a row of 运维管理)."""

    plan = serializers.IntegerField(source="plan.pk")
    plan_title = serializers.CharField(source="plan.title", help_text="计划标题")
    frequency = serializers.CharField(source="plan.frequency")
    frequency_label = serializers.CharField(source="plan.get_frequency_display")
    window_start = DayField()
    window_end = DayField()
    period = serializers.CharField(source="period_label", help_text="执行周期")
    state = serializers.ChoiceField(choices=list(plans.STATE_LABELS.items()))
    state_label = serializers.SerializerMethodField()
    outlet = serializers.IntegerField(source="plan.outlet_id", allow_null=True, help_text="计划指定的点位。")
    outlet_names = serializers.SerializerMethodField(help_text="点位名称")
    contents = serializers.SerializerMethodField(help_text="运维内容")
    staff = serializers.SerializerMethodField(help_text="运维人员")
    instruments = serializers.SerializerMethodField(help_text="运维设备")
    attachments = serializers.SerializerMethodField(help_text="上传附件：关联这些记录的报告。")
    descriptions = serializers.SerializerMethodField(help_text="运维描述")
    record_ids = serializers.SerializerMethodField(help_text="表单详情")
    records = RecordCellOut(many=True)

    def get_state_label(self, row: plans.Occurrence) -> str:
        return plans.STATE_LABELS[row.state]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_outlet_names(self, row: plans.Occurrence) -> list[str]:
        if row.plan.outlet_id is not None:
            return [row.plan.outlet.name]
        return list(dict.fromkeys(r.outlet.name for r in row.records))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_contents(self, row: plans.Occurrence) -> list[str]:
        names = list(dict.fromkeys(r.template.name for r in row.records))
        if not names and row.plan.template_code:
            names = [self.context["template_names"].get(row.plan.template_code, row.plan.template_code)]
        return names

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_staff(self, row: plans.Occurrence) -> list[str]:
        return list(dict.fromkeys(_person_name(r.filled_by) for r in row.records))

    @extend_schema_field(InstrumentRefOut(many=True))
    def get_instruments(self, row: plans.Occurrence) -> list[dict]:
        seen = {i.pk: i for r in row.records for i in r.instruments.all()}
        return InstrumentRefOut(seen.values(), many=True).data

    @extend_schema_field(ReportRefOut(many=True))
    def get_attachments(self, row: plans.Occurrence) -> list[dict]:
        seen = {rep.pk: rep for r in row.records for rep in r.reports.all()}
        return ReportRefOut(sorted(seen.values(), key=lambda rep: rep.pk), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_descriptions(self, row: plans.Occurrence) -> list[str]:
        remarks = ((r.answers or {}).get("remark") for r in row.records)
        return [text.strip() for text in remarks if isinstance(text, str) and text.strip()]

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_record_ids(self, row: plans.Occurrence) -> list[str]:
        return [str(r.pk) for r in row.records]


class OverdueOut(serializers.Serializer):
    task = serializers.IntegerField(source="plan.task_id")
    task_number = serializers.CharField(source="plan.task.number")
    task_name = serializers.CharField(source="plan.task.name")
    agency = serializers.IntegerField(source="plan.task.agency_id")
    agency_name = serializers.CharField(source="plan.task.agency.name")
    plan = serializers.IntegerField(source="plan.pk")
    plan_title = serializers.CharField(source="plan.title")
    frequency = serializers.CharField(source="plan.frequency")
    outlet = serializers.IntegerField(source="plan.outlet_id", allow_null=True)
    outlet_name = serializers.CharField(source="plan.outlet.name", allow_null=True)
    template_code = serializers.CharField(source="plan.template_code")
    window_start = DayField()
    window_end = DayField()
    period = serializers.CharField(source="period_label")
    days_overdue = serializers.SerializerMethodField()

    def get_days_overdue(self, row: plans.Occurrence) -> int:
        return (self.context["today"] - row.window_end).days


class ReportOut(serializers.ModelSerializer):
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    records = serializers.SerializerMethodField()
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True)
    uploaded_by_name = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = OmReport
        fields = [
            "id",
            "task",
            "name",
            "category",
            "category_label",
            "file_name",
            "file_size",
            "file_sha256",
            "file_url",
            "description",
            "records",
            "uploaded_by",
            "uploaded_by_name",
            "uploaded_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_records(self, report: OmReport) -> list[str]:
        return [str(r.pk) for r in report.records.all()]

    def get_uploaded_by_name(self, report: OmReport) -> str:
        return _person_name(report.uploaded_by)

    def get_file_url(self, report: OmReport) -> str:
        return reverse("mobile_api:om-report-file", args=[report.pk])


# --- Input ----------------------------------------------------------------------------------------
class ManageQuery(serializers.Serializer):
    view = serializers.ChoiceField(
        choices=plans.VIEWS, default=plans.View.WEEK, help_text="本周 / 本月 / 全部 / 超期"
    )
    plan = IdField(required=False, allow_null=True, default=None, help_text="运维计划")
    start = DayField(required=False, allow_null=True, default=None, help_text="开始时间")
    end = DayField(required=False, allow_null=True, default=None, help_text="结束时间")


class OverdueQuery(serializers.Serializer):
    start = DayField(
        required=False,
        allow_null=True,
        default=None,
        help_text="默认：今天往前 OM_OVERDUE_LOOKBACK_DAYS 天。",
    )
    end = DayField(required=False, allow_null=True, default=None, help_text="默认：昨天。")
    task = IdField(required=False, allow_null=True, default=None)


class ReportIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="上传报告名称")
    category = serializers.ChoiceField(choices=OmReport.Category.choices, help_text="报告类别")
    file = serializers.FileField(max_length=200, help_text="附件：PDF、doc/docx、xls/xlsx、jpg/png。")
    description = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    records = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=500, help_text="关联表单"
    )


# --- Views ----------------------------------------------------------------------------------------
class _ListView(GenericAPIView):
    """Pages of rows like every other list (``count``, ``next``, ``previous``, ``results``)."""

    pagination_class = Pagination
    filter_backends: list = []

    def _paginated(self, rows, serializer, **context) -> Response:
        page = self.paginate_queryset(rows)
        data = serializer(page, many=True, context={"request": self.request, **context}).data
        return self.get_paginated_response(data)


class ManageView(_ListView):
    """运维管理: the occurrences of the task's plans, with the records done for each."""

    @extend_schema(parameters=[ManageQuery], responses=ManageRowOut(many=True))
    def get(self, request: Request, task_id: int) -> Response:
        query = parse_query(ManageQuery, request.query_params)
        task = access.access_om_task(request.user, task_id)
        rows = plans.management_rows(
            OmTask.objects.filter(pk=task.pk),
            view=query["view"],
            plan_id=query["plan"],
            start=query["start"],
            end=query["end"],
        )
        codes = {row.plan.template_code for row in rows if row.plan.template_code and not row.records}
        names = dict(
            FormTemplate.objects.filter(code__in=codes)
            .order_by("code", "version")
            .values_list("code", "name")
        )
        return self._paginated(rows, ManageRowOut, template_names=names)


OVERDUE_ROLES = {Role.PLATFORM, Role.REGULATOR, Role.AGENCY_MAIN, Role.AGENCY_MANAGER}


class OverdueView(_ListView):
    """超期: every overdue occurrence of the active O&M tasks the user sees (agency admins their
    agency's, regulators those in their region), most recently ended first."""

    @extend_schema(parameters=[OverdueQuery], responses=OverdueOut(many=True))
    def get(self, request: Request) -> Response:
        access.require_role(request.user, OVERDUE_ROLES)
        query = parse_query(OverdueQuery, request.query_params)
        today = timezone.localdate()
        tasks = access.om_tasks_for(request.user)
        if query["task"] is not None:
            tasks = tasks.filter(pk=query["task"])
        rows = plans.overdue_list(tasks, start=query["start"], end=query["end"], today=today)
        return self._paginated(rows, OverdueOut, today=today)


class ReportListView(_ListView):
    """上传报告 of a task: the list (whoever sees the task) and the upload (multipart)."""

    parser_classes = [MultiPartParser]
    # What OPTIONS describes as the POST body; without it OPTIONS was a 500 for anyone (F9 item 9).
    serializer_class = ReportIn

    @extend_schema(responses=ReportOut(many=True))
    def get(self, request: Request, task_id: int) -> Response:
        task = access.access_om_task(request.user, task_id)
        rows = (
            reports.reports_for(request.user)
            .filter(task=task)
            .select_related("uploaded_by__person")
            .prefetch_related("records")
            .order_by("-uploaded_at", "-id")
        )
        return self._paginated(rows, ReportOut)

    @extend_schema(request={"multipart/form-data": ReportIn}, responses={201: ReportOut})
    def post(self, request: Request, task_id: int) -> Response:
        task = access.access_om_task(request.user, task_id)
        data = parse(ReportIn, request.data)
        report = reports.report_upload(
            task=task,
            actor=request.user,
            name=data["name"],
            category=data["category"],
            file=data["file"],
            description=data["description"],
            record_ids=data["records"],
        )
        # A repeated upload answers as the first did: 201 with the stored report.
        stored = reports.reports_for(request.user).prefetch_related("records").get(pk=report.pk)
        return Response(ReportOut(stored).data, status=status.HTTP_201_CREATED)


class ReportFileView(APIView):
    """The report's file as it was uploaded, served as the type its content was recognised as."""

    @extend_schema(
        responses={
            (200, media_type): OpenApiTypes.BINARY
            for media_type in (*dict.fromkeys(reports.CONTENT_TYPES.values()), "application/octet-stream")
        }
    )
    def get(self, request: Request, report_id: int) -> FileResponse:
        report = reports.access_report(request.user, report_id)
        try:
            handle = default_storage.open(report.file.name, "rb")
        except Exception as exc:  # FileNotFoundError on disk, botocore's ClientError on S3, network errors
            logger.error("om: report file %s cannot be read: %r", report.file.name, exc)
            raise DomainError(errors.OM_REPORT_UNAVAILABLE) from exc
        return FileResponse(
            handle, as_attachment=True, filename=report.file_name, content_type=reports.content_type(report)
        )
