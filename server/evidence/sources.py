"""Four of the queue's kinds: photos the rules judged warn or fail, check-ins outside their geofence
(or with a coordinate-system mix-up), overdue O&M plan occurrences, and O&M records whose computed
judgement fails. Each kind reads one bounded query (two for photos: the O&M records a work photo
belongs to; two for records: their instruments), scoped by ``server.access``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from server import access
from server.evidence import judgements as qc
from server.evidence.items import (
    CHECKIN,
    JUDGEMENT,
    OVERDUE,
    PHOTO,
    Batch,
    Item,
    Position,
    QueueQuery,
    batch,
    below,
    om_task_subject,
    outlet_subject,
    person,
    project_subject,
    ref,
    text,
    uuid_key,
    violation_body,
    within,
)
from server.om import plans
from server.om.models import OmRecord, OmTask
from server.tracks.models import CheckIn

VERDICT_LABELS = {"warn": ("警告", "warning"), "fail": ("不通过", "failed")}


def _flagged(findings: list) -> list[dict]:
    """The findings that made the verdict, the worst first (a photo's passes are not evidence)."""
    flagged = [f for f in findings or [] if f.get("severity") in ("warn", "fail")]
    return sorted(flagged, key=lambda f: f.get("severity") != "fail")


def _message(query: QueueQuery, finding: dict | None) -> str:
    message = (finding or {}).get("message") or {}
    return message.get("en" if query.language == "en" else "zh-hans", "") if isinstance(message, dict) else ""


def _task_ref(task) -> dict | None:
    return {"id": str(task.pk), "name": task.name} if task is not None else None


# --- Photos ---------------------------------------------------------------------------------------
def photo_batch(user, query: QueueQuery) -> Batch:
    from media_rules.models import Photo, Verdict

    photos = (
        access.photos_for(user)
        .filter(verdict__in=[Verdict.WARN, Verdict.FAIL])
        .filter(within(query.since, query.until, "recorded_at"), below(query.cursor, PHOTO, "recorded_at"))
    )
    if query.agency is not None:
        photos = photos.filter(agency_id=query.agency)
    rows: list[Photo] = list(
        photos.select_related(
            "photo_type",
            "agency",
            "task__project__agency",
            "task__project__enterprise",
            "outlet__enterprise",
            "taken_by__person",
        )
        .annotate(thumbnail_name=F("blob__thumbnail"))
        .order_by("-recorded_at", "-id")[: query.limit]
    )
    # A site photo (no monitoring task) is usually an O&M record's work photo: its order is on the
    # record's O&M task. Drafts stay with their agency (access.om_records_for).
    site_photos = [p.pk for p in rows if p.task_id is None]
    records = {}
    if site_photos:
        submitted = OmRecord.objects.filter(work_photo_id__in=site_photos).exclude(
            status=OmRecord.Status.DRAFT
        )
        for record in submitted.select_related("task").order_by("created_at", "pk"):
            records.setdefault(record.work_photo_id, record)
    return batch(
        rows,
        query.limit,
        lambda p: Position(p.recorded_at, PHOTO, uuid_key(p.pk)),
        lambda p: _photo_item(p, records.get(p.pk), query),
    )


def _photo_item(photo, record: OmRecord | None, query: QueueQuery) -> Item:
    findings = _flagged(photo.findings)
    duplicates = sorted(
        {str(pid) for f in findings for pid in (f.get("evidence") or {}).get("photo_ids") or []}
    )
    label_zh, label_en = VERDICT_LABELS.get(photo.verdict, (photo.verdict, photo.verdict))
    worst = _message(query, findings[0] if findings else None)
    description = text(query, f"照片{label_zh}：{worst}", f"Photo {label_en}: {worst}")
    project = photo.task.project if photo.task_id else None
    enterprise = project.enterprise if project else (photo.outlet.enterprise if photo.outlet_id else None)
    if project is not None:
        subject = project_subject(project)
        body = violation_body(query, description, project=project.pk, photo=photo.pk)
    elif record is not None:
        subject = om_task_subject(record.task)
        body = violation_body(query, description, om_task=record.task_id, om_record=record.pk)
    else:
        subject = outlet_subject(photo.outlet) if photo.outlet_id else None
        body = None
    thumbnail = _thumbnail(query, photo)
    return Item(
        kind=PHOTO,
        at=photo.recorded_at,
        key=uuid_key(photo.pk),
        agency=ref(photo.agency),
        enterprise=ref(enterprise),
        subject=subject,
        evidence={
            "photo": str(photo.pk),
            "photo_type": photo.photo_type_id,
            "photo_type_name": photo.photo_type.name,
            "stage": photo.photo_type.stage,
            "verdict": photo.verdict,
            "task": _task_ref(photo.task),
            "om_record": str(record.pk) if record is not None else None,
            "outlet": ref(photo.outlet),
            "taken_by": person(photo.taken_by),
            "captured_at": photo.captured_at,
            "captured_from": photo.captured_from,
            "recorded_at": photo.recorded_at,
            "mock_location": photo.mock_location,
            "thumbnail": thumbnail,
            "duplicates": duplicates,
            "findings": findings,
        },
        open_violation=body,
    )


def _thumbnail(query: QueueQuery, photo) -> str | None:
    if not photo.thumbnail_name or query.thumbnail_url is None:
        return None
    return query.thumbnail_url(photo.pk)


# --- Check-ins ------------------------------------------------------------------------------------
def checkin_batch(user, query: QueueQuery) -> Batch:
    checkins = (
        access.checkins_for(user)
        .filter(verdict__in=[CheckIn.Verdict.OUTSIDE, CheckIn.Verdict.COORDINATE_MIXUP])
        .filter(within(query.since, query.until, "recorded_at"), below(query.cursor, CHECKIN, "recorded_at"))
    )
    if query.agency is not None:
        checkins = checkins.filter(
            Q(task__project__agency_id=query.agency) | Q(om_task__agency_id=query.agency)
        )
    rows = list(
        checkins.select_related(
            "task__project__agency",
            "task__project__enterprise",
            "om_task__agency",
            "om_task__contract__enterprise",
            "outlet__enterprise",
            "user__person",
        ).order_by("-recorded_at", "-id")[: query.limit]
    )
    return batch(
        rows,
        query.limit,
        lambda c: Position(c.recorded_at, CHECKIN, uuid_key(c.pk)),
        lambda c: _checkin_item(c, query),
    )


def _checkin_item(checkin: CheckIn, query: QueueQuery) -> Item:
    findings = _flagged(checkin.findings)
    label = checkin.get_verdict_display()
    worst = _message(query, findings[0] if findings else None)
    distance = f"{checkin.distance_m:.0f}" if checkin.distance_m is not None else "?"
    description = text(
        query,
        f"签到{label}：{worst or f'距点位 {distance} 米'}",
        f"Check-in {checkin.verdict}: {worst or f'{distance} m from the site'}",
    )
    agency = enterprise = subject = body = None
    if checkin.task_id is not None:
        project = checkin.task.project
        agency, enterprise, subject = project.agency, project.enterprise, project_subject(project)
        body = violation_body(query, description, project=project.pk, checkin=checkin.pk)
    elif checkin.om_task_id is not None:
        task = checkin.om_task
        agency, enterprise, subject = task.agency, task.contract.enterprise, om_task_subject(task)
        body = violation_body(query, description, om_task=task.pk, checkin=checkin.pk)
    elif checkin.outlet_id is not None:
        enterprise, subject = checkin.outlet.enterprise, outlet_subject(checkin.outlet)
    return Item(
        kind=CHECKIN,
        at=checkin.recorded_at,
        key=uuid_key(checkin.pk),
        agency=ref(agency),
        enterprise=ref(enterprise),
        subject=subject,
        evidence={
            "checkin": str(checkin.pk),
            "kind": checkin.kind,
            "verdict": checkin.verdict,
            "verdict_label": label,
            "time": checkin.at,
            "recorded_at": checkin.recorded_at,
            "distance_m": checkin.distance_m,
            "geofence_m": checkin.geofence_m,
            "accuracy_m": checkin.accuracy_m,
            "mock": checkin.mock,
            "position": {"longitude": checkin.location.x, "latitude": checkin.location.y, "system": "wgs84"},
            "given": {
                "longitude": checkin.given_longitude,
                "latitude": checkin.given_latitude,
                "system": checkin.given_system,
            },
            "outlet": ref(checkin.outlet),
            "task": _task_ref(checkin.task),
            "by": person(checkin.user),
            "findings": findings,
        },
        open_violation=body,
    )


# --- Overdue O&M plan occurrences -----------------------------------------------------------------
def overdue_at(window_end: dt.date) -> dt.datetime:
    """An occurrence is overdue from the first moment after its window (Asia/Shanghai)."""
    return dt.datetime.combine(
        window_end + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_default_timezone()
    )


def overdue_batch(user, query: QueueQuery) -> Batch:
    """Overdue occurrences of the active O&M tasks the user sees, computed by ``server.om.plans``
    over [since, until] (by default the last ``OM_OVERDUE_LOOKBACK_DAYS`` days)."""
    today = timezone.localdate()
    tasks = access.om_tasks_for(user).filter(status=OmTask.Status.ACTIVE)
    if query.agency is not None:
        tasks = tasks.filter(agency_id=query.agency)
    first = (
        timezone.localdate(query.since)
        if query.since
        else today - dt.timedelta(days=settings.OM_OVERDUE_LOOKBACK_DAYS)
    )
    last = timezone.localdate(query.until) if query.until else today
    occurrences = plans.overdue_between(tasks, first - dt.timedelta(days=1), last, today=today)
    positioned = []
    for occurrence in occurrences:
        at = overdue_at(occurrence.window_end)
        position = Position(at, OVERDUE, f"{occurrence.plan.pk:012d}-{occurrence.window_start.isoformat()}")
        if (query.since and at < query.since) or (query.until and at > query.until):
            continue
        if query.cursor is not None and not position < query.cursor:
            continue
        positioned.append((position, occurrence))
    positioned.sort(key=lambda pair: pair[0], reverse=True)
    page = positioned[: query.limit]
    enterprises = {
        pk: {"id": enterprise, "name": name}
        for pk, enterprise, name in OmTask.objects.filter(
            pk__in={o.plan.task_id for _, o in page}
        ).values_list("pk", "contract__enterprise_id", "contract__enterprise__name")
    }
    items = [
        _overdue_item(position, o, enterprises.get(o.plan.task_id), today, query) for position, o in page
    ]
    horizon = page[-1][0] if len(positioned) > query.limit else None
    return Batch(items=items, horizon=horizon)


def _overdue_item(position, occurrence, enterprise: dict | None, today, query: QueueQuery) -> Item:
    plan, task = occurrence.plan, occurrence.plan.task
    days = (today - occurrence.window_end).days
    outlet = plan.outlet.name if plan.outlet_id else ""
    where_zh, where_en = (f"（{outlet}）", f" ({outlet})") if outlet else ("", "")
    description = text(
        query,
        f"运维计划“{plan.title}”{occurrence.period_label}{where_zh}无运维记录，已超期 {days} 天",
        f"O&M plan “{plan.title}” {occurrence.window_start} to {occurrence.window_end}{where_en} has no "
        f"record: {days} days overdue",
    )
    return Item(
        kind=OVERDUE,
        at=position.at,
        key=position.key,
        agency=ref(task.agency),
        enterprise=enterprise,
        subject=om_task_subject(task),
        evidence={
            "plan": {"id": plan.pk, "title": plan.title},
            "frequency": plan.frequency,
            "window_start": occurrence.window_start,
            "window_end": occurrence.window_end,
            "period": occurrence.period_label,
            "outlet": ref(plan.outlet),
            "template_codes": plan.template_codes,
            "days_overdue": days,
        },
        open_violation=violation_body(query, description, om_task=task.pk),
    )


# --- O&M records whose computed judgement fails -----------------------------------------------------
def judgement_batch(user, query: QueueQuery) -> Batch:
    """Records past draft, not voided, with a failing judgement (``server.evidence.judgements``), at
    the time they were first submitted: an edit or a review does not move them in the queue."""
    records = (
        qc.failing_records(access.om_records_for(user))
        .annotate(evidence_at=Coalesce("submitted_at", "created_at"))
        .filter(
            within(query.since, query.until, "evidence_at"), below(query.cursor, JUDGEMENT, "evidence_at")
        )
    )
    if query.agency is not None:
        records = records.filter(agency_id=query.agency)
    rows = list(
        records.select_related("task", "agency", "enterprise", "outlet", "template", "filled_by__person")
        .prefetch_related("instruments")
        .order_by("-evidence_at", "-id")[: query.limit]
    )
    return batch(
        rows,
        query.limit,
        lambda r: Position(r.evidence_at, JUDGEMENT, uuid_key(r.pk)),
        lambda r: _judgement_item(r, query),
    )


def _judgement_item(record: OmRecord, query: QueueQuery) -> Item:
    failed = qc.failures(record)
    where = f"{record.outlet.name}，{record.om_date:%Y-%m-%d}"
    description = text(
        query,
        f"运维记录“{record.template.name}”（{where}）计算判定不合格：" + "；".join(f.text for f in failed),
        f"O&M record “{record.template.name}” ({record.outlet.name}, {record.om_date:%Y-%m-%d}) fails "
        f"its computed checks: "
        + "; ".join(
            f"{f.label} {f.value}, limit {f.limit}"
            + (f" ({f.source})" if f.source else "")
            + (" (provisional)" if f.provisional else "")
            for f in failed
        ),
    )
    return Item(
        kind=JUDGEMENT,
        at=record.evidence_at,
        key=uuid_key(record.pk),
        agency=ref(record.agency),
        enterprise=ref(record.enterprise),
        subject=om_task_subject(record.task),
        evidence={
            "om_record": str(record.pk),
            "template": record.template.code,
            "template_name": record.template.name,
            "om_date": record.om_date,
            "status": record.status,
            "status_label": record.get_status_display(),
            "version": record.version,
            "outlet": ref(record.outlet),
            "filled_by": person(record.filled_by),
            "submitted_at": record.submitted_at,
            "judged": qc.judged_count(record),
            "failed": [f.as_dict() for f in failed],
        },
        open_violation=violation_body(query, description, om_task=record.task_id, om_record=record.pk),
    )
