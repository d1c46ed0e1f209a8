"""O&M management (运维管理, seed 003 §2.4), the overdue list (超期) and reports (上传报告, §2.5).

- ``GET /om-tasks/{id}/manage?view=week|month|all|overdue&plan=&start=&end=``: the plan
  occurrences of a task with what was done for each (server/om/plans.py);
- ``GET /om/overdue``: every overdue occurrence of the active tasks the user sees;
- ``GET|POST /om-tasks/{id}/reports`` and ``GET /om/reports/{id}/file``;
- ``PATCH|DELETE /om-plans/{id}``: edit or delete a plan (``om_plan_update`` / ``om_plan_delete``);
- ``POST /om-tasks/{id}/finish`` and ``/reopen``: 已完结 and back (``om_task_move``);
- ``POST /om-tasks/{id}/edit`` and ``POST /contracts/{id}/edit``: an edit, applied or turned into a
  信息变更申请 (``server/om/changes.py``);
- ``GET /change-requests``, ``GET /change-requests/{id}``, ``POST /change-requests/{id}/accept``,
  ``/refuse`` (with a reason) and ``/withdraw``.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import Pagination, ReasonIn, parse, parse_query
from mobile_api.work import OmTaskOut, PlanIn, PlanOut
from server import access
from server.accounts.models import Role
from server.errors import DomainError
from server.fields import DayField, IdField, InstantField
from server.om import changes, errors, plans, reports
from server.om import services as om_services
from server.om.models import ChangeRequest, FormTemplate, OmPlan, OmRecord, OmReport, OmTask

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
        if not names:
            names = [self.context["template_names"].get(code, code) for code in row.plan.template_codes]
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
    template_codes = serializers.ListField(
        child=serializers.CharField(),
        source="plan.template_codes",
        help_text="运维内容：计划指定的表单编码。",
    )
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
        codes = {code for row in rows if not row.records for code in row.plan.template_codes}
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


# --- Plans edited, tasks finished, 信息变更申请 (issue F13) ------------------------------------------
class PlanPatchIn(PlanIn):
    """Any of a plan's fields; those left out stay as they are."""


class ChangeOut(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField(help_text="字段名称，如“合同金额（元）”。")
    before = serializers.CharField(help_text="申请时生效的值。")
    after = serializers.CharField(help_text="申请变更为的值。")


class ChangeRequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.SerializerMethodField(help_text="contract：合同；om_task：运维任务。")
    contract = serializers.IntegerField(source="contract_id", allow_null=True)
    task = serializers.IntegerField(source="task_id", allow_null=True)
    agency = serializers.IntegerField(source="agency_id")
    agency_name = serializers.CharField(source="agency.name")
    enterprise = serializers.IntegerField(source="enterprise_id")
    enterprise_name = serializers.CharField(source="enterprise.name")
    status = serializers.ChoiceField(choices=ChangeRequest.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    changes = serializers.SerializerMethodField()
    explanation = serializers.CharField()
    refusal_reason = serializers.CharField()
    requested_by_name = serializers.SerializerMethodField()
    requested_at = InstantField()

    def get_subject(self, row: ChangeRequest) -> str:
        return "contract" if row.contract_id else "om_task"

    @extend_schema_field(ChangeOut(many=True))
    def get_changes(self, row: ChangeRequest) -> list[dict]:
        return ChangeOut(changes.changes_shown(row), many=True).data

    def get_requested_by_name(self, row: ChangeRequest) -> str:
        return _person_name(row.requested_by)


class EditResultOut(serializers.Serializer):
    applied = serializers.BooleanField(help_text="true：已直接生效；false：已提交信息变更申请，待企业确认。")
    change_request = ChangeRequestOut(allow_null=True)


class ContractEditIn(serializers.Serializer):
    number = serializers.CharField(max_length=64, required=False)
    title = serializers.CharField(max_length=200, required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    starts_on = DayField(required=False)
    ends_on = DayField(required=False)
    explanation = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TaskEditIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    starts_on = DayField(required=False)
    ends_on = DayField(required=False)
    geofence_policy = serializers.ChoiceField(
        choices=OmTask._meta.get_field("geofence_policy").choices, required=False
    )
    explanation = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def _edit_result(result) -> Response:
    if isinstance(result, ChangeRequest):
        body = {"applied": False, "change_request": _requests().get(pk=result.pk)}
        return Response(EditResultOut(body).data, status=status.HTTP_202_ACCEPTED)
    return Response(EditResultOut({"applied": True, "change_request": None}).data)


def _requests():
    return ChangeRequest.objects.select_related("agency", "enterprise", "requested_by__person")


class PlanDetailView(APIView):
    """编辑计划 / 删除计划: the task's agency main or manager account."""

    def _plan(self, request: Request, plan_id: int) -> OmPlan:
        plan = access.get_visible(
            OmPlan.objects.filter(task__in=access.om_tasks_for(request.user)).select_related("task"), plan_id
        )
        access.require_agency_admin(request.user, plan.task.agency)
        return plan

    @extend_schema(request=PlanPatchIn, responses={200: PlanOut})
    def patch(self, request: Request, plan_id: int) -> Response:
        plan = self._plan(request, plan_id)
        data = dict(parse(PlanPatchIn, request.data, partial=True))
        if "outlet" in data:
            outlet_id = data["outlet"]
            data["outlet"] = (
                access.get_visible(plan.task.points.all(), outlet_id, field="outlet") if outlet_id else None
            )
        plan = om_services.om_plan_update(plan=plan, actor=request.user, **data)
        return Response(PlanOut(plan).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, plan_id: int) -> Response:
        om_services.om_plan_delete(plan=self._plan(request, plan_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskMoveView(APIView):
    """``finish``: 已完结 (the phones drop the task; no new records). ``reopen``: back to 进行中, with
    a reason."""

    to = ""

    @extend_schema(request=ReasonIn, responses={200: OmTaskOut})
    def post(self, request: Request, task_id: int) -> Response:
        task = access.access_om_task(request.user, task_id)
        access.require_agency_admin(request.user, task.agency)
        data = parse(ReasonIn, request.data)
        om_services.om_task_move(task=task, to=self.to, actor=request.user, reason=data["reason"])
        return Response(OmTaskOut(access.access_om_task(request.user, task_id)).data)


class TaskEditView(APIView):
    """Edit a task: 200 when applied (no records yet), 202 with the 信息变更申请 once it has records."""

    @extend_schema(request=TaskEditIn, responses={200: EditResultOut, 202: EditResultOut})
    def post(self, request: Request, task_id: int) -> Response:
        task = access.access_om_task(request.user, task_id)
        access.require_agency_admin(request.user, task.agency)
        data = dict(parse(TaskEditIn, request.data))
        return _edit_result(changes.om_task_update(task=task, actor=request.user, **data))


class ContractEditView(APIView):
    """Edit a contract: 200 when applied (not yet accepted), 202 with the 信息变更申请 once accepted."""

    @extend_schema(request=ContractEditIn, responses={200: EditResultOut, 202: EditResultOut})
    def post(self, request: Request, contract_id: int) -> Response:
        contract = access.access_contract(request.user, contract_id)
        access.require_agency_admin(request.user, contract.agency)
        data = dict(parse(ContractEditIn, request.data))
        return _edit_result(changes.contract_update(contract=contract, actor=request.user, **data))


class ChangeRequestListView(_ListView):
    """信息变更申请: those the user sees, newest first; ``?status=pending`` for those waiting."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(ChangeRequest.Status.values)),
            OpenApiParameter("subject", str, enum=["contract", "om_task"]),
        ],
        responses=ChangeRequestOut(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = access.change_requests_for(request.user).select_related(
            "agency", "enterprise", "requested_by__person"
        )
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in ChangeRequest.Status.values:
                raise serializers.ValidationError(
                    {"status": [f"须为 {' / '.join(ChangeRequest.Status.values)} 之一。"]}
                )
            rows = rows.filter(status=wanted)
        subject = request.query_params.get("subject")
        if subject == "contract":
            rows = rows.filter(contract__isnull=False)
        elif subject == "om_task":
            rows = rows.filter(task__isnull=False)
        elif subject:
            raise serializers.ValidationError({"subject": ["须为 contract / om_task 之一。"]})
        return self._paginated(rows.order_by("-requested_at", "-id"), ChangeRequestOut)


class ChangeRequestDetailView(APIView):
    @extend_schema(responses={200: ChangeRequestOut})
    def get(self, request: Request, request_id: int) -> Response:
        row = access.get_visible(
            access.change_requests_for(request.user).select_related(
                "agency", "enterprise", "requested_by__person"
            ),
            request_id,
        )
        return Response(ChangeRequestOut(row).data)


class ChangeRequestMoveView(APIView):
    """``accept`` / ``refuse`` (the enterprise or a regulator of its region; refusing needs a
    reason) and ``withdraw`` (the asking agency)."""

    to = ""

    @extend_schema(request=ReasonIn, responses={200: ChangeRequestOut})
    def post(self, request: Request, request_id: int) -> Response:
        row = access.get_visible(access.change_requests_for(request.user), request_id)
        data = parse(ReasonIn, request.data)
        changes.change_request_move(request=row, to=self.to, actor=request.user, reason=data["reason"])
        return Response(ChangeRequestOut(_requests().get(pk=row.pk)).data)
