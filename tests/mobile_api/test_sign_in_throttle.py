"""Rate limits on signing in: per address (every sign-in endpoint, WeChat's code exchange among them)
and per account (the password checks), answered 429 ``throttled`` with Retry-After; the counts are
shared by every worker when the cache is Redis (CACHE_URL)."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from mobile_api.common import SignInAccountThrottle, SignInThrottle, normalized_username
from server.accounts.models import DeviceToken
from server.errors import THROTTLED
from tests.conftest import CheckedAPIClient, run_django
from tests.factories import PASSWORD
from tests.support.wechat_stub import WeChatStub, wechat_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login"
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Throttle counts live in the cache (local memory in tests): every test starts with none."""
    cache.clear()
    yield
    cache.clear()


def device() -> dict:
    return {"id": str(uuid.uuid4()), "platform": "android", "app_version": "1.0"}


def from_address(address: str) -> CheckedAPIClient:
    return CheckedAPIClient(REMOTE_ADDR=address)


def assert_throttled(response) -> None:
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == THROTTLED.code
    assert body["message"] == THROTTLED.zh
    assert 0 < body["details"]["retry_after_seconds"] <= 60
    assert 0 < int(response["Retry-After"]) <= 60


def test_one_account_is_limited_whatever_the_address(world):
    username = world.shanghai.field_user.username
    for n in range(10):  # THROTTLE_SIGN_IN_ACCOUNT: 10/min
        wrong = {"username": username, "password": f"guess-{n}", "device": device()}
        assert from_address(f"10.1.0.{n}").post(LOGIN, wrong, format="json").status_code == 401
    # The eleventh try, from yet another address and written differently, with the right password.
    right = {"username": f"  {username.upper()} ", "password": PASSWORD, "device": device()}
    assert_throttled(from_address("10.1.0.99").post(LOGIN, right, format="json"))
    assert not DeviceToken.objects.exists()
    # Another account is not slowed by this one.
    other = {"username": world.shanghai.main.username, "password": PASSWORD, "device": device()}
    assert from_address("10.1.0.99").post(LOGIN, other, format="json").status_code == 200


def test_the_english_message(world):
    body = {"username": "nobody", "password": "x", "device": device()}
    client = CheckedAPIClient(REMOTE_ADDR="10.2.0.1", headers={"Accept-Language": "en"})
    for _ in range(10):
        client.post(LOGIN, body, format="json")
    response = client.post(LOGIN, body, format="json")
    assert response.status_code == 429
    assert response.json()["message"] == THROTTLED.en


def test_usernames_are_counted_normalised():
    assert normalized_username(" Alice ") == normalized_username("ａｌｉｃｅ") == "alice"
    assert normalized_username(None) == normalized_username(["alice"]) == ""


def test_wechat_code_exchange_is_limited_per_address(world, wechat: WeChatStub, monkeypatch):
    monkeypatch.setattr(SignInThrottle, "THROTTLE_RATES", {"sign_in": "3/min"})
    client = from_address("10.3.0.1")
    for n in range(3):
        wechat.add_code(f"code-{n}", openid=f"o-{n}")
        response = client.post("/api/v1/auth/wechat/login", {"code": f"code-{n}", "device": device()}, "json")
        assert response.json()["code"] == "wechat_not_bound"
    wechat.add_code("code-3", openid="o-3")
    assert_throttled(client.post("/api/v1/auth/wechat/login", {"code": "code-3", "device": device()}, "json"))
    bind = {"username": world.shanghai.field_user.username, "password": PASSWORD, "code": "code-3"}
    assert_throttled(client.post("/api/v1/auth/wechat/bind", bind | {"device": device()}, "json"))
    # Refused before WeChat is asked: the API quota is not spent.
    assert [r["js_code"] for r in wechat.requests] == ["code-0", "code-1", "code-2"]
    # Another address still signs in.
    other = from_address("10.3.0.2").post(
        "/api/v1/auth/wechat/login", {"code": "code-3", "device": device()}, "json"
    )
    assert other.json()["code"] == "wechat_not_bound"


def test_wechat_binding_is_limited_per_account(world, wechat: WeChatStub):
    username = world.shanghai.field_user.username
    for n in range(10):
        body = {"username": username, "password": f"guess-{n}", "code": f"c{n}", "device": device()}
        response = from_address(f"10.4.0.{n}").post("/api/v1/auth/wechat/bind", body, format="json")
        assert response.json()["code"] == "login_failed"
    wechat.add_code("code-ok", openid="o-ok")
    body = {"username": username, "password": PASSWORD, "code": "code-ok", "device": device()}
    assert_throttled(from_address("10.4.0.99").post("/api/v1/auth/wechat/bind", body, format="json"))
    assert wechat.requests == []


# --- Shared counts (Redis) ----------------------------------------------------------------------------
@pytest.fixture
def redis_clients():
    """Two cache clients (as two gunicorn workers have) on a Redis db and key prefix of their own."""
    prefix = f"fieldtrace-test-{uuid.uuid4().hex}"
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    params = {"KEY_PREFIX": prefix, "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    try:
        yield RedisCache(REDIS_URL, params), RedisCache(REDIS_URL, params)
    finally:
        for key in connection.scan_iter(f"{prefix}:*"):
            connection.delete(key)
        connection.close()


def test_workers_share_the_count_in_redis(redis_clients, monkeypatch):
    first, second = redis_clients
    monkeypatch.setattr(SignInAccountThrottle, "THROTTLE_RATES", {"sign_in_account": "3/min"})
    factory = APIRequestFactory()

    def attempt(cache_client) -> bool:
        request = Request(factory.post(LOGIN, {"username": "alice"}, format="json"), parsers=[JSONParser()])
        throttle = SignInAccountThrottle()
        throttle.cache = cache_client
        return throttle.allow_request(request, None)

    assert [attempt(first), attempt(second), attempt(first)] == [True, True, True]
    assert attempt(second) is False
    assert attempt(first) is False


def test_a_cache_that_fails_lets_sign_in_through(world, monkeypatch, caplog):
    # A closed port: the throttle cannot count, sign-in still works (and the log says why).
    monkeypatch.setattr(SignInThrottle, "cache", RedisCache("redis://127.0.0.1:1/0", {}))
    body = {"username": world.shanghai.field_user.username, "password": PASSWORD, "device": device()}
    assert from_address("10.5.0.1").post(LOGIN, body, format="json").status_code == 200
    assert "throttle sign_in not applied" in caplog.text


def test_cache_url_selects_redis():
    code = (
        "from django.conf import settings; "
        "c = settings.CACHES['default']; print(c['BACKEND'], c.get('LOCATION'))"
    )
    redis_run = run_django(code, {"SECRET_KEY": "x", "CACHE_URL": REDIS_URL})
    assert redis_run.stdout.split() == ["django.core.cache.backends.redis.RedisCache", REDIS_URL]
    assert run_django(code, {"SECRET_KEY": "x"}).stdout.split()[0].endswith("LocMemCache")
    wrong = run_django(code, {"SECRET_KEY": "x", "CACHE_URL": "memcached://127.0.0.1"})
    assert wrong.returncode != 0
    assert "CACHE_URL" in wrong.stderr
