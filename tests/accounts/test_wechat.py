"""code2session against a real local HTTP stub of WeChat (tests/support/wechat_stub.py), no mocks."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from django.test import override_settings

from server.accounts.errors import (
    WECHAT_BUSY,
    WECHAT_CODE_INVALID,
    WECHAT_ERROR,
    WECHAT_MISCONFIGURED,
    WECHAT_NOT_CONFIGURED,
    WECHAT_RATE_LIMITED,
    WECHAT_UNREACHABLE,
)
from server.accounts.wechat import WeChatSession, exchange_code
from server.errors import DomainError, ErrorCode
from tests.support.wechat_stub import STUB_SECRET, WeChatStub, wechat_fixture  # noqa: F401


def raises(error: ErrorCode) -> pytest.RaisesExc[DomainError]:
    return pytest.raises(DomainError, match=f"^{error.code}:")


def test_a_good_code_gives_the_session(wechat: WeChatStub):
    wechat.add_code("code-1", openid="o-1", unionid="u-1", session_key="sk-1")

    session = exchange_code("code-1")

    assert session == WeChatSession(openid="o-1", session_key="sk-1", unionid="u-1")
    assert "sk-1" not in repr(session)
    assert wechat.requests == [
        {
            "appid": wechat.appid,
            "secret": wechat.secret,
            "js_code": "code-1",
            "grant_type": "authorization_code",
        }
    ]


def test_unionid_is_none_when_wechat_sends_none(wechat: WeChatStub):
    wechat.add_code("code-1", openid="o-1")

    assert exchange_code("code-1").unionid is None


def test_a_code_works_once(wechat: WeChatStub):
    wechat.add_code("code-1", openid="o-1")
    exchange_code("code-1")

    with raises(WECHAT_CODE_INVALID) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.details == {"errcode": 40163}
    assert excinfo.value.error.status == 400


def test_an_unknown_code_is_invalid(wechat: WeChatStub):
    with raises(WECHAT_CODE_INVALID) as excinfo:
        exchange_code("never-issued")
    assert excinfo.value.details == {"errcode": 40029}


@pytest.mark.parametrize(
    ("errcode", "error", "status"),
    [
        (45011, WECHAT_RATE_LIMITED, 429),
        (-1, WECHAT_BUSY, 503),
        (40013, WECHAT_MISCONFIGURED, 502),
        (40125, WECHAT_MISCONFIGURED, 502),
    ],
)
def test_wechat_errcodes_map_to_our_codes(wechat: WeChatStub, errcode, error, status):
    wechat.reply_errcode("code-1", errcode)

    with raises(error) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.error.status == status
    assert excinfo.value.details == {"errcode": errcode}


def test_any_other_errcode_is_a_wechat_error_with_its_errcode(wechat: WeChatStub, caplog):
    wechat.reply_errcode("code-1", 40226, "high risk user, rid: abc")

    with caplog.at_level(logging.WARNING, logger="server.accounts.wechat"), raises(WECHAT_ERROR) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.error.status == 502
    assert excinfo.value.details == {"errcode": 40226, "errmsg": "high risk user, rid: abc"}
    assert "errcode=40226" in caplog.text
    assert "high risk user" in caplog.text


def test_a_wrong_secret_is_misconfigured(wechat: WeChatStub):
    wechat.add_code("code-1", openid="o-1")

    with override_settings(WECHAT_SECRET="not-the-secret"), raises(WECHAT_MISCONFIGURED) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.details == {"errcode": 40125}


def test_a_slow_wechat_times_out_after_the_configured_timeout(wechat: WeChatStub):
    wechat.reply_slowly("code-1", seconds=2)

    started = time.monotonic()
    with raises(WECHAT_UNREACHABLE) as excinfo:
        exchange_code("code-1")
    elapsed = time.monotonic() - started

    assert excinfo.value.details == {"reason": "timeout"}
    assert 0.9 <= elapsed < 3


@pytest.fixture
def closed_port() -> Iterator[int]:
    # Bound but not listening: connecting is refused, and no other test can take the port meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_unreachable_wechat(wechat: WeChatStub, closed_port: int):
    url = f"http://127.0.0.1:{closed_port}/sns/jscode2session"

    with override_settings(WECHAT_CODE2SESSION_URL=url), raises(WECHAT_UNREACHABLE) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.details == {"reason": "connection_failed"}
    assert excinfo.value.error.status == 503


def test_an_http_error_status(wechat: WeChatStub):
    wechat.reply_raw("code-1", b"<html>502 Bad Gateway</html>", status=500)

    with raises(WECHAT_UNREACHABLE) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.details == {"reason": "http_status", "status": 500}


@pytest.mark.parametrize("body", [b"<html>captive portal</html>", b"", b"[1, 2]"])
def test_a_body_that_is_not_a_json_object(wechat: WeChatStub, body: bytes):
    wechat.reply_raw("code-1", body)

    with raises(WECHAT_ERROR) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.details == {"reason": "invalid_response"}


def test_a_json_answer_without_openid(wechat: WeChatStub):
    wechat.reply_raw("code-1", b'{"session_key": "k"}')

    with raises(WECHAT_ERROR) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.details == {"reason": "no_openid"}


@pytest.mark.parametrize("code", ["", "   ", "x" * 129])
def test_a_blank_or_overlong_code_is_refused_without_asking_wechat(wechat: WeChatStub, code: str):
    with raises(WECHAT_CODE_INVALID):
        exchange_code(code)
    assert wechat.requests == []


def test_a_code_of_128_characters_is_sent(wechat: WeChatStub):
    wechat.add_code("x" * 128, openid="o-1")

    assert exchange_code("x" * 128).openid == "o-1"


@pytest.mark.parametrize("setting", ["WECHAT_APPID", "WECHAT_SECRET"])
def test_not_configured_without_appid_or_secret(wechat: WeChatStub, setting: str):
    with override_settings(**{setting: ""}), raises(WECHAT_NOT_CONFIGURED) as excinfo:
        exchange_code("code-1")
    assert excinfo.value.error.status == 503
    assert wechat.requests == []


def _failures(wechat: WeChatStub, closed_port: int) -> Iterator[DomainError]:
    wechat.reply_errcode("errcode", 40226, f"echoing {STUB_SECRET}")
    wechat.reply_raw("http-500", b"oops", status=500)
    wechat.reply_raw("not-json", b"oops")
    wechat.reply_slowly("slow", seconds=2)
    for code in ("errcode", "http-500", "not-json", "slow", "unknown"):
        with pytest.raises(DomainError) as excinfo:
            exchange_code(code)
        yield excinfo.value
    with override_settings(WECHAT_CODE2SESSION_URL=f"http://127.0.0.1:{closed_port}/sns/jscode2session"):
        with pytest.raises(DomainError) as excinfo:
            exchange_code("refused")
        yield excinfo.value


def test_the_secret_never_appears_in_errors_or_logs(wechat: WeChatStub, closed_port: int, caplog):
    with caplog.at_level(logging.DEBUG):
        failures = list(_failures(wechat, closed_port))

    assert len(failures) == 6
    for error in failures:
        assert STUB_SECRET not in str(error)
        assert STUB_SECRET not in repr(error.details)
        assert error.__cause__ is None
        assert error.__suppress_context__ or error.__context__ is None
    assert STUB_SECRET not in caplog.text
    assert "stub-session-key" not in caplog.text
