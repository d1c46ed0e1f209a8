"""O&M task services (运维任务申请, seed 003 §2.2). Daily records and reviews join in [F6]."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from server.errors import VALIDATION_FAILED, DomainError
from server.om import errors
from server.om.models import FormTemplate, OmPlan, OmTask, OmTaskStaff
from server.registry.models import Agency, Contract, Employment, Instrument, Outlet, Post
from server.registry.services import ensure_agency_approved, ensure_contract_accepted, ensure_post_allowed

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


def _check_plan_template(task: OmTask, code: str) -> str:
    """运维内容: blank (any form counts) or a loaded form for the task's kind of outlet."""
    code = (code or "").strip()
    if not code:
        return ""
    template = FormTemplate.objects.filter(code=code).order_by("-version").first()
    if template is None:
        raise DomainError(errors.OM_TEMPLATE_UNKNOWN, details={"template_code": code}, code=code)
    if template.outlet_kind != task.kind:
        raise DomainError(
            errors.OM_TEMPLATE_NOT_FOR_OUTLET, details={"template_code": code}, name=template.name
        )
    return code


@transaction.atomic
def om_plan_add(
    *,
    task: OmTask,
    title: str,
    frequency: str,
    window_start: dt.date,
    window_end: dt.date,
    interval_days: int | None = None,
    outlet: Outlet | None = None,
    template_code: str = "",
) -> OmPlan:
    _check_plan(task, window_start, window_end, frequency, interval_days)
    if outlet is not None and not task.points.filter(pk=outlet.pk).exists():
        raise DomainError(errors.OM_POINT_NOT_IN_CONTRACT)
    template_code = _check_plan_template(task, template_code)
    return OmPlan.objects.create(
        task=task,
        title=title.strip(),
        frequency=frequency,
        interval_days=interval_days if frequency == OmPlan.Frequency.CUSTOM else None,
        window_start=window_start,
        window_end=window_end,
        outlet=outlet,
        template_code=template_code,
    )


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
    (checked,) = _check_staff(task.agency, [(employment, role)])
    assignment, _ = OmTaskStaff.objects.get_or_create(task=task, employment=checked[0], role=role)
    return assignment
