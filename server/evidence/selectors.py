"""The evidence queue (证据队列): what needs a regulator's eye, newest first, across six kinds:

- ``photo``: a photo the rules judged warn or fail, with its findings and their evidence;
- ``checkin``: a check-in outside its site's geofence, or with a coordinate-system mix-up;
- ``held``: offline work held past its deadline, flagged for review or processed late;
- ``conflict``: an offline change that clashed with another (both values kept);
- ``overdue``: an O&M plan occurrence whose window passed without a record;
- ``judgement``: an O&M record past draft whose computed judgement fails (drift, comparison error,
  standard sample), with the value, the limit and the standard's clause.

Regulators see their region, an agency's main and manager accounts their agency, platform
administrators everything; anyone else is refused. Each kind reads one bounded query (at most a page
of rows, plus one query per kind of related object for the whole page); the kinds are merged in
memory by time. Pages are keyset pages: the cursor is the last position shown, so a page never
repeats or skips an item while new ones arrive.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from server import access
from server.accounts.models import Role, User
from server.errors import VALIDATION_FAILED, DomainError
from server.evidence import sources, sync_ops
from server.evidence.items import (
    CHECKIN,
    JUDGEMENT,
    KINDS,
    OVERDUE,
    PHOTO,
    Batch,
    Item,
    Position,
    QueueQuery,
    parse_key,
)

QUEUE_ROLES = {Role.PLATFORM, Role.REGULATOR, *access.AGENCY_ADMINS}
# Who may open a violation from an item (server.violations.services.violation_open decides again).
OPENS_VIOLATIONS = {Role.PLATFORM, Role.REGULATOR}
MAX_PAGE = 200

__all__ = ["KINDS", "QUEUE_ROLES", "Item", "Page", "QueueQuery", "decode_cursor", "encode_cursor", "queue"]


@dataclass
class Page:
    items: list[Item]
    next: Position | None


def queue(*, user: User, query: QueueQuery) -> Page:
    access.require_role(user, QUEUE_ROLES)
    if not 1 <= query.limit <= MAX_PAGE:
        raise DomainError(VALIDATION_FAILED, details={"page_size": [f"须为 1 到 {MAX_PAGE}。"]})
    batches: list[Batch] = []
    if PHOTO in query.kinds:
        batches.append(sources.photo_batch(user, query))
    if CHECKIN in query.kinds:
        batches.append(sources.checkin_batch(user, query))
    batches.extend(sync_ops.ops_batches(user, query).values())
    if OVERDUE in query.kinds:
        batches.append(sources.overdue_batch(user, query))
    if JUDGEMENT in query.kinds:
        batches.append(sources.judgement_batch(user, query))
    return merge(batches, query.limit)


def merge(batches: list[Batch], limit: int) -> Page:
    """Newest first across kinds. A kind that may hold more than it read (``horizon``) bounds the page:
    nothing older than its last row read is shown yet, so nothing is skipped; the page may then be
    short (a kind's rows dropped after reading), and ``next`` goes on from that horizon."""
    horizons = [b.horizon for b in batches if b.horizon is not None]
    floor = max(horizons) if horizons else None
    candidates = sorted(
        (item for b in batches for item in b.items if floor is None or item.position >= floor),
        key=lambda item: item.position,
        reverse=True,
    )
    page = candidates[:limit]
    if len(candidates) > limit:
        return Page(page, page[-1].position)
    return Page(page, floor)


# --- Cursors --------------------------------------------------------------------------------------
def encode_cursor(position: Position) -> str:
    raw = json.dumps([position.at.isoformat(), position.kind, position.key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Position:
    """A cursor this module wrote; anything else is validation_failed."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        at, kind, key = json.loads(raw)
        position = Position(dt.datetime.fromisoformat(at), kind, key)
        if position.at.tzinfo is None:
            raise ValueError(at)
        parse_key(kind, key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise DomainError(VALIDATION_FAILED, details={"cursor": ["无效的游标。"]}) from None
    return position
