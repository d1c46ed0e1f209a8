"""The change log that pulls read, and the counter that keeps it gap-free under concurrent writes."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sync.models import Change, SyncCounter


def _next_seq() -> int:
    # The counter row stays locked until this transaction commits: changes commit in sequence order.
    counter = SyncCounter.objects.select_for_update().filter(pk=1).first()
    if counter is None:
        try:
            with transaction.atomic():
                SyncCounter.objects.create(pk=1, value=0)
        except IntegrityError:
            pass  # created by a concurrent transaction
        counter = SyncCounter.objects.select_for_update().get(pk=1)
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def record_change(
    *,
    entity_type: str,
    entity_id: str,
    version: int,
    data: dict[str, Any] | None,
    deleted: bool = False,
    agency_id: int | None = None,
    enterprise_id: int | None = None,
    project_id: int | None = None,
    region_code: str = "",
) -> int:
    """Record that an entity changed; returns the change's sequence. Call inside the write's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_change must run inside the transaction of the change it records")
    seq = _next_seq()
    values = {
        "seq": seq,
        "version": version,
        "deleted": deleted,
        "data": None if deleted else data,
        "agency_id": agency_id,
        "enterprise_id": enterprise_id,
        "project_id": project_id,
        "region_code": region_code,
        "changed_at": timezone.now(),
    }
    # One statement for the usual case, an entity that changed before.
    if not Change.objects.filter(entity_type=entity_type, entity_id=str(entity_id)).update(**values):
        Change.objects.create(entity_type=entity_type, entity_id=str(entity_id), **values)
    return seq
