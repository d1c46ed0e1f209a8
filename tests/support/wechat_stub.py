"""A real HTTP stand-in for WeChat's code2session API, for tests.

It listens on 127.0.0.1 (a free port) and answers ``GET /sns/jscode2session`` the way WeChat does:
HTTP 200 with JSON, errors as ``{"errcode": N, "errmsg": ...}``. Codes are single-use.

Use the ``wechat`` fixture: it starts the stub, points the WECHAT_* settings at it for the test and
stops it afterwards. Import its function into the test module (pytest collects fixtures from module
globals; the function is called ``wechat_fixture`` so the ``wechat`` argument shadows nothing)::

    from tests.support.wechat_stub import WeChatStub, wechat_fixture  # noqa: F401

    def test_login(wechat: WeChatStub):
        wechat.add_code("code-1", openid="o-1", unionid="u-1")
        wechat.reply_errcode("busy", -1)          # -1 system busy, 45011 rate limit, ...
        wechat.reply_slowly("slow", seconds=2)    # the fixture sets WECHAT_TIMEOUT_SECONDS=1
        wechat.reply_raw("html", b"<html>", status=200)   # or status=500
        ...
        assert wechat.requests[-1]["grant_type"] == "authorization_code"
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest
from django.test import override_settings

from tests.support.loopback import LoopbackServer, bypass_proxy

PATH = "/sns/jscode2session"
STUB_APPID = "wx-stub-appid"
STUB_SECRET = "stub-secret-4f9c2e"  # distinctive, so tests can search errors and logs for it


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    delay: float = 0.0


def _json(payload: dict) -> bytes:
    return json.dumps(payload).encode()


class WeChatStub(LoopbackServer):
    """The stub's state: what it knows (appid, secret, codes), what it was told, what it received."""

    def __init__(self, appid: str = STUB_APPID, secret: str = STUB_SECRET) -> None:
        self.appid = appid
        self.secret = secret
        self.requests: list[dict[str, str]] = []  # query parameters of each request, in order
        self._codes: dict[str, dict[str, str]] = {}
        self._used: set[str] = set()
        self._scripted: dict[str, _Reply] = {}
        self._lock = threading.Lock()
        self._listen()

    @property
    def url(self) -> str:
        return self.address + PATH

    # --- Telling it what to answer -------------------------------------------------------------------
    def add_code(
        self, code: str, openid: str, *, unionid: str | None = None, session_key: str = "stub-session-key"
    ) -> None:
        """``code`` logs ``openid`` in, once."""
        session = {"openid": openid, "session_key": session_key}
        if unionid is not None:
            session["unionid"] = unionid
        with self._lock:
            self._codes[code] = session

    def reply_errcode(self, code: str, errcode: int, errmsg: str | None = None) -> None:
        """Answer ``code`` (every time) with WeChat's error shape, HTTP 200."""
        body = {"errcode": errcode, "errmsg": errmsg or f"stub error {errcode}, rid: stub"}
        self._script(code, _Reply(200, _json(body)))

    def reply_raw(self, code: str, body: bytes, *, status: int = 200) -> None:
        """Answer ``code`` with exactly this body and status (non-JSON, HTTP 500, JSON without openid)."""
        self._script(code, _Reply(status, body))

    def reply_slowly(self, code: str, seconds: float, openid: str = "o-slow") -> None:
        """Answer ``code`` successfully, but only after ``seconds``."""
        self._script(code, _Reply(200, _json({"openid": openid, "session_key": "k"}), delay=seconds))

    def _script(self, code: str, reply: _Reply) -> None:
        with self._lock:
            self._scripted[code] = reply

    # --- Answering ----------------------------------------------------------------------------------
    def _answer(self, path: str, query: dict[str, str]) -> _Reply:
        with self._lock:
            self.requests.append(query)
            if path != PATH:
                return _Reply(404, b"not found")
            if query.get("appid") != self.appid:
                return _Reply(200, _json({"errcode": 40013, "errmsg": "invalid appid, rid: stub"}))
            if query.get("secret") != self.secret:
                return _Reply(200, _json({"errcode": 40125, "errmsg": "invalid appsecret, rid: stub"}))
            if query.get("grant_type") != "authorization_code":
                return _Reply(200, _json({"errcode": 40002, "errmsg": "invalid grant_type, rid: stub"}))
            code = query.get("js_code", "")
            if code in self._scripted:
                return self._scripted[code]
            if code in self._used:
                return _Reply(200, _json({"errcode": 40163, "errmsg": "code been used, rid: stub"}))
            if code not in self._codes:
                return _Reply(200, _json({"errcode": 40029, "errmsg": "invalid code, rid: stub"}))
            self._used.add(code)
            return _Reply(200, _json(self._codes[code]))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                reply = stub._answer(parts.path, dict(urllib.parse.parse_qsl(parts.query)))
                # Wait on the event, not time.sleep(): stopping the stub cuts a slow reply short.
                if reply.delay and stub._stopping.wait(reply.delay):
                    return
                self.send_response(reply.status)
                # WeChat really does label its JSON text/plain.
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the request line holds the secret, and pytest output is noisy enough

        return Handler


@pytest.fixture(name="wechat")
def wechat_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[WeChatStub]:
    """A running WeChat stub with the WECHAT_* settings pointed at it (timeout 1 s)."""
    bypass_proxy(monkeypatch)
    stub = WeChatStub().start()
    try:
        with override_settings(
            WECHAT_APPID=stub.appid,
            WECHAT_SECRET=stub.secret,
            WECHAT_CODE2SESSION_URL=stub.url,
            WECHAT_TIMEOUT_SECONDS=1,
        ):
            yield stub
    finally:
        stub.stop()
