"""Violations to rectify (违规待整改) and the rectification history (历史整改记录), seed 002; the
same endpoints carry rectification orders on O&M tasks (整改单, seed 003 整改单管理).

Regulators open violations on the projects and O&M tasks they see and judge the agency's
rectifications; the agency's main or manager account rectifies. The rules are in
``server.violations.services``.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import FileResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import AttachmentField, FilterSet, IdFilter, ReasonIn, parse
from server import access
from server.errors import NOT_FOUND, DomainError
from server.fields import DayField, IdField
from server.regions import region_name
from server.violations import selectors, services
from server.violations.models import Rectification, Violation, ViolationEvent

# --- Output ---------------------------------------------------------------------------------------


class RectificationOut(serializers.ModelSerializer):
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    submitted_by = serializers.IntegerField(source="submitted_by_id", read_only=True)
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", read_only=True, allow_null=True)
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = Rectification
        fields = [
            "id",
            "text",
            "has_file",
            "file_name",
            "size",
            "sha256",
            "submitted_by",
            "submitted_at",
            "outcome",
            "outcome_label",
            "rejection_reason",
            "reviewed_by",
            "reviewed_at",
        ]

    def get_has_file(self, rectification: Rectification) -> bool:
        return bool(rectification.file)


class ViolationEventOut(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", read_only=True)

    class Meta:
        model = ViolationEvent
        fields = ["from_status", "to_status", "actor", "reason", "at"]


def _subject(violation: Violation):
    return violation.project if violation.project_id is not None else violation.om_task


def _enterprise(violation: Violation):
    if violation.project_id is not None:
        return violation.project.enterprise
    return violation.om_task.contract.enterprise


class ViolationOut(serializers.ModelSerializer):
    subject_type = serializers.ChoiceField(
        choices=[("project", "违规待整改"), ("om_task", "整改单")],
        read_only=True,
        help_text="project：监测项目的违规待整改；om_task：运维任务的整改单。",
    )
    project_number = serializers.CharField(source="project.number", read_only=True, allow_null=True)
    project_name = serializers.CharField(source="project.name", read_only=True, allow_null=True)
    om_task_number = serializers.CharField(source="om_task.number", read_only=True, allow_null=True)
    om_task_name = serializers.CharField(source="om_task.name", read_only=True, allow_null=True)
    om_record = serializers.UUIDField(source="om_record_id", read_only=True, allow_null=True)
    agency = serializers.SerializerMethodField()
    agency_name = serializers.SerializerMethodField()
    enterprise_name = serializers.SerializerMethodField()
    region_code = serializers.SerializerMethodField()
    region_name = serializers.SerializerMethodField(help_text="e.g. 上海市徐汇区")
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.BooleanField(read_only=True, help_text="整改期限已过且未销号。")
    photo = serializers.UUIDField(source="photo_id", read_only=True, allow_null=True)
    checkin = serializers.UUIDField(source="checkin_id", read_only=True, allow_null=True)
    opened_by = serializers.IntegerField(source="opened_by_id", read_only=True)

    class Meta:
        model = Violation
        fields = [
            "id",
            "subject_type",
            "project",
            "project_number",
            "project_name",
            "om_task",
            "om_task_number",
            "om_task_name",
            "om_record",
            "agency",
            "agency_name",
            "enterprise_name",
            "region_code",
            "region_name",
            "description",
            "deadline",
            "status",
            "status_label",
            "overdue",
            "photo",
            "checkin",
            "opened_by",
            "opened_at",
        ]

    def get_agency(self, violation: Violation) -> int:
        return _subject(violation).agency_id

    def get_agency_name(self, violation: Violation) -> str:
        return _subject(violation).agency.name

    def get_enterprise_name(self, violation: Violation) -> str:
        return _enterprise(violation).name

    def get_region_code(self, violation: Violation) -> str:
        if violation.project_id is not None:
            return violation.project.region_code
        return violation.om_task.contract.enterprise.region_code

    def get_region_name(self, violation: Violation) -> str:
        return region_name(self.get_region_code(violation))


class ViolationDetailOut(ViolationOut):
    rectifications = RectificationOut(many=True, read_only=True)
    history = ViolationEventOut(many=True, read_only=True, source="events")

    class Meta(ViolationOut.Meta):
        fields = [*ViolationOut.Meta.fields, "rectifications", "history"]


class ViolationSummaryOut(serializers.Serializer):
    """The violation a rectification answers, read from the rectification's row."""

    id = serializers.IntegerField(source="violation_id")
    project = serializers.IntegerField(source="violation.project_id", allow_null=True)
    project_number = serializers.CharField(source="violation.project.number", allow_null=True)
    project_name = serializers.CharField(source="violation.project.name", allow_null=True)
    description = serializers.CharField(source="violation.description")
    deadline = DayField(source="violation.deadline")
    status = serializers.CharField(source="violation.status")
    status_label = serializers.CharField(source="violation.get_status_display")
    overdue = serializers.BooleanField(source="violation_overdue")


class OmTaskRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()


class RectificationHistoryOut(RectificationOut):
    violation = ViolationSummaryOut(source="*", read_only=True)
    # The O&M task of a 整改单 (null for a project's violation): beside the violation's summary,
    # whose keys stay those of a project's violation.
    om_task = OmTaskRefOut(source="violation.om_task", read_only=True, allow_null=True)

    class Meta(RectificationOut.Meta):
        fields = [*RectificationOut.Meta.fields, "violation", "om_task"]


# --- Input ----------------------------------------------------------------------------------------


class ViolationIn(serializers.Serializer):
    project = IdField(
        required=False, allow_null=True, default=None, help_text="监测项目（与 om_task 二选一）。"
    )
    om_task = IdField(
        required=False, allow_null=True, default=None, help_text="运维任务：开具整改单（与 project 二选一）。"
    )
    om_record = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="证据：该运维任务已提交的运维记录。"
    )
    description = serializers.CharField(max_length=4000, help_text="违规情况。")
    deadline = DayField(help_text="整改期限（不早于今天）。")
    photo = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="证据：该项目监测任务的照片。"
    )
    checkin = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="证据：该项目监测任务的签到记录。"
    )


class RectifyIn(serializers.Serializer):
    text = serializers.CharField(max_length=4000, help_text="整改情况。")
    file = AttachmentField(
        required=False, allow_null=True, default=None, max_length=200, help_text="整改附件（可选）。"
    )


# --- Filters --------------------------------------------------------------------------------------


class ViolationFilter(FilterSet):
    project_name = filters.CharFilter(field_name="project__name", lookup_expr="icontains")
    project = IdFilter(field_name="project_id")
    om_task = IdFilter(field_name="om_task_id")
    subject = filters.ChoiceFilter(
        choices=[("project", "违规待整改"), ("om_task", "整改单")],
        method="filter_subject",
        help_text="project：监测项目的违规；om_task：运维任务的整改单。",
    )
    status = filters.ChoiceFilter(choices=Violation.Status.choices)
    deadline_before = filters.DateFilter(field_name="deadline", lookup_expr="lte")
    deadline_after = filters.DateFilter(field_name="deadline", lookup_expr="gte")
    # A choice, not a BooleanFilter, so that ``overdue=maybe`` is refused instead of ignored.
    overdue = filters.ChoiceFilter(
        choices=[("true", "已逾期"), ("false", "未逾期")],
        method="filter_overdue",
        help_text="true：期限已过且未销号；false：其余。",
    )

    class Meta:
        model = Violation
        fields = [
            "project_name",
            "project",
            "om_task",
            "subject",
            "status",
            "deadline_before",
            "deadline_after",
            "overdue",
        ]

    def filter_subject(self, queryset, name, value):
        return queryset.filter(**{f"{value}__isnull": False})

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue=value == "true")


class RectificationFilter(FilterSet):
    project_name = filters.CharFilter(field_name="violation__project__name", lookup_expr="icontains")
    project = IdFilter(field_name="violation__project_id")
    om_task = IdFilter(field_name="violation__om_task_id")
    violation = IdFilter(field_name="violation_id")
    outcome = filters.ChoiceFilter(choices=Rectification.Outcome.choices)
    deadline_before = filters.DateFilter(field_name="violation__deadline", lookup_expr="lte")
    deadline_after = filters.DateFilter(field_name="violation__deadline", lookup_expr="gte")

    class Meta:
        model = Rectification
        fields = [
            "project_name",
            "project",
            "om_task",
            "violation",
            "outcome",
            "deadline_before",
            "deadline_after",
        ]


# --- Views ----------------------------------------------------------------------------------------


class ViolationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """违规待整改: agency accounts see their agency's violations, regulators those of the projects
    they see; anyone else sees none."""

    queryset = Violation.objects.none()  # for the schema; requests use get_queryset
    serializer_class = ViolationOut
    filterset_class = ViolationFilter

    def get_queryset(self):
        queryset = (
            selectors.violations_for(self.request.user)
            .with_overdue()
            .select_related(
                "project__agency", "project__enterprise", "om_task__agency", "om_task__contract__enterprise"
            )
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("rectifications", queryset=Rectification.objects.order_by("submitted_at", "id")),
                Prefetch("events", queryset=ViolationEvent.objects.order_by("at", "id")),
            )
        return queryset.order_by("-opened_at", "id")

    def get_serializer_class(self):
        return ViolationOut if self.action == "list" else ViolationDetailOut

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    def _render(self, violation: Violation, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            ViolationDetailOut(access.get_visible(self.get_queryset(), violation.pk)).data, status=code
        )

    @extend_schema(request=ViolationIn, responses={201: ViolationDetailOut})
    def create(self, request: Request) -> Response:
        """开具违规 on a project, or 开具整改单 on an O&M task: a regulator, on one it sees; evidence
        from that project's tasks, or a record or check-in of that O&M task."""
        data = parse(ViolationIn, request.data)
        user = request.user
        project = access.referenced(access.projects_for(user), data, "project")
        om_task = access.referenced(access.om_tasks_for(user), data, "om_task")
        om_record = access.referenced(access.om_records_for(user), data, "om_record")
        photo = access.referenced(access.photos_for(user), data, "photo")
        checkin = access.referenced(access.checkins_for(user), data, "checkin")
        violation = services.violation_open(
            project=project,
            om_task=om_task,
            om_record=om_record,
            actor=user,
            description=data["description"],
            deadline=data["deadline"],
            photo=photo,
            checkin=checkin,
        )
        return self._render(violation, status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": RectifyIn, "application/json": RectifyIn},
        responses={201: ViolationDetailOut},
    )
    @action(detail=True, methods=["post"])
    def rectify(self, request: Request, pk=None) -> Response:
        """整改: the agency's main or manager account, on an open violation (multipart for a file)."""
        violation = self.get_object()
        data = parse(RectifyIn, request.data)
        services.rectification_submit(
            violation=violation, actor=request.user, text=data["text"], upload=data["file"]
        )
        return self._render(violation, status.HTTP_201_CREATED)

    @extend_schema(request=ReasonIn, responses=ViolationDetailOut)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk=None) -> Response:
        """销号: the regulator accepts the pending rectification (the reason is an optional note)."""
        violation = self.get_object()
        reason = parse(ReasonIn, request.data)["reason"]
        services.rectification_review(violation=violation, actor=request.user, accept=True, reason=reason)
        return self._render(violation)

    @extend_schema(request=ReasonIn, responses=ViolationDetailOut)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        """退回整改: the regulator rejects the pending rectification; a reason is required."""
        violation = self.get_object()
        reason = parse(ReasonIn, request.data)["reason"]
        services.rectification_review(violation=violation, actor=request.user, accept=False, reason=reason)
        return self._render(violation)


class RectificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """历史整改记录: every rectification submitted, with the violation it answers."""

    queryset = Rectification.objects.none()  # for the schema; requests use get_queryset
    serializer_class = RectificationHistoryOut
    filterset_class = RectificationFilter

    def get_queryset(self):
        return (
            selectors.rectifications_for(self.request.user)
            .select_related("violation__project", "violation__om_task")
            .order_by("-submitted_at", "id")
        )

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk=None) -> FileResponse:
        """The rectification's attachment, as it was uploaded."""
        rectification = self.get_object()
        if not rectification.file:
            raise DomainError(NOT_FOUND)
        return FileResponse(
            rectification.file.open("rb"),
            as_attachment=True,
            filename=rectification.file_name or rectification.file.name.rsplit("/", 1)[-1],
        )
