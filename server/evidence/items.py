"""The evidence queue's items and the keyset they are paged by.

Every item has a position ``(at, kind, key)``: its time, its kind, and a key unique within the kind
whose string order is the order of the database's own key (a UUID's hex, a zero-padded integer). The
queue is newest first, so the next page is everything strictly below the last position seen.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

PHOTO, CHECKIN, HELD, CONFLICT, OVERDUE = "photo", "checkin", "held", "conflict", "overdue"
# An O&M record whose computed judgement fails (drift, comparison error, standard sample).
JUDGEMENT = "judgement"
KINDS = (PHOTO, CHECKIN, HELD, CONFLICT, OVERDUE, JUDGEMENT)
# A suggested deadline for a violation opened from an item: the page may change it.
RECTIFY_DAYS = 7


@dataclass(frozen=True, order=True)
class Position:
    at: dt.datetime
    kind: str
    key: str


def uuid_key(value: uuid.UUID | str) -> str:
    return uuid.UUID(str(value)).hex


def int_key(value: int) -> str:
    return f"{value:020d}"


def parse_key(kind: str, key: str) -> Any:
    """The database value of a position's key (ValueError when it is not one of ``kind``)."""
    if kind in (PHOTO, CHECKIN, JUDGEMENT):
        return uuid.UUID(hex=key)
    if kind in (HELD, CONFLICT):
        if len(key) != 20 or not key.isdigit():
            raise ValueError(key)
        return int(key)
    if kind == OVERDUE:
        plan, day = key.split("-", 1)
        dt.date.fromisoformat(day)
        if len(plan) != 12 or not plan.isdigit():
            raise ValueError(key)
        return key
    raise ValueError(kind)


def below(cursor: Position | None, kind: str, at_field: str, pk_field: str = "pk") -> Q:
    """Rows of ``kind`` that come after ``cursor`` in the queue's order (newest first)."""
    if cursor is None:
        return Q()
    if kind < cursor.kind:
        return Q(**{f"{at_field}__lte": cursor.at})
    if kind > cursor.kind:
        return Q(**{f"{at_field}__lt": cursor.at})
    return Q(**{f"{at_field}__lt": cursor.at}) | Q(
        **{at_field: cursor.at, f"{pk_field}__lt": parse_key(kind, cursor.key)}
    )


def within(since: dt.datetime | None, until: dt.datetime | None, at_field: str) -> Q:
    q = Q()
    if since is not None:
        q &= Q(**{f"{at_field}__gte": since})
    if until is not None:
        q &= Q(**{f"{at_field}__lte": until})
    return q


@dataclass(frozen=True)
class QueueQuery:
    """What the caller asked for. ``language`` is that of the suggested violation descriptions."""

    kinds: frozenset[str]
    agency: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    cursor: Position | None = None
    limit: int = 50
    language: str = "zh-hans"
    opens_violations: bool = False
    # The API's address of a photo's thumbnail (the queue knows no URLs).
    thumbnail_url: Callable[[Any], str] | None = None


@dataclass
class Item:
    kind: str
    at: dt.datetime
    key: str
    agency: dict | None
    enterprise: dict | None
    subject: dict | None
    evidence: dict
    open_violation: dict | None = None

    @property
    def position(self) -> Position:
        return Position(self.at, self.kind, self.key)


@dataclass
class Batch:
    """One kind's items for a page, newest first. ``horizon`` is the position of the last row read
    when the kind may hold more beyond it: nothing older than that may be shown on this page."""

    items: list[Item] = field(default_factory=list)
    horizon: Position | None = None


def batch(rows: list, limit: int, position: Callable[[Any], Position], build: Callable[[Any], Item | None]):
    """Items from rows read newest first, at most ``limit`` of them (``build`` may drop a row)."""
    items = [item for item in (build(row) for row in rows) if item is not None]
    return Batch(items=items, horizon=position(rows[-1]) if len(rows) >= limit else None)


# --- What every item names ------------------------------------------------------------------------
def ref(obj) -> dict | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def person(user) -> dict | None:
    """Who did it: the account and the person's name (the account name when it has no person)."""
    if user is None:
        return None
    name = user.person.name if user.person_id else (user.get_full_name() or user.username)
    return {"id": user.pk, "name": name}


def project_subject(project) -> dict:
    return {"type": "project", "id": project.pk, "label": f"{project.number} {project.name}"}


def om_task_subject(task) -> dict:
    return {"type": "om_task", "id": task.pk, "label": f"{task.number} {task.name}"}


def outlet_subject(outlet) -> dict:
    return {"type": "outlet", "id": outlet.pk, "label": outlet.name}


def violation_body(query: QueueQuery, description: str, **subject_and_evidence) -> dict | None:
    """The body of ``POST /violations`` that opens a violation (a project) or a rectification order
    (an O&M task) from an item; None for a caller who may not open one."""
    if not query.opens_violations:
        return None
    deadline = timezone.localdate() + dt.timedelta(days=RECTIFY_DAYS)
    body = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in subject_and_evidence.items()}
    return {**body, "description": description[:4000], "deadline": deadline.isoformat()}


def text(query: QueueQuery, zh: str, en: str) -> str:
    return en if query.language == "en" else zh
