"""Pull: the changes a user may see since a cursor, in pages that fit a phone; and reconcile."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from sync.models import Change, Operation
from sync.operations import entities


@dataclass
class Page:
    changes: list[dict]
    cursor: int
    more: bool


def visible_changes(user) -> Q:
    scope = Q(pk__in=[])
    for name, entity in entities().items():
        scope |= Q(entity_type=name) & entity.pull_scope(user)
    return scope


def pull(*, user, cursor: int, limit: int | None = None, max_bytes: int | None = None) -> Page:
    """Changes after ``cursor`` (a server sequence, never a time), oldest first, scoped by the same
    access rules as the API. A page stops at ``limit`` rows or ``max_bytes`` of JSON, whichever comes
    first, and always holds at least one change, so a phone always moves forward."""
    limit = min(limit or settings.SYNC_PULL_MAX_ROWS, settings.SYNC_PULL_MAX_ROWS)
    max_bytes = min(max_bytes or settings.SYNC_PULL_MAX_BYTES, settings.SYNC_PULL_MAX_BYTES)
    rows = (
        Change.objects.filter(seq__gt=cursor)
        .filter(visible_changes(user))
        .order_by("seq")
        .values("seq", "entity_type", "entity_id", "version", "deleted", "data")[: limit + 1]
    )
    changes: list[dict] = []
    size = 0
    last = cursor
    more = False
    for row in rows:
        if len(changes) == limit:
            more = True
            break
        item = {
            "seq": row["seq"],
            "entity": row["entity_type"],
            "id": row["entity_id"],
            "version": row["version"],
            "deleted": row["deleted"],
            "data": row["data"],
        }
        item_size = len(json.dumps(item, ensure_ascii=False).encode())
        if changes and size + item_size > max_bytes:
            more = True
            break
        changes.append(item)
        size += item_size
        last = row["seq"]
    return Page(changes=changes, cursor=last, more=more)


def reconcile(*, device, user, ops: list[dict]) -> dict:
    """The phone lists what it believes it sent (op ids, with the content hash it computed when it
    has one); the server answers which it lacks, which it holds, and which it holds differently.
    Only the user's own operations on the device count (F9 item 3)."""
    wanted = {str(item["op_id"]): item.get("content_hash") for item in ops}
    stored = {
        str(row["op_id"]): row
        for row in Operation.objects.filter(device=device, user=user, op_id__in=list(wanted)).values(
            "op_id", "status", "content_hash", "result"
        )
    }
    answer: dict[str, list] = {"missing": [], "held": [], "differs": [], "rejected": [], "done": []}
    for op_id, content_hash in wanted.items():
        row = stored.get(op_id)
        if row is None:
            answer["missing"].append(op_id)
        elif content_hash and content_hash != row["content_hash"]:
            answer["differs"].append(op_id)
        elif row["status"] == Operation.Status.HELD:
            answer["held"].append({"op_id": op_id, "waits_for": row["result"].get("waits_for")})
        elif row["status"] in (Operation.Status.REJECTED, Operation.Status.EXPIRED):
            answer["rejected"].append({"op_id": op_id, "code": row["result"].get("code")})
        else:
            answer["done"].append(op_id)
    return answer
