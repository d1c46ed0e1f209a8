"""Monitoring tasks online: the same services as the task.* sync operations. Writes accept an
``Idempotency-Key`` header (sync/idempotency.py)."""

from __future__ import annotations

import uuid

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import parse
from server import access
from server.fieldwork import services
from server.fieldwork.models import MonitoringTask
from server.fieldwork.operations import TaskCreatePayload, TaskTransitionPayload, TaskUpdatePayload

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
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


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
    at = serializers.DateTimeField()
    applied = serializers.BooleanField(
        help_text="False: a move kept in the history that did not fit where it falls in time (made "
        "offline on one phone before a later move synced from another)."
    )


class TaskFilter(filters.FilterSet):
    class Meta:
        model = MonitoringTask
        fields = ["project", "status"]


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = MonitoringTask.objects.none()  # for the schema; requests use get_queryset
    serializer_class = TaskOut
    filterset_class = TaskFilter

    def get_queryset(self):
        return MonitoringTask.objects.filter(
            project__in=access.projects_for(self.request.user), deleted_at__isnull=True
        ).order_by("-created_at", "id")

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(request=TaskIn, responses={201: TaskOut}, parameters=[IDEMPOTENCY])
    def create(self, request: Request) -> Response:
        data = dict(parse(TaskIn, request.data))
        project = access.access_project(request.user, data.pop("project"))
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
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk=None) -> Response:
        task = self.get_object()
        return Response(TaskEventOut(task.events.order_by("at", "id"), many=True).data)
