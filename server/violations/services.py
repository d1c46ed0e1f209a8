"""Violations to rectify (违规待整改, seed 002) and rectification orders on O&M tasks (整改单, seed
003): regulators open them and judge the agency's rectifications; the agency rectifies. Every status
move goes through the VIOLATION table, whichever the subject."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from server.accounts.models import AGENCY_ROLES, Role, User
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.fieldwork.models import MonitoringProject
from server.notifications import services as notifications
from server.om.models import OmRecord, OmTask
from server.transitions import StateMachine
from server.violations import errors
from server.violations.models import Rectification, Violation, ViolationEvent

S = Violation.Status
REGULATORS = {Role.REGULATOR, Role.PLATFORM}
AGENCY_ADMINS = {Role.AGENCY_MAIN, Role.AGENCY_MANAGER}

# Seed 002 违规待整改: the agency rectifies an open violation; the regulator accepts the
# rectification (销号) or rejects it with a reason, and the violation is open again.
VIOLATION_TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (S.OPEN, S.RECTIFIED): AGENCY_ADMINS,
    (S.RECTIFIED, S.CLOSED): REGULATORS,
    (S.RECTIFIED, S.OPEN): REGULATORS,
}


def subject_of(violation: Violation) -> MonitoringProject | OmTask:
    """What the violation is about: its monitoring project or its O&M task."""
    return violation.project if violation.project_id is not None else violation.om_task


def _title(violation: Violation, what: str) -> str:
    """A notification title: what happened, and the project's or the task's name."""
    return f"{what}：{subject_of(violation).name}"[:100]


def _roles_of(violation: Violation, actor: User) -> set[str]:
    # An agency account acts only for its own agency's projects and tasks, whatever its role.
    if actor.role in AGENCY_ROLES and actor.agency_id != subject_of(violation).agency_id:
        return set()
    return {actor.role}


VIOLATION = StateMachine(
    status_field="status",
    moves=VIOLATION_TRANSITIONS,
    history=ViolationEvent,
    history_fk="violation",
    not_allowed=errors.VIOLATION_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.VIOLATION_ACTOR_NOT_ALLOWED,
    reason_required=errors.REJECTION_REASON_REQUIRED,
    needs_reason={S.OPEN},
    roles_of=_roles_of,
)


def _required_text(name: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise DomainError(VALIDATION_FAILED, details={name: ["该字段不能为空。"]})
    return value


def _ensure_evidence_on_project(project: MonitoringProject, photo, checkin) -> None:
    """Evidence is a photo or a check-in of one of the project's own monitoring tasks."""
    if photo is not None and (photo.task_id is None or photo.task.project_id != project.pk):
        raise DomainError(errors.VIOLATION_EVIDENCE_FOREIGN, details={"photo": str(photo.pk)})
    if checkin is not None and (checkin.task_id is None or checkin.task.project_id != project.pk):
        raise DomainError(errors.VIOLATION_EVIDENCE_FOREIGN, details={"checkin": str(checkin.pk)})


def _ensure_evidence_on_om_task(task: OmTask, photo, checkin, record: OmRecord | None) -> None:
    """Evidence of an O&M task's order is one of its submitted records or one of its check-ins;
    photos are evidence of monitoring tasks only (an O&M record carries its own photos)."""
    if photo is not None:
        raise DomainError(errors.VIOLATION_EVIDENCE_FOREIGN, details={"photo": str(photo.pk)})
    if checkin is not None and checkin.om_task_id != task.pk:
        raise DomainError(errors.VIOLATION_EVIDENCE_FOREIGN, details={"checkin": str(checkin.pk)})
    if record is not None and (record.task_id != task.pk or record.status == OmRecord.Status.DRAFT):
        raise DomainError(errors.VIOLATION_EVIDENCE_FOREIGN, details={"om_record": str(record.pk)})


def violation_open(
    *,
    actor: User,
    description: str,
    deadline: dt.date,
    project: MonitoringProject | None = None,
    om_task: OmTask | None = None,
    om_record: OmRecord | None = None,
    photo=None,
    checkin=None,
) -> Violation:
    """A regulator opens a violation on a project it can see (违规待整改), or a rectification order
    on an O&M task it can see (整改单), with a deadline not in the past."""
    if (project is None) == (om_task is None):
        raise DomainError(errors.VIOLATION_SUBJECT_REQUIRED)
    if om_record is not None and om_task is None:
        raise DomainError(errors.VIOLATION_EVIDENCE_FOREIGN, details={"om_record": str(om_record.pk)})
    if actor.role not in REGULATORS:
        raise DomainError(errors.VIOLATION_ACTOR_NOT_ALLOWED)
    description = _required_text("description", description)
    today = timezone.localdate()
    if deadline < today:
        raise DomainError(
            errors.VIOLATION_DEADLINE_PAST,
            details={"deadline": deadline.isoformat(), "today": today.isoformat()},
            deadline=deadline.isoformat(),
            today=today.isoformat(),
        )
    if project is not None:
        _ensure_evidence_on_project(project, photo, checkin)
    else:
        _ensure_evidence_on_om_task(om_task, photo, checkin, om_record)
    subject = project if project is not None else om_task
    with transaction.atomic():
        violation = Violation.objects.create(
            project=project,
            om_task=om_task,
            om_record=om_record,
            description=description,
            deadline=deadline,
            photo=photo,
            checkin=checkin,
            opened_by=actor,
            opened_at=timezone.now(),
        )
        audit.record(
            "violation.opened",
            subject=violation,
            actor=actor,
            summary=_title(violation, "违规待整改" if project is not None else "整改单"),
            changes={"description": description, "deadline": deadline},
        )
        notifications.notify(
            recipients=notifications.agency_admins(subject.agency_id),
            kind="violation-opened",
            title=_title(violation, "违规待整改" if project is not None else "整改单"),
            body=f"{description}\n整改期限：{deadline.isoformat()}",
            subject_type="violation",
            subject_id=violation.pk,
        )
    return violation


def _ensure_can_rectify(violation: Violation, actor: User) -> None:
    if violation.status == S.CLOSED:
        raise DomainError(errors.VIOLATION_CLOSED)
    if violation.status == S.RECTIFIED:
        raise DomainError(errors.RECTIFICATION_PENDING)
    if not _roles_of(violation, actor) & VIOLATION_TRANSITIONS[(S.OPEN, S.RECTIFIED)]:
        raise DomainError(errors.VIOLATION_ACTOR_NOT_ALLOWED)


def _ensure_can_review(violation: Violation, actor: User) -> None:
    if actor.role not in REGULATORS:
        raise DomainError(errors.VIOLATION_ACTOR_NOT_ALLOWED)
    if violation.status == S.CLOSED:
        raise DomainError(errors.VIOLATION_CLOSED)
    if violation.status == S.OPEN:
        raise DomainError(errors.NOTHING_TO_REVIEW)


def rectification_submit(
    *, violation: Violation, actor: User, text: str, upload: UploadedFile | None = None
) -> Rectification:
    """The agency's main or manager account answers an open violation (整改): the violation
    becomes rectified and waits for the regulator. Every submission is kept."""
    text = _required_text("text", text)
    # Refused before the file is written, so that a refusal leaves nothing behind; checked again
    # under the row lock below, where two submissions racing each other are told apart.
    _ensure_can_rectify(violation, actor)
    rectification = Rectification(violation=violation, text=text, submitted_by=actor)
    if upload is not None:
        limit = settings.MEDIA_MAX_BYTES
        if upload.size > limit:
            raise DomainError(
                errors.RECTIFICATION_FILE_TOO_LARGE,
                details={"size": upload.size, "limit": limit},
                limit_mb=limit // (1024 * 1024),
            )
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        rectification.sha256 = digest.hexdigest()
        rectification.size = upload.size
        rectification.file_name = upload.name[:200]
        # Storage I/O outside the transaction; the file is written before its row, and removed
        # again if the row is refused.
        rectification.file.save(f"{rectification.sha256[:16]}-{upload.name[-80:]}", upload, save=False)
    try:
        with transaction.atomic():
            locked = Violation.objects.select_for_update().get(pk=violation.pk)
            _ensure_can_rectify(locked, actor)
            VIOLATION.apply(locked, to=S.RECTIFIED, actor=actor)
            rectification.violation = locked
            rectification.submitted_at = timezone.now()
            rectification.save()
            audit.record(
                "violation.rectified",
                subject=locked,
                actor=actor,
                summary=_title(locked, "提交整改"),
                changes={"status": [S.OPEN, S.RECTIFIED], "rectification": rectification.pk, "text": text},
            )
            notifications.notify(
                recipients=[locked.opened_by_id],
                kind="rectification-submitted",
                title=_title(locked, "整改待审核"),
                body=text,
                subject_type="violation",
                subject_id=locked.pk,
            )
    except BaseException:
        if rectification.file:
            rectification.file.delete(save=False)
        raise
    return rectification


@transaction.atomic
def rectification_review(*, violation: Violation, actor: User, accept: bool, reason: str = "") -> Violation:
    """The regulator judges the pending rectification: accepted closes the violation (销号);
    rejected needs a reason, kept on the rectification, and the violation is open again."""
    violation = (
        Violation.objects.select_for_update(of=("self",))
        .select_related("project", "om_task")
        .get(pk=violation.pk)
    )
    _ensure_can_review(violation, actor)
    reason = reason.strip()
    violation = VIOLATION.apply(violation, to=S.CLOSED if accept else S.OPEN, actor=actor, reason=reason)
    rectification = Rectification.objects.select_for_update().get(
        violation=violation, outcome=Rectification.Outcome.PENDING
    )
    if accept:
        rectification.outcome = Rectification.Outcome.ACCEPTED
    else:
        rectification.outcome = Rectification.Outcome.REJECTED
        rectification.rejection_reason = reason
    rectification.reviewed_by = actor
    rectification.reviewed_at = timezone.now()
    rectification.save(update_fields=["outcome", "rejection_reason", "reviewed_by", "reviewed_at"])
    audit.record(
        "rectification.accepted" if accept else "rectification.rejected",
        subject=violation,
        actor=actor,
        summary=_title(violation, "整改销号" if accept else f"整改退回（{reason}）"),
        changes={**audit.last_move(violation.events), "rectification": rectification.pk},
    )
    notifications.notify(
        recipients=notifications.agency_admins(subject_of(violation).agency_id),
        kind="rectification-accepted" if accept else "rectification-rejected",
        title=_title(violation, "整改已销号" if accept else "整改被退回"),
        body="" if accept else reason,
        subject_type="violation",
        subject_id=violation.pk,
    )
    return violation
