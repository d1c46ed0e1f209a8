"""The push side of offline sync: each operation is journaled once, sequenced in its device's order,
applied by its domain handler, held while its prerequisite is missing, and released when it arrives.

Each operation is processed in its own transaction with its device's sync state row locked, so a
device's operations apply one at a time in queue order, one bad operation never undoes another, and
two pushes of the same operation (a retry racing the original) store it once: the second waits on
the lock, then finds the first's row and answers ``duplicate``.

Another phone's operations are not serialised with these: what one phone's operation waits for (a
task, a photo) comes from another phone's transaction, in parallel. So the look-up of what waits on a
key runs after the commit that satisfied it, and an operation held on another phone's key checks
again after the commit that held it: each side looks after its own commit, so the side that commits
last sees the other's (F10 item 1). ``release_stranded`` is the safety net behind this.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from server.accounts.models import Device, User
from server.audit.context import operation_origin
from server.errors import SERVER_ERROR, VALIDATION_FAILED, DomainError, ErrorCode, registered_codes
from server.strict import validation_errors
from sync import errors
from sync.models import DeviceSyncState, Operation, Push
from sync.operations import NotYet, OpContext, op_type
from sync.operations import entity as entity_of
from sync.waits import WaitKey

S = Operation.Status
logger = logging.getLogger(__name__)
ONE_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class IncomingOp:
    op_id: str
    seq: int
    type: str
    entity_id: str
    base_version: int | None
    device_time: dt.datetime
    payload: dict

    def content_hash(self) -> str:
        canonical = json.dumps(
            [
                self.seq,
                self.type,
                self.entity_id,
                self.base_version,
                self.device_time.isoformat(),
                self.payload,
            ],
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _rejected(op_id: str, error: ErrorCode, details: Any = None, **params: Any) -> dict:
    return {"op_id": op_id, "status": "rejected", "code": error.code, "params": params, "details": details}


def _time_us(value: dt.datetime) -> int:
    return int(value.timestamp() * 1_000_000)


# --- Push ------------------------------------------------------------------------------------------

# What a committed transaction leaves to do once it has committed: retry the operations held on a key
# it satisfied (a WaitKey), or re-check an operation it has just held on another device's key (a pk).
After = WaitKey | int


def push(*, user: User, device: Device, device_clock: dt.datetime, ops: list[IncomingOp]) -> list[dict]:
    """Receive a batch; one result per operation, in the order sent."""
    server_clock = timezone.now()
    offset = server_clock - device_clock
    with transaction.atomic():
        record = Push.objects.create(
            device=device,
            user=user,
            device_clock=device_clock,
            server_clock=server_clock,
            offset_ms=int(offset.total_seconds() * 1000),
            op_count=len(ops),
        )
        state, _ = DeviceSyncState.objects.select_for_update().get_or_create(device=device)
        state.last_push = record
        state.last_offset_ms = record.offset_ms
        state.save(update_fields=["last_push", "last_offset_ms"])

    answers: list[dict | None] = [None] * len(ops)
    stored: dict[str, int] = {}  # op id -> its index in the batch, for operations journaled by this push
    after: deque[After] = deque()
    for index, op in sorted(enumerate(ops), key=lambda pair: pair[1].seq):
        try:
            answer, follow_ups, journaled = _receive(
                user=user, device=device, push=record, op=op, offset=offset
            )
        except Exception:
            # A bug, not the phone's fault: this operation's transaction rolled back, so it is not
            # journaled and a retry processes it again; the device's later operations wait behind
            # the gap, everything else goes on.
            logger.exception("sync: operation %s of device %s failed", op.op_id, device.pk)
            answer, follow_ups, journaled = (
                _rejected(op.op_id, SERVER_ERROR, details={"retry": True}),
                [],
                False,
            )
        answers[index] = answer
        if journaled or answer["status"] == "duplicate":
            stored[op.op_id] = index
        after.extend(follow_ups)
    _release(after)
    _schedule_stranded_check()
    # An operation held when it arrived (or when it was first sent) may have been released by a
    # later one of this batch: answer with where it stands now.
    for row in Operation.objects.filter(device=device, op_id__in=list(stored)):
        index = stored[str(row.op_id)]
        if answers[index]["status"] == "duplicate":
            answers[index] = {"op_id": str(row.op_id), "status": "duplicate", "first": row.result}
        else:
            answers[index] = row.result
    return answers


def _receive(*, user: User, device: Device, push: Push, op: IncomingOp, offset: dt.timedelta):
    with transaction.atomic():
        state = DeviceSyncState.objects.select_for_update().get(device=device)
        clashing = list(
            Operation.objects.filter(Q(op_id=op.op_id) | Q(seq=op.seq), device=device).only(
                "op_id", "seq", "content_hash", "result", "user_id"
            )
        )
        existing = next((o for o in clashing if str(o.op_id) == op.op_id), None)
        if existing is not None:
            # Another account's operation is never replayed to this one (F9 item 3).
            if existing.user_id != user.pk or existing.content_hash != op.content_hash():
                answer = _rejected(op.op_id, errors.OP_ID_REUSED)
                if any(o.seq == op.seq for o in clashing):
                    return answer, [], False  # its place is taken already (by this same mistake)
                # F10 item 2: rejected, it still takes its place in the device's order, or every
                # later operation of the device would wait on its seq until the hold deadline.
                row = _journal(_reuse_record(op), user=user, device=device, push=push, offset=offset)
                row.result = answer
                return answer, _place(row, state), False
            return {"op_id": op.op_id, "status": "duplicate", "first": existing.result}, [], False
        if clashing:
            return _rejected(op.op_id, errors.SEQ_REUSED, seq=op.seq), [], False
        row = _journal(op, user=user, device=device, push=push, offset=offset)
        after = _place(row, state)
        return row.result, after, True


def _reuse_record(op: IncomingOp) -> IncomingOp:
    """The journal row that keeps a reused op id's place: the op id is taken by the first operation,
    so the row gets one derived from it and the seq (the same mistake sent again derives the same)."""
    return replace(op, op_id=str(uuid.uuid5(uuid.UUID(op.op_id), f"reused-at-seq:{op.seq}")))


def _journal(op: IncomingOp, *, user: User, device: Device, push: Push, offset: dt.timedelta) -> Operation:
    return Operation.objects.create(
        device=device,
        user=user,
        op_id=op.op_id,
        seq=op.seq,
        op_type=op.type,
        entity_id=op.entity_id,
        base_version=op.base_version,
        device_time=op.device_time,
        corrected_time=op.device_time + offset,
        payload=op.payload,
        content_hash=op.content_hash(),
        push=push,
        status=S.HELD,
        received_at=timezone.now(),
    )


def _place(row: Operation, state: DeviceSyncState) -> list[After]:
    """Give a journaled operation its place in the device's order: now, or (held) once the device's
    earlier operations are in."""
    if row.seq > state.next_seq:
        # An earlier operation of this device has not arrived: keep the device's order.
        # Keyed by its own position: it is released when the device's queue reaches it.
        waits_for = {"kind": "device_seq", "seq": state.next_seq}
        verdict = row.result if _rejected_on_arrival(row) else None
        return _hold(row, state, WaitKey.seq(row.device_id, row.seq), waits_for, answer=verdict)
    return _sequence_and_process(row, state)


def _rejected_on_arrival(row: Operation) -> bool:
    """A reused op id's row (F10 item 2): its answer was given when it arrived; it only needs its place."""
    return row.result.get("status") == "rejected"


def _hold(
    row: Operation, state: DeviceSyncState, key: WaitKey, waits_for: dict, answer: dict | None = None
) -> list[After]:
    """Hold the operation on ``key``. ``answer`` is what it answers meanwhile (its hold by default)."""
    newly = row.wait_key != str(key)
    if not row.wait_key:
        state.held_ops += 1
        state.save(update_fields=["held_ops"])
    row.status = S.HELD
    row.waits_for = waits_for
    row.wait_key = str(key)
    row.result = answer or {"op_id": str(row.op_id), "status": "held", "waits_for": waits_for}
    row.save(update_fields=["status", "waits_for", "wait_key", "result"])
    if not newly or key.within_device:
        return []
    # F10 item 1: what this operation waits for comes from another phone's transaction, running in
    # parallel and unable to see this hold before it commits: that transaction may have looked for
    # the operations waiting on the key (after its own commit) before this hold committed. So this
    # side looks again after *its* commit: one of the two looks after both have committed, and
    # sees the other.
    return [row.pk]


def _sequence_and_process(row: Operation, state: DeviceSyncState) -> list[After]:
    """Give the operation its place in the device's order, then process it. Runs with the device's
    state locked. Returns what its outcome may release."""
    last = state.last_corrected_time
    if last is not None and row.corrected_time <= last:
        # Keep a device's corrected times increasing in its own order, whatever its clock did.
        row.corrected_time = last + ONE_MICROSECOND
        row.save(update_fields=["corrected_time"])
    state.last_corrected_time = max(row.corrected_time, last) if last else row.corrected_time
    state.next_seq = max(state.next_seq, row.seq + 1)
    state.save(update_fields=["next_seq", "last_corrected_time"])
    after = _reject(row, state, row.result) if _rejected_on_arrival(row) else _process(row, state)
    if state.held_ops:
        # The device's next operation may have been waiting for this one's place in the queue.
        after.append(WaitKey.seq(row.device_id, state.next_seq))
    return after


def _process(row: Operation, state: DeviceSyncState) -> list[After]:
    """Apply, hold, reject or flag one sequenced operation. Returns what its outcome may release."""
    kind = op_type(row.op_type)
    if kind is None:
        return _reject(row, state, _rejected(str(row.op_id), errors.UNKNOWN_OP_TYPE, op_type=row.op_type))
    payload = kind.payload(data=row.payload)
    invalid = validation_errors(payload)  # unknown keys too (F10 item 5)
    if invalid:
        return _reject(row, state, _rejected(str(row.op_id), VALIDATION_FAILED, details=invalid))
    if kind.is_update and row.base_version is None:
        return _reject(row, state, _rejected(str(row.op_id), errors.BASE_VERSION_REQUIRED))
    earlier = _held_before(row, state)
    if earlier is not None:
        # A device's operations on one entity apply in its order: wait behind the held one.
        waits_for = {"kind": "op", "op_id": str(earlier.op_id)}
        return _hold(row, state, WaitKey.op(earlier.op_id), waits_for)
    needed = [(kind.entity, row.entity_id)] if kind.needs_entity else []
    needed += kind.prerequisites(payload.validated_data) if kind.prerequisites else []
    for name, entity_id in needed:
        if not _on_server(name, entity_id, row.user):
            waits_for = {"kind": "entity", "entity": name, "id": entity_id}
            return _hold(row, state, WaitKey.entity(name, entity_id), waits_for)
    try:
        # Audit entries the handler writes name this operation and its device.
        with operation_origin(row), transaction.atomic():
            outcome = kind.apply(_context(row, payload.validated_data))
    except NotYet as wait:
        return _hold(row, state, wait.wait_key, wait.waits_for)
    except DomainError as exc:
        return _reject(row, state, _rejected(str(row.op_id), exc.error, details=exc.details, **exc.params))
    except DjangoValidationError as exc:  # a malformed id or value the model refused
        details = exc.message_dict if hasattr(exc, "error_dict") else {"entity_id": exc.messages}
        return _reject(row, state, _rejected(str(row.op_id), VALIDATION_FAILED, details=details))
    result = {
        "op_id": str(row.op_id),
        "status": "conflict" if outcome.clashes or outcome.conflict_reason else "applied",
        "entity_id": outcome.entity_id,
        "version": outcome.version,
        "seq": outcome.change_seq,
    }
    if result["status"] == "conflict":
        result["conflict"] = {"reason": outcome.conflict_reason or "same_field", "fields": outcome.clashes}
    _resolve(row, state, S.CONFLICT if result["status"] == "conflict" else S.APPLIED, result)
    after = _waiting_on_op(row, state) + list(outcome.releases)
    if kind.creates:
        after.append(WaitKey.entity(kind.entity, row.entity_id))
    return after


def _held_before(row: Operation, state: DeviceSyncState) -> Operation | None:
    """The device's latest held operation on the same entity before this one (not one only waiting
    for its place in the queue), when any of the device's operations is held."""
    if state.held_ops - bool(row.wait_key) <= 0:
        return None
    return (
        Operation.objects.filter(
            device_id=row.device_id, entity_id=row.entity_id, status=S.HELD, seq__lt=row.seq
        )
        .exclude(wait_key__startswith=WaitKey.prefix(WaitKey.SEQ))
        .order_by("-seq")
        .first()
    )


def _on_server(entity_name: str, entity_id: str, user: User) -> bool:
    return entity_of(entity_name).exists(entity_id, user)


def _context(row: Operation, payload: dict) -> OpContext:
    return OpContext(
        user=row.user,
        device_id=str(row.device_id),
        entity_id=row.entity_id,
        base_version=row.base_version,
        payload=payload,
        key=[row.base_version or 0, _time_us(row.corrected_time), str(row.device_id), row.seq],
        operation_pk=row.pk,
        clock_offset=row.corrected_time - row.device_time,
    )


def _reject(row: Operation, state: DeviceSyncState, result: dict, status: str = S.REJECTED) -> list[After]:
    """Resolve the operation without applying it; the device's operations behind it go on."""
    _resolve(row, state, status, result)
    return _waiting_on_op(row, state)


def _resolve(row: Operation, state: DeviceSyncState, status: str, result: dict) -> None:
    if row.wait_key:
        state.held_ops = max(state.held_ops - 1, 0)
        state.save(update_fields=["held_ops"])
    row.status = status
    row.result = result
    row.waits_for = None
    row.wait_key = ""
    row.resolved_at = timezone.now()
    row.save(update_fields=["status", "result", "waits_for", "wait_key", "resolved_at"])


def _waiting_on_op(row: Operation, state: DeviceSyncState) -> list[After]:
    # Only the device's own operations wait on one of its operations: none when none is held.
    return [WaitKey.op(row.op_id)] if state.held_ops else []


# --- Release ------------------------------------------------------------------------------------------


def _held_on(key: WaitKey) -> list[int]:
    return list(
        Operation.objects.filter(status=S.HELD, wait_key=str(key))
        .order_by("received_at", "device_id", "seq")
        .values_list("pk", flat=True)
    )


def release(wait_keys) -> None:
    """Retry the operations held on these keys: an online write may have brought what they wait for
    (a sampler's photo sent online releases the courier's photo pushed earlier). Call it outside any
    transaction, after the write has committed."""
    _release(deque(wait_keys))


def _release(pending: deque[After]) -> None:
    """After a commit: retry held operations whose prerequisite may have arrived, each in its own
    transaction, until nothing more moves. Released operations can release others (a chain of one
    phone's edits). Waiters are looked up here, after the commit that satisfied their key, never
    inside it (F10 item 1: a hold committing meanwhile would be missed)."""
    while pending:
        item = pending.popleft()
        if isinstance(item, WaitKey):
            pending.extend(pk for pk in _held_on(item) if pk not in pending)
            continue
        try:
            pending.extend(_release_one(item))
        except Exception:
            logger.exception("sync: releasing held operation %s failed; it stays held", item)


@transaction.atomic
def _release_one(pk: int) -> list[After]:
    row = Operation.objects.select_related("user").filter(pk=pk).first()
    if row is None or row.status != S.HELD:
        return []
    state = DeviceSyncState.objects.select_for_update().get(device_id=row.device_id)
    # no_key: the join locks the user's row too, and other transactions' foreign-key checks on it
    # (at COMMIT, holding the sync counter) must not wait on that lock (see fieldwork.services._locked).
    row = Operation.objects.select_for_update(no_key=True).select_related("user").get(pk=pk)
    if row.status != S.HELD:
        return []
    if WaitKey.parse(row.wait_key).kind == WaitKey.SEQ:
        return _sequence_and_process(row, state) if row.seq == state.next_seq else []
    return _process(row, state)


# --- The safety net: held work whose prerequisite is on the server --------------------------------------


def release_stranded() -> int:
    """Retry every held operation whose prerequisite is on the server: its place reached in its
    device's queue, the device's operation it waited behind resolved, an object that exists now, or a
    domain's key (a task's earlier photos), where retrying is the check. By design nothing is left so
    (F10 item 1, see ``_hold``); this net catches what a process dying between a commit and its
    release leaves behind. Run by beat every minute and after pushes. Returns how many it retried."""
    candidates = Operation.objects.filter(status=S.HELD).select_related("user").order_by("device_id", "seq")
    ready = [row.pk for row in candidates if _prerequisite_present(row)]
    _release(deque(ready))
    return len(ready)


def _prerequisite_present(row: Operation) -> bool:
    key = WaitKey.parse(row.wait_key)
    if key.kind == WaitKey.SEQ:
        return DeviceSyncState.objects.filter(device_id=row.device_id, next_seq=row.seq).exists()
    if key.kind == WaitKey.OP:
        return not Operation.objects.filter(
            device_id=row.device_id, op_id=key.parts[0], status=S.HELD
        ).exists()
    if key.kind == WaitKey.ENTITY:
        return _on_server(*key.parts, row.user)
    return True


def _schedule_stranded_check() -> None:
    """The safety net after a push, at most once per SYNC_STRANDED_CHECK_SECONDS (on the Celery
    worker when there is one, else inline): retrying domain-held work costs a few statements each."""
    interval = settings.SYNC_STRANDED_CHECK_SECONDS
    if not interval or not cache.add("sync:stranded-check", True, timeout=interval):
        return
    from sync.tasks import release_stranded_task  # sync.tasks imports this module

    transaction.on_commit(release_stranded_task.delay, robust=True)


# --- Held work past its deadline ------------------------------------------------------------------------


def expire_holds(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Held work is never dropped. Past the deadline (SYNC_HOLD_DEADLINE_HOURS): an operation waiting
    only for its device's earlier operations is processed without them (they may still come, and will
    then be applied late rather than lost); one waiting for data from elsewhere is flagged for review."""
    now = now or timezone.now()
    hours = settings.SYNC_HOLD_DEADLINE_HOURS
    deadline = now - dt.timedelta(hours=hours)
    forced = flagged = 0
    for pk in (
        Operation.objects.filter(status=S.HELD, received_at__lt=deadline)
        .order_by("device_id", "seq")
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            row = Operation.objects.select_for_update(no_key=True).select_related("user").get(pk=pk)
            if row.status != S.HELD:
                continue
            state = DeviceSyncState.objects.select_for_update().get(device_id=row.device_id)
            if WaitKey.parse(row.wait_key).kind == WaitKey.SEQ:
                after = _sequence_and_process(row, state)
                forced += 1
            else:
                result = _rejected(str(row.op_id), errors.HOLD_EXPIRED, details=row.waits_for, hours=hours)
                result["status"] = "expired"
                after = _reject(row, state, result, status=S.EXPIRED)
                flagged += 1
        _release(deque(after))
    return {"forced": forced, "flagged": flagged}


def render_result(result: dict, language: str) -> dict:
    """A stored result as the phone sees it: a rejection gets its message in the asked language."""
    if result.get("status") == "duplicate":
        return {**result, "first": render_result(result["first"], language)}
    if "code" not in result:
        return result
    error = registered_codes().get(result["code"])
    params = result.get("params") or {}
    message = error.message(language, **params) if error else result["code"]
    return {k: v for k, v in result.items() if k != "params"} | {"message": message}
