"""Monitoring project services (项目登记, seed 002). Task, stage and photo services join in [F5]."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from server.accounts.models import Role, User
from server.errors import DomainError
from server.fieldwork import errors
from server.fieldwork.models import MonitoringProject, ProjectAssignment, ProjectAttachment, ProjectEvent
from server.registry.models import Agency, Contract, Employment, Enterprise, Post
from server.registry.services import ensure_agency_approved, ensure_post_allowed, validate_region_code

S = MonitoringProject.Status

# Seed 002 查询统计: a registered project is unfinished; the agency submits it; the regulator
# returns it with a reason (it is fixed and resubmitted) or accepts it as done.
PROJECT_TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (S.UNFINISHED, S.SUBMITTED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
    (S.RETURNED, S.SUBMITTED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
    (S.SUBMITTED, S.RETURNED): {Role.REGULATOR, Role.PLATFORM},
    (S.SUBMITTED, S.DONE): {Role.REGULATOR, Role.PLATFORM},
}


@transaction.atomic
def project_transition(
    *, project: MonitoringProject, to: str, actor: User, reason: str = ""
) -> MonitoringProject:
    """The one function that changes ``MonitoringProject.status``; it writes the history row too."""
    project = MonitoringProject.objects.select_for_update().get(pk=project.pk)
    roles = PROJECT_TRANSITIONS.get((project.status, to))
    if roles is None:
        raise DomainError(errors.PROJECT_TRANSITION_NOT_ALLOWED, details={"from": project.status, "to": to})
    if actor.role not in roles:
        raise DomainError(errors.PROJECT_ACTOR_NOT_ALLOWED)
    if to == S.RETURNED and not reason.strip():
        raise DomainError(errors.PROJECT_REASON_REQUIRED)
    if to == S.SUBMITTED and not project.attachments.filter(kind=ProjectAttachment.Kind.CONTRACT).exists():
        # Seed 002 项目登记: 合同附件为必传项.
        raise DomainError(errors.CONTRACT_ATTACHMENT_REQUIRED)
    previous = project.status
    project.status = to
    project.return_reason = reason.strip() if to == S.RETURNED else ""
    project.save(update_fields=["status", "return_reason"])
    ProjectEvent.objects.create(
        project=project,
        from_status=previous,
        to_status=to,
        actor=actor,
        reason=reason.strip(),
        at=timezone.now(),
    )
    return project


@transaction.atomic
def project_create(
    *,
    agency: Agency,
    actor: User,
    number: str,
    name: str,
    monitoring_type: str,
    enterprise: Enterprise,
    contract: Contract,
    region_code: str,
) -> MonitoringProject:
    ensure_agency_approved(agency)
    if contract.agency_id != agency.pk or contract.nature != Contract.Nature.MONITORING:
        raise DomainError(errors.PROJECT_CONTRACT_MISMATCH)
    if contract.enterprise_id != enterprise.pk:
        raise DomainError(errors.PROJECT_CONTRACT_MISMATCH)
    if contract.status != Contract.Status.ACTIVE:
        raise DomainError(errors.PROJECT_CONTRACT_NOT_ACTIVE)
    if MonitoringProject.objects.filter(agency=agency, number=number.strip()).exists():
        raise DomainError(errors.PROJECT_NUMBER_TAKEN, number=number)
    return MonitoringProject.objects.create(
        agency=agency,
        number=number.strip(),
        name=name.strip(),
        monitoring_type=monitoring_type,
        enterprise=enterprise,
        contract=contract,
        region_code=validate_region_code(region_code),
        created_by=actor,
    )


def _ensure_editable(project: MonitoringProject) -> None:
    if project.status not in (S.UNFINISHED, S.RETURNED):
        raise DomainError(errors.PROJECT_LOCKED, state=S(project.status).label)


@transaction.atomic
def project_assign(
    *, project: MonitoringProject, employment: Employment, post_code: str
) -> ProjectAssignment:
    """Only staff assigned to a project act on its tasks (rule 1).

    A post that needs a certificate is assigned only while a valid one is held.
    """
    _ensure_editable(project)
    if employment.agency_id != project.agency_id or employment.status != Employment.Status.ACTIVE:
        raise DomainError(errors.ASSIGNEE_NOT_ON_STAFF)
    post = Post.objects.filter(code=post_code).first()
    if post is None or not employment.posts.filter(pk=post.pk).exists():
        raise DomainError(errors.ASSIGNEE_LACKS_POST, post=post.name if post else post_code)
    ensure_post_allowed(person=employment.person, post=post, on=timezone.localdate())
    assignment, _ = ProjectAssignment.objects.get_or_create(project=project, employment=employment, post=post)
    return assignment


@transaction.atomic
def project_unassign(*, assignment: ProjectAssignment) -> None:
    _ensure_editable(assignment.project)
    assignment.delete()


def project_attach(*, project: MonitoringProject, kind: str, upload, actor: User) -> ProjectAttachment:
    """Store a project attachment once (by SHA-256); the same file sent again returns the first."""
    _ensure_editable(project)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    existing = ProjectAttachment.objects.filter(project=project, sha256=sha256).first()
    if existing is not None:
        return existing
    upload.seek(0)
    attachment = ProjectAttachment(
        project=project,
        kind=kind,
        name=upload.name[:200],
        sha256=sha256,
        size=upload.size,
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    # The file is written before the row: a crash leaves an orphan file, never a row without its file.
    attachment.file.save(f"{sha256[:16]}-{upload.name[-80:]}", upload, save=False)
    attachment.save()
    return attachment
