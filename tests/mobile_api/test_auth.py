"""Phone sign-in: password and WeChat logins issue per-device tokens that can be listed and revoked."""

import datetime as dt
import hashlib
import uuid

import pytest
from django.utils import timezone

from server.accounts.models import DeviceToken, WeChatBinding
from tests.factories import PASSWORD
from tests.support.wechat_stub import WeChatStub, wechat_fixture  # noqa: F401


def device(**overrides):
    return {
        "id": str(uuid.uuid4()),
        "platform": "wechat",
        "app_version": "1.4.2",
        "model_name": "iPhone 13",
    } | overrides


def login(api, user, dev=None):
    dev = dev or device()
    return api.post(
        "/api/v1/auth/login", {"username": user.username, "password": PASSWORD, "device": dev}, format="json"
    ), dev


def bearer(api, token):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_password_login_gives_a_token_that_works_and_stores_only_its_hash(world, api):
    user = world.shanghai.field_user
    response, dev = login(api, user)
    assert response.status_code == 200
    body = response.json()
    token = body["token"]
    assert body["device_id"] == dev["id"]
    assert body["user"]["role"] == "agency_field"
    assert body["user"]["agency"]["id"] == world.shanghai.agency.pk
    assert set(body["user"]["posts"]) == {"sampler", "courier"}
    assert "*" in body["user"]["person"]["id_number"]
    record = DeviceToken.objects.get(device_id=dev["id"])
    assert record.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(DeviceToken.objects.values_list())
    me = bearer(api, token).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_wrong_password_is_401_with_a_stable_code(world, api, api_en):
    body = {"username": world.shanghai.field_user.username, "password": "nope", "device": device()}
    response = api.post("/api/v1/auth/login", body, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "login_failed"
    assert (
        api_en.post("/api/v1/auth/login", body, format="json").json()["message"].startswith("Wrong username")
    )
    assert not DeviceToken.objects.exists()


def test_a_bad_device_block_is_refused(world, api):
    body = {
        "username": world.shanghai.field_user.username,
        "password": PASSWORD,
        "device": device(id="not-a-uuid"),
    }
    response = api.post("/api/v1/auth/login", body, format="json")
    assert response.status_code == 400
    assert "id" in response.json()["details"]["device"]


def test_signing_in_again_on_the_same_phone_replaces_its_token(world, api):
    user = world.shanghai.field_user
    first, dev = login(api, user)
    second, _ = login(api, user, dev)
    assert DeviceToken.objects.filter(device_id=dev["id"], revoked_at__isnull=True).count() == 1
    assert bearer(api, first.json()["token"]).get("/api/v1/me").status_code == 401
    assert bearer(api, second.json()["token"]).get("/api/v1/me").status_code == 200


def test_a_phone_signed_in_by_one_person_is_refused_to_another(world, api):
    _, dev = login(api, world.shanghai.field_user)
    response, _ = login(api, world.shanghai.reviewer, dev)
    assert response.status_code == 409
    assert response.json()["code"] == "device_of_another_user"


def test_logout_revokes_the_token_in_use(world, api):
    response, _ = login(api, world.shanghai.field_user)
    client = bearer(api, response.json()["token"])
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_devices_are_listed_and_revoked_by_the_agency_main_account(world, api, client_for):
    response, dev = login(api, world.shanghai.field_user)
    token = response.json()["token"]
    main = client_for(world.shanghai.main)
    listed = main.get("/api/v1/auth/devices").json()
    assert [d["id"] for d in listed] == [dev["id"]]
    assert listed[0]["signed_in"] is True
    # Another agency's main account cannot see or revoke it.
    other = client_for(world.jiangsu.main)
    assert other.get("/api/v1/auth/devices").json() == []
    assert other.post(f"/api/v1/auth/devices/{dev['id']}/revoke").status_code == 404
    revoked = main.post(f"/api/v1/auth/devices/{dev['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["signed_in"] is False
    assert bearer(api, token).get("/api/v1/me").status_code == 401


def test_a_token_unused_for_too_long_lapses(world, api, settings):
    response, dev = login(api, world.shanghai.field_user)
    DeviceToken.objects.filter(device_id=dev["id"]).update(
        last_used_at=timezone.now() - dt.timedelta(days=settings.DEVICE_TOKEN_IDLE_DAYS + 1)
    )
    assert bearer(api, response.json()["token"]).get("/api/v1/me").status_code == 401


def test_closed_accounts_lose_their_tokens(world, api, client_for):
    response, _ = login(api, world.shanghai.field_user)
    closed = client_for(world.shanghai.main).post(f"/api/v1/accounts/{world.shanghai.field_user.pk}/close")
    assert closed.status_code == 200
    assert bearer(api, response.json()["token"]).get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer \u00e9t\u00e9", "Bearer unknown-token"])
def test_malformed_or_unknown_tokens_are_401(world, api, header):
    response = api.get("/api/v1/me", HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


# --- WeChat ---------------------------------------------------------------------------------------


def test_wechat_first_login_asks_for_a_binding_then_code_alone_works(world, api, wechat: WeChatStub):
    user = world.shanghai.field_user
    wechat.add_code("code-1", openid="o-sampler", unionid="u-1")
    first = api.post("/api/v1/auth/wechat/login", {"code": "code-1", "device": device()}, format="json")
    assert first.status_code == 403
    assert first.json()["code"] == "wechat_not_bound"
    ticket = first.json()["details"]["bind_ticket"]

    bound = api.post(
        "/api/v1/auth/wechat/bind",
        {"username": user.username, "password": PASSWORD, "bind_ticket": ticket, "device": device()},
        format="json",
    )
    assert bound.status_code == 200
    assert WeChatBinding.objects.get(openid="o-sampler").user == user

    wechat.add_code("code-2", openid="o-sampler")
    again = api.post("/api/v1/auth/wechat/login", {"code": "code-2", "device": device()}, format="json")
    assert again.status_code == 200
    assert again.json()["user"]["username"] == user.username
    assert [r["js_code"] for r in wechat.requests] == ["code-1", "code-2"]


def test_wechat_bind_needs_the_right_password(world, api, wechat: WeChatStub):
    wechat.add_code("code-1", openid="o-x")
    response = api.post(
        "/api/v1/auth/wechat/bind",
        {
            "username": world.shanghai.field_user.username,
            "password": "wrong",
            "code": "code-1",
            "device": device(),
        },
        format="json",
    )
    assert response.status_code == 401
    assert not WeChatBinding.objects.exists()


def test_a_forged_bind_ticket_is_refused(world, api, wechat: WeChatStub):
    response = api.post(
        "/api/v1/auth/wechat/bind",
        {
            "username": world.shanghai.field_user.username,
            "password": PASSWORD,
            "bind_ticket": "eyJvcGVuaWQiOiJldmlsIn0:forged:sig",
            "device": device(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "wechat_bind_ticket_invalid"


def test_one_wechat_user_cannot_be_bound_to_two_accounts(world, api, wechat: WeChatStub):
    for n, user in enumerate([world.shanghai.field_user, world.shanghai.reviewer]):
        wechat.add_code(f"c{n}", openid="o-shared")
        response = api.post(
            "/api/v1/auth/wechat/bind",
            {"username": user.username, "password": PASSWORD, "code": f"c{n}", "device": device()},
            format="json",
        )
    assert response.status_code == 409
    assert response.json()["code"] == "wechat_already_bound"
    assert WeChatBinding.objects.get().user == world.shanghai.field_user


@pytest.mark.parametrize(
    ("errcode", "status", "code"),
    [(40029, 400, "wechat_code_invalid"), (45011, 429, "wechat_rate_limited"), (-1, 503, "wechat_busy")],
)
def test_wechat_errors_become_clear_errors(world, api, wechat: WeChatStub, errcode, status, code):
    wechat.reply_errcode("bad", errcode)
    response = api.post("/api/v1/auth/wechat/login", {"code": "bad", "device": device()}, format="json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert "微信" in response.json()["message"]
    assert not DeviceToken.objects.exists()
