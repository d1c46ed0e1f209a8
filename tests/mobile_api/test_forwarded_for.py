"""The per-address rate limits count the client's address, not what it writes in X-Forwarded-For
(F9 item 8): a new X-Forwarded-For on every request bypassed the limits on sign-in, the public
look-ups and registration. Forwarded addresses are believed only from TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from rest_framework.throttling import SimpleRateThrottle

from server.client_address import client_address
from server.env import env_networks
from tests.conftest import CheckedAPIClient, run_django

pytestmark = pytest.mark.django_db
LIMIT = 3
# (method, path, body): one endpoint behind each per-address limit. Refused bodies count as well.
LIMITED = {
    "sign_in": ("post", "/api/v1/auth/login", {"username": "nobody", "password": "x"}),
    "public_lookup": ("get", "/api/v1/public/agencies", {"name": "测试"}),
    "register": ("post", "/api/v1/agencies/register", {}),
}


@pytest.fixture(autouse=True)
def small_limits(monkeypatch):
    rates = dict.fromkeys(LIMITED, f"{LIMIT}/min")
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**rates, "sign_in_account": "1000/min"})
    cache.clear()
    yield
    cache.clear()


def send(scope: str, remote: str, forwarded: str | None):
    method, path, body = LIMITED[scope]
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else None
    client = CheckedAPIClient(REMOTE_ADDR=remote, headers=headers)
    return getattr(client, method)(path, body, format="json" if method == "post" else None)


def networks(*items: str) -> list:
    return [ipaddress.ip_network(item) for item in items]


@pytest.mark.parametrize("scope", sorted(LIMITED))
def test_rotating_x_forwarded_for_does_not_bypass_the_limit(settings, scope):
    settings.TRUSTED_PROXIES = []
    answers = [send(scope, "203.0.113.7", f"198.51.100.{n}").status_code for n in range(LIMIT + 1)]

    assert 429 not in answers[:LIMIT]
    assert answers[LIMIT] == 429
    assert cache.get(f"throttle_{scope}_203.0.113.7") is not None  # counted under the real address
    assert send(scope, "203.0.113.8", None).status_code != 429  # another client is not slowed


@pytest.mark.parametrize("scope", sorted(LIMITED))
def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings, scope):
    settings.TRUSTED_PROXIES = networks("10.0.0.0/24")
    # A client behind the proxy, whatever it wrote itself in front of its own address.
    for n in range(LIMIT):
        forwarded = f"192.0.2.{n}, 198.51.100.20"
        assert send(scope, "10.0.0.5", forwarded).status_code != 429
    assert send(scope, "10.0.0.6", "192.0.2.99, 198.51.100.20").status_code == 429
    assert cache.get(f"throttle_{scope}_198.51.100.20") is not None
    # Another client behind the same proxy has its own count.
    assert send(scope, "10.0.0.5", "198.51.100.21").status_code != 429


def request(remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_the_client_address(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"

    settings.TRUSTED_PROXIES = networks("10.0.0.0/24", "fd00::/8", "127.0.0.1")
    assert client_address(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"  # not a proxy
    assert client_address(request("10.0.0.5")) == "10.0.0.5"  # a proxy that forwarded nothing
    assert client_address(request("10.0.0.5", "1.1.1.1, 198.51.100.1")) == "198.51.100.1"
    # Two proxies of ours in a row: the address the outer one received from.
    assert client_address(request("127.0.0.1", "1.1.1.1,198.51.100.1 , 10.0.0.9")) == "198.51.100.1"
    assert client_address(request("fd00::1", "2001:db8::7")) == "2001:db8::7"
    # Something that is no address, where a proxy of ours should have written one: the proxy counts.
    assert client_address(request("10.0.0.5", "198.51.100.1, junk")) == "10.0.0.5"
    assert client_address(request("10.0.0.5", "")) == "10.0.0.5"
    # Only proxies of ours: the farthest one.
    assert client_address(request("10.0.0.5", "10.0.0.7, 10.0.0.6")) == "10.0.0.7"


def test_trusted_proxies_are_read_loudly():
    assert env_networks("TRUSTED_PROXIES", "", environ={}) == []
    assert env_networks("X", environ={"X": " 10.0.0.5, fd00::/8 ,"}) == networks("10.0.0.5/32", "fd00::/8")
    for typo in ("10.0.0.300", "proxy.internal", "10.0.0.5/8"):
        with pytest.raises(ImproperlyConfigured, match="X"):
            env_networks("X", environ={"X": typo})
    code = "from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    started = run_django(code, {"SECRET_KEY": "x", "TRUSTED_PROXIES": "10.0.0.0/24"})
    assert started.stdout.strip() == "[IPv4Network('10.0.0.0/24')]"
    refused = run_django(code, {"SECRET_KEY": "x", "TRUSTED_PROXIES": "10.0.0.0/33"})
    assert refused.returncode != 0
    assert "TRUSTED_PROXIES" in refused.stderr


def test_gunicorn_trusts_the_same_proxies(monkeypatch):
    import importlib

    import server.gunicorn_conf as conf

    monkeypatch.setenv("GUNICORN_MALLOC_KEEP_MB", "0")  # the test's own allocator stays as it is
    monkeypatch.delenv("GUNICORN_FORWARDED_ALLOW_IPS", raising=False)
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/24,fd00::/8")
    assert importlib.reload(conf).forwarded_allow_ips == "10.0.0.0/24,fd00::/8"
    monkeypatch.setenv("GUNICORN_FORWARDED_ALLOW_IPS", "10.0.0.5")
    assert importlib.reload(conf).forwarded_allow_ips == "10.0.0.5"
    monkeypatch.delenv("GUNICORN_FORWARDED_ALLOW_IPS")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert importlib.reload(conf).forwarded_allow_ips == "127.0.0.1"
