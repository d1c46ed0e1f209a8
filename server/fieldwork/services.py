"""Monitoring project services (项目登记, seed 002). Task, stage and photo services join in [F5]."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from server.access import projects_for
from server.accounts.models import Role, User
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.fieldwork import errors
from server.fieldwork.models import (
    MonitoringProject,
    MonitoringTask,
    ProjectAssignment,
    ProjectAttachment,
    ProjectAttachmentRequirement,
    ProjectEvent,
    TaskEvent,
)
from server.fieldwork.stages import missing_required_photos
from server.registry.identifiers import validate_credit_code
from server.registry.models import Agency, Contract, Employment, Enterprise, Post
from server.registry.services import (
    ensure_agency_approved,
    ensure_contract_accepted,
    ensure_post_allowed,
    validate_region_code,
)
from server.transitions import StateMachine
from sync.changes import record_change

S = MonitoringProject.Status

# Seed 002 查询统计: a registered project is unfinished; the agency submits it; the regulator
# returns it with a reason (it is fixed and resubmitted) or accepts it as done. 删除: only an
# unfinished or returned project is deleted (已完成的项目只能进行查看).
PROJECT_TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (S.UNFINISHED, S.SUBMITTED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
    (S.RETURNED, S.SUBMITTED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
    (S.UNFINISHED, S.DELETED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
    (S.RETURNED, S.DELETED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
    (S.SUBMITTED, S.RETURNED): {Role.REGULATOR, Role.PLATFORM},
    (S.SUBMITTED, S.DONE): {Role.REGULATOR, Role.PLATFORM},
}


PROJECT = StateMachine(
    status_field="status",
    moves=PROJECT_TRANSITIONS,
    history=ProjectEvent,
    history_fk="project",
    not_allowed=errors.PROJECT_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.PROJECT_ACTOR_NOT_ALLOWED,
    reason_required=errors.PROJECT_REASON_REQUIRED,
    needs_reason={S.RETURNED},
    reason_field="return_reason",
)

# The audit trail's action and summary for each project move.
PROJECT_AUDIT = {
    S.SUBMITTED: ("project.submitted", "提交审核"),
    S.RETURNED: ("project.returned", "退回"),
    S.DONE: ("project.accepted", "审核通过"),
    S.DELETED: ("project.deleted", "删除项目"),
}
K = ProjectAttachment.Kind


def attachment_requirements() -> dict[str, list[str]]:
    """``ProjectAttachmentRequirement`` as a map, for lists that check many projects at once."""
    table: dict[str, list[str]] = {}
    for monitoring_type, kind in ProjectAttachmentRequirement.objects.order_by("id").values_list(
        "monitoring_type", "kind"
    ):
        table.setdefault(monitoring_type, []).append(kind)
    return table


def required_attachment_kinds(
    project: MonitoringProject, requirements: dict[str, list[str]] | None = None
) -> list[str]:
    """What a project cannot be submitted without, in the order a checklist shows it: the contract
    (seed 002 项目登记: 合同附件为必传项), its monitoring type's own (``ProjectAttachmentRequirement``,
    data: 危险废物鉴别 needs 鉴别方案 and 鉴别报告), and a subcontractor's qualification when the work
    is subcontracted (委托信息: 是否分包选择“是”，需……上传分包单位的资质信息)."""
    kinds = [K.CONTRACT.value]
    if requirements is None:
        requirements = {project.monitoring_type: list(_type_requirements(project.monitoring_type))}
    kinds += requirements.get(project.monitoring_type, [])
    if project.subcontracted:
        kinds.append(K.SUBCONTRACTOR_QUALIFICATION.value)
    return list(dict.fromkeys(kinds))


def _type_requirements(monitoring_type: str):
    return (
        ProjectAttachmentRequirement.objects.filter(monitoring_type=monitoring_type)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def attachment_checklist(
    project: MonitoringProject, present: set[str], requirements: dict[str, list[str]] | None = None
) -> list[dict]:
    """The required attachments as a checklist: each kind, its name, and whether one is uploaded."""
    return [
        {"kind": kind, "label": K(kind).label, "present": kind in present}
        for kind in required_attachment_kinds(project, requirements)
    ]


def missing_attachment_kinds(project: MonitoringProject) -> list[str]:
    present = set(project.attachments.filter(deleted_at__isnull=True).values_list("kind", flat=True))
    return [kind for kind in required_attachment_kinds(project) if kind not in present]


def _ready_to_submit(project: MonitoringProject, to: str) -> None:
    if to != S.SUBMITTED:
        return
    missing = missing_attachment_kinds(project)
    if missing == [K.CONTRACT]:
        raise DomainError(errors.CONTRACT_ATTACHMENT_REQUIRED, details={"missing": missing})
    if missing:
        raise DomainError(
            errors.PROJECT_ATTACHMENTS_MISSING,
            details={"missing": missing},
            missing="、".join(K(kind).label for kind in missing),
        )
    # A project is submitted for the work done on it: at least one task ended by its lab analyst.
    if not project.tasks.filter(deleted_at__isnull=True, status=MonitoringTask.Status.ENDED).exists():
        raise DomainError(errors.PROJECT_NO_TASK_DONE)


def _no_field_work(project: MonitoringProject, to: str) -> None:
    # A started or ended task, or one holding photos, track points or check-ins (a phone may send a
    # photo before the start), is evidence a regulator may need: deleting the project would hide it.
    # Tasks only created, with nothing from the field yet, are deleted with it.
    worked = (
        ~Q(status=MonitoringTask.Status.CREATED)
        | Q(photos__isnull=False)
        | Q(track_points__isnull=False)
        | Q(checkins__isnull=False)
    )
    count = project.tasks.filter(worked, deleted_at__isnull=True).distinct().count()
    if count:
        raise DomainError(errors.PROJECT_HAS_WORK, details={"count": count}, count=count)


def project_transition(
    *, project: MonitoringProject, to: str, actor: User, reason: str = ""
) -> MonitoringProject:
    """Move a project through its table (PROJECT_TRANSITIONS). Submitting needs the required
    attachments and an ended task; deleting (``project_delete``) a project without field work."""
    check = _no_field_work if to == S.DELETED else _ready_to_submit
    with transaction.atomic():
        project = PROJECT.apply(project, to=to, actor=actor, reason=reason, check=check)
        action, what = PROJECT_AUDIT[to]
        audit.record(
            action,
            subject=project,
            actor=actor,
            summary=f"{what}：{project.name}",
            changes=audit.last_move(project.events),
        )
        if to in (S.RETURNED, S.DONE):
            from server.notifications import services as notifications

            returned = to == S.RETURNED
            notifications.notify(
                recipients=notifications.agency_admins(project.agency_id),
                kind="project-returned" if returned else "project-accepted",
                title=(f"项目被退回：{project.name}" if returned else f"项目已审核通过：{project.name}")[
                    :100
                ],
                body=project.return_reason if returned else "",
                subject_type="project",
                subject_id=project.pk,
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
    region_code: str | None = None,
    monitoring_items: list[str] | tuple = (),
    commission_category: str = "",
    client_contact: str = "",
    client_phone: str = "",
    subcontracted: bool = False,
    subcontractor_name: str = "",
    subcontractor_credit_code: str = "",
    training_on: dt.date | None = None,
    training_content: str = "",
) -> MonitoringProject:
    """Register a project under an accepted monitoring contract. Its region is its enterprise's: a
    ``region_code`` naming another is refused (issue F9.5: a project must not hide from the regulator
    of the place where the work is done). The seed's 监测信息, 委托信息 (with 是否分包) and 培训信息
    are checked by ``clean_project_details``."""
    ensure_agency_approved(agency)
    if contract.agency_id != agency.pk or contract.nature != Contract.Nature.MONITORING:
        raise DomainError(errors.PROJECT_CONTRACT_MISMATCH)
    if contract.enterprise_id != enterprise.pk:
        raise DomainError(errors.PROJECT_CONTRACT_MISMATCH)
    ensure_contract_accepted(contract)
    if contract.status != Contract.Status.ACTIVE:
        raise DomainError(errors.PROJECT_CONTRACT_NOT_ACTIVE)
    check_project_region(enterprise, region_code)
    if MonitoringProject.objects.filter(agency=agency, number=number.strip()).exists():
        raise DomainError(errors.PROJECT_NUMBER_TAKEN, number=number)
    details = clean_project_details(
        monitoring_items=monitoring_items,
        commission_category=commission_category,
        client_contact=client_contact,
        client_phone=client_phone,
        subcontracted=subcontracted,
        subcontractor_name=subcontractor_name,
        subcontractor_credit_code=subcontractor_credit_code,
        training_on=training_on,
        training_content=training_content,
    )
    project = MonitoringProject.objects.create(
        agency=agency,
        number=number.strip(),
        name=name.strip(),
        monitoring_type=monitoring_type,
        enterprise=enterprise,
        contract=contract,
        region_code=enterprise.region_code,
        created_by=actor,
        **details,
    )
    audit.record(
        "project.created", subject=project, actor=actor, summary=f"登记项目：{project.number} {project.name}"
    )
    return project


# 电话有格式验证 (seed 002 项目登记): a mainland mobile number, or a landline with its area code
# and an optional extension.
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
ITEM_SPLIT = re.compile(r"[,，、;；\n]+")
MAX_ITEMS, MAX_ITEM_LENGTH = 100, 64
DETAIL_FIELDS = (
    "monitoring_items",
    "commission_category",
    "client_contact",
    "client_phone",
    "subcontracted",
    "subcontractor_name",
    "subcontractor_credit_code",
    "training_on",
    "training_content",
)
# What ``project_update`` changes: the registration's own fields (the contract, and with it the
# enterprise and the region, stay: the tasks and the regulator's jurisdiction hang on them).
EDITABLE_PROJECT_FIELDS = ("number", "name", "monitoring_type", *DETAIL_FIELDS)


def split_items(text: str) -> list[str]:
    """监测项目 typed as one line (``pH、化学需氧量, 氨氮``) as the list stored."""
    return [item.strip() for item in ITEM_SPLIT.split(text or "") if item.strip()]


def clean_project_details(
    *,
    monitoring_items,
    commission_category: str,
    client_contact: str,
    client_phone: str,
    subcontracted: bool,
    subcontractor_name: str,
    subcontractor_credit_code: str,
    training_on: dt.date | None,
    training_content: str,
) -> dict:
    """The seed's 监测信息, 委托信息 and 培训信息 as stored, or a DomainError naming the field."""
    items = list(dict.fromkeys(item.strip() for item in monitoring_items if item and item.strip()))
    if len(items) > MAX_ITEMS or any(len(item) > MAX_ITEM_LENGTH for item in items):
        raise DomainError(
            VALIDATION_FAILED,
            details={"monitoring_items": [f"至多 {MAX_ITEMS} 个监测项目，每个不超过 {MAX_ITEM_LENGTH} 字。"]},
        )
    if commission_category and commission_category not in MonitoringProject.CommissionCategory.values:
        raise DomainError(VALIDATION_FAILED, details={"commission_category": ["请选择列表中的委托类别。"]})
    client_phone = re.sub(r"\s+", "", client_phone or "")
    if client_phone and not PHONE.match(client_phone):
        raise DomainError(errors.CLIENT_PHONE_INVALID, details={"client_phone": client_phone})
    subcontractor_name = (subcontractor_name or "").strip()
    subcontractor_credit_code = (subcontractor_credit_code or "").strip()
    if subcontracted:
        if not subcontractor_name or not subcontractor_credit_code:
            raise DomainError(errors.SUBCONTRACTOR_REQUIRED)
        # The subcontractor is identified as agencies are (GB 32100, check character).
        subcontractor_credit_code = validate_credit_code(subcontractor_credit_code)
    else:
        # Not subcontracted: a name left in the form from an earlier choice is not kept.
        subcontractor_name = subcontractor_credit_code = ""
    return {
        "monitoring_items": items,
        "commission_category": commission_category or "",
        "client_contact": (client_contact or "").strip()[:50],
        "client_phone": client_phone,
        "subcontracted": bool(subcontracted),
        "subcontractor_name": subcontractor_name[:200],
        "subcontractor_credit_code": subcontractor_credit_code,
        "training_on": training_on,
        "training_content": (training_content or "").strip(),
    }


def _locked_project(project: MonitoringProject) -> MonitoringProject:
    return MonitoringProject.objects.select_for_update().get(pk=project.pk)


@transaction.atomic
def project_update(*, project: MonitoringProject, actor: User, **changes) -> MonitoringProject:
    """编辑 (seed 002: 监测状态未完成的项目…编辑; 退回的项目可以重新办理): change the registration
    while the project is unfinished or returned. Fields not named keep their values."""
    project = _locked_project(project)
    _ensure_editable(project)
    unknown = sorted(set(changes) - set(EDITABLE_PROJECT_FIELDS))
    if unknown:
        raise DomainError(VALIDATION_FAILED, details={name: ["不可修改的字段。"] for name in unknown})
    before = audit.snapshot(project)
    if "number" in changes:
        number = changes["number"].strip()
        taken = MonitoringProject.objects.filter(agency_id=project.agency_id, number=number)
        if taken.exclude(pk=project.pk).exists():
            raise DomainError(errors.PROJECT_NUMBER_TAKEN, number=number)
        project.number = number
    if "name" in changes:
        project.name = changes["name"].strip()
    monitoring_type = changes.get("monitoring_type", project.monitoring_type)
    if monitoring_type != project.monitoring_type:
        if monitoring_type not in MonitoringProject.MonitoringType.values:
            raise DomainError(VALIDATION_FAILED, details={"monitoring_type": ["请选择列表中的监测类型。"]})
        if project.tasks.filter(deleted_at__isnull=True).exists():
            raise DomainError(errors.PROJECT_TYPE_HAS_TASKS)
        project.monitoring_type = monitoring_type
    details = clean_project_details(
        **{name: changes.get(name, getattr(project, name)) for name in DETAIL_FIELDS}
    )
    for name, value in details.items():
        setattr(project, name, value)
    changed = audit.diff(before, project)
    if changed:
        project.save(update_fields=list(changed))
        audit.record(
            "project.updated",
            subject=project,
            actor=actor,
            summary=f"修改项目：{project.name}",
            changes=changed,
        )
    return project


@transaction.atomic
def project_delete(*, project: MonitoringProject, actor: User, reason: str = "") -> MonitoringProject:
    """删除 (seed 002: 只能删除监测状态为未完成或退回的项目): the project moves to 已删除 with its
    history row; its row, attachments and history stay. Refused while it has field work
    (``project_has_work``). Tasks only created on a phone go with it, as tombstones every phone pulls."""
    project = project_transition(project=project, to=S.DELETED, actor=actor, reason=reason)
    now = timezone.now()
    for task in MonitoringTask.objects.select_for_update().filter(project=project, deleted_at__isnull=True):
        task.deleted_at = now
        task.version += 1
        task.save(update_fields=["deleted_at", "version", "updated_at"])
        _task_change(task)
    return project


def check_project_region(enterprise: Enterprise, region_code: str | None) -> None:
    """A project's region, if named at all, is its enterprise's."""
    if region_code is not None and validate_region_code(region_code) != enterprise.region_code:
        raise DomainError(
            errors.PROJECT_REGION_NOT_ENTERPRISE,
            details={"region_code": region_code, "enterprise_region_code": enterprise.region_code},
            region_code=region_code,
            expected=enterprise.region_code,
        )


def _ensure_editable(project: MonitoringProject) -> None:
    if project.status not in (S.UNFINISHED, S.RETURNED):
        raise DomainError(errors.PROJECT_LOCKED, state=S(project.status).label)


def check_assignment(*, project: MonitoringProject, employment: Employment, post: Post) -> None:
    """Who may be put on a project in a post: active staff of the project's agency who hold the post,
    with a valid certificate where the post needs one; only while the project can still change."""
    _ensure_editable(project)
    if employment.agency_id != project.agency_id or employment.status != Employment.Status.ACTIVE:
        raise DomainError(errors.ASSIGNEE_NOT_ON_STAFF)
    if not employment.posts.filter(pk=post.pk).exists():
        raise DomainError(errors.ASSIGNEE_LACKS_POST, post=post.name)
    ensure_post_allowed(person=employment.person, post=post, on=timezone.localdate())


@transaction.atomic
def project_assign(
    *, project: MonitoringProject, employment: Employment, post_code: str
) -> ProjectAssignment:
    """Only staff assigned to a project act on its tasks (rule 1).

    A post that needs a certificate is assigned only while a valid one is held.
    """
    post = Post.objects.filter(code=post_code).first()
    if post is None:
        raise DomainError(errors.ASSIGNEE_LACKS_POST, post=post_code)
    check_assignment(project=project, employment=employment, post=post)
    assignment, _ = ProjectAssignment.objects.get_or_create(project=project, employment=employment, post=post)
    return assignment


@transaction.atomic
def project_unassign(*, assignment: ProjectAssignment) -> None:
    _ensure_editable(assignment.project)
    assignment.delete()


def project_attach(
    *,
    project: MonitoringProject,
    kind: str,
    upload,
    actor: User,
    number: str = "",
    issued_on: dt.date | None = None,
) -> ProjectAttachment:
    """Store a project attachment once (by SHA-256); the same file sent again returns the first.
    A monitoring report may carry its number (报告编号, unique within the agency) and issue date."""
    _ensure_editable(project)
    number = number.strip()
    if (number or issued_on) and kind != ProjectAttachment.Kind.REPORT:
        raise DomainError(errors.REPORT_NUMBER_NOT_A_REPORT)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    live = ProjectAttachment.objects.filter(deleted_at__isnull=True)
    existing = live.filter(project=project, sha256=sha256).first()
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
        number=number,
        issued_on=issued_on,
    )
    _ensure_report_number_free(project, number)
    # The file is written before the row: a crash leaves an orphan file, never a row without its file.
    attachment.file.save(f"{sha256[:16]}-{upload.name[-80:]}", upload, save=False)
    with transaction.atomic():
        if number:
            # Two uploads of one number race: the agency's row lock makes the second wait and see the first.
            Agency.objects.select_for_update().get(pk=project.agency_id)
            _ensure_report_number_free(project, number)
        attachment.save()
    return attachment


def _ensure_report_number_free(project: MonitoringProject, number: str) -> None:
    # A deleted report's number is free again (seed 002: 监测报告可以删除后重新上传).
    taken = ProjectAttachment.objects.filter(
        project__agency_id=project.agency_id, number=number, deleted_at__isnull=True
    )
    if number and taken.exists():
        raise DomainError(errors.REPORT_NUMBER_TAKEN, number=number)


@transaction.atomic
def project_attachment_delete(*, attachment: ProjectAttachment, actor: User) -> ProjectAttachment:
    """删除附件 while the project can still change (seed 002: 附件上传成功后…进行删除附件). The row
    and the file stay, marked deleted, with who and when in the audit trail; deleting it again
    answers the same. The project's row is locked first: a submission in flight sees it or not."""
    project = _locked_project(attachment.project)
    _ensure_editable(project)
    attachment = ProjectAttachment.objects.select_for_update().get(pk=attachment.pk)
    if attachment.deleted_at is not None:
        return attachment
    attachment.deleted_at = timezone.now()
    attachment.deleted_by = actor
    attachment.save(update_fields=["deleted_at", "deleted_by"])
    audit.record(
        "project.attachment_deleted",
        subject=project,
        actor=actor,
        summary=f"删除附件：{attachment.name}（{K(attachment.kind).label}）",
        changes={
            "attachment": attachment.pk,
            "kind": attachment.kind,
            "name": attachment.name,
            "sha256": attachment.sha256,
        },
    )
    return attachment


# --- Monitoring tasks ------------------------------------------------------------------------------


def _assignment_posts(project: MonitoringProject, user: User) -> set[str]:
    if user.person_id is None:
        return set()
    return set(
        ProjectAssignment.objects.filter(
            project=project, employment__person_id=user.person_id, employment__status=Employment.Status.ACTIVE
        )
        .order_by()  # a set: the model's ordering would only cost compiling and sorting
        .values_list("post__code", flat=True)
    )


def ensure_on_task(task: MonitoringTask, actor: User) -> None:
    """Work on a task (its photos, track, check-ins, edits) is done by the staff assigned to its
    project, in any post, while employed; never on a deleted task."""
    if task.deleted_at is not None:
        raise DomainError(errors.TASK_DELETED)
    if not _assignment_posts(task.project, actor):
        raise DomainError(errors.NOT_ON_PROJECT)


def _task_change(task: MonitoringTask) -> int:
    return record_change(
        entity_type="task",
        entity_id=str(task.pk),
        version=task.version,
        data=None if task.deleted_at else task_snapshot(task),
        deleted=task.deleted_at is not None,
        agency_id=task.project.agency_id,
        enterprise_id=task.project.enterprise_id,
        project_id=task.project_id,
        region_code=task.project.region_code,
    )


def task_snapshot(task: MonitoringTask) -> dict:
    """A task as pulls and the API give it."""
    return {
        "id": str(task.pk),
        "project": task.project_id,
        "name": task.name,
        "sample_codes": task.sample_codes,
        "note": task.note,
        "status": task.status,
        "version": task.version,
        "created_by": task.created_by_id,
    }


def online_key(actor: User, base_version: int) -> list:
    """The merge order key of a change made online, now, by this user (see sync.merge)."""
    return [base_version, int(timezone.now().timestamp() * 1_000_000), f"user:{actor.pk}", 0]


@transaction.atomic
def task_create(
    *,
    actor: User,
    task_id,
    project: MonitoringProject,
    name: str,
    sample_codes: list[str] = (),
    note: str = "",
    key: list | None = None,
    operation: int | None = None,
    at: dt.datetime | None = None,
) -> tuple[MonitoringTask, int]:
    """Rule 1: a task belongs to a registered project and is created by one of its samplers.
    ``at``: when the phone created it (offline: its clock corrected by the push's offset, as its
    events are dated); ``created_at`` is that, never later than ``received_at``, when the server
    got it (F10 item 7: an export showed the task's first move before its creation)."""
    if "sampler" not in _assignment_posts(project, actor):
        raise DomainError(errors.TASK_CREATOR_NOT_SAMPLER)
    if project.status not in (S.UNFINISHED, S.RETURNED):
        raise DomainError(errors.PROJECT_NOT_OPEN)
    if MonitoringTask.objects.filter(pk=task_id).exists():
        _refuse_taken_id(actor, task_id)
    key = key or online_key(actor, 0)
    stamp = {"v": 1, "k": key, "op": operation}
    received = timezone.now()
    task = MonitoringTask.objects.create(
        id=task_id,
        created_at=min(at, received) if at else received,
        received_at=received,
        project=project,
        name=name.strip(),
        sample_codes=list(sample_codes),
        note=note,
        created_by=actor,
        field_stamps={name: dict(stamp) for name in MonitoringTask.EDITABLE_FIELDS},
    )
    audit.record("task.created", subject=task, actor=actor, summary=f"创建任务：{task.name}")
    return task, _task_change(task)


def _refuse_taken_id(actor: User, task_id) -> None:
    """A task id already taken: ``task_exists`` when the task is one the actor may see; another
    tenant's id is refused as an unusable id (the answer to a malformed one), which says nothing of
    that task (F9 item 10). Client UUIDs collide only when an id is copied; the phone makes a new one."""
    if MonitoringTask.objects.filter(pk=task_id, project__in=projects_for(actor)).exists():
        raise DomainError(errors.TASK_EXISTS)
    raise DomainError(VALIDATION_FAILED, details={"id": ["此编号不可用，请重新生成。"]})


@dataclass
class TaskUpdate:
    task: MonitoringTask
    change_seq: int | None
    clashes: list[dict]
    reason: str = ""  # why the change was not (fully) applied: "" or "closed_since_base"


def _locked(task: MonitoringTask) -> MonitoringTask:
    # FOR NO KEY UPDATE (of the task and, by the join, its project): writers of a task still queue
    # on it, but another transaction's foreign-key checks on these rows (FOR KEY SHARE, at COMMIT:
    # a task created in the project, a photo or track point added to the task) do not wait on it.
    # With FOR UPDATE they did, while holding the sync counter this one waits for: a deadlock
    # (PostgreSQL, found by the F8 load test).
    return MonitoringTask.objects.select_for_update(no_key=True).select_related("project").get(pk=task.pk)


@transaction.atomic
def task_update(
    *,
    actor: User,
    task: MonitoringTask,
    base_version: int,
    changes: dict,
    key: list | None = None,
    operation: int | None = None,
) -> TaskUpdate:
    """Change a task's fields, merging with concurrent changes field by field (sync.merge): the same
    result whichever order phones' changes arrive in; same-field clashes are kept for review."""
    from sync.merge import merge_fields
    from sync.models import Conflict

    task = _locked(task)
    ensure_on_task(task, actor)
    if task.project.status not in (S.UNFINISHED, S.RETURNED):
        raise DomainError(errors.PROJECT_NOT_OPEN)
    if base_version > task.version:
        from sync.errors import VERSION_FROM_FUTURE

        raise DomainError(VERSION_FROM_FUTURE, base_version=base_version, version=task.version)
    closed = task.field_stamps.get("status")
    if task.status != MonitoringTask.Status.CREATED and closed and closed["v"] > base_version:
        # Ended since the phone's base: the change is kept for review, never written over the
        # record the lab closed.
        return _closed_conflict(task, changes, operation)
    unknown = sorted(set(changes) - set(MonitoringTask.EDITABLE_FIELDS))
    if unknown:
        raise DomainError(VALIDATION_FAILED, details={name: ["不可修改的字段。"] for name in unknown})
    outcome = merge_fields(
        current={name: getattr(task, name) for name in MonitoringTask.EDITABLE_FIELDS},
        stamps=task.field_stamps,
        changes=changes,
        base_version=base_version,
        key=key or online_key(actor, base_version),
        new_version=task.version + 1,
        op=operation,
    )
    change_seq = None
    task.field_stamps = {**task.field_stamps, **outcome.stamps}
    for name, value in outcome.values.items():
        setattr(task, name, value)
    if outcome.changed:
        task.version += 1
        task.save(update_fields=[*outcome.values, "field_stamps", "version", "updated_at"])
        change_seq = _task_change(task)
        audit.record(
            "task.updated",
            subject=task,
            actor=actor,
            summary=f"修改任务：{task.name}",
            changes=outcome.values,
        )
    elif outcome.stamps:
        task.save(update_fields=["field_stamps"])
    now = timezone.now()
    Conflict.objects.bulk_create(
        Conflict(
            entity_type="task",
            entity_id=str(task.pk),
            field=clash.field,
            kept_value=clash.kept,
            other_value=clash.other,
            kept_op_id=clash.kept_op,
            other_op_id=clash.other_op,
            detected_at=now,
        )
        for clash in outcome.clashes
    )
    clashes = [{"field": c.field, "kept": c.kept, "other": c.other} for c in outcome.clashes]
    return TaskUpdate(task=task, change_seq=change_seq, clashes=clashes)


def _closed_conflict(task: MonitoringTask, changes: dict, operation: int | None) -> TaskUpdate:
    from sync.models import Conflict

    now = timezone.now()
    Conflict.objects.bulk_create(
        Conflict(
            entity_type="task",
            entity_id=str(task.pk),
            field=name,
            kept_value=getattr(task, name, None),
            other_value=value,
            other_op_id=operation,
            reason="closed_since_base",
            detected_at=now,
        )
        for name, value in changes.items()
    )
    clashes = [{"field": n, "kept": getattr(task, n, None), "other": v} for n, v in changes.items()]
    return TaskUpdate(task=task, change_seq=None, clashes=clashes, reason="closed_since_base")


@transaction.atomic
def task_delete(*, actor: User, task: MonitoringTask) -> tuple[MonitoringTask, int | None]:
    """Deleting is final: the task stays as a tombstone, so every phone learns of it by pulling."""
    task = _locked(task)
    if task.deleted_at is not None:
        return task, None
    if task.created_by_id != actor.pk or task.status != MonitoringTask.Status.CREATED:
        raise DomainError(errors.TASK_NOT_DELETABLE)
    task.deleted_at = timezone.now()
    task.version += 1
    task.save(update_fields=["deleted_at", "version", "updated_at"])
    audit.record("task.deleted", subject=task, actor=actor, summary=f"删除任务：{task.name}")
    return task, _task_change(task)


# --- Task lifecycle (seed 002: 开始 / 暂停 / 继续 / 暂存 / 结束) -------------------------------------
T = MonitoringTask.Status
FIELD_POSTS = {"sampler", "courier", "lab_analyst"}
# Any of the task's field staff may start, pause, continue and save it; samplers and couriers can
# only save (暂存); only a lab analyst ends it, and only when every required photo is in.
TASK_TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (T.CREATED, T.RUNNING): FIELD_POSTS,
    (T.RUNNING, T.PAUSED): FIELD_POSTS,
    (T.PAUSED, T.RUNNING): FIELD_POSTS,
    (T.RUNNING, T.SAVED): FIELD_POSTS,
    (T.PAUSED, T.SAVED): FIELD_POSTS,
    (T.SAVED, T.RUNNING): FIELD_POSTS,
    (T.RUNNING, T.ENDED): {"lab_analyst"},
    (T.PAUSED, T.ENDED): {"lab_analyst"},
    (T.SAVED, T.ENDED): {"lab_analyst"},
}

TASK = StateMachine(
    status_field="status",
    moves=TASK_TRANSITIONS,
    history=TaskEvent,
    history_fk="task",
    not_allowed=errors.TASK_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.TASK_ACTOR_NOT_ALLOWED,
    reason_required=errors.TASK_REASON_REQUIRED,
    roles_of=lambda task, actor: _assignment_posts(task.project, actor),
)


def _stages_complete(task: MonitoringTask, to: str) -> None:
    if to != T.ENDED:
        return
    missing = missing_required_photos(task)
    if missing:
        raise DomainError(
            errors.TASK_STAGES_INCOMPLETE, details={"missing": missing}, missing="、".join(missing)
        )


@dataclass
class TaskMove:
    task: MonitoringTask
    change_seq: int | None
    applied: bool  # False: the move was kept in the history but does not fit where it falls in time


@transaction.atomic
def task_transition(
    *, actor: User, task: MonitoringTask, to: str, reason: str = "", at=None, key: list | None = None
) -> TaskMove:
    """Move a task through TASK_TRANSITIONS, one history row per move.

    Online (``at`` None) the move is made now, from the status the user sees: a move the table does
    not allow is refused (409), the status the task already has is a no-op. Offline moves come dated
    by the phone's corrected clock from several phones in any order, so they are never refused for
    the order they arrive in: the row is written and the history replayed in time order
    (``StateMachine.replay``), which gives the same status whatever the arrival order; a move that
    does not fit where it falls in time stays in the history unapplied (``applied`` False). Either
    way only the task's field staff make moves, only a lab analyst ends a task, and only once every
    required photo is in."""
    task = _locked(task)
    if task.deleted_at is not None:
        raise DomainError(errors.TASK_DELETED)
    if at is None:
        if task.status == to:
            return TaskMove(task, None, True)
        if (task.status, to) not in TASK_TRANSITIONS:
            raise DomainError(
                errors.TASK_TRANSITION_NOT_ALLOWED,
                details={"from": task.status, "to": to},
                from_status=T(task.status).label,
                to_status=T(to).label,
            )
    if not TASK.roles_of(task, actor) & TASK.roles_into(to):
        raise DomainError(errors.TASK_ACTOR_NOT_ALLOWED)
    _stages_complete(task, to)
    event = TaskEvent.objects.create(
        task=task,
        from_status=task.status,
        to_status=to,
        actor=actor,
        reason=reason.strip(),
        at=at or timezone.now(),
    )
    moved = TASK.replay(task, initial=T.CREATED)
    event.refresh_from_db(fields=["applied", "from_status"])
    audit.record(
        "task.transition",
        subject=task,
        actor=actor,
        summary=f"{T(event.from_status).label} → {T(to).label}" + ("" if event.applied else "（未生效）"),
        changes={
            "status": [event.from_status, to],
            "applied": event.applied,
            "at": event.at,
            "reason": event.reason,
        },
    )
    if not moved:
        return TaskMove(task, None, event.applied)
    task.version += 1
    fields = ["status", "version", "updated_at"]
    if task.status == T.ENDED:
        # Closed: a later edit made on an older version is a conflict kept for review (task_update).
        task.field_stamps = {**task.field_stamps, "status": {"v": task.version, "k": key, "op": None}}
        fields.append("field_stamps")
    task.save(update_fields=fields)
    event.refresh_from_db(fields=["applied"])
    return TaskMove(task, _task_change(task), event.applied)
