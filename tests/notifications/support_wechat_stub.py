"""A real HTTP stand-in for WeChat's token and subscription-message APIs, for tests.

It listens on 127.0.0.1 (a free port) and answers like WeChat: HTTP 200 with JSON, errors as
``{"errcode": N, "errmsg": ...}``.

- ``POST /cgi-bin/stable_token`` (getStableAccessToken): checks appid and secret; normal mode hands
  out the current token until it expires, ``force_refresh`` always issues a new one.
- ``POST /cgi-bin/message/subscribe/send?access_token=…``: 40001 for a token it never issued,
  42001 for an expired one, 40003 for an openid it does not know (``add_user``), 47003 for a thing
  value over 20 characters; else whatever was scripted for the openid, else success.

Use the ``wechat_api`` fixture (import it into the test module, as with ``tests.support.wechat_stub``)::

    from tests.notifications.support_wechat_stub import WeChatApiStub, wechat_api_fixture  # noqa: F401

    def test_send(wechat_api: WeChatApiStub):
        wechat_api.add_user("o-1")
        wechat_api.script_send("o-1", 43101)        # the next send to o-1 answers 43101
        wechat_api.script_send("o-2", delay=2)      # answers after 2 s (the fixture's timeout is 1 s)
        wechat_api.expire_token()                   # the current token now answers 42001
        ...
        assert wechat_api.sends[-1]["body"]["touser"] == "o-1"
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.support.loopback import LoopbackServer, bypass_proxy

TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/subscribe/send"
STUB_APPID = "wx-stub-appid"
STUB_SECRET = "stub-msg-secret-8d1f7a"  # distinctive, so tests can search logs for it

# The templates the fixture configures, one per reminder kind.
TEMPLATES = {
    "om_day_unconfirmed": {
        "template_id": "tpl-day-unconfirmed",
        "page": "pages/om/confirm?date={date}",
        "fields": {"thing1": "{enterprise}", "date2": "{date}", "number3": "{records}"},
    },
    "om_plan_overdue": {
        "template_id": "tpl-plan-overdue",
        "page": "pages/om/plans?task={task_id}",
        "fields": {"thing1": "{plan}", "thing2": "{task}", "date3": "{window_end}"},
    },
}


@dataclass(frozen=True)
class _Reply:
    errcode: int = 0
    errmsg: str = ""
    delay: float = 0.0
    raw: bytes | None = None  # exactly this body instead of JSON
    status: int = 200


class WeChatApiStub(LoopbackServer):
    """The stub's state: its credentials, tokens, known openids, scripted replies, what it received."""

    def __init__(self, appid: str = STUB_APPID, secret: str = STUB_SECRET) -> None:
        self.appid = appid
        self.secret = secret
        self.requests: list[dict] = []  # every request: path, query, body (parsed JSON), in order
        self.openids: set[str] = set()
        self._tokens: dict[str, bool] = {}  # token -> still valid
        self._current: str | None = None
        self._serial = 0
        self._token_replies: deque[_Reply] = deque()
        self._send_replies: dict[str, deque[_Reply]] = {}
        self._lock = threading.Lock()
        self._listen()

    @property
    def base_url(self) -> str:
        return self.address

    # --- What was received ----------------------------------------------------------------------------
    @property
    def sends(self) -> list[dict]:
        return [r for r in self.requests if r["path"] == SEND_PATH]

    @property
    def token_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"] == TOKEN_PATH]

    @property
    def issued(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    # --- Telling it what to answer --------------------------------------------------------------------
    def add_user(self, openid: str) -> None:
        with self._lock:
            self.openids.add(openid)

    def script_send(
        self,
        openid: str,
        errcode: int = 0,
        *,
        errmsg: str | None = None,
        delay: float = 0.0,
        raw: bytes | None = None,
        status: int = 200,
    ) -> None:
        """The next send to ``openid`` answers so (scripts queue up, each used once)."""
        reply = _Reply(errcode, errmsg or f"stub error {errcode}, rid: stub", delay, raw, status)
        with self._lock:
            self._send_replies.setdefault(openid, deque()).append(reply)

    def script_token(self, errcode: int, errmsg: str | None = None) -> None:
        """The next stable_token call fails with ``errcode``."""
        with self._lock:
            self._token_replies.append(_Reply(errcode, errmsg or f"stub error {errcode}, rid: stub"))

    def expire_token(self) -> None:
        """The current token expires: sends with it answer 42001, and normal mode issues a new one."""
        with self._lock:
            if self._current:
                self._tokens[self._current] = False
            self._current = None

    def revoke_token(self) -> None:
        """The current token stops working (40001) but normal mode keeps handing it out until a
        forced refresh: the case a client must get out of with ``force_refresh``."""
        with self._lock:
            if self._current:
                self._tokens.pop(self._current)

    # --- Answering ------------------------------------------------------------------------------------
    def _issue(self) -> str:
        self._serial += 1
        self._current = f"stub-token-{self._serial}-{os.urandom(4).hex()}"
        self._tokens[self._current] = True
        return self._current

    def _answer(self, path: str, query: dict[str, str], body: object) -> _Reply | dict:
        with self._lock:
            self.requests.append({"path": path, "query": query, "body": body})
            if not isinstance(body, dict):
                return _Reply(40035, "invalid args, rid: stub")
            if path == TOKEN_PATH:
                return self._answer_token(body)
            if path == SEND_PATH:
                return self._answer_send(query.get("access_token", ""), body)
            return _Reply(status=404, raw=b"not found")

    def _answer_token(self, body: dict) -> _Reply | dict:
        if self._token_replies:
            return self._token_replies.popleft()
        if body.get("grant_type") != "client_credential":
            return _Reply(40002, "invalid grant_type, rid: stub")
        if body.get("appid") != self.appid:
            return _Reply(40013, "invalid appid, rid: stub")
        if body.get("secret") != self.secret:
            return _Reply(40125, "invalid appsecret, rid: stub")
        if body.get("force_refresh") is True or self._current is None:
            self._issue()
        return {"access_token": self._current, "expires_in": 7200}

    def _answer_send(self, token: str, body: dict) -> _Reply:
        if token not in self._tokens:
            return _Reply(40001, "invalid credential, access_token is invalid or not latest, rid: stub")
        if not self._tokens[token]:
            return _Reply(42001, "access_token expired, rid: stub")
        openid = body.get("touser")
        if openid not in self.openids:
            return _Reply(40003, "invalid openid, rid: stub")
        scripted = self._send_replies.get(openid)
        if scripted:
            return scripted.popleft()
        for key, value in (body.get("data") or {}).items():
            text = value.get("value") if isinstance(value, dict) else None
            if not isinstance(text, str) or (key.startswith("thing") and len(text) > 20):
                return _Reply(47003, f"argument invalid! data.{key}.value invalid, rid: stub")
        return _Reply(0, "ok")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                reply = stub._answer(parts.path, dict(urllib.parse.parse_qsl(parts.query)), body)
                if isinstance(reply, dict):
                    reply = _Reply(raw=json.dumps(reply).encode())
                # Wait on the event, not time.sleep(): stopping the stub cuts a slow reply short.
                if reply.delay and stub._stopping.wait(reply.delay):
                    return
                payload = reply.raw
                if payload is None:
                    payload = json.dumps({"errcode": reply.errcode, "errmsg": reply.errmsg}).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/plain")  # as WeChat labels its JSON
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the request line holds the access token

        return Handler


@pytest.fixture(name="wechat_api")
def wechat_api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[WeChatApiStub]:
    """A running stub with the WECHAT_* settings pointed at it (timeout 1 s, the TEMPLATES above)
    and an empty cache, so that no token outlives the test."""
    bypass_proxy(monkeypatch)
    stub = WeChatApiStub().start()
    cache.clear()
    try:
        with override_settings(
            WECHAT_APPID=stub.appid,
            WECHAT_SECRET=stub.secret,
            WECHAT_API_BASE=stub.base_url,
            WECHAT_TOKEN_URL="",
            WECHAT_TIMEOUT_SECONDS=1,
            WECHAT_SUBSCRIBE_TEMPLATES=TEMPLATES,
        ):
            yield stub
    finally:
        cache.clear()
        stub.stop()
