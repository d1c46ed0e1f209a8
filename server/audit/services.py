"""Writing the audit trail: ``record`` is called by the domain services inside their own transaction
(rolled back with them), after the change it describes. Nothing else writes ``AuditEntry`` rows.

The origin (device, sync operation) comes from ``server.audit.context``, so the services keep their
signatures; the scope keys (agency, enterprise, region) are read from the subject unless given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models
from django.utils import timezone

from server.audit.context import current
from server.audit.models import AuditEntry
from server.fields import instant

# Subject types as the API and the sync protocol name them; other models use their model name.
SUBJECT_TYPES = {
    "fieldwork.monitoringproject": "project",
    "fieldwork.monitoringtask": "task",
    "om.omrecord": "om_record",
    "om.omtask": "om_task",
    "violations.violation": "violation",
    "registry.agency": "agency",
    "registry.employment": "staff",
    "registry.enterprise": "enterprise",
    "registry.outlet": "outlet",
    "media_rules.photo": "photo",
}


@dataclass(frozen=True)
class Scope:
    agency_id: int | None = None
    enterprise_id: int | None = None
    region_code: str = ""


def subject_type_of(subject: models.Model) -> str:
    label = subject._meta.label_lower
    return SUBJECT_TYPES.get(label, subject._meta.model_name)


def scope_of(subject: models.Model) -> Scope:
    """Who may see an entry about ``subject``: its agency, its enterprise, and the region (of the
    project, the enterprise, or the agency) a regulator filters on."""
    kind = subject_type_of(subject)
    if kind == "task":
        return scope_of(subject.project)
    if kind == "violation":
        return scope_of(subject.project if subject.project_id is not None else subject.om_task)
    if kind == "project":
        return Scope(subject.agency_id, subject.enterprise_id, subject.region_code)
    if kind == "om_task":
        enterprise = subject.contract.enterprise
        return Scope(subject.agency_id, enterprise.pk, enterprise.region_code)
    if kind == "om_record":
        return Scope(subject.agency_id, subject.enterprise_id, subject.enterprise.region_code)
    if kind == "agency":
        return Scope(subject.pk, None, subject.region_code)
    if kind == "staff":
        return Scope(subject.agency_id, None, subject.agency.region_code)
    if kind == "enterprise":
        return Scope(None, subject.pk, subject.region_code)
    if kind == "outlet":
        return Scope(None, subject.enterprise_id, subject.enterprise.region_code)
    if kind == "photo":
        site = scope_of(subject.task) if subject.task_id is not None else scope_of(subject.outlet)
        return Scope(subject.agency_id, site.enterprise_id, site.region_code)
    return Scope(
        getattr(subject, "agency_id", None),
        getattr(subject, "enterprise_id", None),
        getattr(subject, "region_code", "") or "",
    )


def record(
    action: str,
    *,
    subject: models.Model,
    actor,
    summary: str = "",
    changes: dict | None = None,
    agency_id: int | None = None,
    enterprise_id: int | None = None,
    region_code: str = "",
) -> AuditEntry:
    """Append one entry. ``actor`` None means the signed-in user of the request or sync operation in
    progress, if any, else the system. Scope keys not given are read from the subject."""
    origin = current()
    actor_id = getattr(actor, "pk", None) if actor is not None else origin.user_id
    scope = scope_of(subject)
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor_id=actor_id,
        action=action,
        subject_type=subject_type_of(subject),
        subject_id=str(subject.pk),
        summary=summary[:200],
        changes=changes or {},
        device_id=origin.device_id,
        operation_id=origin.operation_id,
        agency_id=agency_id if agency_id is not None else scope.agency_id,
        enterprise_id=enterprise_id if enterprise_id is not None else scope.enterprise_id,
        region_code=region_code or scope.region_code,
    )


# --- Helpers for what changed ------------------------------------------------------------------------


GEOMETRY_TYPES = {"PointField", "LineStringField", "PolygonField", "MultiPointField", "GeometryField"}
NOT_AUDITED = {"updated_at", "created_at", "version", "field_stamps"}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return instant(value)  # F10 item 7: as every answer writes a moment
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The concrete, non-geometry field values of ``obj`` (by attname), to diff after a change."""
    return {
        f.attname: _plain(getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if not f.primary_key and f.get_internal_type() not in GEOMETRY_TYPES
    }


def diff(before: dict[str, Any], obj: models.Model) -> dict[str, list]:
    """``{field: [old, new]}`` for every field that changed since ``snapshot``."""
    after = snapshot(obj)
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if name not in NOT_AUDITED and before.get(name) != value
    }


def last_move(events) -> dict[str, Any]:
    """The latest status move in a history relation (``project.events``): ``{"status": [from, to]}``
    and its reason, as the state machine wrote it under its lock."""
    event = events.order_by("-id").first()
    if event is None:
        return {}
    moved = {"status": [event.from_status, event.to_status]}
    if event.reason:
        moved["reason"] = event.reason
    return moved
