"""What the O&M management pages read (运维任务, 运维管理, 上传报告, 违规待整改): through the scopes of
``server.access`` and ``server.violations.selectors``, and the selectors the API uses
(``server.om.plans`` for 运维管理 and 超期, ``server.om.reports`` for reports). The rows of 运维管理
are the API's own (``mobile_api.om_manage.ManageRowOut`` and ``OverdueOut``), so the page and
``GET /om-tasks/{id}/manage`` / ``GET /om/overdue`` never disagree. Each list is a bounded number of
queries (related objects joined or prefetched), ordered by a unique key last so that pages never
repeat or skip a row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from mobile_api.om_manage import ManageRowOut, OverdueOut
from server import access
from server.accounts.models import User
from server.om import plans, reports
from server.om.models import (
    ChangeRequest,
    ChangeRequestEvent,
    FormTemplate,
    OmPlan,
    OmRecord,
    OmReport,
    OmTask,
    OmTaskEvent,
    OmTaskStaff,
)
from server.registry.models import Enterprise, Instrument
from server.violations.models import Rectification, Violation, ViolationEvent
from server.violations.selectors import rectifications_for, violations_for

PAGE_SIZE = 20
RECORDS_SHOWN = 20  # a task's page lists its newest records, a page at a time


def paginate(rows, number, size: int = PAGE_SIZE) -> Page:
    return Paginator(rows, size).get_page(number)


# --- O&M tasks ------------------------------------------------------------------------------------
def filter_enterprises(user: User) -> QuerySet[Enterprise]:
    """The client enterprises of the O&M tasks the user sees: the list's enterprise filter."""
    return Enterprise.objects.filter(
        pk__in=access.om_tasks_for(user).values("contract__enterprise_id")
    ).order_by("name", "id")


def om_tasks(
    user: User, *, q: str = "", status: str = "", enterprise: Enterprise | None = None
) -> QuerySet[OmTask]:
    """The O&M tasks the user sees (a field or reviewer account: those it is on), the newest period
    first, then the id (unique) so that a page always holds the same rows."""
    tasks = access.om_tasks_for(user)
    if q:
        tasks = tasks.filter(Q(name__icontains=q) | Q(number__icontains=q))
    if status:
        tasks = tasks.filter(status=status)
    if enterprise is not None:
        tasks = tasks.filter(contract__enterprise=enterprise)
    return (
        tasks.select_related("agency", "contract__enterprise")
        # distinct: a field account's scope joins the task's staff (server.access).
        .annotate(point_count=Count("points", distinct=True), plan_count=Count("plans", distinct=True))
        .order_by("-starts_on", "-id")
    )


def visible_task(user: User, pk) -> OmTask:
    return access.get_visible(access.om_tasks_for(user).select_related("agency", "contract__enterprise"), pk)


@dataclass
class TaskView:
    task: OmTask
    staff: list[OmTaskStaff]
    plans: list[OmPlan]  # each with content_name: 运维内容, the name of its form
    records: Page
    reports: list[OmReport]


def template_names(codes) -> dict[str, str]:
    """运维内容: a form's name by its code (the newest version's name)."""
    names = {}
    for code, name in (
        FormTemplate.objects.filter(code__in=set(codes))
        .order_by("code", "version")
        .values_list("code", "name")
    ):
        names[code] = name
    return names


def task_view(user: User, pk, *, records_page=1) -> TaskView:
    """A task with its contract, points, instruments, staff, plans, reports and a page of records."""
    task = access.get_visible(
        access.om_tasks_for(user)
        .select_related("agency", "contract__enterprise")
        .prefetch_related(
            "points",
            Prefetch("instruments", queryset=Instrument.objects.select_related("outlet").order_by("id")),
        ),
        pk,
    )
    plans_ = list(task.plans.select_related("outlet").order_by("window_start", "id"))
    records = (
        access.om_records_for(user)
        .filter(task=task)
        .select_related("outlet", "template", "filled_by__person")
        .order_by("-om_date", "-created_at", "-pk")
    )
    names = template_names(code for p in plans_ for code in p.template_codes)
    for plan in plans_:
        plan.content_name = "、".join(names.get(code, code) for code in plan.template_codes)
    return TaskView(
        task=task,
        staff=list(
            OmTaskStaff.objects.filter(task=task)
            .select_related("employment__person")
            .order_by("role", "employment__person__name", "id")
        ),
        plans=plans_,
        records=paginate(records, records_page, RECORDS_SHOWN),
        reports=list(task_reports(user, task)),
    )


def task_reports(user: User, task: OmTask) -> QuerySet[OmReport]:
    """A task's reports as ``GET /om-tasks/{id}/reports`` lists them, newest first."""
    return (
        reports.reports_for(user)
        .filter(task=task)
        .select_related("uploaded_by__person")
        .prefetch_related(Prefetch("records", queryset=OmRecord.objects.select_related("outlet", "template")))
        .order_by("-uploaded_at", "-id")
    )


def linkable_records(task: OmTask) -> QuerySet[OmRecord]:
    """关联表单: the task's records a report may be linked to (submitted, confirmed or approved)."""
    return (
        OmRecord.objects.filter(task=task, status__in=plans.DONE_STATUSES)
        .select_related("outlet", "template", "filled_by__person")
        .order_by("-om_date", "-created_at", "-pk")
    )


# --- 运维管理 ---------------------------------------------------------------------------------------
@dataclass
class ManageRow:
    """One row of 运维管理: the occurrence (its plan and task), the API's row for it, and the name of
    the plan's form when no record names it (运维内容)."""

    occurrence: plans.Occurrence
    data: dict
    content: str
    days_overdue: int

    @property
    def plan(self) -> OmPlan:
        return self.occurrence.plan

    @property
    def state(self) -> str:
        return self.occurrence.state


def days_overdue(occurrence: plans.Occurrence, today: dt.date) -> int:
    return (today - occurrence.window_end).days if occurrence.state == plans.State.OVERDUE else 0


def management(
    *,
    tasks: QuerySet[OmTask],
    view: str,
    plan_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[plans.Occurrence]:
    """The occurrences of ``GET /om-tasks/{id}/manage`` for these tasks (one task, or all those the
    user sees); refusals (a range too large, end before start) are the selector's DomainError."""
    return plans.management_rows(tasks, view=view, plan_id=plan_id, start=start, end=end)


def overdue(
    user: User, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[plans.Occurrence]:
    """The occurrences of ``GET /om/overdue``: every overdue occurrence of the active tasks the user
    sees, looking back ``OM_OVERDUE_LOOKBACK_DAYS``, the most recently ended first."""
    return plans.overdue_list(access.om_tasks_for(user), start=start, end=end)


def manage_rows(occurrences: list[plans.Occurrence], *, across: bool) -> list[ManageRow]:
    """The API's rows for a page of occurrences: ``ManageRowOut`` (with the records done), or
    ``OverdueOut`` for the agency-wide overdue list (whose occurrences carry no records)."""
    today = timezone.localdate()
    names = template_names({code for o in occurrences for code in o.plan.template_codes})
    if across:
        data = OverdueOut(occurrences, many=True, context={"today": today}).data
    else:
        data = ManageRowOut(occurrences, many=True, context={"template_names": names}).data
    return [
        ManageRow(
            occurrence=o,
            data=dict(d),
            content="、".join(names.get(code, code) for code in o.plan.template_codes),
            days_overdue=days_overdue(o, today),
        )
        for o, d in zip(occurrences, data, strict=True)
    ]


# --- Violations (违规待整改) --------------------------------------------------------------------------
def violations(
    user: User,
    *,
    status: str = "",
    q: str = "",
    deadline_after: dt.date | None = None,
    deadline_before: dt.date | None = None,
    overdue_only: bool = False,
) -> QuerySet[Violation]:
    """The violations the user sees (agency accounts: their agency's), as ``GET /violations``."""
    queryset = (
        violations_for(user)
        .with_overdue()
        .select_related(
            "project__agency", "project__enterprise", "om_task__agency", "om_task__contract__enterprise"
        )
    )
    if status:
        queryset = queryset.filter(status=status)
    if q:
        queryset = queryset.filter(
            Q(project__name__icontains=q)
            | Q(project__number__icontains=q)
            | Q(om_task__name__icontains=q)
            | Q(om_task__number__icontains=q)
            | Q(description__icontains=q)
        )
    if deadline_after is not None:
        queryset = queryset.filter(deadline__gte=deadline_after)
    if deadline_before is not None:
        queryset = queryset.filter(deadline__lte=deadline_before)
    if overdue_only:
        queryset = queryset.filter(overdue=True)
    return queryset.order_by("-opened_at", "-id")


def violation_detail(user: User, pk) -> Violation:
    return access.get_visible(
        violations(user).prefetch_related(
            Prefetch(
                "rectifications",
                queryset=Rectification.objects.select_related(
                    "submitted_by__person", "reviewed_by__person"
                ).order_by("submitted_at", "id"),
            ),
            Prefetch(
                "events", queryset=ViolationEvent.objects.select_related("actor__person").order_by("at", "id")
            ),
        ),
        pk,
    )


def visible_rectification(user: User, pk) -> Rectification:
    return access.get_visible(rectifications_for(user), pk)


def rectifications(
    user: User,
    *,
    q: str = "",
    outcome: str = "",
    deadline_after: dt.date | None = None,
    deadline_before: dt.date | None = None,
) -> QuerySet[Rectification]:
    """历史整改记录 (seed 002): every rectification the user's agency submitted, as
    ``GET /rectifications`` lists them, the newest first."""
    queryset = rectifications_for(user).select_related(
        "violation__project__enterprise", "violation__om_task__contract__enterprise", "submitted_by__person"
    )
    if q:
        queryset = queryset.filter(
            Q(violation__project__name__icontains=q)
            | Q(violation__project__number__icontains=q)
            | Q(violation__om_task__name__icontains=q)
            | Q(violation__om_task__number__icontains=q)
        )
    if outcome:
        queryset = queryset.filter(outcome=outcome)
    if deadline_after is not None:
        queryset = queryset.filter(violation__deadline__gte=deadline_after)
    if deadline_before is not None:
        queryset = queryset.filter(violation__deadline__lte=deadline_before)
    return queryset.order_by("-submitted_at", "-id")


# --- 信息变更申请 and a task's history (issue F13) -----------------------------------------------------
def change_requests(user: User, *, status: str = "", subject: str = ""):
    """The change requests the user sees (``access.change_requests_for``), newest first, with what
    the list shows."""
    rows = access.change_requests_for(user).select_related(
        "contract", "task", "agency", "enterprise", "requested_by__person"
    )
    if status:
        rows = rows.filter(status=status)
    if subject == "contract":
        rows = rows.filter(contract__isnull=False)
    elif subject == "om_task":
        rows = rows.filter(task__isnull=False)
    return rows.order_by("-requested_at", "-id")


def visible_change_request(user: User, pk) -> ChangeRequest:
    return access.get_visible(
        access.change_requests_for(user).select_related(
            "contract", "task", "agency", "enterprise", "requested_by__person"
        ),
        pk,
    )


def change_events(request: ChangeRequest) -> list[ChangeRequestEvent]:
    return list(request.events.select_related("actor__person").order_by("at", "id"))


def task_events(task: OmTask) -> list[OmTaskEvent]:
    return list(OmTaskEvent.objects.filter(task=task).select_related("actor__person").order_by("at", "id"))


def visible_plan(user: User, pk) -> OmPlan:
    return access.get_visible(
        OmPlan.objects.filter(task__in=access.om_tasks_for(user)).select_related(
            "task__agency", "task__contract__enterprise", "outlet"
        ),
        pk,
    )
