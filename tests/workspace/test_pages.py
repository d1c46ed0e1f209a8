"""The workspace's pages with Django's test client: each role's home, the photo page, signing in and
out, the password, the phones, and who reaches what (outside one's scope: 404)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.accounts.models import DeviceToken
from server.accounts.services import DeviceInfo, token_issue
from tests.factories import PASSWORD
from tests.workspace.conftest import flagged_work, signed_in
from tests.workspace.helpers import machine_words, visible_text

pytestmark = pytest.mark.django_db

HOMES = {
    "agency_main": ("/agency/", "今日待关注"),
    "agency_manager": ("/agency/", "今日待关注"),
    "agency_reviewer": ("/agency/", "待审核运维记录"),
    "enterprise": ("/enterprise/", "待确认的运维记录"),
    "regulator": ("/regulator/", "辖区概况"),
}


def a_phone(user) -> uuid.UUID:
    info = DeviceInfo(id=str(uuid.uuid4()), platform="android", app_version="1.4.0", model_name="Mi 14")
    return token_issue(user=user, info=info).record.device_id


# --- Signed out -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/", "/agency/", "/enterprise/", "/regulator/", "/platform/", "/account/phones/", "/account/password/"],
)
def test_signed_out_people_are_sent_to_the_sign_in_page(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")


def test_the_photo_page_signed_out_goes_to_sign_in_and_back(busy):
    photo = busy.scenes["shanghai"].photo
    client = Client()
    response = client.get(f"/photos/{photo.pk}/")
    assert response["Location"] == f"/sign-in/?next=/photos/{photo.pk}/"
    user = busy.world.shanghai.main
    answer = client.post(
        "/sign-in/", {"username": user.username, "password": PASSWORD, "next": f"/photos/{photo.pk}/"}
    )
    assert answer["Location"] == f"/photos/{photo.pk}/"


def test_a_next_to_another_site_is_ignored(busy):
    user = busy.world.shanghai.main
    answer = Client().post(
        "/sign-in/", {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert answer["Location"] == "/agency/"


# --- Homes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_lands_on_its_home_in_chinese(busy, role):
    side = busy.world.shanghai
    user = side.users[role]
    client = signed_in(user)
    response = client.get("/", follow=True)
    path, heading = HOMES[role]
    assert response.redirect_chain[-1][0] == path
    assert response.status_code == 200
    text = visible_text(response)
    assert heading in text
    assert "退出登录" in text
    assert user.get_role_display() in text
    assert machine_words(text) == []


def test_the_agency_home_lists_what_needs_attention(busy):
    side = busy.world.shanghai
    text = visible_text(signed_in(side.main).get("/agency/"))
    photo = busy.scenes["shanghai"].photo
    assert photo.photo_type.name in text
    assert "不通过" in text
    assert "超出电子围栏" in text  # the check-in 3 km off
    assert "日常巡检" in text  # the record the enterprise confirmed, to review
    assert "超期运维计划" in text
    assert busy.scenes["jiangsu"].task.name not in text
    response = signed_in(side.main).get("/agency/")
    assert f'href="/photos/{photo.pk}/"'.encode() in response.content
    assert f"/photos/{busy.scenes['jiangsu'].photo.pk}/".encode() not in response.content


def test_a_flagged_photo_of_a_task_without_a_site_is_listed_too(busy):
    """A photo may name no outlet (its task's site is enough): the lists do not stumble on it."""
    from media_rules.models import Photo

    side = busy.world.shanghai
    scene = flagged_work(side, "无点位的任务")
    Photo.objects.filter(pk=scene.photo.pk).update(outlet=None, verdict="warn")
    for client, path in ((signed_in(side.main), "/agency/"), (signed_in(side.regulator), "/regulator/")):
        response = client.get(path)
        assert response.status_code == 200
        assert f"/photos/{scene.photo.pk}/".encode() in response.content
    assert signed_in(side.main).get(f"/photos/{scene.photo.pk}/").status_code == 200


def test_the_platform_home_links_to_the_admin_and_counts_both_sides(busy):
    response = signed_in(busy.world.platform).get("/platform/")
    assert response.status_code == 200
    assert b'href="/admin/"' in response.content
    for key in ("shanghai", "jiangsu"):
        assert f"/photos/{busy.scenes[key].photo.pk}/".encode() in response.content
    assert machine_words(visible_text(response)) == []


def test_the_regulator_sees_its_region_only(busy):
    response = signed_in(busy.world.shanghai.regulator).get("/regulator/")
    assert f"/photos/{busy.scenes['shanghai'].photo.pk}/".encode() in response.content
    assert f"/photos/{busy.scenes['jiangsu'].photo.pk}/".encode() not in response.content
    assert "证据队列" in visible_text(response)


def test_the_home_pages_read_a_bounded_number_of_queries(busy):
    """More flagged work does not mean more queries (no query per row)."""
    side = busy.world.shanghai
    clients = {
        "/agency/": signed_in(side.main),
        "/regulator/": signed_in(side.regulator),
        "/enterprise/": signed_in(side.enterprise_user),
    }

    def counts() -> dict[str, int]:
        found = {}
        for path, client in clients.items():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            found[path] = len(queries)
        return found

    before = counts()
    for n in range(3):
        flagged_work(side, f"更多核查{n}")
    from tests.workspace.conftest import om_record

    for _ in range(3):
        om_record(side, "submitted", timezone.localdate() - dt.timedelta(days=1))
    after = counts()
    assert after == before
    assert max(after.values()) <= 40, after


# --- The enterprise's day -------------------------------------------------------------------------
def test_the_enterprise_picks_a_day(busy):
    side = busy.world.shanghai
    client = signed_in(side.enterprise_user)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    text = visible_text(client.get("/enterprise/", {"date": yesterday.isoformat()}))
    assert side.wastewater.name in text
    assert "待企业确认" in text
    text = visible_text(client.get("/enterprise/", {"date": "2026-01-01"}))
    assert "这一天没有待确认的记录" in text


def test_a_bad_date_is_said_beside_the_field_and_kept(busy):
    client = signed_in(busy.world.shanghai.enterprise_user)
    response = client.get("/enterprise/", {"date": "2026-13-45"})
    assert response.status_code == 200
    assert "请输入日期" in visible_text(response)
    assert b'value="2026-13-45"' in response.content


# --- Sign-in --------------------------------------------------------------------------------------
def test_a_wrong_password_is_said_in_the_form_and_the_username_kept(busy):
    user = busy.world.shanghai.main
    response = Client().post("/sign-in/", {"username": user.username, "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码错误" in visible_text(response)
    assert f'value="{user.username}"'.encode() in response.content
    assert b"wrong-password" not in response.content


def test_empty_fields_are_said_beside_them(db):
    response = Client().post("/sign-in/", {"username": "", "password": ""})
    assert response.status_code == 200
    assert visible_text(response).count("该字段是必填项") == 2


def test_sign_in_attempts_count_with_the_apis(busy, settings):
    """The page and POST /auth/login share one counter per account (sign_in_account, 10/min): the
    eleventh attempt on either is refused, with the API's message in the form."""
    user = busy.world.shanghai.main
    client = Client()
    for _ in range(10):
        assert client.post("/sign-in/", {"username": user.username, "password": "nope"}).status_code == 200
    response = client.post("/sign-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    text = visible_text(response)
    assert "请求过于频繁，请稍后再试" in text
    assert "秒后再试" in text
    assert f'value="{user.username}"'.encode() in response.content
    assert "_auth_user_id" not in client.session  # the right password did not get through
    api = Client().post(
        "/api/v1/auth/login",
        {
            "username": user.username,
            "password": PASSWORD,
            "device": {"id": str(uuid.uuid4()), "platform": "android", "app_version": "1"},
        },
        content_type="application/json",
    )
    assert api.status_code == 429


def test_enterprise_and_agency_main_accounts_sign_in_here_though_not_in_the_admin(busy):
    for user in (busy.world.shanghai.main, busy.world.shanghai.enterprise_user):
        client = signed_in(user)
        assert client.get("/").status_code == 302
        assert client.get("/admin/").status_code == 302  # the admin sends them to its own login


# --- Writes need CSRF -----------------------------------------------------------------------------
def test_sign_out_is_a_post_with_csrf(busy):
    user = busy.world.shanghai.main
    client = signed_in(user, csrf=True)
    assert client.post("/sign-out/").status_code == 403
    assert client.get("/agency/").status_code == 200  # still signed in
    token = client.cookies["csrftoken"].value
    response = client.post("/sign-out/", {"csrfmiddlewaretoken": token})
    assert response["Location"] == "/sign-in/"
    assert client.get("/agency/").status_code == 302


def test_changing_the_password_needs_csrf_and_says_what_is_wrong_in_place(busy):
    user = busy.world.shanghai.manager
    client = signed_in(user, csrf=True)
    new = {"old_password": PASSWORD, "new_password1": "Lake-Tai-2026!", "new_password2": "Lake-Tai-2026!"}
    assert client.post("/account/password/", new).status_code == 403
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/account/password/",
        {
            "old_password": "wrong",
            "new_password1": "123",
            "new_password2": "456",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 200
    text = visible_text(response)
    assert "你的旧密码不正确" in text
    assert "输入的两个密码不一致" in text
    response = client.post("/account/password/", {**new, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Lake-Tai-2026!")
    assert client.get("/agency/").status_code == 200  # this session stays signed in


def test_a_weak_new_password_is_refused_by_the_validators(busy):
    client = signed_in(busy.world.shanghai.manager)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "这个密码太常见了" in visible_text(response)


def test_revoking_a_phone_needs_csrf_and_signs_it_out(busy):
    user = busy.world.shanghai.manager
    device_id = a_phone(user)
    client = signed_in(user, csrf=True)
    page = client.get("/account/phones/")
    assert "Mi 14" in visible_text(page)
    assert "已登录" in visible_text(page)
    assert client.post(f"/account/phones/{device_id}/revoke").status_code == 403
    assert DeviceToken.objects.filter(device_id=device_id, revoked_at__isnull=True).exists()
    token = client.cookies["csrftoken"].value
    response = client.post(f"/account/phones/{device_id}/revoke", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert not DeviceToken.objects.filter(device_id=device_id, revoked_at__isnull=True).exists()
    assert "已退出" in visible_text(client.get("/account/phones/"))


def test_revoking_with_htmx_answers_the_row(busy):
    user = busy.world.shanghai.manager
    device_id = a_phone(user)
    response = signed_in(user).post(f"/account/phones/{device_id}/revoke", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith(f'<tr id="device-{device_id}">')
    assert "已退出" in visible_text(response)


# --- Who reaches what -----------------------------------------------------------------------------
ROLE_PAGES = {
    "/agency/": {"agency_main", "agency_manager", "agency_reviewer", "agency_field"},
    "/enterprise/": {"enterprise"},
    "/regulator/": {"regulator"},
    "/platform/": set(),
}


@pytest.mark.parametrize(
    "role", ["agency_main", "agency_manager", "agency_reviewer", "enterprise", "regulator"]
)
def test_the_access_matrix(busy, role):
    """Each role x each page x its own side's objects and the other side's: a home page of another
    role and the other side's photo or phone are not found (404), as in the API."""
    own, other = busy.world.shanghai, busy.world.jiangsu
    client = signed_in(own.users[role])
    for path, roles in ROLE_PAGES.items():
        response = client.get(path)
        assert response.status_code == (200 if role in roles else 404), path
        if response.status_code == 404:
            assert "未找到" in visible_text(response)
    assert client.get(f"/photos/{busy.scenes['shanghai'].photo.pk}/").status_code == 200
    assert client.get(f"/photos/{busy.scenes['jiangsu'].photo.pk}/").status_code == 404
    assert client.get(f"/photos/{uuid.uuid4()}/").status_code == 404
    others_phone = a_phone(other.users[role])
    assert client.post(f"/account/phones/{others_phone}/revoke").status_code == 404
    assert DeviceToken.objects.filter(device_id=others_phone, revoked_at__isnull=True).exists()
    assert client.get("/account/phones/").status_code == 200
    assert client.get("/account/password/").status_code == 200


def test_the_platform_reaches_both_sides(busy):
    client = signed_in(busy.world.platform)
    for path in ROLE_PAGES:
        assert client.get(path).status_code == (200 if path == "/platform/" else 404), path
    for key in ("shanghai", "jiangsu"):
        assert client.get(f"/photos/{busy.scenes[key].photo.pk}/").status_code == 200


def test_a_colleagues_phone_is_the_agency_admins_to_revoke_not_the_reviewers(busy):
    """As the API's devices_for: a main or manager account sees its agency's phones; a reviewer only
    their own."""
    side = busy.world.shanghai
    phone = a_phone(side.field_user)
    assert signed_in(side.reviewer).post(f"/account/phones/{phone}/revoke").status_code == 404
    assert signed_in(side.main).post(f"/account/phones/{phone}/revoke").status_code == 302


# --- The photo's page -----------------------------------------------------------------------------
def test_the_photo_page_shows_the_picture_the_verdict_and_the_evidence_in_words(busy):
    photo = busy.scenes["shanghai"].photo
    response = signed_in(busy.world.shanghai.regulator).get(f"/photos/{photo.pk}/")
    assert response.status_code == 200
    # The file through the API's endpoint (same scope); the thumbnail once made (the browser test).
    assert f'href="/api/v1/photos/{photo.pk}/file"'.encode() in response.content
    text = visible_text(response)
    assert "不通过" in text
    assert "超出电子围栏 150 米" in text
    assert "电子围栏半径（米）" in text
    assert "手机采集定位" in text  # the fix's source, not its code
    assert "经度 " in text
    assert machine_words(text) == []


def test_english_when_chosen(busy):
    client = signed_in(busy.world.shanghai.main)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/agency/"})
    assert response.status_code == 302
    text = visible_text(client.get("/agency/"))
    assert "Needs attention today" in text
    assert "Sign out" in text
    photo = busy.scenes["shanghai"].photo
    assert "beyond its 150 m geofence" in visible_text(client.get(f"/photos/{photo.pk}/"))


def test_an_english_browser_still_gets_chinese_until_english_is_chosen(busy):
    client = signed_in(busy.world.shanghai.main)
    text = visible_text(client.get("/agency/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert "今日待关注" in text
