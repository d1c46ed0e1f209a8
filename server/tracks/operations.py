"""The track operation phones push (offline path): ``track.append`` calls the same service as
``POST /api/v1/tasks/{task_id}/track`` (mobile_api/tracks.py).

Its entity is the track ("track", the task's id), not the task: operations on one entity apply one
after another, and a phone's stream of track batches must not queue behind (or hold up) edits of the
task itself. The task is a prerequisite: a batch recorded on a task another phone created offline is
held until the task reaches the server.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from rest_framework import serializers

from server.access import checkins_for, om_tasks_for, outlets_for, projects_for, referenced
from server.capture import CaptureFixIn
from server.errors import NOT_FOUND, VALIDATION_FAILED, DomainError
from server.fields import IdField, InstantField
from server.fieldwork.models import MonitoringTask
from server.fieldwork.operations import tasks_on_server
from server.geo import CoordinateSystem
from server.tracks import checkins, services
from server.tracks.models import CheckIn, TrackPoint
from sync.operations import Entity, OpContext, OpType, Outcome, exists_in, register, register_entity


class TrackPointIn(CaptureFixIn):
    """One fix, in the names of every capture (server/capture.py). Ranges are checked by the service
    (a point at lat 95 refuses the batch with ``track_point_invalid`` naming its index); only the
    shape is checked here."""

    coordinate_system = serializers.ChoiceField(
        choices=CoordinateSystem.choices(),
        required=False,
        help_text="This point's system when it differs from the batch's.",
    )
    fix_time = InstantField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The fix's own time (required): the point's identity, never corrected by a clock offset.",
    )
    device_time = None  # a point's time is its fix's
    speed_mps = serializers.FloatField(required=False, allow_null=True, default=None)
    bearing = serializers.FloatField(required=False, allow_null=True, default=None)
    altitude_m = serializers.FloatField(required=False, allow_null=True, default=None)
    renamed_fields = {"mock": "mock_location", "time": "fix_time"}


class TrackBatchIn(serializers.Serializer):
    coordinate_system = serializers.ChoiceField(
        choices=CoordinateSystem.choices(), help_text="The system of the points' longitude/latitude."
    )
    points = serializers.ListField(
        child=TrackPointIn(), min_length=1, max_length=services.MAX_BATCH, help_text="Up to 500 points."
    )


class TrackAppendPayload(TrackBatchIn):
    task = serializers.UUIDField(
        help_text="The task (the operation's entity_id too): the batch is held until it reaches the server."
    )


def points_of(data: dict) -> list[dict]:
    return [{"coordinate_system": data["coordinate_system"], **point} for point in data["points"]]


def visible_task(user, task_id) -> MonitoringTask:
    """The task if ``user`` sees its project (deleted ones too: writing to them answers task_deleted)."""
    try:
        task = MonitoringTask.objects.filter(pk=task_id, project__in=projects_for(user)).first()
    except ValidationError:
        task = None
    if task is None:
        raise DomainError(NOT_FOUND)
    return task


def _append(ctx: OpContext) -> Outcome:
    from server.accounts.models import Device

    if str(ctx.payload["task"]) != str(ctx.entity_id):
        raise DomainError(VALIDATION_FAILED, details={"task": ["须与 entity_id 相同。"]})
    task = visible_task(ctx.user, ctx.entity_id)
    services.track_append(
        actor=ctx.user,
        task=task,
        device=Device.objects.filter(pk=ctx.device_id).first(),
        points=points_of(ctx.payload),
    )
    # The track has no version of its own; the number of points stored for the task stands in.
    return Outcome(entity_id=str(task.pk), version=TrackPoint.objects.filter(task_id=task.pk).count())


def _task_of(payload: dict) -> list[tuple[str, str]]:
    return [("task", str(payload["task"]))]


def _pull_scope(user) -> Q:
    # Track points are not pulled (phones keep their own; others draw GET .../track).
    return Q(pk__in=[])


# --- Check-ins -------------------------------------------------------------------------------------
class CheckInPayload(CaptureFixIn):
    """Where the phone stood (a capture fix, server/capture.py; ``device_time``: the phone's clock
    at the check-in) and what it checked in for."""

    fix_time = None  # a check-in is timed by the phone's clock (device_time); no fix time is kept
    kind = serializers.ChoiceField(choices=CheckIn.Kind.choices, required=False, default=CheckIn.Kind.CHECKIN)
    task = serializers.UUIDField(required=False, allow_null=True, default=None)
    om_task = IdField(required=False, allow_null=True, default=None)
    outlet = IdField(required=False, allow_null=True, default=None)


def record_checkin(
    *, user, device, checkin_id, data: dict, clock_offset, fallback_time
) -> tuple[CheckIn, bool]:
    """Resolve what the payload names as ``user`` sees it, and record the check-in."""
    task = referenced(MonitoringTask.objects.filter(project__in=projects_for(user)), data, "task")
    om_task = referenced(om_tasks_for(user), data, "om_task")
    outlet = referenced(outlets_for(user), data, "outlet")
    sent = data.get("device_time")
    at = sent + clock_offset if sent and clock_offset else sent or fallback_time
    return checkins.checkin_record(
        actor=user,
        checkin_id=checkin_id,
        position=checkins.Position(
            lon=data["longitude"],
            lat=data["latitude"],
            system=data["coordinate_system"],
            accuracy_m=data.get("accuracy_m"),
            mock=data.get("mock_location", False),
        ),
        at=at,
        kind=data.get("kind") or CheckIn.Kind.CHECKIN,
        task=task,
        om_task=om_task,
        outlet=outlet,
        device=device,
    )


def _checkin(ctx: OpContext) -> Outcome:
    from server.accounts.models import Device

    corrected = ctx.corrected_time
    checkin, _ = record_checkin(
        user=ctx.user,
        device=Device.objects.filter(pk=ctx.device_id).first(),
        checkin_id=ctx.entity_id,
        data=ctx.payload,
        clock_offset=ctx.clock_offset,
        fallback_time=corrected,
    )
    return Outcome(entity_id=str(checkin.pk), version=1)


def _checkin_task(payload: dict) -> list[tuple[str, str]]:
    return [("task", str(payload["task"]))] if payload.get("task") else []


def register_operations() -> None:
    register_entity(Entity(name="checkin", exists=exists_in(checkins_for), pull_scope=_pull_scope))
    register(
        OpType(
            "checkin.record",
            "checkin",
            CheckInPayload,
            _checkin,
            needs_entity=False,
            creates=True,
            prerequisites=_checkin_task,
        )
    )
    register_entity(Entity(name="track", exists=exists_in(tasks_on_server), pull_scope=_pull_scope))
    register(
        OpType(
            "track.append",
            "track",
            TrackAppendPayload,
            _append,
            needs_entity=False,
            prerequisites=_task_of,
        )
    )
