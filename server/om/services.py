"""O&M task services (运维任务申请, seed 003 §2.2). Daily records and reviews join in [F6]."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from server.accounts.models import Role, User
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.om import errors
from server.om.models import FormTemplate, OmPlan, OmRecord, OmTask, OmTaskEvent, OmTaskStaff
from server.om.plans import DONE_STATUSES
from server.registry.models import Agency, Contract, Employment, Instrument, Outlet, Post
from server.registry.services import ensure_agency_approved, ensure_contract_accepted, ensure_post_allowed
from server.transitions import StateMachine

# The post each task role needs (seed 003: 现场运维 fills, 运维审核 reviews).
ROLE_POSTS = {OmTaskStaff.Role.TECHNICIAN: "om_technician", OmTaskStaff.Role.REVIEWER: "om_reviewer"}


def on_om_task(task: OmTask, user, role: str | None = None) -> bool:
    """Whether the user's person is active staff of the O&M task (in ``role``, or in any role):
    who may check in at its points, fill its records (technician), review them (reviewer), upload
    its reports."""
    if getattr(user, "person_id", None) is None:
        return False
    staff = OmTaskStaff.objects.filter(
        task=task, employment__person_id=user.person_id, employment__status=Employment.Status.ACTIVE
    )
    return (staff.filter(role=role) if role else staff).exists()


def _check_staff(agency: Agency, staff: Iterable[tuple[Employment, str]]) -> list[tuple[Employment, str]]:
    checked = []
    today = timezone.localdate()
    for employment, role in staff:
        post = Post.objects.get(code=ROLE_POSTS[role])
        eligible = (
            employment.agency_id == agency.pk
            and employment.status == Employment.Status.ACTIVE
            and employment.posts.filter(pk=post.pk).exists()
        )
        if not eligible:
            raise DomainError(
                errors.OM_STAFF_NOT_ELIGIBLE,
                details={"employment_id": employment.pk, "post": post.code},
                name=employment.person.name,
                post=post.name,
            )
        ensure_post_allowed(person=employment.person, post=post, on=today)
        checked.append((employment, role))
    return checked


def _check_plan(
    task: OmTask, window_start: dt.date, window_end: dt.date, frequency: str, interval_days
) -> None:
    if window_end < window_start:
        raise DomainError(VALIDATION_FAILED, details={"window_end": ["执行结束不能早于执行开始。"]})
    if window_start < task.starts_on or window_end > task.ends_on:
        raise DomainError(errors.OM_PLAN_OUTSIDE_TASK)
    if frequency == OmPlan.Frequency.CUSTOM and not interval_days:
        raise DomainError(VALIDATION_FAILED, details={"interval_days": ["自定义频次须填写间隔天数。"]})


def _check_plan_templates(task: OmTask, codes: Iterable[str]) -> list[str]:
    """运维内容: one or several loaded forms for the task's kind of outlet, in the order given. A
    plan that named none counted any record (a daily inspection marked a quarterly calibration
    done, issue F13), so one is required."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        raise DomainError(
            errors.OM_PLAN_NEEDS_TEMPLATE, details={"template_codes": ["至少选择一个运维内容。"]}
        )
    kinds = dict(FormTemplate.objects.filter(code__in=codes).values_list("code", "outlet_kind").distinct())
    names = dict(FormTemplate.objects.filter(code__in=codes).values_list("code", "name"))
    for code in codes:
        if code not in kinds:
            raise DomainError(errors.OM_TEMPLATE_UNKNOWN, details={"template_codes": code}, code=code)
        if kinds[code] != task.kind:
            raise DomainError(
                errors.OM_TEMPLATE_NOT_FOR_OUTLET, details={"template_codes": code}, name=names[code]
            )
    return codes


def ensure_task_active(task: OmTask) -> None:
    """A finished task (已完结) takes no new records, plans or changes (issue F13)."""
    if task.status == OmTask.Status.FINISHED:
        raise DomainError(errors.OM_TASK_FINISHED)


def _check_plan_outlet(task: OmTask, outlet: Outlet | None) -> None:
    if outlet is not None and not task.points.filter(pk=outlet.pk).exists():
        raise DomainError(errors.OM_POINT_NOT_IN_CONTRACT)


@transaction.atomic
def om_plan_add(
    *,
    task: OmTask,
    title: str,
    frequency: str,
    window_start: dt.date,
    window_end: dt.date,
    template_codes: Iterable[str] = (),
    interval_days: int | None = None,
    outlet: Outlet | None = None,
) -> OmPlan:
    ensure_task_active(task)
    _check_plan(task, window_start, window_end, frequency, interval_days)
    _check_plan_outlet(task, outlet)
    codes = _check_plan_templates(task, template_codes)
    return OmPlan.objects.create(
        task=task,
        title=title.strip(),
        frequency=frequency,
        interval_days=interval_days if frequency == OmPlan.Frequency.CUSTOM else None,
        window_start=window_start,
        window_end=window_end,
        outlet=outlet,
        template_codes=codes,
    )


PLAN_FIELDS = (
    "title",
    "frequency",
    "interval_days",
    "window_start",
    "window_end",
    "outlet",
    "template_codes",
)


@transaction.atomic
def om_plan_update(*, plan: OmPlan, actor: User | None = None, **fields) -> OmPlan:
    """Edit a plan (编辑计划) with the rules of ``om_plan_add``. Occurrences are computed, never
    stored: the 运维管理 view reads the plan as it now is, and the audit entry keeps what it was."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"om_plan_update: unknown fields {sorted(unknown)}")
    plan = OmPlan.objects.select_for_update().select_related("task").get(pk=plan.pk)
    task = plan.task
    ensure_task_active(task)
    before = audit.snapshot(plan)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.title = plan.title.strip()
    _check_plan(task, plan.window_start, plan.window_end, plan.frequency, plan.interval_days)
    _check_plan_outlet(task, plan.outlet)
    plan.template_codes = _check_plan_templates(task, plan.template_codes)
    if plan.frequency != OmPlan.Frequency.CUSTOM:
        plan.interval_days = None
    plan.save()
    changes = audit.diff(before, plan)
    if changes:
        audit.record(
            "om_plan.updated",
            subject=task,
            actor=actor,
            summary=f"修改运维计划：{plan.title}",
            changes=changes,
            agency_id=task.agency_id,
        )
    return plan


def plan_records(plan: OmPlan):
    """The records that count towards the plan: submitted or later, of its forms, at its outlet,
    inside its window (what ``plans`` matches occurrences with)."""
    records = OmRecord.objects.filter(
        task_id=plan.task_id,
        status__in=DONE_STATUSES,
        om_date__range=(plan.window_start, plan.window_end),
        template__code__in=plan.template_codes,
    )
    return records.filter(outlet_id=plan.outlet_id) if plan.outlet_id else records


@transaction.atomic
def om_plan_delete(*, plan: OmPlan, actor: User | None = None) -> None:
    """Delete a plan nothing was done for. A plan with records counted against it is refused
    (om_plan_has_records): its occurrences are computed from the plan, so deleting it would erase
    what 运维管理 showed as done and the regulator may have judged; ending it (执行结束 = today) stops
    it and keeps that history."""
    plan = OmPlan.objects.select_for_update().select_related("task").get(pk=plan.pk)
    task = plan.task
    ensure_task_active(task)
    count = plan_records(plan).count()
    if count:
        raise DomainError(errors.OM_PLAN_HAS_RECORDS, details={"records": count}, count=count)
    audit.record(
        "om_plan.deleted",
        subject=task,
        actor=actor,
        summary=f"删除运维计划：{plan.title}",
        changes={"plan": [audit.snapshot(plan), None]},
        agency_id=task.agency_id,
    )
    plan.delete()


# --- A task's status (进行中 → 已完结) ------------------------------------------------------------------
S = OmTask.Status
AGENCY_ADMIN_ROLES = {Role.AGENCY_MAIN, Role.AGENCY_MANAGER}
TASK_STATUS = StateMachine(
    status_field="status",
    moves={(S.ACTIVE, S.FINISHED): AGENCY_ADMIN_ROLES, (S.FINISHED, S.ACTIVE): AGENCY_ADMIN_ROLES},
    history=OmTaskEvent,
    history_fk="task",
    not_allowed=errors.OM_TASK_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.OM_TASK_ACTOR_NOT_ALLOWED,
    reason_required=errors.OM_TASK_REOPEN_REASON_REQUIRED,
    # Reopening takes records again under a task everyone saw as closed: it says why.
    needs_reason={S.ACTIVE},
)


def _own_agency(task: OmTask, actor: User) -> None:
    if actor.agency_id != task.agency_id:
        raise DomainError(errors.OM_TASK_ACTOR_NOT_ALLOWED)


def om_task_move(*, task: OmTask, to: str, actor: User, reason: str = "") -> OmTask:
    """Finish (已完结) or reopen a task, with a history row and an audit entry in one transaction. A
    finished task leaves the phones' lists and takes no new records (``records.record_save``);
    what was submitted can still be confirmed and reviewed."""
    with transaction.atomic():
        task = TASK_STATUS.apply(
            task, to=to, actor=actor, reason=reason, check=lambda obj, _: _own_agency(obj, actor)
        )
        audit.record(
            f"om_task.{to}",
            subject=task,
            actor=actor,
            summary=f"运维任务{S(to).label}：{task.number} {task.name}",
            changes=audit.last_move(task.events),
            agency_id=task.agency_id,
        )
    return task


@transaction.atomic
def om_task_create(
    *,
    agency: Agency,
    contract: Contract,
    number: str,
    name: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    points: list[Outlet],
    instruments: list[Instrument] = (),
    staff: list[tuple[Employment, str]] = (),
    plans: list[dict] = (),
) -> OmTask:
    """An O&M task binds a contract, points, staff, instruments and plans (rule 6)."""
    ensure_agency_approved(agency)
    if contract.agency_id != agency.pk or contract.nature != Contract.Nature.OM:
        raise DomainError(errors.OM_CONTRACT_MISMATCH)
    ensure_contract_accepted(contract)
    if ends_on < starts_on:
        raise DomainError(VALIDATION_FAILED, details={"ends_on": ["任务结束日期不能早于开始日期。"]})
    if not points:
        raise DomainError(errors.OM_TASK_NEEDS_POINTS)
    if any(p.enterprise_id != contract.enterprise_id or p.kind != kind for p in points):
        raise DomainError(errors.OM_POINT_NOT_IN_CONTRACT)
    point_ids = {p.pk for p in points}
    if any(i.outlet_id not in point_ids for i in instruments):
        raise DomainError(errors.OM_INSTRUMENT_NOT_AT_POINT)
    checked_staff = _check_staff(agency, staff)
    if OmTask.objects.filter(agency=agency, number=number.strip()).exists():
        raise DomainError(errors.OM_TASK_NUMBER_TAKEN, number=number)
    task = OmTask.objects.create(
        agency=agency,
        contract=contract,
        number=number.strip(),
        name=name.strip(),
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    task.points.set(points)
    task.instruments.set(instruments)
    OmTaskStaff.objects.bulk_create(OmTaskStaff(task=task, employment=e, role=r) for e, r in checked_staff)
    for plan in plans:
        om_plan_add(task=task, **plan)
    return task


@transaction.atomic
def om_task_add_staff(*, task: OmTask, employment: Employment, role: str) -> OmTaskStaff:
    ensure_task_active(task)
    (checked,) = _check_staff(task.agency, [(employment, role)])
    assignment, _ = OmTaskStaff.objects.get_or_create(task=task, employment=checked[0], role=role)
    return assignment
