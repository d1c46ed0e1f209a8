"""Two of the queue's kinds, from the sync journal (``sync.Operation``):

- ``held``: work held past ``SYNC_HOLD_DEADLINE_HOURS``. ``sync.engine.expire_holds`` either flags it
  for review (status ``expired``, result code ``hold_expired``, what it waited for in the result's
  details) or processes it without the missing earlier operations of its phone (it is then applied or
  rejected, ``resolved_at`` more than the deadline after ``received_at``); until that job runs it is
  still ``held``, older than the deadline. All three are shown.
- ``conflict``: an operation whose outcome is ``conflict``, with the reason and the fields (both values
  kept) from its stored result.

An operation is scoped by who pushed it (an agency's admins see their agency's phones; a regulator
the phones of the agencies and enterprises it sees), then by what it names, resolved in one query
per kind of object for the whole page: a regulator never sees an operation on a project or an O&M
task outside its region, even from an agency working in two regions. An operation on an object not
on the server yet (that is often why it is held) names nothing; its pusher decides. ``?agency=``
is the pusher's agency.

Operations processed late are found by comparing two times of the row (no index helps there);
a marker in the stored result, written by ``expire_holds``, would make it an index scan.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from server import access
from server.accounts.models import Role
from server.evidence.items import (
    CONFLICT,
    HELD,
    Batch,
    Item,
    Position,
    QueueQuery,
    batch,
    below,
    int_key,
    om_task_subject,
    outlet_subject,
    person,
    project_subject,
    ref,
    text,
    violation_body,
    within,
)
from server.fieldwork.models import MonitoringProject, MonitoringTask
from server.om.models import OmRecord, OmTask
from server.registry.models import Outlet
from sync import engine
from sync.models import Operation

S = Operation.Status
STATES = {
    "held_past_deadline": ("等待超时", "held past the deadline"),
    "flagged_for_review": ("等待超时待复核", "flagged for review"),
    "processed_late": ("超时后处理", "processed after the deadline"),
}


def _pushers(user) -> Q:
    if user.role == Role.PLATFORM:
        return Q()
    if user.role == Role.REGULATOR:
        return Q(user__agency__in=access.agencies_for(user)) | Q(
            user__enterprise__in=access.enterprises_for(user)
        )
    return Q(user__agency_id=user.agency_id)  # an agency's main or manager account


def _held(now: dt.datetime) -> Q:
    deadline = dt.timedelta(hours=settings.SYNC_HOLD_DEADLINE_HOURS)
    late = now - deadline
    return (
        Q(status=S.HELD, received_at__lt=late)
        | Q(status=S.EXPIRED)
        | Q(
            status__in=[S.APPLIED, S.REJECTED],
            received_at__lt=late,
            resolved_at__gte=F("received_at") + deadline,
        )
    )


def ops_batches(user, query: QueueQuery) -> dict[str, Batch]:
    now = timezone.now()
    rows: dict[str, list[Operation]] = {}
    for kind, condition in ((HELD, _held(now)), (CONFLICT, Q(status=S.CONFLICT))):
        if kind not in query.kinds:
            continue
        ops = Operation.objects.filter(
            _pushers(user),
            condition,
            within(query.since, query.until, "received_at"),
            below(query.cursor, kind, "received_at"),
        )
        if query.agency is not None:
            ops = ops.filter(user__agency_id=query.agency)
        rows[kind] = list(
            ops.select_related("user__person", "user__agency", "user__enterprise").order_by(
                "-received_at", "-id"
            )[: query.limit]
        )
    resolved = _resolve(user, [op for kind_rows in rows.values() for op in kind_rows])
    return {
        kind: batch(
            kind_rows,
            query.limit,
            lambda op, kind=kind: Position(op.received_at, kind, int_key(op.pk)),
            lambda op, kind=kind: _item(kind, op, resolved.get(op.pk), query, now),
        )
        for kind, kind_rows in rows.items()
    }


# --- What an operation names ----------------------------------------------------------------------
def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        number = int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 0 < number < 2**63 else None


@dataclass
class _Names:
    task: uuid.UUID | None = None
    project: int | None = None
    om_task: int | None = None
    record: uuid.UUID | None = None
    outlet: int | None = None


def _names(op: Operation) -> _Names:
    """What the operation is about, from its type, entity and payload (which a held operation may
    not have had checked yet: anything malformed names nothing)."""
    payload = op.payload if isinstance(op.payload, dict) else {}
    kind = op.op_type
    if kind.startswith("task."):
        project = _int(payload.get("project")) if kind == "task.create" else None
        return _Names(task=_uuid(op.entity_id), project=project)
    if kind in ("photo.record", "track.append", "checkin.record"):
        return _Names(
            task=_uuid(payload.get("task")),
            om_task=_int(payload.get("om_task")),
            outlet=_int(payload.get("outlet")),
        )
    if kind == "om_record.save":
        return _Names(om_task=_int(payload.get("task")), record=_uuid(op.entity_id))
    if kind in ("om_day.confirm", "om_record.review"):
        records = payload.get("records") if isinstance(payload.get("records"), list) else []
        first = records[0] if records else None
        return _Names(record=_uuid(first.get("id") if isinstance(first, dict) else first))
    return _Names()


@dataclass
class _Resolved:
    subject: MonitoringProject | OmTask | Outlet | None
    visible: bool
    record: OmRecord | None = None


def _visible(scope) -> Exists:
    return Exists(scope.filter(pk=OuterRef("pk")))


def _resolve(user, ops: list[Operation]) -> dict[int, _Resolved]:
    """Each operation's project, O&M task or outlet, and whether the user sees it: one query per kind
    of object for all the operations together."""
    names = {op.pk: _names(op) for op in ops}
    wanted = list(names.values())
    records = {}
    if record_ids := {n.record for n in wanted if n.record}:
        records = {
            r.pk: r for r in OmRecord.objects.filter(pk__in=record_ids).only("pk", "task_id", "status")
        }
    tasks = {}
    if task_ids := {n.task for n in wanted if n.task}:
        tasks = {
            t.pk: t
            for t in MonitoringTask.objects.filter(pk__in=task_ids)
            .select_related("project__agency", "project__enterprise")
            .annotate(visible=Exists(access.projects_for(user).filter(pk=OuterRef("project_id"))))
        }
    projects = {}
    if project_ids := {n.project for n in wanted if n.project}:
        projects = {
            p.pk: p
            for p in MonitoringProject.objects.filter(pk__in=project_ids)
            .select_related("agency", "enterprise")
            .annotate(visible=_visible(access.projects_for(user)))
        }
    om_tasks = {}
    om_task_ids = {n.om_task for n in wanted if n.om_task} | {r.task_id for r in records.values()}
    if om_task_ids:
        om_tasks = {
            t.pk: t
            for t in OmTask.objects.filter(pk__in=om_task_ids)
            .select_related("agency", "contract__enterprise")
            .annotate(visible=_visible(access.om_tasks_for(user)))
        }
    outlets = {}
    if outlet_ids := {n.outlet for n in wanted if n.outlet}:
        outlets = {
            o.pk: o
            for o in Outlet.objects.filter(pk__in=outlet_ids)
            .select_related("enterprise")
            .annotate(visible=_visible(access.outlets_for(user)))
        }
    out: dict[int, _Resolved] = {}
    for pk, n in names.items():
        record = records.get(n.record) if n.record else None
        task = tasks.get(n.task) if n.task else None
        project = task.project if task is not None else projects.get(n.project)
        om_task = om_tasks.get(n.om_task or (record.task_id if record else None))
        if project is not None:
            out[pk] = _Resolved(project, task.visible if task is not None else project.visible)
        elif om_task is not None:
            out[pk] = _Resolved(om_task, om_task.visible, record)
        elif n.outlet in outlets:
            out[pk] = _Resolved(outlets[n.outlet], outlets[n.outlet].visible)
    return out


# --- Items ----------------------------------------------------------------------------------------
def _item(kind: str, op: Operation, resolved: _Resolved | None, query: QueueQuery, now) -> Item | None:
    if resolved is not None and not resolved.visible:
        return None
    subject = resolved.subject if resolved is not None else None
    agency, enterprise = op.user.agency, op.user.enterprise
    subject_out = body_subject = None
    if isinstance(subject, MonitoringProject):
        agency, enterprise, subject_out = subject.agency, subject.enterprise, project_subject(subject)
        body_subject = {"project": subject.pk}
    elif isinstance(subject, OmTask):
        agency, enterprise, subject_out = (
            subject.agency,
            subject.contract.enterprise,
            om_task_subject(subject),
        )
        body_subject = {"om_task": subject.pk}
        record = resolved.record
        if record is not None and record.status != OmRecord.Status.DRAFT:
            body_subject["om_record"] = record.pk
    elif isinstance(subject, Outlet):
        enterprise, subject_out = subject.enterprise, outlet_subject(subject)
    evidence = {
        "operation": op.pk,
        "op_id": str(op.op_id),
        "op_type": op.op_type,
        "entity_id": op.entity_id,
        "device": str(op.device_id),
        "seq": op.seq,
        "by": person(op.user),
        "status": op.status,
        "device_time": op.device_time,
        "corrected_time": op.corrected_time,
        "received_at": op.received_at,
        "resolved_at": op.resolved_at,
        "result": engine.render_result(op.result or {}, query.language),
    }
    if kind == HELD:
        evidence |= _held_evidence(op, now)
        state_zh, state_en = STATES[evidence["state"]]
        description = text(
            query,
            f"离线数据{state_zh}（等待 {evidence['held_hours']} 小时）：{op.op_type}",
            f"Offline work {state_en} (waited {evidence['held_hours']} h): {op.op_type}",
        )
    else:
        conflict = (op.result or {}).get("conflict") or {}
        fields = conflict.get("fields") or []
        evidence |= {"reason": conflict.get("reason", ""), "fields": fields}
        names = "、".join(str(f.get("field")) for f in fields if isinstance(f, dict))
        reason = conflict.get("reason", "")
        description = text(
            query,
            f"同步冲突待复核：{op.op_type}（{reason}{'：' + names if names else ''}）",
            f"Sync conflict to review: {op.op_type} ({reason}{': ' + names if names else ''})",
        )
    return Item(
        kind=kind,
        at=op.received_at,
        key=int_key(op.pk),
        agency=ref(agency),
        enterprise=ref(enterprise),
        subject=subject_out,
        evidence=evidence,
        open_violation=violation_body(query, description, **body_subject) if body_subject else None,
    )


def _held_evidence(op: Operation, now: dt.datetime) -> dict:
    if op.status == S.HELD:
        state, waits_for = "held_past_deadline", op.waits_for
    elif op.status == S.EXPIRED:
        state, waits_for = "flagged_for_review", (op.result or {}).get("details")
    else:
        state, waits_for = "processed_late", None
    held = ((op.resolved_at or now) - op.received_at).total_seconds() / 3600
    return {
        "state": state,
        "waits_for": waits_for,
        "held_hours": round(held, 1),
        "deadline_hours": settings.SYNC_HOLD_DEADLINE_HOURS,
    }
