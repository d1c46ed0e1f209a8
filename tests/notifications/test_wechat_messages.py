"""WeChat subscription messages against a local stub of WeChat's API: the token, the quota, the log.

GET/POST /notifications/subscriptions (the phone's wx.requestSubscribeMessage results) and
``wechat_messages.send_reminder``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from server.accounts.models import WeChatBinding
from server.notifications import subscriptions
from server.notifications.models import OutgoingMessage, SubscriptionQuota
from server.notifications.reminders import PLACEHOLDERS
from server.notifications.wechat_messages import Outcome, fit_value, send_reminder, template_problems
from tests.notifications.support_wechat_stub import (
    STUB_APPID,
    STUB_SECRET,
    TEMPLATES,
    WeChatApiStub,
    wechat_api_fixture,  # noqa: F401
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
KIND = "om_day_unconfirmed"
TEMPLATE = TEMPLATES[KIND]["template_id"]
OTHER_TEMPLATE = TEMPLATES["om_plan_overdue"]["template_id"]
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def user(side):
    return side.enterprise_user


def bind(user, wechat_api: WeChatApiStub, openid: str = "o-enterprise") -> str:
    WeChatBinding.objects.create(user=user, appid=STUB_APPID, openid=openid, bound_at=timezone.now())
    wechat_api.add_user(openid)
    return openid


def grant(user, n: int = 1, template: str = TEMPLATE) -> None:
    for _ in range(n):
        subscriptions.subscriptions_report(user=user, results={template: "accept"})


def remaining(user, template: str = TEMPLATE) -> int:
    row = SubscriptionQuota.objects.filter(user=user, template_id=template).first()
    return row.remaining if row else 0


def remind(user, subject: str = "1:2026-11-20", day: dt.date = TODAY, **context) -> Outcome:
    values = {"enterprise": "测试污水处理厂", "date": "2026-11-20", "records": 2, "days": 1, **context}
    return send_reminder(
        user=user, kind=KIND, subject_type="om_day", subject_id=subject, context=values, day=day
    )


def log_row(user) -> OutgoingMessage:
    return OutgoingMessage.objects.filter(user=user).latest("created_at", "id")


# --- The phone reports its subscriptions ------------------------------------------------------------
def test_accepts_are_counted_per_template_and_shown(user, wechat_api, client_for):
    client = client_for(user)
    body = client.post(
        f"{API}/notifications/subscriptions",
        {"results": {TEMPLATE: "accept", OTHER_TEMPLATE: "reject", "tpl-unknown": "accept"}},
        format="json",
    ).json()
    assert body["granted"] == [TEMPLATE]
    assert body["ignored"] == ["tpl-unknown"]
    assert body["replayed"] is False
    client.post(
        f"{API}/notifications/subscriptions", {"results": {TEMPLATE: "acceptWithAudio"}}, format="json"
    )
    shown = client.get(f"{API}/notifications/subscriptions").json()
    assert shown == {
        "templates": [
            {"template_id": TEMPLATE, "kinds": ["om_day_unconfirmed"], "remaining": 2},
            {"template_id": OTHER_TEMPLATE, "kinds": ["om_plan_overdue"], "remaining": 0},
        ]
    }
    assert remaining(user, "tpl-unknown") == 0


def test_a_retried_report_counts_once_and_a_reused_id_with_other_results_is_refused(
    user, wechat_api, client_for
):
    client = client_for(user)
    report = {"request_id": str(uuid.uuid4()), "results": {TEMPLATE: "accept"}}
    first = client.post(f"{API}/notifications/subscriptions", report, format="json")
    again = client.post(f"{API}/notifications/subscriptions", report, format="json")
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["granted"] == [TEMPLATE]
    assert remaining(user) == 1
    reused = client.post(
        f"{API}/notifications/subscriptions",
        {**report, "results": {TEMPLATE: "accept", OTHER_TEMPLATE: "accept"}},
        format="json",
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "subscription_request_reused"
    assert remaining(user) == 1
    assert remaining(user, OTHER_TEMPLATE) == 0


def test_the_same_request_id_of_another_user_is_theirs(side, wechat_api, client_for):
    report = {"request_id": str(uuid.uuid4()), "results": {TEMPLATE: "accept"}}
    client_for(side.enterprise_user).post(f"{API}/notifications/subscriptions", report, format="json")
    other = client_for(side.main).post(f"{API}/notifications/subscriptions", report, format="json").json()
    assert other["replayed"] is False
    assert remaining(side.main) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"results": {}},
        {"results": {TEMPLATE: "maybe"}},
        {"results": {"x" * 129: "accept"}},
        {"results": {TEMPLATE: "accept"}, "request_id": "not-a-uuid"},
        {"results": [TEMPLATE]},
    ],
)
def test_malformed_reports_are_refused(user, wechat_api, client_for, body):
    response = client_for(user).post(f"{API}/notifications/subscriptions", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert not SubscriptionQuota.objects.exists()


# --- Sending ----------------------------------------------------------------------------------------
def test_a_send_posts_the_message_and_uses_one_grant(user, wechat_api):
    openid = bind(user, wechat_api)
    grant(user, 2)
    assert remind(user) == Outcome.SENT
    [sent] = wechat_api.sends
    assert sent["body"] == {
        "touser": openid,
        "template_id": TEMPLATE,
        "page": "pages/om/confirm?date=2026-11-20",
        "data": {
            "thing1": {"value": "测试污水处理厂"},
            "date2": {"value": "2026-11-20"},
            "number3": {"value": "2"},
        },
        "miniprogram_state": "formal",
        "lang": "zh_CN",
    }
    assert sent["query"]["access_token"] == wechat_api.issued[0]
    assert remaining(user) == 1
    row = log_row(user)
    assert (row.status, row.kind, row.template_id, row.subject_id, row.day) == (
        "sent",
        KIND,
        TEMPLATE,
        "1:2026-11-20",
        TODAY,
    )
    assert row.sent_at is not None
    assert row.errcode is None


def test_the_token_is_fetched_once_and_cached(user, wechat_api):
    bind(user, wechat_api)
    grant(user, 3)
    for n in range(3):
        assert remind(user, subject=f"1:2026-11-{10 + n}") == Outcome.SENT
    assert len(wechat_api.token_requests) == 1
    assert wechat_api.token_requests[0]["body"] == {
        "grant_type": "client_credential",
        "appid": STUB_APPID,
        "secret": STUB_SECRET,
        "force_refresh": False,
    }
    assert len({s["query"]["access_token"] for s in wechat_api.sends}) == 1


def test_an_expired_token_is_renewed_once_and_the_message_sent(user, wechat_api):
    bind(user, wechat_api)
    grant(user, 2)
    assert remind(user, subject="1:2026-11-19") == Outcome.SENT
    wechat_api.expire_token()
    assert remind(user, subject="1:2026-11-20") == Outcome.SENT
    tokens = [s["query"]["access_token"] for s in wechat_api.sends]
    assert len(tokens) == 3  # sent, 42001, sent again with a new token
    assert tokens[0] == tokens[1] != tokens[2]
    assert [t["body"]["force_refresh"] for t in wechat_api.token_requests] == [False, False]
    assert remaining(user) == 0


def test_a_token_that_stable_token_still_hands_out_is_forced_out(user, wechat_api):
    bind(user, wechat_api)
    grant(user, 2)
    assert remind(user, subject="1:2026-11-19") == Outcome.SENT
    wechat_api.revoke_token()  # 40001, while normal mode keeps returning it
    assert remind(user, subject="1:2026-11-20") == Outcome.SENT
    assert [t["body"]["force_refresh"] for t in wechat_api.token_requests] == [False, False, True]


def test_a_token_rejected_twice_fails_without_a_loop(user, wechat_api):
    openid = bind(user, wechat_api)
    grant(user)
    wechat_api.script_send(openid, 40001)
    wechat_api.script_send(openid, 40001)
    assert remind(user) == Outcome.FAILED
    assert len(wechat_api.sends) == 2
    row = log_row(user)
    assert (row.errcode, row.may_retry) == (40001, False)
    assert remaining(user) == 1


def test_a_failing_token_endpoint_fails_the_send_and_keeps_the_grant(user, wechat_api):
    bind(user, wechat_api)
    grant(user)
    wechat_api.script_token(40125)
    assert remind(user) == Outcome.FAILED
    row = log_row(user)
    assert (row.errcode, row.reason, row.may_retry) == (None, "token_errcode_40125", True)
    assert remaining(user) == 1  # nothing was sent
    assert wechat_api.sends == []


def test_43101_means_the_user_refused_and_zeroes_the_quota(user, wechat_api):
    openid = bind(user, wechat_api)
    grant(user, 3)
    wechat_api.script_send(openid, 43101, errmsg="user refuse to accept the msg, rid: stub")
    assert remind(user) == Outcome.FAILED
    row = log_row(user)
    assert (row.status, row.errcode, row.may_retry) == ("failed", 43101, False)
    assert row.reason.startswith("user refuse")
    assert remaining(user) == 0


def test_a_template_error_keeps_the_grant(user, wechat_api):
    openid = bind(user, wechat_api)
    grant(user)
    wechat_api.script_send(openid, 47003)
    assert remind(user) == Outcome.FAILED
    assert log_row(user).errcode == 47003
    assert remaining(user) == 1


def test_no_quota_is_skipped_without_calling_wechat_and_retried_after_a_grant(user, wechat_api):
    bind(user, wechat_api)
    assert remind(user) == Outcome.SKIPPED_NO_QUOTA
    assert log_row(user).status == "skipped_no_quota"
    assert wechat_api.requests == []
    grant(user)
    assert remind(user) == Outcome.SENT  # the same day: a skipped reminder may go once granted
    row = log_row(user)
    assert (row.status, row.attempts) == ("sent", 2)
    assert OutgoingMessage.objects.filter(user=user).count() == 1


def test_no_binding_is_skipped(user, wechat_api):
    grant(user)
    assert remind(user) == Outcome.SKIPPED_NO_BINDING
    assert log_row(user).status == "skipped_no_binding"
    assert remaining(user) == 1
    assert wechat_api.requests == []


def test_a_binding_under_another_appid_is_not_a_binding(user, wechat_api):
    WeChatBinding.objects.create(user=user, appid="wx-other", openid="o-x", bound_at=timezone.now())
    grant(user)
    assert remind(user) == Outcome.SKIPPED_NO_BINDING


def test_a_kind_without_a_template_is_in_app_only(user, wechat_api):
    bind(user, wechat_api)
    grant(user)
    with override_settings(WECHAT_SUBSCRIBE_TEMPLATES={}):
        assert remind(user) == Outcome.SKIPPED_NO_TEMPLATE
    assert not OutgoingMessage.objects.exists()
    assert remaining(user) == 1


def test_without_wechat_credentials_nothing_is_attempted(user, wechat_api):
    bind(user, wechat_api)
    grant(user)
    with override_settings(WECHAT_SECRET=""):
        assert remind(user) == Outcome.SKIPPED_NOT_CONFIGURED
    assert not OutgoingMessage.objects.exists()


def test_a_reminder_goes_once_a_day(user, wechat_api):
    bind(user, wechat_api)
    grant(user, 3)
    assert remind(user) == Outcome.SENT
    assert remind(user) == Outcome.SKIPPED_DUPLICATE
    assert remind(user, day=TODAY + dt.timedelta(days=1)) == Outcome.SENT
    assert len(wechat_api.sends) == 2
    assert remaining(user) == 1


def test_a_timeout_fails_cleanly_and_is_not_retried_the_same_day(user, wechat_api):
    openid = bind(user, wechat_api)
    grant(user, 2)
    wechat_api.script_send(openid, 0, delay=3)
    started = time.monotonic()
    assert remind(user) == Outcome.FAILED
    assert time.monotonic() - started < 2.5
    row = log_row(user)
    assert (row.status, row.reason, row.errcode, row.may_retry) == ("failed", "timeout", None, False)
    # It may have arrived: the grant stays spent, and the day's reminder is not sent again.
    assert remaining(user) == 1
    assert remind(user) == Outcome.SKIPPED_DUPLICATE


def test_an_unreachable_wechat_fails_and_keeps_the_grant(user, wechat_api):
    bind(user, wechat_api)
    grant(user)
    with override_settings(WECHAT_API_BASE="http://127.0.0.1:9"):  # discard port: refused
        assert remind(user) == Outcome.FAILED
    row = log_row(user)
    assert (row.reason, row.may_retry) == ("connection_failed", True)
    assert remaining(user) == 1
    assert remind(user) == Outcome.SENT  # WeChat is back: the same day's reminder goes now


def test_garbage_from_wechat_fails_cleanly(user, wechat_api):
    openid = bind(user, wechat_api)
    grant(user, 2)
    wechat_api.script_send(openid, raw=b"<html>502 Bad Gateway</html>")
    assert remind(user) == Outcome.FAILED
    assert log_row(user).reason == "invalid_response"
    assert remaining(user) == 1  # an answer WeChat may have sent after delivering: spent
    wechat_api.script_send(openid, raw=b"oops", status=502)
    assert remind(user, subject="1:2026-11-21") == Outcome.FAILED
    assert log_row(user).reason == "http_status_502"
    assert remaining(user) == 1  # refused at the door: kept


def test_neither_the_secret_nor_a_token_reaches_the_logs(user, wechat_api, caplog):
    caplog.set_level(logging.DEBUG)
    openid = bind(user, wechat_api)
    grant(user, 10)
    wechat_api.script_token(40125, errmsg=f"invalid appsecret {STUB_SECRET}, rid: stub")
    remind(user, subject="1:2026-11-01")
    remind(user, subject="1:2026-11-02")  # a token now
    wechat_api.expire_token()
    remind(user, subject="1:2026-11-03")
    token = wechat_api.issued[-1]
    wechat_api.script_send(openid, 47003, errmsg=f"data invalid for {token} {STUB_SECRET}")
    remind(user, subject="1:2026-11-04")
    wechat_api.script_send(openid, delay=3)
    remind(user, subject="1:2026-11-05")
    with override_settings(WECHAT_API_BASE="http://127.0.0.1:9"):
        remind(user, subject="1:2026-11-06")
    assert caplog.records, "the failures above are logged"
    stored = " ".join(OutgoingMessage.objects.values_list("reason", flat=True))
    for secret in [STUB_SECRET, *wechat_api.issued]:
        assert secret not in caplog.text
        assert secret not in stored


# --- Content ----------------------------------------------------------------------------------------
def test_values_are_cut_to_wechats_limits():
    assert (
        fit_value("thing1", "一二三四五六七八九十一二三四五六七八九十一二")
        == "一二三四五六七八九十一二三四五六七八九…"
    )
    assert fit_value("thing2", "短") == "短"
    assert fit_value("phrase3", "待确认的记录") == "待确认的记"
    assert fit_value("character_string4", "A" * 40) == "A" * 32
    assert fit_value("name5", "欧阳一二三四五六七八九") == "欧阳一二三四五六七八"
    assert fit_value("name6", "A" * 25) == "A" * 20
    assert fit_value("thing7", "第一行\n第二行\t") == "第一行 第二行"
    assert fit_value("date8", "2026年11月23日 18:00") == "2026年11月23日 18:00"


def test_a_long_enterprise_name_still_goes_through(user, wechat_api):
    bind(user, wechat_api)
    grant(user)
    assert remind(user, enterprise="上海市徐汇区某某环境科技股份有限公司第二污水处理厂") == Outcome.SENT
    assert len(wechat_api.sends[0]["body"]["data"]["thing1"]["value"]) == 20


def test_the_page_escapes_its_values(user, wechat_api):
    bind(user, wechat_api)
    grant(user)
    remind(user, date="2026-11-20&x=1")
    assert wechat_api.sends[0]["body"]["page"] == "pages/om/confirm?date=2026-11-20%26x%3D1"


def test_the_template_settings_are_checked():
    assert template_problems(TEMPLATES, PLACEHOLDERS) == []
    problems = template_problems(
        {
            "om_day_unconfirmed": {"template_id": "", "fields": {"thing1": "{nope}"}},
            "om_plan_overdue": {"template_id": "t", "page": 3, "fields": ["thing1"]},
            "other": "t",
        },
        PLACEHOLDERS,
    )
    assert problems == [
        "om_day_unconfirmed: template_id must be a non-empty string",
        "om_day_unconfirmed: unknown placeholders ['nope']; known: "
        "['date', 'days', 'enterprise', 'enterprise_id', 'records']",
        "om_plan_overdue: page must be a string",
        "om_plan_overdue: fields must map data keys (thing1, time2…) to strings",
        "other: must be an object",
    ]
    assert template_problems([], PLACEHOLDERS) == ["must be an object mapping reminder kinds to templates"]
