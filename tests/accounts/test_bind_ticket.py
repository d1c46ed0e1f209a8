"""The WeChat bind ticket (F9 item 11): the phone carries it from ``wechat_not_bound`` to the bind call,
but it is sealed (AES-256-GCM, with an expiry inside), so whoever holds it can neither read the openid
and unionid it names nor make one naming another WeChat user."""

from __future__ import annotations

import base64
import binascii
import contextlib
import time
import uuid

import pytest
from django.core import signing
from django.core.cache import cache

from server.accounts.models import WeChatBinding
from server.accounts.services import BIND_TICKET_MAX_AGE, BIND_TICKET_SALT
from tests.factories import PASSWORD, approved_agency
from tests.support.wechat_stub import WeChatStub, wechat_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_sign_in_limits():
    cache.clear()  # the sign-in limits count per process: earlier tests' sign-ins must not spill over


OPENID, UNIONID = "o-secret-openid-7c1d", "u-secret-unionid-9e2a"


def device() -> dict:
    return {"id": str(uuid.uuid4()), "platform": "wechat", "app_version": "1.4.2", "model_name": "iPhone"}


def ticket_for(api, wechat: WeChatStub) -> str:
    wechat.add_code("code-1", openid=OPENID, unionid=UNIONID)
    refused = api.post("/api/v1/auth/wechat/login", {"code": "code-1", "device": device()}, format="json")
    assert refused.json()["code"] == "wechat_not_bound"
    return refused.json()["details"]["bind_ticket"]


def bind(api, user, ticket: str):
    body = {"username": user.username, "password": PASSWORD, "bind_ticket": ticket, "device": device()}
    return api.post("/api/v1/auth/wechat/bind", body, format="json")


def decodings(ticket: str) -> list[bytes]:
    """Every way a curious holder would try to read the ticket: whole, and each dotted or colon part."""
    parts = {ticket, *ticket.replace(":", ".").split(".")}
    found = []
    for part in parts:
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            with contextlib.suppress(binascii.Error, ValueError):
                found.append(decode(part + "=" * (-len(part) % 4)))
    return [ticket.encode(), *found]


def test_the_ticket_does_not_show_the_openid_or_the_unionid(api, wechat: WeChatStub):
    ticket = ticket_for(api, wechat)
    for data in decodings(ticket):
        assert OPENID.encode() not in data
        assert UNIONID.encode() not in data
        assert b"openid" not in data


def test_the_ticket_still_binds(api, wechat: WeChatStub):
    _, main = approved_agency()
    response = bind(api, main, ticket_for(api, wechat))
    assert response.status_code == 200, response.json()
    binding = WeChatBinding.objects.get(user=main)
    assert (binding.openid, binding.unionid) == (OPENID, UNIONID)


# Not in the last four characters: with "=" padding, the character before it carries bits that base64
# ignores, so changing it there may change no byte at all (this test failed one run in three at -3).
@pytest.mark.parametrize("position", [0, 10, 30, -6])
def test_a_changed_ticket_is_refused(api, wechat: WeChatStub, position):
    _, main = approved_agency()
    ticket = ticket_for(api, wechat)
    changed = list(ticket)
    changed[position] = "A" if changed[position] != "A" else "B"
    response = bind(api, main, "".join(changed))
    assert response.status_code == 400
    assert response.json()["code"] == "wechat_bind_ticket_invalid"
    assert not WeChatBinding.objects.exists()


def test_a_ticket_signed_but_not_sealed_is_refused(api, wechat: WeChatStub):
    """What the server used to issue: whoever learns SECRET_KEY's output format cannot pass one off."""
    _, main = approved_agency()
    forged = signing.dumps({"openid": "o-someone-else", "unionid": ""}, salt=BIND_TICKET_SALT)
    response = bind(api, main, forged)
    assert response.status_code == 400
    assert response.json()["code"] == "wechat_bind_ticket_invalid"
    assert not WeChatBinding.objects.exists()


def test_an_expired_ticket_is_refused(api, wechat: WeChatStub, monkeypatch):
    _, main = approved_agency()
    issued = time.time() - BIND_TICKET_MAX_AGE - 5
    with monkeypatch.context() as past:
        past.setattr(signing.time, "time", lambda: issued)  # the ticket's timestamp, not the clock's
        ticket = ticket_for(api, wechat)
    response = bind(api, main, ticket)
    assert response.status_code == 400
    assert response.json()["code"] == "wechat_bind_ticket_invalid"
    assert not WeChatBinding.objects.exists()
