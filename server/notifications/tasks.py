"""Reminder jobs, run daily by Celery beat (CELERY_BEAT_SCHEDULE in server/settings.py).

``today`` (an ISO date) is for a manual re-run of a missed day; beat passes nothing: today in
TIME_ZONE (Asia/Shanghai). Running a job twice the same day repeats nothing.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task

from server.notifications import reminders


def _day(today: str | None) -> date | None:
    return date.fromisoformat(today) if today else None


@shared_task(name="notifications.remind_unconfirmed_days")
def remind_unconfirmed_days_task(today: str | None = None) -> int:
    return reminders.remind_unconfirmed_days(today=_day(today))


@shared_task(name="notifications.remind_overdue_plans")
def remind_overdue_plans_task(today: str | None = None) -> int:
    return reminders.remind_overdue_plans(today=_day(today))
