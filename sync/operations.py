"""Operation types. Domain apps register theirs (in their AppConfig.ready) with a handler that calls
the same domain service their online endpoint calls; the engine knows nothing of tasks or records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from rest_framework import serializers

from sync.waits import WaitKey


@dataclass
class OpContext:
    """What a handler gets: who, from which device, the validated payload, and the merge order key."""

    user: Any
    device_id: str
    entity_id: str
    base_version: int | None
    payload: dict
    key: list
    operation_pk: int | None = None
    # How far the device's clock was off when it pushed (server time - device time): device times
    # in the payload (a photo's capture time) are corrected by it.
    clock_offset: dt.timedelta | None = None

    @property
    def corrected_time(self) -> dt.datetime:
        """When the phone did it: its clock corrected by the push's measured offset (the order key's
        time, kept increasing in the device's own order by the engine)."""
        return dt.datetime.fromtimestamp(self.key[1] / 1_000_000, tz=dt.UTC)


@dataclass
class Outcome:
    """What a handler returns. ``clashes`` non-empty makes the operation a conflict (kept for review)."""

    entity_id: str
    version: int
    change_seq: int | None = None
    clashes: list[dict] = field(default_factory=list)
    conflict_reason: str = ""
    # Wait keys of held operations this one may have unblocked (see NotYet): they are retried.
    releases: tuple[WaitKey, ...] = ()


class NotYet(Exception):  # noqa: N818 (not an error: the operation waits)
    """Raised by a handler when its operation cannot apply *yet* because something it needs has not
    reached the server (a courier's photo before the sampler's): the operation is held, not rejected,
    under ``wait_key`` until an operation or online write releases that key (``Outcome.releases``,
    ``sync.engine.release``), or until the hold deadline flags it for review."""

    def __init__(self, wait_key: WaitKey, waits_for: dict):
        super().__init__(str(wait_key))
        self.wait_key = wait_key
        self.waits_for = waits_for


@dataclass(frozen=True)
class OpType:
    name: str
    entity: str
    payload: type[serializers.Serializer]
    apply: Callable[[OpContext], Outcome]
    # Whether the entity must exist first. An operation on an entity the server has not seen yet
    # (created on another phone that has not synced) is held until it arrives.
    needs_entity: bool = True
    creates: bool = False
    is_update: bool = False
    # Other entities that must be on the server first, from the validated payload: (entity, id)
    # pairs. A photo names its task; when the task has not arrived yet the photo is held.
    prerequisites: Callable[[dict], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Entity:
    name: str
    # (entity id, user) -> whether the entity is on the server *for this user*: another tenant's
    # object looks absent, so an operation naming it is held exactly as one naming an object not
    # synced yet, and answers nothing about it (F9 item 10). ``exists_in`` builds it from a scope.
    exists: Callable[[str, Any], bool]
    pull_scope: Callable[[Any], Q]  # user -> a filter on sync.Change rows


def exists_in(scope: Callable[[Any], QuerySet]) -> Callable[[str, Any], bool]:
    """An ``Entity.exists`` from a scope (user -> queryset). An id that is not one names nothing."""

    def exists(entity_id: str, user) -> bool:
        try:
            return scope(user).filter(pk=entity_id).exists()
        except (ValidationError, ValueError):
            return False

    return exists


_OPS: dict[str, OpType] = {}
_ENTITIES: dict[str, Entity] = {}


def register_entity(entity: Entity) -> None:
    _ENTITIES[entity.name] = entity


def register(op: OpType) -> None:
    if op.entity not in _ENTITIES:
        raise LookupError(f"register the entity {op.entity!r} before its operation {op.name!r}")
    existing = _OPS.get(op.name)
    if existing is not None and existing is not op:
        raise ValueError(f"operation type {op.name!r} is registered twice")
    _OPS[op.name] = op


def op_type(name: str) -> OpType | None:
    return _OPS.get(name)


def entity(name: str) -> Entity:
    return _ENTITIES[name]


def entities() -> dict[str, Entity]:
    return dict(_ENTITIES)


def op_types() -> dict[str, OpType]:
    return dict(_OPS)
