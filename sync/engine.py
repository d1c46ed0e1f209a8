"""The push side of offline sync: each operation is journaled once, sequenced in its device's order,
applied by its domain handler, held while its prerequisite is missing, and released when it arrives.

Each operation is processed in its own transaction with its device's sync state row locked, so a
device's operations apply one at a time in queue order, one bad operation never undoes another, and
two pushes of the same operation (a retry racing the original) store it once: the second waits on
the lock, then finds the first's row and answers ``duplicate``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from server.accounts.models import Device, User
from server.audit.context import operation_origin
from server.errors import SERVER_ERROR, VALIDATION_FAILED, DomainError, ErrorCode, registered_codes
from sync import errors
from sync.models import DeviceSyncState, Operation, Push
from sync.operations import NotYet, OpContext, op_type

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
    released: deque[int] = deque()
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
        released.extend(follow_ups)
    _release(released)
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
                "op_id", "seq", "content_hash", "result"
            )
        )
        existing = next((o for o in clashing if str(o.op_id) == op.op_id), None)
        if existing is not None:
            if existing.content_hash != op.content_hash():
                return _rejected(op.op_id, errors.OP_ID_REUSED), [], False
            return {"op_id": op.op_id, "status": "duplicate", "first": existing.result}, [], False
        if clashing:
            return _rejected(op.op_id, errors.SEQ_REUSED, seq=op.seq), [], False
        row = Operation.objects.create(
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
        if op.seq > state.next_seq:
            # An earlier operation of this device has not arrived: keep the device's order.
            # Keyed by its own position: it is released when the device's queue reaches it.
            _hold(row, state, {"kind": "device_seq", "seq": state.next_seq}, f"seq:{device.pk}:{op.seq}")
            return row.result, [], True
        follow_ups = _sequence_and_process(row, state)
        return row.result, follow_ups, True


def _hold(row: Operation, state: DeviceSyncState, waits_for: dict, wait_key: str) -> None:
    if not row.wait_key:
        state.held_ops += 1
        state.save(update_fields=["held_ops"])
    row.status = S.HELD
    row.waits_for = waits_for
    row.wait_key = wait_key
    row.result = {"op_id": str(row.op_id), "status": "held", "waits_for": waits_for}
    row.save(update_fields=["status", "waits_for", "wait_key", "result"])


def _sequence_and_process(row: Operation, state: DeviceSyncState) -> list[int]:
    """Give the operation its place in the device's order, then process it. Runs with the device's
    state locked. Returns the operations its outcome may release."""
    last = state.last_corrected_time
    if last is not None and row.corrected_time <= last:
        # Keep a device's corrected times increasing in its own order, whatever its clock did.
        row.corrected_time = last + ONE_MICROSECOND
        row.save(update_fields=["corrected_time"])
    state.last_corrected_time = max(row.corrected_time, last) if last else row.corrected_time
    state.next_seq = max(state.next_seq, row.seq + 1)
    state.save(update_fields=["next_seq", "last_corrected_time"])
    follow_ups = _process(row, state)
    if state.held_ops:
        # The device's next operation may have been waiting for this one's place in the queue.
        follow_ups += list(
            Operation.objects.filter(
                status=S.HELD, wait_key=f"seq:{row.device_id}:{state.next_seq}"
            ).values_list("pk", flat=True)
        )
    return follow_ups


def _process(row: Operation, state: DeviceSyncState) -> list[int]:
    """Apply, hold, reject or flag one sequenced operation. Returns the operations to retry."""
    kind = op_type(row.op_type)
    if kind is None:
        _resolve(
            row, state, S.REJECTED, _rejected(str(row.op_id), errors.UNKNOWN_OP_TYPE, op_type=row.op_type)
        )
        return _waiting_on_op(row, state)
    payload = kind.payload(data=row.payload)
    if not payload.is_valid():
        _resolve(row, state, S.REJECTED, _rejected(str(row.op_id), VALIDATION_FAILED, details=payload.errors))
        return _waiting_on_op(row, state)
    if kind.is_update and row.base_version is None:
        _resolve(row, state, S.REJECTED, _rejected(str(row.op_id), errors.BASE_VERSION_REQUIRED))
        return _waiting_on_op(row, state)
    earlier = (
        Operation.objects.filter(
            device_id=row.device_id, entity_id=row.entity_id, status=S.HELD, seq__lt=row.seq
        )
        .exclude(wait_key__startswith="seq:")
        .order_by("-seq")
        .first()
        if state.held_ops - bool(row.wait_key) > 0
        else None
    )
    if earlier is not None:
        # A device's operations on one entity apply in its order: wait behind the held one.
        _hold(row, state, {"kind": "op", "op_id": str(earlier.op_id)}, f"op:{earlier.op_id}")
        return []
    from sync.operations import entity as entity_of

    if kind.needs_entity and not entity_of(kind.entity).exists(row.entity_id):
        _hold(
            row,
            state,
            {"kind": "entity", "entity": kind.entity, "id": row.entity_id},
            f"entity:{kind.entity}:{row.entity_id}",
        )
        return []
    for dep_entity, dep_id in kind.prerequisites(payload.validated_data) if kind.prerequisites else []:
        if not entity_of(dep_entity).exists(dep_id):
            _hold(
                row,
                state,
                {"kind": "entity", "entity": dep_entity, "id": dep_id},
                f"entity:{dep_entity}:{dep_id}",
            )
            return []
    context = OpContext(
        user=row.user,
        device_id=str(row.device_id),
        entity_id=row.entity_id,
        base_version=row.base_version,
        payload=payload.validated_data,
        key=[row.base_version or 0, _time_us(row.corrected_time), str(row.device_id), row.seq],
        operation_pk=row.pk,
        clock_offset=row.corrected_time - row.device_time,
    )
    try:
        # Audit entries the handler writes name this operation and its device.
        with operation_origin(row), transaction.atomic():
            outcome = kind.apply(context)
    except NotYet as wait:
        _hold(row, state, wait.waits_for, wait.wait_key)
        return []
    except DomainError as exc:
        _resolve(
            row, state, S.REJECTED, _rejected(str(row.op_id), exc.error, details=exc.details, **exc.params)
        )
        return _waiting_on_op(row, state)
    except DjangoValidationError as exc:  # a malformed id or value the model refused
        details = exc.message_dict if hasattr(exc, "error_dict") else {"entity_id": exc.messages}
        _resolve(row, state, S.REJECTED, _rejected(str(row.op_id), VALIDATION_FAILED, details=details))
        return _waiting_on_op(row, state)
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
    follow_ups = _waiting_on_op(row, state) + _held_on(outcome.releases)
    if kind.creates:
        follow_ups += list(
            Operation.objects.filter(status=S.HELD, wait_key=f"entity:{kind.entity}:{row.entity_id}")
            .order_by("received_at", "device_id", "seq")
            .values_list("pk", flat=True)
        )
    return follow_ups


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


def _waiting_on_op(row: Operation, state: DeviceSyncState) -> list[int]:
    if not state.held_ops:
        return []  # only the device's own operations wait on one of its operations
    return list(
        Operation.objects.filter(status=S.HELD, wait_key=f"op:{row.op_id}")
        .order_by("seq")
        .values_list("pk", flat=True)
    )


# --- Release ------------------------------------------------------------------------------------------


def _held_on(wait_keys) -> list[int]:
    if not wait_keys:
        return []
    return list(
        Operation.objects.filter(status=S.HELD, wait_key__in=list(wait_keys))
        .order_by("received_at", "device_id", "seq")
        .values_list("pk", flat=True)
    )


def release(wait_keys) -> None:
    """Retry the operations held on these keys: an online write may have brought what they wait for
    (a sampler's photo sent online releases the courier's photo pushed earlier). Call it outside any
    transaction, after the write has committed."""
    _release(deque(_held_on(wait_keys)))


def _release(pending: deque[int]) -> None:
    """Retry held operations whose prerequisite may have arrived, each in its own transaction, until
    nothing more moves. Released operations can release others (a chain of one phone's edits)."""
    seen: set[int] = set()
    while pending:
        pk = pending.popleft()
        if pk in seen:
            continue
        seen.add(pk)
        try:
            follow_ups = _release_one(pk)
        except Exception:
            logger.exception("sync: releasing held operation %s failed; it stays held", pk)
            continue
        for follow_up in follow_ups:
            seen.discard(follow_up)
            pending.append(follow_up)


@transaction.atomic
def _release_one(pk: int) -> list[int]:
    row = Operation.objects.select_related("user").filter(pk=pk).first()
    if row is None or row.status != S.HELD:
        return []
    state = DeviceSyncState.objects.select_for_update().get(device_id=row.device_id)
    # no_key: the join locks the user's row too, and other transactions' foreign-key checks on it
    # (at COMMIT, holding the sync counter) must not wait on that lock (see fieldwork.services._locked).
    row = Operation.objects.select_for_update(no_key=True).select_related("user").get(pk=pk)
    if row.status != S.HELD:
        return []
    return _retry(row, state)


def _retry(row: Operation, state: DeviceSyncState) -> list[int]:
    wait = row.waits_for or {}
    if wait.get("kind") == "device_seq":
        if row.seq != state.next_seq:
            return []
        return _sequence_and_process(row, state)
    return _process(row, state)


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
        released: list[int] = []
        with transaction.atomic():
            row = Operation.objects.select_for_update(no_key=True).select_related("user").get(pk=pk)
            if row.status != S.HELD:
                continue
            state = DeviceSyncState.objects.select_for_update().get(device_id=row.device_id)
            if row.wait_key.startswith("seq:"):
                released = _sequence_and_process(row, state)
                forced += 1
            else:
                result = _rejected(str(row.op_id), errors.HOLD_EXPIRED, details=row.waits_for, hours=hours)
                result["status"] = "expired"
                _resolve(row, state, S.EXPIRED, result)
                released = _waiting_on_op(row, state)
                flagged += 1
        _release(deque(released))
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
