"""``Idempotency-Key`` for online writes: the same exactly-once promise as a sync push.

The first request with a key runs inside one transaction together with the row that records its
response, so a response is recorded if and only if its writes committed. A retry with the same key
and the same request gets the recorded response; with a different request, 422. A retry that
arrives while the first is still running waits on the row's lock (PostgreSQL) and then replays.
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from server.errors import error_response
from sync import errors
from sync.models import IdempotentRequest

HEADER = "HTTP_IDEMPOTENCY_KEY"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _user_id(request: HttpRequest) -> int | None:
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization.lower().startswith("bearer "):
        from server.accounts.services import token_lookup

        record = token_lookup(authorization.split(" ", 1)[1].strip())
        return record.user_id if record else None
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.get_full_path().encode())
    digest.update(request.body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER, "").strip()
        # Sync pushes have their own exactly-once journal and their own per-operation transactions.
        if (
            not key
            or request.method not in UNSAFE
            or not request.path.startswith("/api/")
            or "/sync/" in request.path
        ):
            return self.get_response(request)
        if request.content_type.startswith("multipart/"):
            # Uploads are not read into memory to fingerprint them: photos are content-addressed
            # (stored once by SHA-256), which makes their retries safe without a key.
            return self.get_response(request)
        user_id = _user_id(request)
        if user_id is None or len(key) > 128:
            return self.get_response(request)  # unauthenticated: the view answers 401 as usual
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(
                        user_id=user_id, key=key, request_hash=fingerprint, created_at=timezone.now()
                    )
            except IntegrityError:
                record = IdempotentRequest.objects.select_for_update().get(user_id=user_id, key=key)
                if record.request_hash != fingerprint:
                    return error_response(request, errors.IDEMPOTENCY_KEY_REUSED)
                if record.status_code is None:
                    return error_response(request, errors.IDEMPOTENCY_IN_PROGRESS)
                replay = HttpResponse(
                    bytes(record.body), status=record.status_code, content_type=record.content_type
                )
                replay["Idempotent-Replay"] = "true"
                return replay
            response = self.get_response(request)
            if response.status_code >= 500 or getattr(response, "streaming", False):
                transaction.set_rollback(True)  # nothing is recorded, so a retry runs again
                return response
            record.status_code = response.status_code
            record.body = response.content
            record.content_type = response.get("Content-Type", "")
            record.save(update_fields=["status_code", "body", "content_type"])
            return response
