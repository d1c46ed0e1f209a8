"""Monitoring tasks online: the same services as the task.* sync operations. Writes accept an
``Idempotency-Key`` header (sync/idempotency.py).

Reads are the phone's 在行项目 / 完成项目数 lists (``?state=running|finished``, ``?search=``) and the
任务详情 screen (``GET /tasks/{id}``: stages, photos with their verdicts, history, track summary)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, StreamingHttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from media_rules.models import Photo
from media_rules.services import photo_data
from mobile_api.common import FilterSet, IdFilter, parse, parse_query
from mobile_api.exports import (
    CRS_PARAMETER,
    FORMAT_PARAMETER,
    GEOJSON,
    TABLE_RESPONSES,
    TASK_EXPORT_HEADERS,
    ZIP,
    CrsIn,
    ExportIn,
    FileFormatNegotiation,
    photos_zip_response,
    table_response,
    task_export_row,
    track_geojson_response,
)
from mobile_api.photos import PhotoOut
from mobile_api.tracks import SegmentProperties
from server import access
from server.fields import InstantField
from server.fieldwork import services
from server.fieldwork.models import MonitoringTask, TaskEvent
from server.fieldwork.operations import TaskCreatePayload, TaskTransitionPayload, TaskUpdatePayload
from server.fieldwork.stages import StageState, task_stages
from server.tracks.services import TrackSummary, track_summary

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A client-chosen key (e.g. a UUID): a retry with the same key returns the first response.",
)


class TaskOut(serializers.Serializer):
    id = serializers.UUIDField()
    project = serializers.IntegerField(source="project_id")
    name = serializers.CharField()
    sample_codes = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = InstantField(
        help_text="When the sampler created the task: offline, the phone's clock corrected by the push's "
        "measured offset (as the task's events are dated); never after received_at."
    )
    received_at = InstantField(help_text="When the server received the task.")
    updated_at = InstantField()


class TaskIn(TaskCreatePayload):
    id = serializers.UUIDField(
        required=False, help_text="The phone's UUID for the task; generated if absent."
    )


class TaskPatchIn(TaskUpdatePayload):
    base_version = serializers.IntegerField(min_value=1, help_text="The version the change was made on.")


class TaskUpdateOut(serializers.Serializer):
    task = TaskOut()
    conflicts = serializers.ListField(child=serializers.DictField())
    reason = serializers.CharField(
        help_text="closed_since_base: nothing applied, the change is kept for review."
    )


class TaskEventOut(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id")
    reason = serializers.CharField()
    at = InstantField()
    applied = serializers.BooleanField(
        help_text="False: a move kept in the history that did not fit where it falls in time (made "
        "offline on one phone before a later move synced from another)."
    )


# --- Reads ----------------------------------------------------------------------------------------
def with_row_data(tasks: QuerySet[MonitoringTask]) -> QuerySet[MonitoringTask]:
    """What a list row shows beyond the task, in the same query: its project, how many photos it has
    (``photo_count``) and when its status last changed (``last_move_at``: the latest applied move)."""
    photos = Photo.objects.filter(task_id=OuterRef("pk")).order_by().values("task_id").annotate(n=Count("pk"))
    last_move = TaskEvent.objects.filter(task_id=OuterRef("pk"), applied=True).order_by("-at", "-id")
    return tasks.select_related("project").annotate(
        photo_count=Coalesce(Subquery(photos.values("n")[:1]), 0),
        last_move_at=Subquery(last_move.values("at")[:1]),
    )


@dataclass
class TaskDetail:
    """A task as the 任务详情 screen shows it; the task's own fields are read through to it."""

    task: MonitoringTask
    stages: list[StageState]
    photos: list[dict]
    events: list[TaskEvent]
    track: dict

    def __getattr__(self, name: str):
        if name == "task":  # not set yet (copying): never recurse
            raise AttributeError(name)
        return getattr(self.task, name)


def _track(summary: TrackSummary) -> dict:
    """The track summary in the words of ``GET /tasks/{id}/track`` (its feature properties), without
    the lines: the 监测航迹 screen fetches those when it opens."""
    return {
        "segments": [
            {
                "device": segment.device_id,
                "segment": segment.number,
                "started_at": segment.started_at,
                "ended_at": segment.ended_at,
                "duration_s": segment.duration_s,
                "length_m": round(segment.length_m, 3),
                "points": len(segment.points),
            }
            for segment in summary.segments
        ],
        "length_m": round(summary.length_m, 3),
        "duration_s": summary.duration_s,
        "stored": summary.stored,
        "kept": summary.kept,
        "filtered": summary.filtered,
    }


def task_detail(task: MonitoringTask) -> TaskDetail:
    """Everything the detail screen shows, in a fixed number of queries whatever the task holds.
    ``task`` comes with its project (``with_row_data``)."""
    photos = task.photos.select_related("photo_type", "blob").order_by("recorded_at", "id")
    return TaskDetail(
        task=task,
        stages=task_stages(task),
        photos=[photo_data(photo) for photo in photos],
        events=list(task.events.order_by("at", "id")),
        track=_track(track_summary(task)),
    )


STATES = {
    # 在行项目: every task not ended (created, running, paused or saved); 完成项目数: the ended ones.
    "running": ~Q(status=MonitoringTask.Status.ENDED),
    "finished": Q(status=MonitoringTask.Status.ENDED),
}


class TaskFilter(FilterSet):
    state = filters.ChoiceFilter(
        choices=[("running", "在行"), ("finished", "已完成")],
        method="filter_state",
        help_text="running: not ended (在行项目); finished: ended (完成项目数).",
    )
    search = filters.CharFilter(
        method="filter_search",
        help_text="Part of the project's or the task's name; several words must all match.",
    )
    agency = IdFilter(field_name="project__agency_id")
    enterprise = IdFilter(field_name="project__enterprise_id")
    since = filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="Created on or after (Asia/Shanghai)."
    )
    until = filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text="Created on or before (Asia/Shanghai)."
    )

    class Meta:
        model = MonitoringTask
        fields = ["project", "status", "state", "search", "agency", "enterprise", "since", "until"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(STATES[value])

    def filter_search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(project__name__icontains=word) | Q(name__icontains=word))
        return queryset


# --- Output ---------------------------------------------------------------------------------------
class TaskRowOut(TaskOut):
    """A row of the task lists: the task, its project, its photo count and its last move."""

    status_label = serializers.CharField(source="get_status_display")
    project_number = serializers.CharField(source="project.number")
    project_name = serializers.CharField(source="project.name")
    monitoring_type = serializers.CharField(source="project.monitoring_type")
    monitoring_type_label = serializers.CharField(source="project.get_monitoring_type_display")
    photo_count = serializers.IntegerField()
    last_move_at = InstantField(
        allow_null=True, help_text="When the status last changed (null: never started)."
    )


class StageTypeOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    hint = serializers.CharField()
    required = serializers.BooleanField()
    photos = serializers.IntegerField(help_text="How many photos of this type the task has.")


class StageOut(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    open = serializers.BooleanField(help_text="Its photos may be taken: the earlier stages are complete.")
    complete = serializers.BooleanField(help_text="Every required type has a photo.")
    types = StageTypeOut(many=True)


class TrackSegmentOut(SegmentProperties):
    line_points = None  # no line here: GET /tasks/{id}/track draws it


class TrackSummaryOut(serializers.Serializer):
    segments = TrackSegmentOut(many=True, help_text="Per device, split by gaps and by the task's pauses.")
    length_m = serializers.FloatField()
    duration_s = serializers.FloatField()
    stored = serializers.IntegerField()
    kept = serializers.IntegerField()
    filtered = serializers.DictField(child=serializers.IntegerField(), help_text="Points by reason.")


class TaskDetailOut(TaskRowOut):
    stages = StageOut(many=True, help_text="Sampling, delivery, lab (and work photos), in order.")
    photos = PhotoOut(
        many=True, help_text="The task's photos with their verdicts, as GET /photos gives them."
    )
    events = TaskEventOut(many=True, help_text="The lifecycle history, as GET /tasks/{id}/events gives it.")
    track = TrackSummaryOut()


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = MonitoringTask.objects.none()  # for the schema; requests use get_queryset
    serializer_class = TaskOut
    filterset_class = TaskFilter

    def get_queryset(self):
        tasks = access.tasks_for(self.request.user).order_by("-created_at", "id")
        return with_row_data(tasks) if self.action in ("list", "retrieve") else tasks

    def get_serializer_class(self):
        return TaskRowOut if self.action == "list" else TaskOut

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(responses=TaskDetailOut)
    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(TaskDetailOut(task_detail(self.get_object())).data)

    @extend_schema(request=TaskIn, responses={201: TaskOut}, parameters=[IDEMPOTENCY])
    def create(self, request: Request) -> Response:
        data = dict(parse(TaskIn, request.data))
        project = access.access_project(request.user, data.pop("project"), field="project")
        task, _ = services.task_create(
            actor=request.user, task_id=data.pop("id", None) or uuid.uuid4(), project=project, **data
        )
        return Response(TaskOut(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TaskPatchIn, responses=TaskUpdateOut, parameters=[IDEMPOTENCY])
    def partial_update(self, request: Request, pk=None) -> Response:
        data = dict(parse(TaskPatchIn, request.data))
        base_version = data.pop("base_version")
        update = services.task_update(
            actor=request.user, task=self.get_object(), base_version=base_version, changes=data
        )
        body = {"task": TaskOut(update.task).data, "conflicts": update.clashes, "reason": update.reason}
        return Response(body)

    @extend_schema(request=None, responses={204: None}, parameters=[IDEMPOTENCY])
    def destroy(self, request: Request, pk=None) -> Response:
        services.task_delete(actor=request.user, task=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=TaskTransitionPayload,
        responses=TaskOut,
        parameters=[IDEMPOTENCY],
        description=(
            "Start (running), pause (paused), continue (running), save (saved, 暂存) or end (ended) a "
            "task. Samplers and couriers can only save; a lab analyst ends it once every required "
            "photo is in (409 task_stages_incomplete lists what is missing). Offline: the sync "
            "operation task.transition with the same payload."
        ),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk=None) -> Response:
        data = parse(TaskTransitionPayload, request.data)
        move = services.task_transition(
            actor=request.user, task=self.get_object(), to=data["to"], reason=data["reason"]
        )
        return Response(TaskOut(move.task).data)

    @extend_schema(responses=TaskEventOut(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a short history, whole
    def events(self, request: Request, pk=None) -> Response:
        task = self.get_object()
        return Response(TaskEventOut(task.events.order_by("at", "id"), many=True).data)

    # --- Exports ------------------------------------------------------------------------------------
    @extend_schema(parameters=[FORMAT_PARAMETER], responses=TABLE_RESPONSES, filters=True)
    @action(detail=False, methods=["get"], content_negotiation_class=FileFormatNegotiation)
    def export(self, request: Request) -> HttpResponse | StreamingHttpResponse:
        """导出: the tasks the list shows for the same filters, as Excel or CSV."""
        file_format = parse_query(ExportIn, request.query_params)["format"]
        tasks = self.filter_queryset(with_row_data(self.get_queryset()))
        rows = (task_export_row(task) for task in tasks.iterator(chunk_size=500))
        return table_response(file_format, title="监测任务", headers=TASK_EXPORT_HEADERS, rows=rows)

    @extend_schema(operation_id="v1_tasks_photos_zip", responses={(200, ZIP): OpenApiTypes.BINARY})
    @action(
        detail=True,
        methods=["get"],
        url_path="photos.zip",
        url_name="photos-zip",
        content_negotiation_class=FileFormatNegotiation,
    )
    def photos_zip(self, request: Request, pk=None) -> StreamingHttpResponse:
        """The task's photos as a ZIP, streamed, with manifest.csv and manifest.json (id, type, stage,
        sha256, size, capture time, verdict, finding codes, file name; a file storage lacks is listed
        as missing, a photo whose file never arrived as awaiting_media)."""
        task = self.get_object()
        photos = task.photos.select_related("blob", "photo_type").order_by("recorded_at", "id")
        scope = {"task": str(task.pk), "task_name": task.name}
        return photos_zip_response(list(photos), f"photos-{task.pk}.zip", scope)

    @extend_schema(
        operation_id="v1_tasks_track_geojson",
        parameters=[CRS_PARAMETER],
        responses={(200, GEOJSON): OpenApiTypes.OBJECT},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="track.geojson",
        url_name="track-geojson",
        content_negotiation_class=FileFormatNegotiation,
    )
    def track_geojson(self, request: Request, pk=None) -> StreamingHttpResponse:
        """The track to download: one feature per segment with every kept point (not simplified) and
        each point's time (coordTimes); GET /tasks/{id}/track draws the simplified line."""
        crs = parse_query(CrsIn, request.query_params)["crs"]
        task = self.get_object()
        return track_geojson_response(task, track_summary(task), crs)
