"""Reminders ([F6] 提醒): the enterprise of days it has not confirmed, the agency of overdue plans.

Each reminder goes to the home screen (``services.notify``: once while unread) and as a WeChat
subscription message (``wechat_messages.send_reminder``: at most once a day per user and subject, if
the kind has a template and the user a binding and quota). Both jobs run from Celery beat
(``tasks.py``, CELERY_BEAT_SCHEDULE) and may run again the same day without repeating anything.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count
from django.utils import timezone

from server.accounts.models import STAFF_ROLES, Role, User
from server.notifications import wechat_messages
from server.notifications.services import TITLE_MAX, agency_admins, notify
from server.om.models import OmRecord, OmTask, OmTaskStaff
from server.om.plans import overdue_occurrences
from server.registry.models import Employment

logger = logging.getLogger(__name__)

DAY_UNCONFIRMED = "om_day_unconfirmed"
PLAN_OVERDUE = "om_plan_overdue"

# The values each reminder offers its WeChat template's page and fields
# (settings.WECHAT_SUBSCRIBE_TEMPLATES; the system check refuses any other placeholder).
PLACEHOLDERS: dict[str, set[str]] = {
    DAY_UNCONFIRMED: {"enterprise", "enterprise_id", "date", "records", "days"},
    PLAN_OVERDUE: {"plan", "plan_id", "task", "task_id", "outlet", "window_start", "window_end"},
}


@dataclass(frozen=True)
class Reminder:
    kind: str
    recipients: frozenset[int]  # user ids
    title: str
    body: str
    subject_type: str
    subject_id: str
    context: Mapping[str, object] = field(default_factory=dict)


def remind_unconfirmed_days(today: date | None = None) -> int:
    """Remind each enterprise's users of every day before ``today`` with records waiting for their
    confirmation (status submitted). Returns how many in-app notifications were written."""
    today = today or timezone.localdate()
    days = list(
        OmRecord.objects.filter(status=OmRecord.Status.SUBMITTED, om_date__lt=today)
        .values("enterprise_id", "enterprise__name", "om_date")
        .annotate(records=Count("pk"))
        .order_by("enterprise_id", "om_date")
    )
    confirmers: dict[int, set[int]] = defaultdict(set)
    for pk, enterprise_id in User.objects.filter(
        role=Role.ENTERPRISE, is_active=True, enterprise_id__in={d["enterprise_id"] for d in days}
    ).values_list("pk", "enterprise_id"):
        confirmers[enterprise_id].add(pk)
    pending = Counter(day["enterprise_id"] for day in days)  # days to confirm, per enterprise
    reminders = []
    for day in days:
        enterprise, on = day["enterprise__name"], day["om_date"].isoformat()
        reminders.append(
            Reminder(
                kind=DAY_UNCONFIRMED,
                recipients=frozenset(confirmers[day["enterprise_id"]]),
                title=f"运维记录待确认：{on}",
                body=f"{enterprise} {on} 有 {day['records']} 条运维记录待确认，请核对后确认。",
                subject_type="om_day",
                subject_id=f"{day['enterprise_id']}:{on}",
                context={
                    "enterprise": enterprise,
                    "enterprise_id": day["enterprise_id"],
                    "date": on,
                    "records": day["records"],
                    "days": pending[day["enterprise_id"]],
                },
            )
        )
    return _deliver(reminders, today=today)


def remind_overdue_plans(today: date | None = None) -> int:
    """Remind the agency's administrators and the task's technicians of every plan occurrence whose
    window ended before ``today`` undone. Returns how many in-app notifications were written."""
    today = today or timezone.localdate()
    occurrences = overdue_occurrences(today=today)  # plans come with their task and outlet
    tasks = {occurrence.plan.task for occurrence in occurrences}
    admins = {
        agency_id: set(agency_admins(agency_id).values_list("pk", flat=True))
        for agency_id in {task.agency_id for task in tasks}
    }
    technicians = _technicians(tasks)
    reminders = []
    for occurrence in occurrences:
        plan, task = occurrence.plan, occurrence.plan.task
        outlet = plan.outlet.name if plan.outlet_id else ""
        start, end = occurrence.window_start.isoformat(), occurrence.window_end.isoformat()
        where = f"（{outlet}）" if outlet else ""
        reminders.append(
            Reminder(
                kind=PLAN_OVERDUE,
                recipients=frozenset(admins[task.agency_id] | technicians[task.pk]),
                title=f"运维计划逾期：{plan.title}",
                body=f"{task.name}：计划“{plan.title}”{where}应于 {start} 至 {end} 完成，已逾期。",
                subject_type="om_plan",
                subject_id=f"{plan.pk}:{start}",
                context={
                    "plan": plan.title,
                    "plan_id": plan.pk,
                    "task": task.name,
                    "task_id": task.pk,
                    "outlet": outlet,
                    "window_start": start,
                    "window_end": end,
                },
            )
        )
    return _deliver(reminders, today=today)


def _technicians(tasks: Iterable[OmTask]) -> dict[int, set[int]]:
    """Each task's technicians' active accounts (a staff account is a person at the task's agency)."""
    agency_of = {task.pk: task.agency_id for task in tasks}
    staff = list(
        OmTaskStaff.objects.filter(
            task_id__in=agency_of,
            role=OmTaskStaff.Role.TECHNICIAN,
            employment__status=Employment.Status.ACTIVE,
        ).values_list("task_id", "employment__person_id")
    )
    accounts: dict[tuple[int, int], set[int]] = defaultdict(set)
    for pk, person_id, agency_id in User.objects.filter(
        person_id__in={person for _, person in staff}, role__in=STAFF_ROLES, is_active=True
    ).values_list("pk", "person_id", "agency_id"):
        accounts[(person_id, agency_id)].add(pk)
    found: dict[int, set[int]] = defaultdict(set)
    for task_id, person_id in staff:
        found[task_id] |= accounts[(person_id, agency_of[task_id])]
    return found


def _deliver(reminders: list[Reminder], *, today: date) -> int:
    """In-app first (one transaction per reminder, in ``notify``), then WeChat, one user at a time:
    a user whose message fails is logged and the run goes on."""
    users = User.objects.in_bulk({pk for reminder in reminders for pk in reminder.recipients})
    written = 0
    for reminder in reminders:
        if not reminder.recipients:
            continue
        written += len(
            notify(
                recipients=reminder.recipients,
                kind=reminder.kind,
                title=reminder.title[:TITLE_MAX],
                body=reminder.body,
                subject_type=reminder.subject_type,
                subject_id=reminder.subject_id,
            )
        )
        for pk in sorted(reminder.recipients):
            try:
                wechat_messages.send_reminder(
                    user=users[pk],
                    kind=reminder.kind,
                    subject_type=reminder.subject_type,
                    subject_id=reminder.subject_id,
                    context=reminder.context,
                    day=today,
                )
            except Exception:
                logger.exception("WeChat reminder %s %s to user %s", reminder.kind, reminder.subject_id, pk)
    return written
