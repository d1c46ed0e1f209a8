"""Where a change came from: the phone and, offline, the sync operation, without the services
having to pass it along.

A context variable holds the origin of the work in progress. The sync engine sets it around each
operation's handler (``operation_origin``); ``AuditOriginMiddleware`` sets it for each online
request. ``services.record`` reads it with ``current()``.

The request is resolved only when an entry is written, not when it comes in: DRF authenticates
lazily inside the view, and copies the authenticated user and the device token (``request.auth``)
onto the Django request when it does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Origin:
    user_id: int | None = None
    device_id: uuid.UUID | str | None = None
    operation_id: int | None = None


NOWHERE = Origin()

# An Origin (a sync operation), an HttpRequest (an online request, resolved lazily) or None.
_origin: ContextVar[Any] = ContextVar("audit_origin", default=None)


def current() -> Origin:
    value = _origin.get()
    if value is None:
        return NOWHERE
    if isinstance(value, Origin):
        return value
    return _from_request(value)


def _from_request(request) -> Origin:
    from server.accounts.models import DeviceToken

    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    token = getattr(request, "auth", None)
    device_id = token.device_id if isinstance(token, DeviceToken) else None
    return Origin(user_id=user_id, device_id=device_id)


@contextmanager
def operation_origin(operation) -> Iterator[None]:
    """Around a sync operation's handler: its entries name the operation, its device and its user."""
    token = _origin.set(
        Origin(user_id=operation.user_id, device_id=operation.device_id, operation_id=operation.pk)
    )
    try:
        yield
    finally:
        _origin.reset(token)


class AuditOriginMiddleware:
    """Online requests: entries name the phone whose device token signed the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _origin.set(request)
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)
