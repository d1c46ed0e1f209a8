"""Reminders ([F6]): unconfirmed days to the enterprise, overdue plans to the agency, in-app and by
WeChat (a local stub), from Celery beat."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from server.accounts.models import WeChatBinding
from server.notifications import subscriptions
from server.notifications.models import Notification, OutgoingMessage
from server.notifications.reminders import remind_overdue_plans, remind_unconfirmed_days
from server.notifications.tasks import remind_overdue_plans_task, remind_unconfirmed_days_task
from server.om.models import FormTemplate, OmRecord
from server.om.plans import overdue_occurrences
from tests.notifications.support_wechat_stub import (
    STUB_APPID,
    TEMPLATES,
    WeChatApiStub,
    wechat_api_fixture,  # noqa: F401
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
DAY_TEMPLATE = TEMPLATES["om_day_unconfirmed"]["template_id"]
PLAN_TEMPLATE = TEMPLATES["om_plan_overdue"]["template_id"]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def side(world):
    return world.shanghai


def record(side, om_date: dt.date, status: str = "submitted") -> OmRecord:
    return OmRecord.objects.create(
        id=uuid.uuid4(),
        task=side.om_task,
        outlet=side.wastewater,
        template=FormTemplate.objects.filter(code="ww_daily_inspection").order_by("-version").first(),
        agency=side.agency,
        enterprise=side.enterprise,
        filled_by=side.technician_user,
        status=status,
        om_date=om_date,
    )


def subscribe(user, wechat_api: WeChatApiStub, template: str, grants: int = 20) -> str:
    openid = f"o-{user.pk}"
    WeChatBinding.objects.create(user=user, appid=STUB_APPID, openid=openid, bound_at=timezone.now())
    wechat_api.add_user(openid)
    for _ in range(grants):
        subscriptions.subscriptions_report(user=user, results={template: "accept"})
    return openid


def notified(user, kind: str) -> list[tuple[str, str]]:
    return sorted(
        Notification.objects.filter(recipient=user, kind=kind).values_list("subject_type", "subject_id")
    )


# --- Unconfirmed days -------------------------------------------------------------------------------
def test_past_unconfirmed_days_reach_the_enterprise_on_the_phone_and_by_wechat(
    world, side, wechat_api, client_for, today
):
    two_days_ago, yesterday = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    record(side, two_days_ago)
    record(side, two_days_ago)
    record(side, yesterday)
    record(side, today)  # today's work is not late yet
    record(side, today - dt.timedelta(days=3), status="confirmed")
    record(side, today - dt.timedelta(days=4), status="draft")
    openid = subscribe(side.enterprise_user, wechat_api, DAY_TEMPLATE)

    assert remind_unconfirmed_days() == 2
    ent = side.enterprise.pk
    subjects = [("om_day", f"{ent}:{two_days_ago}"), ("om_day", f"{ent}:{yesterday}")]
    assert notified(side.enterprise_user, "om_day_unconfirmed") == subjects

    client = client_for(side.enterprise_user)
    home = client.get(f"{API}/home").json()["notifications"]
    assert home["unread"] == 2
    assert {n["kind"] for n in home["latest"]} == {"om_day_unconfirmed"}
    listed = client.get(f"{API}/notifications", {"kind": "om_day_unconfirmed"}).json()
    assert listed["unread_count"] == 2
    oldest = next(n for n in listed["results"] if n["subject"]["id"] == f"{ent}:{two_days_ago}")
    assert str(two_days_ago) in oldest["title"]
    assert "2 条" in oldest["body"]

    sends = [s["body"] for s in wechat_api.sends]
    assert [(s["touser"], s["template_id"]) for s in sends] == [(openid, DAY_TEMPLATE)] * 2
    assert [s["data"]["date2"]["value"] for s in sends] == [str(two_days_ago), str(yesterday)]
    assert sends[0]["page"] == f"pages/om/confirm?date={two_days_ago}"
    assert sends[0]["data"]["number3"]["value"] == "2"
    # Only the enterprise's own confirmers: not the agency, not the other enterprise.
    assert not Notification.objects.exclude(recipient=side.enterprise_user).exists()
    assert notified(world.jiangsu.enterprise_user, "om_day_unconfirmed") == []


def test_running_twice_the_same_day_reminds_once(side, wechat_api, today):
    record(side, today - dt.timedelta(days=1))
    subscribe(side.enterprise_user, wechat_api, DAY_TEMPLATE)
    assert remind_unconfirmed_days() == 1
    assert remind_unconfirmed_days() == 0
    assert Notification.objects.count() == 1
    assert len(wechat_api.sends) == 1
    assert OutgoingMessage.objects.get().status == "sent"
    assert subscriptions.quotas_for(side.enterprise_user)[0]["remaining"] == 19


def test_a_day_still_unconfirmed_tomorrow_is_sent_again_and_notified_again_once_read(side, wechat_api, today):
    record(side, today - dt.timedelta(days=1))
    subscribe(side.enterprise_user, wechat_api, DAY_TEMPLATE)
    assert remind_unconfirmed_days(today) == 1
    assert remind_unconfirmed_days(today + dt.timedelta(days=1)) == 0  # the first is still unread
    assert len(wechat_api.sends) == 2  # but WeChat gets one a day
    Notification.objects.update(read_at=timezone.now())
    assert remind_unconfirmed_days(today + dt.timedelta(days=2)) == 1


def test_confirmed_days_are_not_reminded(side, wechat_api, today):
    for status in ("confirmed", "approved", "voided", "draft"):
        record(side, today - dt.timedelta(days=1), status=status)
    subscribe(side.enterprise_user, wechat_api, DAY_TEMPLATE)
    assert remind_unconfirmed_days() == 0
    assert not Notification.objects.exists()
    assert wechat_api.requests == []


def test_each_enterprise_hears_of_its_own_days_only(world, side, wechat_api, today):
    record(world.jiangsu, today - dt.timedelta(days=5))
    assert remind_unconfirmed_days() == 1
    assert notified(side.enterprise_user, "om_day_unconfirmed") == []
    assert notified(world.jiangsu.enterprise_user, "om_day_unconfirmed") == [
        ("om_day", f"{world.jiangsu.enterprise.pk}:{today - dt.timedelta(days=5)}")
    ]


def test_without_wechat_the_reminder_is_in_app_only(side, wechat_api, today, settings):
    settings.WECHAT_SUBSCRIBE_TEMPLATES = {}
    record(side, today - dt.timedelta(days=1))
    subscribe(side.enterprise_user, wechat_api, DAY_TEMPLATE)
    assert remind_unconfirmed_days() == 1
    assert wechat_api.requests == []
    assert not OutgoingMessage.objects.exists()


def test_a_user_without_quota_is_reminded_in_app_and_logged_skipped(side, wechat_api, today):
    record(side, today - dt.timedelta(days=1))
    subscribe(side.enterprise_user, wechat_api, DAY_TEMPLATE, grants=0)
    assert remind_unconfirmed_days() == 1
    assert OutgoingMessage.objects.get().status == "skipped_no_quota"
    assert wechat_api.sends == []


# --- Overdue plans ----------------------------------------------------------------------------------
def test_overdue_plans_reach_the_agency_admins_and_the_tasks_technicians(world, side, wechat_api, today):
    # The fixture's daily plan began 10 days ago; every day but yesterday has been left undone.
    record(side, today - dt.timedelta(days=1), status="confirmed")
    openid = subscribe(side.main, wechat_api, PLAN_TEMPLATE)
    overdue = [o for o in overdue_occurrences(today=today) if o.plan.task_id == side.om_task.pk]
    assert overdue, "the fixture's plan has overdue days"
    expected = sorted(("om_plan", f"{o.plan.pk}:{o.window_start}") for o in overdue)

    assert remind_overdue_plans() > 0
    for user in (side.main, side.manager, side.technician_user):
        assert notified(user, "om_plan_overdue") == expected
    for user in (side.enterprise_user, side.field_user, side.reviewer, world.jiangsu.main):
        assert ("om_plan", expected[0][1]) not in notified(user, "om_plan_overdue")
    assert notified(world.jiangsu.main, "om_plan_overdue")  # their own task's plan

    first = Notification.objects.filter(recipient=side.main, kind="om_plan_overdue").order_by("subject_id")[0]
    assert overdue[0].plan.title in first.title
    assert side.om_task.name in first.body
    sends = [s["body"] for s in wechat_api.sends]
    assert {s["touser"] for s in sends} == {openid}  # only the subscribed admin
    assert len(sends) == len(expected)
    assert sends[0]["data"]["thing1"]["value"] == overdue[0].plan.title
    assert sends[0]["page"] == f"pages/om/plans?task={side.om_task.pk}"
    assert remind_overdue_plans() == 0
    assert len(wechat_api.sends) == len(expected)


# --- Celery -----------------------------------------------------------------------------------------
def test_the_celery_tasks_do_the_same(side, wechat_api, today):
    record(side, today - dt.timedelta(days=1))
    subscribe(side.enterprise_user, wechat_api, DAY_TEMPLATE)
    assert remind_unconfirmed_days_task.delay().get() == 1
    assert remind_unconfirmed_days_task.apply().get() == 0
    assert len(wechat_api.sends) == 1
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert remind_unconfirmed_days_task.apply(kwargs={"today": tomorrow}).get() == 0  # still unread
    assert len(wechat_api.sends) == 2
    assert remind_overdue_plans_task.apply(kwargs={"today": today.isoformat()}).get() > 0
    assert Notification.objects.filter(recipient=side.main, kind="om_plan_overdue").exists()


def test_beat_runs_both_reminders_daily():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["notifications.remind_unconfirmed_days"] == crontab(hour=18, minute=0)
    assert schedule["notifications.remind_overdue_plans"] == crontab(hour=8, minute=30)
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"

    from server.celery import app

    assert {"notifications.remind_unconfirmed_days", "notifications.remind_overdue_plans"} <= set(app.tasks)
