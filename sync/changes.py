"""The change log that pulls read, and the counter that keeps it gap-free under concurrent writes."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sync.models import Change, SyncCounter


def _next_seq() -> int:
    """The next sequence, in one statement: the UPDATE locks the counter row until this transaction
    commits, so changes commit in sequence order. RETURNING (PostgreSQL, SQLite 3.35+) reads the new
    value in the same round trip, instead of a SELECT ... FOR UPDATE and then an UPDATE."""
    table = connection.ops.quote_name(SyncCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET value = value + 1 WHERE id = 1 RETURNING value")  # noqa: S608
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    try:  # the first change ever recorded in this database
        with transaction.atomic():
            SyncCounter.objects.create(pk=1, value=0)
    except IntegrityError:
        pass  # created by a concurrent transaction
    return _next_seq()


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
    created: bool = False,
) -> int:
    """Record that an entity changed; returns the change's sequence. Call inside the write's transaction.
    ``created``: the entity was created in this transaction, so it has no change row yet (one INSERT
    instead of an UPDATE that finds nothing, then the INSERT)."""
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
    entity = {"entity_type": entity_type, "entity_id": str(entity_id)}
    if created or not Change.objects.filter(**entity).update(**values):
        Change.objects.create(**entity, **values)
    return seq
