"""The monitoring-task operations phones push (offline path). Each calls the same service as the
online endpoint (mobile_api/tasks.py)."""

from __future__ import annotations

from django.db.models import Q
from rest_framework import serializers

from server.access import access_project, projects_for
from server.errors import DomainError
from server.fields import IdField
from server.fieldwork import errors, services
from server.fieldwork.models import MonitoringTask
from server.fieldwork.stages import stage_wait_key
from sync.operations import (
    Entity,
    NotYet,
    OpContext,
    OpType,
    Outcome,
    exists_in,
    register,
    register_entity,
)


class TaskCreatePayload(serializers.Serializer):
    project = IdField()
    name = serializers.CharField(max_length=200)
    sample_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list
    )
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)


class TaskUpdatePayload(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    sample_codes = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("至少修改一个字段。")
        return attrs


class EmptyPayload(serializers.Serializer):
    pass


class TaskTransitionPayload(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[c for c in MonitoringTask.Status.choices if c[0] != MonitoringTask.Status.CREATED],
        help_text="running (开始/继续), paused (暂停), saved (暂存), ended (结束, lab analysts only).",
    )
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


def _create(ctx: OpContext) -> Outcome:
    project = access_project(ctx.user, ctx.payload["project"], field="project")
    data = {k: v for k, v in ctx.payload.items() if k != "project"}
    task, seq = services.task_create(
        actor=ctx.user,
        task_id=ctx.entity_id,
        project=project,
        key=ctx.key,
        operation=ctx.operation_pk,
        at=ctx.corrected_time,  # created on the phone then, as its events are dated (F10 item 7)
        **data,
    )
    return Outcome(entity_id=str(task.pk), version=task.version, change_seq=seq)


def _task(ctx: OpContext) -> MonitoringTask:
    # The services lock and load the row themselves; the engine has checked that it exists.
    return MonitoringTask(pk=ctx.entity_id)


def _update(ctx: OpContext) -> Outcome:
    update = services.task_update(
        actor=ctx.user,
        task=_task(ctx),
        base_version=ctx.base_version,
        changes=dict(ctx.payload),
        key=ctx.key,
        operation=ctx.operation_pk,
    )
    return Outcome(
        entity_id=str(update.task.pk),
        version=update.task.version,
        change_seq=update.change_seq,
        clashes=update.clashes,
        conflict_reason=update.reason,
    )


def _transition(ctx: OpContext) -> Outcome:
    try:
        move = services.task_transition(
            actor=ctx.user,
            task=_task(ctx),
            to=ctx.payload["to"],
            reason=ctx.payload["reason"],
            at=ctx.corrected_time,  # the phone's clock, corrected by the push's measured offset
            key=ctx.key,
        )
    except DomainError as exc:
        if exc.error is not errors.TASK_STAGES_INCOMPLETE:
            raise
        # The analyst ends the task before the courier's photos have synced: held until they arrive.
        raise NotYet(
            stage_wait_key(ctx.entity_id), {"kind": "stages", "task": ctx.entity_id, **exc.details}
        ) from exc
    outcome = Outcome(entity_id=str(move.task.pk), version=move.task.version, change_seq=move.change_seq)
    if not move.applied:
        # Kept in the task's history, unapplied: it does not fit where it falls among the other
        # phones' moves (a save made before another phone's later continue). Reported for review.
        outcome.conflict_reason = "transition_superseded"
        outcome.clashes = [{"field": "status", "kept": move.task.status, "other": ctx.payload["to"]}]
    return outcome


def _delete(ctx: OpContext) -> Outcome:
    task, seq = services.task_delete(actor=ctx.user, task=_task(ctx))
    return Outcome(entity_id=str(task.pk), version=task.version, change_seq=seq)


def tasks_on_server(user):
    """The tasks an operation may find: those of the projects the user sees, deleted ones included
    (an edit of a deleted task is refused as such). Another tenant's task is not among them: it is
    held as a task not synced yet (F9 item 10)."""
    return MonitoringTask.objects.filter(project__in=projects_for(user, with_deleted=True))


def _pull_scope(user) -> Q:
    # A deleted project's tasks are tombstones by then (services.project_delete): phones pull them.
    return Q(project_id__in=projects_for(user, with_deleted=True).values("id"))


def register_operations() -> None:
    register_entity(Entity(name="task", exists=exists_in(tasks_on_server), pull_scope=_pull_scope))
    register(OpType("task.create", "task", TaskCreatePayload, _create, needs_entity=False, creates=True))
    register(OpType("task.update", "task", TaskUpdatePayload, _update, is_update=True))
    register(OpType("task.delete", "task", EmptyPayload, _delete))
    register(OpType("task.transition", "task", TaskTransitionPayload, _transition))
