"""What O&M plans expect, and whether it was done (运维管理, seed 003 §2.4: 本周 / 本月 / 全部 / 超期).

A plan (``OmPlan``) yields occurrences: one per day, ISO week (Monday to Sunday), calendar month,
calendar quarter, or block of ``interval_days`` counted from the plan's first day, each clipped to
the plan's window. An occurrence is done when a record of the plan's task — of one of the forms the
plan names (issue F13: a daily inspection does not fulfil a quarterly calibration plan), and at the
plan's outlet when it names one — was submitted (or confirmed, or approved) for a day
inside it. Drafts and voided records do not count.

A range [start, end] selects the occurrences that overlap it; they are kept whole (within the plan
window), so that a monthly plan seen in this week's view is judged over its month, not over the
days of the month that fall in this week.

Records are read once per call, for every task and day involved, and matched in memory.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from server.errors import NOT_FOUND, VALIDATION_FAILED, DomainError
from server.om import errors
from server.om.models import OmPlan, OmRecord, OmReport, OmTask

F = OmPlan.Frequency
# The statuses in which a record is evidence that the work was done.
DONE_STATUSES = (OmRecord.Status.SUBMITTED, OmRecord.Status.CONFIRMED, OmRecord.Status.APPROVED)
# A view never builds more occurrences than this (ten years of five daily plans are 18 250): a
# wider request is refused with om_range_too_large and asked to give a narrower range.
MAX_OCCURRENCES = 20_000
# The overdue list examines at most this many occurrences (a region's thousand tasks with two daily
# plans over a month are 62 000); it keeps only the overdue ones.
MAX_OVERDUE_SCAN = 200_000


class State:
    DONE = "done"
    OPEN = "open"  # not done yet, and the window contains today
    OVERDUE = "overdue"  # the window ended before today without a record
    UPCOMING = "upcoming"  # the window starts after today


STATE_LABELS = {State.DONE: "已完成", State.OPEN: "进行中", State.OVERDUE: "超期", State.UPCOMING: "未开始"}


class View:
    WEEK = "week"  # 本周
    MONTH = "month"  # 本月
    ALL = "all"  # 全部
    OVERDUE = "overdue"  # 超期


VIEWS = (View.WEEK, View.MONTH, View.ALL, View.OVERDUE)
_VIEW_ALIASES = {"this_week": View.WEEK, "this_month": View.MONTH}


@dataclass(slots=True)
class Occurrence:
    plan: OmPlan
    window_start: dt.date
    window_end: dt.date
    records: list[OmRecord] = field(default_factory=list)
    state: str = State.UPCOMING

    @property
    def period_label(self) -> str:
        """执行周期 as the back office shows it."""
        return f"{self.window_start.isoformat()}至{self.window_end.isoformat()}"


# --- Periods --------------------------------------------------------------------------------------
def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _period(plan: OmPlan, day: dt.date) -> tuple[dt.date, dt.date]:
    """The whole period of the plan's frequency that contains ``day`` (before clipping)."""
    if plan.frequency == F.DAILY:
        return day, day
    if plan.frequency == F.WEEKLY:
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    if plan.frequency == F.MONTHLY:
        return day.replace(day=1), _month_end(day)
    if plan.frequency == F.QUARTERLY:
        first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return first, _month_end(first.replace(month=first.month + 2))
    if plan.frequency == F.CUSTOM:
        # The model's check constraint requires interval_days >= 1 for custom plans.
        interval = max(plan.interval_days or 1, 1)
        index = (day - plan.window_start).days // interval
        first = plan.window_start + dt.timedelta(days=index * interval)
        return first, first + dt.timedelta(days=interval - 1)
    raise ValueError(f"unknown plan frequency {plan.frequency!r}")


def _windows(plan: OmPlan, start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """The plan's periods that overlap [start, end], each clipped to the plan window."""
    day, last = max(plan.window_start, start), min(plan.window_end, end)
    while day <= last:
        first, final = _period(plan, day)
        yield max(first, plan.window_start), min(final, plan.window_end)
        day = final + dt.timedelta(days=1)


def _count(plan: OmPlan, start: dt.date, end: dt.date) -> int:
    """At least as many as the windows ``_windows`` would yield, without building them: the days
    divided by the shortest period of the frequency, plus the two clipped ends."""
    first, last = max(plan.window_start, start), min(plan.window_end, end)
    if first > last:
        return 0
    days = (last - first).days + 1
    shortest = {F.DAILY: 1, F.WEEKLY: 7, F.MONTHLY: 28, F.QUARTERLY: 90}.get(
        plan.frequency, plan.interval_days or 1
    )
    return days // shortest + 2


# --- Matching records -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Done:
    """A record reduced to what matching needs (the overdue list never shows records)."""

    task_id: int
    outlet_id: int
    template_code: str
    om_date: dt.date


class _Index:
    """Records by task, in day order: the records of an occurrence are a bisect away."""

    def __init__(self, records: Iterable) -> None:
        self._records: dict[int, list] = defaultdict(list)
        for record in records:  # in (om_date, pk) order
            self._records[record.task_id].append(record)
        self._days = {task: [r.om_date for r in rows] for task, rows in self._records.items()}

    def matching(self, plan: OmPlan, first: dt.date, last: dt.date) -> list:
        days = self._days.get(plan.task_id)
        if not days:
            return []
        rows = self._records[plan.task_id][bisect.bisect_left(days, first) : bisect.bisect_right(days, last)]
        return [
            r
            for r in rows
            if (plan.outlet_id is None or r.outlet_id == plan.outlet_id)
            and r.template_code in plan.template_codes
        ]


def _state(records: list, first: dt.date, last: dt.date, today: dt.date) -> str:
    if records:
        return State.DONE
    if last < today:
        return State.OVERDUE
    if first <= today:
        return State.OPEN
    return State.UPCOMING


def _span(plans: list[OmPlan], start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The days the occurrences overlapping [start, end] cover: they are kept whole, so their
    records may lie outside [start, end]."""
    firsts, lasts = [], []
    for plan in plans:
        first, last = max(plan.window_start, start), min(plan.window_end, end)
        if first <= last:
            firsts.append(max(_period(plan, first)[0], plan.window_start))
            lasts.append(min(_period(plan, last)[1], plan.window_end))
    return (min(firsts), max(lasts)) if firsts else None


def _build(
    plans: Iterable[OmPlan],
    start: dt.date,
    end: dt.date,
    today: dt.date,
    *,
    limit: int | None,
    records: QuerySet[OmRecord] | None = None,
    keep: set[str] | None = None,
) -> list[Occurrence]:
    """The occurrences of ``plans`` overlapping [start, end] (those in a state of ``keep``), with
    their records: from ``records`` (a queryset, with what the caller shows), or reduced to
    ``_Done`` rows when None."""
    plans = list(plans)
    if limit is not None and sum(_count(p, start, end) for p in plans) > limit:
        raise DomainError(errors.OM_RANGE_TOO_LARGE, details={"limit": limit}, limit=limit)
    span = _span(plans, start, end)
    if span is None:
        return []
    done = {"task_id__in": {p.task_id for p in plans}, "om_date__range": span, "status__in": DONE_STATUSES}
    if records is None:
        fields = ("task_id", "outlet_id", "template__code", "om_date")
        found = OmRecord.objects.filter(**done).order_by("om_date").values_list(*fields).distinct()
        rows = (_Done(*row) for row in found)
    else:
        rows = (
            records.filter(**done)
            .annotate(template_code=models.F("template__code"))
            .order_by("om_date", "pk")
        )
    index = _Index(rows)
    occurrences = []
    for plan in plans:
        for first, last in _windows(plan, start, end):
            found = index.matching(plan, first, last)
            state = _state(found, first, last, today)
            if keep is None or state in keep:
                occurrences.append(Occurrence(plan, first, last, found, state))
    return occurrences


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def _sort(occurrences: list[Occurrence]) -> list[Occurrence]:
    return sorted(occurrences, key=lambda o: (o.window_start, o.window_end, o.plan.pk))


# --- Public ---------------------------------------------------------------------------------------
def occurrences(
    plan: OmPlan, start: dt.date, end: dt.date, *, today: dt.date | None = None
) -> list[Occurrence]:
    """The plan's occurrences overlapping [start, end], in order, with their records and state."""
    return _build([plan], start, end, _today(today), limit=MAX_OCCURRENCES, records=OmRecord.objects.all())


def _view_range(view: str, today: dt.date, plans: list[OmPlan]) -> tuple[dt.date, dt.date] | None:
    if view == View.WEEK:
        monday = today - dt.timedelta(days=today.weekday())
        return monday, monday + dt.timedelta(days=6)
    if view == View.MONTH:
        return today.replace(day=1), _month_end(today)
    if not plans:
        return None
    first = min(p.window_start for p in plans)
    if view == View.OVERDUE:
        return first, today - dt.timedelta(days=1)
    return first, max(p.window_end for p in plans)


def management_rows(
    tasks_qs: QuerySet[OmTask],
    *,
    view: str,
    plan_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
) -> list[Occurrence]:
    """The rows of 运维管理 for these tasks: this week's, this month's, all, or the overdue
    occurrences of their plans (or of one of them), narrowed to [start, end] when given; ordered by
    window, then plan. Each row's records come with what the table shows (outlet, form, filler,
    instruments, the reports they are linked to)."""
    view = _VIEW_ALIASES.get(view, view)
    if view not in VIEWS:
        raise DomainError(VALIDATION_FAILED, details={"view": [f"须为 {' / '.join(VIEWS)} 之一。"]})
    if start is not None and end is not None and end < start:
        raise DomainError(VALIDATION_FAILED, details={"end": ["结束时间不能早于开始时间。"]})
    today = _today(today)
    plans = OmPlan.objects.filter(task__in=tasks_qs).select_related("outlet", "task")
    if plan_id is not None:
        plans = plans.filter(pk=plan_id)
        if not plans.exists():
            raise DomainError(NOT_FOUND)
    plans = list(plans.order_by("pk"))
    bounds = _view_range(view, today, plans)
    if bounds is None:
        return []
    first, last = max(bounds[0], start or bounds[0]), min(bounds[1], end or bounds[1])
    if first > last:
        return []
    records = OmRecord.objects.select_related("outlet", "template", "filled_by__person").prefetch_related(
        "instruments", Prefetch("reports", queryset=OmReport.objects.order_by("uploaded_at", "id"))
    )
    keep = {State.OVERDUE} if view == View.OVERDUE else None
    return _sort(_build(plans, first, last, today, limit=MAX_OCCURRENCES, records=records, keep=keep))


def overdue_between(
    tasks: QuerySet[OmTask],
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date | None = None,
    bounded: bool = True,
) -> list[Occurrence]:
    """The overdue occurrences of these tasks' plans that overlap [start, end] (end at most
    yesterday), ordered by window, then plan; their ``records`` are empty. ``bounded``: a range
    holding more than MAX_OVERDUE_SCAN occurrences is refused (om_range_too_large)."""
    today = _today(today)
    end = min(end, today - dt.timedelta(days=1))
    if end < start:
        return []
    plans = OmPlan.objects.filter(task__in=tasks, window_start__lte=end, window_end__gte=start)
    rows = _build(
        plans.select_related("task__agency", "outlet").order_by("pk"),
        start,
        end,
        today,
        limit=MAX_OVERDUE_SCAN if bounded else None,
        keep={State.OVERDUE},
    )
    return _sort(rows)


def overdue_list(
    tasks: QuerySet[OmTask],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
) -> list[Occurrence]:
    """超期 as people read it (``GET /om/overdue``, the workspace's 超期 tab, the agency home's count):
    the overdue occurrences of those of ``tasks`` still active, from ``start`` (by default
    ``OM_OVERDUE_LOOKBACK_DAYS`` back) to ``end`` (yesterday), the most recently ended first."""
    today = _today(today)
    tasks = tasks.filter(status=OmTask.Status.ACTIVE)
    start = start or today - dt.timedelta(days=settings.OM_OVERDUE_LOOKBACK_DAYS)
    end = end or today - dt.timedelta(days=1)
    rows = overdue_between(tasks, start, end, today=today)
    rows.sort(key=lambda o: (-o.window_end.toordinal(), o.plan.task_id, o.plan.pk, o.window_start))
    return rows


def overdue_occurrences(
    *, tasks: QuerySet[OmTask] | None = None, today: dt.date | None = None
) -> list[Occurrence]:
    """Overdue occurrences (超期) of the active tasks' plans (or of ``tasks``), looking back
    ``OM_OVERDUE_LOOKBACK_DAYS`` from today: an occurrence that ended in that span with no record.
    Used by the reminders job and by ``GET /om/overdue``."""
    today = _today(today)
    if tasks is None:
        tasks = OmTask.objects.filter(status=OmTask.Status.ACTIVE)
    start = today - dt.timedelta(days=settings.OM_OVERDUE_LOOKBACK_DAYS)
    # The lookback bounds the occurrences per plan (a daily plan: one per day of it), so a job
    # over many tasks is linear in their plans and is not refused.
    return overdue_between(tasks, start, today - dt.timedelta(days=1), today=today, bounded=False)
