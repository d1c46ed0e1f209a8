"""WeChat subscription messages (订阅消息): a reminder sent to a user's bound mini-program openid.

WeChat's documentation:

- sending: ``subscribeMessage.send``, POST {WECHAT_API_BASE}/cgi-bin/message/subscribe/send?access_token=…
  with ``touser``, ``template_id``, ``page``, ``data`` ({key: {value}}), ``miniprogram_state``, ``lang``
  https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
  (formerly …/api-backend/open-api/subscribe-message/subscribeMessage.send.html); the limits of each
  value type (thing ≤ 20 characters, phrase ≤ 5 Chinese characters, …) are in its "其他说明".
- the access token: ``getStableAccessToken``, POST {WECHAT_API_BASE}/cgi-bin/stable_token
  https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
  Chosen over the older ``getAccessToken`` (GET /cgi-bin/token): the secret travels in the body, not
  the URL, and its tokens are independent of getAccessToken's, so another system holding the same
  appid cannot invalidate ours. In its normal mode every process asking within the validity gets the
  same token, which is why a per-process cache (Django's default LocMemCache) is enough.
- the phone's side: ``wx.requestSubscribeMessage`` (see ``server/notifications/subscriptions.py``).

``send_reminder`` is the one entry point. In order: a kind with no template configured is skipped
(in-app only); the day's row of ``OutgoingMessage`` is claimed (unique key: user, kind, subject, day),
so a reminder job run twice sends once; no binding or no quota is logged as skipped; otherwise one
send of quota is taken and the message sent, with the token renewed once if WeChat says it is
invalid or expired (40001, 40014, 42001).

Neither the secret nor the token is ever logged or stored: the token is in the send URL, so URLs and
urllib's exceptions (which quote them) never reach a log line or an error; WeChat's errmsg is stored
with both masked.
"""

from __future__ import annotations

import enum
import http.client
import json
import logging
import re
import string
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from server.accounts.models import User, WeChatBinding
from server.notifications import subscriptions
from server.notifications.models import OutgoingMessage

logger = logging.getLogger(__name__)

SEND_PATH = "/cgi-bin/message/subscribe/send"
TOKEN_PATH = "/cgi-bin/stable_token"  # noqa: S105 - a path, not a secret
TOKEN_MARGIN_S = 300  # renew a token this long before WeChat says it expires (7200 s)
TOKEN_REJECTED = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, token expired
USER_REFUSED = 43101  # the user refused, or has no subscription left
# WeChat was busy or rate-limited: nothing was sent, and trying later the same day may work.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011})
REASON_MAX = OutgoingMessage._meta.get_field("reason").max_length

Status = OutgoingMessage.Status


class Outcome(str, enum.Enum):
    SENT = Status.SENT.value
    FAILED = Status.FAILED.value
    SKIPPED_NO_BINDING = Status.SKIPPED_NO_BINDING.value
    SKIPPED_NO_QUOTA = Status.SKIPPED_NO_QUOTA.value
    # Not logged: nothing was attempted.
    SKIPPED_NO_TEMPLATE = "skipped_no_template"  # the kind has no template: in-app only
    SKIPPED_NOT_CONFIGURED = "skipped_not_configured"  # no WECHAT_APPID / WECHAT_SECRET
    SKIPPED_DUPLICATE = "skipped_duplicate"  # sent (or being sent) today already


class WeChatCallError(Exception):
    """No usable answer from WeChat. ``not_sent``: certainly nothing was delivered (the send's quota
    may be given back); a timeout or a garbled answer leaves that unknown."""

    def __init__(self, reason: str, *, not_sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_sent = not_sent


# --- Message content --------------------------------------------------------------------------------
# The longest value WeChat accepts per type, in characters ("订阅消息参数值内容限制说明"). Types not
# listed (time, date, amount, enum) have a format rather than a length and are sent as given.
VALUE_LIMITS = {
    "thing": 20,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "character_string": 32,
    "phone_number": 17,
    "car_number": 8,
    "phrase": 5,
}
_KEY = re.compile(r"([a-z_]+?)\d+")


def value_type(key: str) -> str:
    """A data key's type: its name without the number (``thing3`` → ``thing``)."""
    match = _KEY.fullmatch(key)
    return match.group(1) if match else key


def fit_value(key: str, value: object) -> str:
    """The value as WeChat accepts it for this key: no control characters (WeChat refuses line
    breaks), cut to the type's length; a cut ``thing`` ends with an ellipsis."""
    text = " ".join(str(value).split())
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    kind = value_type(key)
    # name: 10 Chinese characters, or 20 letters; mixed counts as Chinese.
    limit = (20 if text.isascii() else 10) if kind == "name" else VALUE_LIMITS.get(kind)
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if kind == "thing" else text[:limit]


def render(config: Mapping[str, Any], context: Mapping[str, object]) -> tuple[str, dict[str, dict[str, str]]]:
    """The ``page`` and ``data`` of a message from a template's configuration and the reminder's
    values. Raises KeyError for a placeholder the reminder does not provide."""
    query_safe = {key: urllib.parse.quote(str(value), safe="") for key, value in context.items()}
    page = str(config.get("page") or "").format_map(query_safe)
    data = {
        key: {"value": fit_value(key, str(template).format_map(context))}
        for key, template in (config.get("fields") or {}).items()
    }
    return page, data


def template_problems(templates: object, placeholders: Mapping[str, set[str]]) -> list[str]:
    """What is wrong with settings.WECHAT_SUBSCRIBE_TEMPLATES (for the system check); ``placeholders``
    names the values each known kind provides."""
    if not isinstance(templates, dict):
        return ["must be an object mapping reminder kinds to templates"]
    problems = []
    for kind, config in templates.items():
        if not isinstance(config, dict):
            problems.append(f"{kind}: must be an object")
            continue
        template_id = config.get("template_id")
        if not isinstance(template_id, str) or not 0 < len(template_id) <= subscriptions.TEMPLATE_ID_MAX:
            problems.append(f"{kind}: template_id must be a non-empty string")
        fields, page = config.get("fields", {}), config.get("page", "")
        if not isinstance(page, str):
            problems.append(f"{kind}: page must be a string")
            page = ""
        if not isinstance(fields, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
        ):
            problems.append(f"{kind}: fields must map data keys (thing1, time2…) to strings")
            fields = {}
        known = placeholders.get(kind)
        for text in [page, *fields.values()]:
            try:
                used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            except ValueError as exc:
                problems.append(f"{kind}: {text!r}: {exc}")
                continue
            if known is not None and used - known:
                problems.append(
                    f"{kind}: unknown placeholders {sorted(used - known)}; known: {sorted(known)}"
                )
    return problems


# --- Sending a reminder -----------------------------------------------------------------------------
def send_reminder(
    *,
    user: User,
    kind: str,
    subject_type: str,
    subject_id: str,
    context: Mapping[str, object],
    day: date | None = None,
) -> Outcome:
    """Send the subscription message of ``kind`` about the subject to the user, at most once per
    ``day`` (default: today in TIME_ZONE). ``context`` fills the template's placeholders."""
    config = settings.WECHAT_SUBSCRIBE_TEMPLATES.get(kind)
    if not config:
        return Outcome.SKIPPED_NO_TEMPLATE
    if not settings.WECHAT_APPID or not settings.WECHAT_SECRET:
        return Outcome.SKIPPED_NOT_CONFIGURED
    template_id = config["template_id"]
    message = _claim(
        user=user,
        kind=kind,
        template_id=template_id,
        subject_type=subject_type,
        subject_id=str(subject_id),
        day=day or timezone.localdate(),
    )
    if message is None:
        return Outcome.SKIPPED_DUPLICATE

    openid = (
        WeChatBinding.objects.filter(user_id=user.pk, appid=settings.WECHAT_APPID)
        .values_list("openid", flat=True)
        .first()
    )
    if openid is None:
        return _finish(message, Outcome.SKIPPED_NO_BINDING, may_retry=True)
    try:
        page, data = render(config, context)
    except (KeyError, ValueError, IndexError):
        logger.error("WeChat template for %s does not fit its reminder's values", kind)
        return _finish(message, Outcome.FAILED, reason="template_config", may_retry=True)
    if not subscriptions.quota_take(user=user, template_id=template_id):
        return _finish(message, Outcome.SKIPPED_NO_QUOTA, may_retry=True)

    body = {
        "touser": openid,
        "template_id": template_id,
        "data": data,
        "miniprogram_state": settings.WECHAT_MINIPROGRAM_STATE,
        "lang": settings.WECHAT_MESSAGE_LANG,
    }
    if page:
        body["page"] = page
    try:
        errcode, errmsg = send_subscribe_message(body)
    except WeChatCallError as exc:
        if exc.not_sent:
            subscriptions.quota_give_back(user=user, template_id=template_id)
        logger.warning("WeChat message %s to user %s failed: %s", kind, user.pk, exc.reason)
        return _finish(message, Outcome.FAILED, reason=exc.reason, may_retry=exc.not_sent)
    if errcode == 0:
        return _finish(message, Outcome.SENT, sent_at=timezone.now())
    errmsg = _mask(errmsg)
    logger.warning("WeChat message %s to user %s refused: errcode=%s %s", kind, user.pk, errcode, errmsg)
    if errcode == USER_REFUSED:
        subscriptions.quota_clear(user=user, template_id=template_id)
    else:
        # WeChat spends a subscription only on a delivered message.
        subscriptions.quota_give_back(user=user, template_id=template_id)
    return _finish(
        message, Outcome.FAILED, errcode=errcode, reason=errmsg, may_retry=errcode in TRANSIENT_ERRCODES
    )


def _claim(
    *, user: User, kind: str, template_id: str, subject_type: str, subject_id: str, day: date
) -> OutgoingMessage | None:
    """The day's row for this reminder, now ours to send; None when it was sent (or is being sent, or
    failed for good) already. Two runs racing both try the insert: the unique key lets one win."""
    key = f"{user.pk}:{kind}:{subject_type}:{subject_id}:{day.isoformat()}"
    try:
        with transaction.atomic():
            return OutgoingMessage.objects.create(
                user=user,
                kind=kind,
                template_id=template_id,
                subject_type=subject_type,
                subject_id=subject_id,
                day=day,
                dedup_key=key,
                created_at=timezone.now(),
            )
    except IntegrityError:
        pass
    # Tried before today: again only if that try said a later one might work (compare-and-set).
    retried = OutgoingMessage.objects.filter(dedup_key=key, may_retry=True).update(
        status=Status.PENDING,
        may_retry=False,
        template_id=template_id,
        errcode=None,
        reason="",
        attempts=F("attempts") + 1,
    )
    return OutgoingMessage.objects.get(dedup_key=key) if retried else None


def _finish(
    message: OutgoingMessage,
    outcome: Outcome,
    *,
    errcode: int | None = None,
    reason: str = "",
    may_retry: bool = False,
    sent_at: datetime | None = None,
) -> Outcome:
    message.status = outcome.value
    message.errcode = errcode
    message.reason = _mask(reason)[:REASON_MAX]
    message.may_retry = may_retry
    message.sent_at = sent_at
    message.save(update_fields=["status", "errcode", "reason", "may_retry", "sent_at"])
    return outcome


# --- WeChat's API -----------------------------------------------------------------------------------
def send_subscribe_message(body: Mapping[str, Any]) -> tuple[int, str]:
    """POST one message; WeChat's (errcode, errmsg), 0 being success. A token WeChat calls invalid or
    expired is renewed and the message sent again, once. Raises WeChatCallError."""
    token = access_token()
    errcode, errmsg = _send(token, body)
    if errcode in TOKEN_REJECTED:
        logger.info("WeChat access token rejected (errcode=%s); renewing it", errcode)
        errcode, errmsg = _send(_renew_token(rejected=token), body)
    return errcode, errmsg


def _send(token: str, body: Mapping[str, Any]) -> tuple[int, str]:
    url = f"{_api_base()}{SEND_PATH}?{urllib.parse.urlencode({'access_token': token})}"
    payload = _post_json(url, body)
    errcode = payload.get("errcode") or 0
    if not isinstance(errcode, int):
        raise WeChatCallError("invalid_response", not_sent=False)
    return errcode, str(payload.get("errmsg") or "")


def _token_key() -> str:
    return f"notifications:wechat_access_token:{settings.WECHAT_APPID}"


def access_token(*, force_refresh: bool = False) -> str:
    """The mini-program's access token, from the cache or from stable_token."""
    if not force_refresh:
        cached = cache.get(_token_key())
        if cached:
            return cached
    payload = _post_json(
        settings.WECHAT_TOKEN_URL or f"{_api_base()}{TOKEN_PATH}",
        {
            "grant_type": "client_credential",
            "appid": settings.WECHAT_APPID,
            "secret": settings.WECHAT_SECRET,
            "force_refresh": force_refresh,
        },
    )
    errcode = payload.get("errcode") or 0
    token, expires_in = payload.get("access_token"), payload.get("expires_in", 7200)
    if errcode != 0:
        # errmsg is left out: it may echo what was sent.
        logger.warning("WeChat stable_token failed: errcode=%s", errcode)
        raise WeChatCallError(f"token_errcode_{errcode}", not_sent=True)
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise WeChatCallError("token_invalid_response", not_sent=True)
    cache.set(_token_key(), token, timeout=max(60, expires_in - TOKEN_MARGIN_S))
    return token


def _renew_token(*, rejected: str) -> str:
    current = cache.get(_token_key())
    if current and current != rejected:
        return current  # another worker renewed it meanwhile
    cache.delete(_token_key())
    token = access_token()
    if token == rejected:
        # stable_token's normal mode hands out the token it has until it expires; WeChat has just
        # said this one is no good, so only the forced mode (which ends it everywhere) gets a new one.
        token = access_token(force_refresh=True)
    return token


def _api_base() -> str:
    return settings.WECHAT_API_BASE.rstrip("/")


def _mask(text: str) -> str:
    for secret in (settings.WECHAT_SECRET, cache.get(_token_key())):
        if secret:
            text = text.replace(secret, "***")
    return text


def _post_json(url: str, body: Mapping[str, Any]) -> dict[str, Any]:
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise WeChatCallError("bad_url", not_sent=True)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    # Each failure is raised ``from None`` with a short reason: urllib's exceptions quote the URL,
    # and with it the access token.
    try:
        with urllib.request.urlopen(  # noqa: S310 - checked above
            request, timeout=settings.WECHAT_TIMEOUT_SECONDS
        ) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise WeChatCallError(f"http_status_{exc.code}", not_sent=True) from None
    except TimeoutError:
        raise WeChatCallError("timeout", not_sent=False) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise WeChatCallError("timeout", not_sent=False) from None
        raise WeChatCallError("connection_failed", not_sent=True) from None
    except (OSError, http.client.HTTPException):
        raise WeChatCallError("connection_failed", not_sent=False) from None
    try:
        payload = json.loads(raw)  # whatever the Content-Type: WeChat labels its JSON text/plain
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise WeChatCallError("invalid_response", not_sent=False)
    return payload
