"""``/healthz``: is this app server able to serve? Checks the database, the file storage and, when
one is configured, the Celery broker. 200 when all answer; 503 naming the parts that do not.

It answers load balancers and uptime probes, so it needs no login and says nothing secret: a
failing part is named with the kind of error, and the full error goes to the log.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from server.errors import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_S,
    STORAGE_UNAVAILABLE,
    ErrorCode,
    error_response,
    method_not_allowed,
)

logger = logging.getLogger(__name__)

UNHEALTHY = ErrorCode(
    "unhealthy", 503, "服务暂不可用：{failing} 无法访问。", "Service unavailable: {failing} not reachable."
)


def check_database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # Do not keep a broken connection for the next request.
        connection.close_if_unusable_or_obsolete()
        raise


def check_storage() -> None:
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        os.makedirs(storage.location, exist_ok=True)
        if not os.access(storage.location, os.W_OK):
            raise PermissionError(f"{storage.location} is not writable")
    else:
        # A HEAD on the bucket's prefix: proves the endpoint answers and the credentials are accepted.
        storage.exists(".healthz")


def check_broker() -> None:
    from server.celery import app

    with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)


_CODES = {"database": DATABASE_UNAVAILABLE, "storage": STORAGE_UNAVAILABLE}


def _checks() -> dict[str, Callable[[], None]]:
    checks = {"database": check_database, "storage": check_storage}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = check_broker
    return checks


@csrf_exempt  # probes send no cookies; a wrong method must get its 405, not a CSRF 403
def healthz(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(request, ["GET", "HEAD"])
    results: dict[str, dict] = {}
    for name, check in _checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            logger.warning("health check %s failed: %r", name, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
            if name in _CODES:  # the code the API answers with while this part is down
                results[name]["code"] = _CODES[name].code
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    failing = [name for name, result in results.items() if not result["ok"]]
    if failing:
        response = error_response(
            request,
            UNHEALTHY,
            details={"failing": failing, "checks": results},
            params={"failing": ", ".join(failing)},
        )
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    return JsonResponse({"status": "ok", "checks": results})
