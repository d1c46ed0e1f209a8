"""WeChat mini-program login: exchange a ``wx.login()`` code for the user's openid (code2session).

https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html

Only the standard library is used. The secret travels in the query string (WeChat's design), so
neither the URL nor urllib's exceptions are ever logged or put into an error: errors carry only
WeChat's errcode/errmsg or a short reason.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.conf import settings

from server.accounts.errors import (
    WECHAT_BUSY,
    WECHAT_CODE_INVALID,
    WECHAT_ERROR,
    WECHAT_MISCONFIGURED,
    WECHAT_NOT_CONFIGURED,
    WECHAT_RATE_LIMITED,
    WECHAT_UNREACHABLE,
)
from server.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

MAX_CODE_LENGTH = 128

# WeChat's errcodes that mean something the caller can act on; any other is WECHAT_ERROR.
_ERRCODES: dict[int, ErrorCode] = {
    40029: WECHAT_CODE_INVALID,  # invalid code
    40163: WECHAT_CODE_INVALID,  # code been used
    45011: WECHAT_RATE_LIMITED,  # API minute-quota reached
    -1: WECHAT_BUSY,  # system busy
    40013: WECHAT_MISCONFIGURED,  # invalid appid
    40125: WECHAT_MISCONFIGURED,  # invalid appsecret
}


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    # Kept out of repr so that a logged session never shows it.
    session_key: str = field(repr=False)
    unionid: str | None


def exchange_code(code: str) -> WeChatSession:
    """Exchange a mini-program login code for the user's WeChat session, or raise ``DomainError``."""
    code = code.strip() if isinstance(code, str) else ""
    if not code or len(code) > MAX_CODE_LENGTH:
        # Not worth a round trip (and a share of the API quota): WeChat would say 40029.
        raise DomainError(WECHAT_CODE_INVALID)
    appid, secret = settings.WECHAT_APPID, settings.WECHAT_SECRET
    if not appid or not secret:
        raise DomainError(WECHAT_NOT_CONFIGURED)

    payload = _get_json(
        settings.WECHAT_CODE2SESSION_URL,
        {"appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"},
        timeout=settings.WECHAT_TIMEOUT_SECONDS,
    )

    # WeChat answers errors with HTTP 200 and {"errcode": N, "errmsg": ...}; 0 or absent is success.
    errcode = payload.get("errcode") or 0
    if errcode != 0:
        errmsg = str(payload.get("errmsg", "")).replace(secret, "***")
        logger.warning("WeChat code2session failed: errcode=%s errmsg=%s", errcode, errmsg)
        error = _ERRCODES.get(errcode) if isinstance(errcode, int) else None
        if error is None:
            raise DomainError(WECHAT_ERROR, details={"errcode": errcode, "errmsg": errmsg})
        raise DomainError(error, details={"errcode": errcode})

    openid, session_key = payload.get("openid"), payload.get("session_key")
    if not isinstance(openid, str) or not openid or not isinstance(session_key, str):
        _fail(WECHAT_ERROR, "no_openid")
    unionid = payload.get("unionid")
    return WeChatSession(
        openid=openid, session_key=session_key, unionid=unionid if isinstance(unionid, str) else None
    )


def _get_json(url: str, params: dict[str, str], *, timeout: float) -> dict[str, Any]:
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        _fail(WECHAT_ERROR, "bad_url")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}",
        headers={"Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked above
            body = response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        _fail(WECHAT_UNREACHABLE, "http_status", status=exc.code)
    except TimeoutError:
        _fail(WECHAT_UNREACHABLE, "timeout")
    except urllib.error.URLError as exc:
        reason = "timeout" if isinstance(exc.reason, TimeoutError) else "connection_failed"
        _fail(WECHAT_UNREACHABLE, reason)
    except (OSError, http.client.HTTPException):
        _fail(WECHAT_UNREACHABLE, "connection_failed")

    # Parsed whatever the Content-Type: WeChat sends its JSON as text/plain.
    try:
        payload = json.loads(body)
    except ValueError:
        _fail(WECHAT_ERROR, "invalid_response")
    if not isinstance(payload, dict):
        _fail(WECHAT_ERROR, "invalid_response")
    return payload


def _fail(error: ErrorCode, reason: str, **details: Any) -> NoReturn:
    # ``from None``: urllib's exceptions hold the request URL, and with it the secret.
    logger.warning("WeChat code2session failed: %s %s", reason, details or "")
    raise DomainError(error, details={"reason": reason, **details}) from None
