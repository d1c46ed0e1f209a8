"""Error codes raised by the notifications app; rendered through ``server.errors``."""

from __future__ import annotations

from server.errors import ErrorCode

SUBSCRIPTION_REQUEST_REUSED = ErrorCode(
    "subscription_request_reused",
    409,
    "该订阅请求编号已用于另一组订阅结果。",
    "This subscription request id was already used for different results.",
)
