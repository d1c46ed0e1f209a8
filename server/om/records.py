"""O&M daily records (运维记录, seed 003 §2.3-§3): filling, enterprise confirmation, agency review.

Every write here is called alike by the online endpoints (``mobile_api/om_records.py``) and by the
sync operations (``server/om/operations.py``).

- ``record_save``: the technician's record, by the phone's UUID. A draft needs the start check-in
  (签到 before filling); ``submit=True`` also needs the end check-in, the filler's work photo and
  handwritten signature, and a complete form (``server.om.forms.validate``). A save of a submitted
  record is an edit: a new frozen version; an edit of a confirmed record takes it back to
  "submitted" and invalidates the confirmation for it (the caller reports that as a conflict and the
  enterprise is asked to confirm again).
- ``day_confirm``: the enterprise confirms a day's records as a batch, pinning the versions it saw.
- ``records_review``: the agency's reviewer confirms or voids confirmed records, one or many. The
  reviewer is never the filler: checked here, so it holds for offline reviews too.

Status moves go through ``RECORD`` (server/transitions.py), which writes ``OmRecordEvent`` rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from media_rules.models import Blob, Photo
from server.accounts.models import Device, Role, User
from server.audit import services as audit
from server.errors import NOT_FOUND, DomainError
from server.notifications.services import notify
from server.om import errors, forms
from server.om.models import (
    ConfirmedVersion,
    DayConfirmation,
    FormTemplate,
    OmRecord,
    OmRecordEvent,
    OmRecordVersion,
    OmTask,
    OmTaskStaff,
    Review,
    ReviewedVersion,
)
from server.om.services import ensure_task_active, on_om_task
from server.registry.models import Enterprise, Instrument, Outlet
from server.tracks.models import CheckIn
from server.transitions import StateMachine
from sync.changes import record_change

S = OmRecord.Status

RECORD_MOVES: dict[tuple[str, str], set[str]] = {
    (S.DRAFT, S.SUBMITTED): {"filler"},
    (S.SUBMITTED, S.CONFIRMED): {"enterprise"},
    (S.CONFIRMED, S.SUBMITTED): {"filler"},  # edited after confirmation: to be confirmed again
    (S.CONFIRMED, S.APPROVED): {"reviewer"},
    (S.CONFIRMED, S.VOIDED): {"reviewer"},
}


def is_reviewer(task: OmTask, user: User) -> bool:
    """运维审核: may confirm or void the task's records (never their own)."""
    return on_om_task(task, user, OmTaskStaff.Role.REVIEWER)


def is_technician(task: OmTask, user: User) -> bool:
    """现场运维: may fill the task's records."""
    return on_om_task(task, user, OmTaskStaff.Role.TECHNICIAN)


def _record_roles(record: OmRecord, actor: User) -> set[str]:
    roles = set()
    if actor.pk == record.filled_by_id:
        roles.add("filler")
    elif is_reviewer(record.task, actor):  # never the filler: 填报表单和审核表单不能为同一人 (seed 003)
        roles.add("reviewer")
    if actor.role == Role.ENTERPRISE and actor.enterprise_id == record.enterprise_id:
        roles.add("enterprise")
    return roles


RECORD = StateMachine(
    status_field="status",
    moves=RECORD_MOVES,
    history=OmRecordEvent,
    history_fk="record",
    not_allowed=errors.OM_RECORD_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.OM_RECORD_ACTOR_NOT_ALLOWED,
    reason_required=errors.OM_VOID_REASON_REQUIRED,
    needs_reason={S.VOIDED},
    reason_field="void_reason",
    roles_of=_record_roles,
)


def record_data(record: OmRecord) -> dict:
    """What phones pull of a record (the full detail is ``GET /om/records/{id}``)."""
    return {
        "id": str(record.pk),
        "task": record.task_id,
        "outlet": record.outlet_id,
        "template": record.template.code,
        "template_version": record.template.version,
        "status": record.status,
        "version": record.version,
        "om_date": record.om_date.isoformat(),
        "filled_by": record.filled_by_id,
        "void_reason": record.void_reason,
    }


def _changed(record: OmRecord) -> int:
    draft = record.status == S.DRAFT
    return record_change(
        entity_type="om_record",
        entity_id=str(record.pk),
        version=record.version,
        data=record_data(record),
        agency_id=record.agency_id,
        # Drafts stay with the agency; the enterprise and the regulator see submitted records.
        enterprise_id=None if draft else record.enterprise_id,
        region_code="" if draft else record.enterprise.region_code,
    )


# --- Filling -------------------------------------------------------------------------------------
def _checkin(checkin: CheckIn | None, *, actor: User, task: OmTask, outlet: Outlet, kind: str) -> None:
    if checkin is None:
        return
    if (
        checkin.user_id != actor.pk
        or checkin.om_task_id != task.pk
        or checkin.outlet_id != outlet.pk
        or checkin.kind != kind
    ):
        raise DomainError(
            errors.OM_CHECKIN_MISMATCH,
            details={"checkin": str(checkin.pk), "kind": kind},
            kind=CheckIn.Kind(kind).label,
        )
    if task.geofence_policy == "block" and checkin.verdict == CheckIn.Verdict.OUTSIDE:
        distance = round(checkin.distance_m or 0)
        raise DomainError(
            errors.OM_CHECKIN_OUTSIDE,
            details={"checkin": str(checkin.pk), "distance_m": distance, "geofence_m": checkin.geofence_m},
            distance=distance,
        )


def _work_photo(photo: Photo | None, actor: User) -> None:
    if photo is not None and (photo.photo_type_id != "work_photo" or photo.taken_by_id != actor.pk):
        raise DomainError(errors.OM_WORK_PHOTO_INVALID, details={"photo": str(photo.pk)})


@dataclass
class Saved:
    record: OmRecord
    created: bool
    new_version: bool = False  # a submitted version was written
    # Confirmations this save invalidated (an edit of a confirmed record): reported as a conflict.
    invalidated: list[dict] = field(default_factory=list)
    change_seq: int | None = None


def _snapshot(record: OmRecord, instruments: list[Instrument]) -> dict:
    return {
        "groups": list(record.groups),
        "instrument_ids": sorted(i.pk for i in instruments),
        "answers": record.answers,
    }


@transaction.atomic
def record_save(
    *,
    actor: User,
    record_id,
    task: OmTask,
    outlet: Outlet,
    template: FormTemplate,
    instruments: list[Instrument],
    groups: list[str],
    answers: dict,
    start_checkin: CheckIn | None,
    end_checkin: CheckIn | None = None,
    work_photo: Photo | None = None,
    signature: Blob | None = None,
    submit: bool = False,
    note: str = "",
    device: Device | None = None,
    at: dt.datetime | None = None,
) -> Saved:
    """Save the technician's record (idempotent: the same content again changes nothing)."""
    ensure_task_active(task)  # a finished task (已完结) takes no new records or edits (issue F13)
    record = OmRecord.objects.select_for_update().filter(pk=record_id).first()
    if record is None:
        if not is_technician(task, actor):
            raise DomainError(errors.OM_NOT_TECHNICIAN)
    else:
        if record.filled_by_id != actor.pk:
            from server.access import om_records_for

            if not om_records_for(actor).filter(pk=record.pk).exists():
                raise DomainError(NOT_FOUND)  # another agency's record: its existence does not leak
            raise DomainError(errors.OM_NOT_FILLER)
        _refuse_closed(record)
        # What identifies a record does not change with an edit.
        task, outlet, template = record.task, record.outlet, record.template
    if not task.points.filter(pk=outlet.pk).exists():
        raise DomainError(errors.OM_OUTLET_NOT_ON_TASK)
    if template.outlet_kind != outlet.kind:
        raise DomainError(errors.OM_TEMPLATE_NOT_FOR_OUTLET, name=template.name)
    if any(i.outlet_id != outlet.pk for i in instruments):
        raise DomainError(errors.OM_INSTRUMENT_NOT_AT_POINT)
    start_checkin = start_checkin or (record.start_checkin if record else None)
    end_checkin = end_checkin or (record.end_checkin if record else None)
    work_photo = work_photo or (record.work_photo if record else None)
    signature = signature or (record.signature if record else None)
    _checkin(start_checkin, actor=actor, task=task, outlet=outlet, kind=CheckIn.Kind.START)
    _checkin(end_checkin, actor=actor, task=task, outlet=outlet, kind=CheckIn.Kind.END)
    _work_photo(work_photo, actor)
    if start_checkin is None:
        raise DomainError(errors.OM_CHECKIN_REQUIRED, details={"missing": ["start"]})
    final = submit or (record is not None and record.status != S.DRAFT)
    if final:
        missing = [k for k, v in (("start", start_checkin), ("end", end_checkin)) if v is None]
        if missing:
            raise DomainError(errors.OM_CHECKIN_REQUIRED, details={"missing": missing})
        if work_photo is None:
            raise DomainError(errors.OM_WORK_PHOTO_REQUIRED)
        if signature is None:
            raise DomainError(errors.OM_SIGNATURE_REQUIRED)
    checked = forms.validate(template, answers, instruments=instruments, groups=groups, complete=final)
    fields = {
        "groups": list(groups),
        "answers": checked.answers,
        "judgements": checked.judgements,
        "start_checkin": start_checkin,
        "end_checkin": end_checkin,
        "work_photo": work_photo,
        "signature": signature,
    }
    created = record is None
    if created:
        record = OmRecord.objects.create(
            id=record_id,
            task=task,
            outlet=outlet,
            template=template,
            agency_id=task.agency_id,
            enterprise_id=outlet.enterprise_id,
            filled_by=actor,
            device=device,
            om_date=timezone.localdate(start_checkin.at),
            **fields,
        )
        record.instruments.set(instruments)
        saved = Saved(record, created=True)
        if not submit:
            saved.change_seq = _changed(record)
            return saved
    else:
        before = _snapshot(record, list(record.instruments.all()))
        for name, value in fields.items():
            setattr(record, name, value)
        record.om_date = timezone.localdate(start_checkin.at)
        record.save()
        record.instruments.set(instruments)
        saved = Saved(record, created=False)
        unchanged = before == _snapshot(record, instruments)
        if record.status == S.DRAFT and not submit:
            saved.change_seq = _changed(record)
            return saved
        if record.status != S.DRAFT and unchanged:
            return saved  # the same submission again (a retry): nothing new
    return _freeze(saved, actor=actor, instruments=instruments, note=note, at=at)


def _freeze(saved: Saved, *, actor: User, instruments: list[Instrument], note: str, at) -> Saved:
    """Write the submitted version; submit a draft, or take a confirmed record back to submitted."""
    record = saved.record
    now = timezone.now()
    last = record.versions.order_by("-number").values_list("number", flat=True).first()
    number = (last or 0) + 1
    OmRecordVersion.objects.create(
        record=record,
        number=number,
        saved_by=actor,
        saved_at=now,
        note=note.strip(),
        **_snapshot(record, instruments),
        judgements=record.judgements,
    )
    saved.new_version = True
    was = record.status
    if record.status == S.DRAFT:
        record = RECORD.apply(record, to=S.SUBMITTED, actor=actor, at=at)
        record.submitted_at = now
    elif record.status == S.CONFIRMED:
        record = RECORD.apply(record, to=S.SUBMITTED, actor=actor, reason="修改后须重新确认", at=at)
    pinned = ConfirmedVersion.objects.filter(record=record, invalidated_at__isnull=True)
    saved.invalidated = [
        {"confirmation": str(c.confirmation_id), "pinned_version": c.version, "new_version": number}
        for c in pinned
    ]
    pinned.update(invalidated_at=now, invalidated_by_version=number)
    record.version = number
    record.save(update_fields=["version", "submitted_at", "updated_at"])
    saved.record = record
    saved.change_seq = _changed(record)
    audit.record(
        "om_record.submitted" if was == S.DRAFT else "om_record.edited",
        subject=record,
        actor=actor,
        summary=f"{'提交' if was == S.DRAFT else '修改'}：{record.template.name}（{record.om_date:%m-%d}）",
        changes={
            "status": [was, record.status],
            "version": number,
            "note": note.strip(),
            **({"invalidated": saved.invalidated} if saved.invalidated else {}),
        },
    )
    if saved.invalidated:
        notify(
            recipients=User.objects.filter(
                role=Role.ENTERPRISE, enterprise_id=record.enterprise_id, is_active=True
            ),
            kind="om_record_reconfirm",
            title=f"{record.om_date:%m月%d日}的“{record.template.name}”已修改，请重新确认",
            body="运维记录在您确认后被修改，须重新确认。",
            subject_type="om_record",
            subject_id=str(record.pk),
        )
    return saved


# --- Enterprise confirmation -----------------------------------------------------------------------
def day_pending(enterprise: Enterprise, om_date: dt.date):
    """The day's records awaiting the enterprise's confirmation (待确认)."""
    return OmRecord.objects.filter(enterprise=enterprise, om_date=om_date, status=S.SUBMITTED)


@dataclass
class DayConfirmed:
    confirmation: DayConfirmation
    created: bool
    confirmed: list[str]
    # Records confirmed at a version that is no longer current (edited meanwhile): not confirmed.
    stale: list[dict]


def _signed(photo: Photo | None, signature: Blob | None, actor: User) -> None:
    if photo is None:
        raise DomainError(errors.OM_WORK_PHOTO_REQUIRED)
    _work_photo(photo, actor)
    if signature is None:
        raise DomainError(errors.OM_SIGNATURE_REQUIRED)


@transaction.atomic
def day_confirm(
    *,
    actor: User,
    confirmation_id,
    enterprise: Enterprise,
    om_date: dt.date,
    versions: dict[str, int],
    work_photo: Photo | None,
    signature: Blob | None,
    device: Device | None = None,
    at: dt.datetime | None = None,
) -> DayConfirmed:
    """Confirm the listed records of a day at the versions the confirmer saw (``versions``: record id
    -> version). Idempotent by ``confirmation_id``."""
    existing = DayConfirmation.objects.filter(pk=confirmation_id).first()
    if existing is not None:
        if existing.actor_id != actor.pk:
            raise DomainError(errors.OM_ID_TAKEN)
        return DayConfirmed(
            existing,
            False,
            [str(i.record_id) for i in existing.items.filter(invalidated_at__isnull=True)],
            [],
        )
    if actor.role != Role.ENTERPRISE or actor.enterprise_id != enterprise.pk:
        raise DomainError(errors.OM_NOT_ENTERPRISE_RECORD)
    if not versions:
        raise DomainError(errors.OM_BATCH_EMPTY)
    records = {str(r.pk): r for r in OmRecord.objects.select_for_update().filter(pk__in=list(versions))}
    foreign = [rid for rid in versions if rid not in records or records[rid].enterprise_id != enterprise.pk]
    if foreign:
        raise DomainError(errors.OM_NOT_ENTERPRISE_RECORD, details={"records": foreign})
    other_day = [rid for rid, r in records.items() if r.om_date != om_date]
    if other_day:
        raise DomainError(errors.OM_DAY_MISMATCH, details={"records": other_day})
    _signed(work_photo, signature, actor)
    now = timezone.now()
    confirmation = DayConfirmation.objects.create(
        id=confirmation_id,
        actor=actor,
        device=device,
        work_photo=work_photo,
        signature=signature,
        at=at or now,
        enterprise=enterprise,
        om_date=om_date,
    )
    confirmed, stale = [], []
    for rid, version in versions.items():
        record = records[rid]
        current = record.status == S.SUBMITTED and record.version == version
        ConfirmedVersion.objects.create(
            confirmation=confirmation,
            record=record,
            version=version,
            invalidated_at=None if current else now,
            invalidated_by_version=None if current else record.version,
        )
        if not current:
            stale.append(
                {"record": rid, "seen_version": version, "version": record.version, "status": record.status}
            )
            continue
        record = RECORD.apply(record, to=S.CONFIRMED, actor=actor, at=at)
        _changed(record)
        audit.record(
            "om_day.confirmed",
            subject=record,
            actor=actor,
            summary=f"企业确认：{om_date:%m月%d日}",
            changes={
                "status": [S.SUBMITTED, S.CONFIRMED],
                "version": version,
                "confirmation": confirmation.pk,
            },
        )
        confirmed.append(rid)
    if not confirmed and not stale:
        raise DomainError(errors.OM_DAY_NOTHING_TO_CONFIRM, date=om_date.isoformat())
    return DayConfirmed(confirmation, True, confirmed, stale)


# --- Agency review -----------------------------------------------------------------------------
def _refuse_closed(record: OmRecord) -> None:
    """An approved or voided record is closed: neither edited nor reviewed again."""
    if record.status in (S.APPROVED, S.VOIDED):
        raise DomainError(
            errors.OM_RECORD_CLOSED,
            details={"record": str(record.pk), "status": record.status},
            status=record.get_status_display(),
        )


@transaction.atomic
def records_review(
    *,
    actor: User,
    review_id,
    records: list[OmRecord],
    decision: str,
    reason: str = "",
    work_photo: Photo | None,
    signature: Blob | None,
    device: Device | None = None,
    at: dt.datetime | None = None,
) -> tuple[Review, bool]:
    """Confirm or void confirmed records, all or none. Idempotent by ``review_id``."""
    existing = Review.objects.filter(pk=review_id).first()
    if existing is not None:
        if existing.actor_id != actor.pk:
            raise DomainError(errors.OM_ID_TAKEN)
        return existing, False
    if not records:
        raise DomainError(errors.OM_BATCH_EMPTY)
    reason = reason.strip()
    locked = list(OmRecord.objects.select_for_update().filter(pk__in=[r.pk for r in records]).order_by("pk"))
    for record in locked:
        # The table (RECORD_MOVES, with _record_roles) decides; this only names why it would refuse,
        # record by record, before anything of the batch is written.
        roles = _record_roles(record, actor)
        if "filler" in roles:
            raise DomainError(errors.OM_REVIEWER_IS_FILLER, details={"record": str(record.pk)})
        if "reviewer" not in roles:
            raise DomainError(errors.OM_NOT_REVIEWER, details={"record": str(record.pk)})
        _refuse_closed(record)  # reviewed already: closed, not "awaiting confirmation" (F10 item 4)
        if record.status != S.CONFIRMED:
            raise DomainError(
                errors.OM_RECORD_NOT_CONFIRMED, details={"record": str(record.pk), "status": record.status}
            )
    _signed(work_photo, signature, actor)
    review = Review.objects.create(
        id=review_id,
        actor=actor,
        device=device,
        work_photo=work_photo,
        signature=signature,
        at=at or timezone.now(),
        agency_id=locked[0].agency_id,
        decision=decision,
        reason=reason if decision == Review.Decision.VOID else "",
    )
    to = S.APPROVED if decision == Review.Decision.APPROVE else S.VOIDED
    for record in locked:
        ReviewedVersion.objects.create(review=review, record=record, version=record.version)
        record = RECORD.apply(record, to=to, actor=actor, reason=reason if to == S.VOIDED else "", at=at)
        _changed(record)
        audit.record(
            "om_record.reviewed",
            subject=record,
            actor=actor,
            summary=f"审核通过（第{record.version}版）" if to == S.APPROVED else f"作废：{reason}",
            changes={
                "status": [S.CONFIRMED, to],
                "decision": decision,
                "version": record.version,
                "review": review.pk,
            }
            | ({"reason": reason} if to == S.VOIDED else {}),
        )
        if to == S.VOIDED:
            notify(
                recipients=[record.filled_by_id],
                kind="om_record_voided",
                title=f"“{record.template.name}”（{record.om_date:%m月%d日}）已被作废",
                body=f"作废原因：{reason}",
                subject_type="om_record",
                subject_id=str(record.pk),
            )
    return review, True
