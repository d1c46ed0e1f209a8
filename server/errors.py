"""One error shape for the whole service: ``{"code": ..., "message": ..., "details": ...}``.

- ``code`` is stable: clients and tests branch on it, never on the message.
- ``message`` is Chinese by default, English when the request asks for it (Accept-Language: en).
- ``details`` is structured (field errors, the allowed methods, what a rule compared), or null.

Domain code raises ``DomainError(SOME_CODE, details=..., **params)``; the codes are declared once,
as ``ErrorCode`` constants next to the rules that raise them, and registered here so that two apps
cannot claim the same code with different meanings. ``api_exception_handler`` (DRF), the Django
error handlers and ``JsonErrorMiddleware`` (anything else, including DEBUG's HTML pages) all
render through ``error_response``.

The database or the file storage failing (``unavailable_error``: a connection refused, lost or
timed out) is a 503 ``database_unavailable`` / ``storage_unavailable`` with ``Retry-After``, both
in DRF views (``api_exception_handler``) and anywhere else (``server_error``, Django's handler500),
never a 500: the phone keeps its work and retries.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.module_loading import import_string
from rest_framework import exceptions as drf

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, ErrorCode] = {}


@dataclass(frozen=True)
class ErrorCode:
    """A stable error code with its HTTP status and its message in both languages.

    Messages may hold ``{name}`` placeholders filled from the raising site's parameters.
    """

    code: str
    status: int
    zh: str
    en: str

    def __post_init__(self) -> None:
        existing = _REGISTRY.get(self.code)
        if existing is not None and existing != self:
            raise ValueError(f"error code {self.code!r} is declared twice with different meanings")
        _REGISTRY[self.code] = self

    def message(self, language: str, /, **params: Any) -> str:
        template = self.en if language == "en" else self.zh
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template


def registered_codes() -> dict[str, ErrorCode]:
    return dict(_REGISTRY)


class DomainError(Exception):
    """A rule said no. Raised by domain services; rendered by the API's one exception handler."""

    def __init__(self, error: ErrorCode, /, *, details: Any = None, **params: Any) -> None:
        self.error = error
        self.details = details
        self.params = params
        super().__init__(f"{error.code}: {error.message('en', **params)}")


# --- Codes every endpoint can produce -------------------------------------------------------------
BAD_REQUEST = ErrorCode("bad_request", 400, "请求无效。", "The request is invalid.")
MALFORMED_REQUEST = ErrorCode(
    "malformed_request",
    400,
    "请求内容无法解析，请检查 JSON 格式。",
    "The request body could not be parsed; check the JSON.",
)
VALIDATION_FAILED = ErrorCode(
    "validation_failed",
    400,
    "提交的数据有误，请按提示修改。",
    "Some submitted values are invalid; see details.",
)
NOT_AUTHENTICATED = ErrorCode("not_authenticated", 401, "请先登录。", "Authentication is required.")
AUTHENTICATION_FAILED = ErrorCode(
    "authentication_failed",
    401,
    "登录凭据无效或已失效，请重新登录。",
    "The credentials are invalid or have expired.",
)
PERMISSION_DENIED = ErrorCode("permission_denied", 403, "没有权限执行此操作。", "You may not do this.")
CSRF_FAILED = ErrorCode(
    "csrf_failed",
    403,
    "安全校验失败（CSRF），请刷新页面后重试。",
    "The CSRF check failed; reload and try again.",
)
NOT_FOUND = ErrorCode("not_found", 404, "请求的资源不存在。", "The requested resource does not exist.")
METHOD_NOT_ALLOWED = ErrorCode(
    "method_not_allowed", 405, "不支持 {method} 请求方法。", "The method {method} is not allowed here."
)
NOT_ACCEPTABLE = ErrorCode(
    "not_acceptable", 406, "无法以请求的格式返回结果。", "The requested response format is not available."
)
PAYLOAD_TOO_LARGE = ErrorCode("payload_too_large", 413, "上传内容过大。", "The request body is too large.")
UNSUPPORTED_MEDIA_TYPE = ErrorCode(
    "unsupported_media_type",
    415,
    "不支持的内容类型：{content_type}。",
    "Unsupported content type: {content_type}.",
)
THROTTLED = ErrorCode("throttled", 429, "请求过于频繁，请稍后再试。", "Too many requests; try again later.")
SERVER_ERROR = ErrorCode(
    "server_error", 500, "服务器内部错误，请稍后重试。", "Internal server error; please try again later."
)
HTTP_ERROR = ErrorCode(
    "http_error", 400, "请求失败（HTTP {status}）。", "The request failed (HTTP {status})."
)
# A backing service that cannot be reached is not the request's fault and not a bug: a 503 with
# Retry-After, so that a phone keeps its offline queue and tries again (every write is idempotent).
DATABASE_UNAVAILABLE = ErrorCode(
    "database_unavailable",
    503,
    "数据库暂时无法访问，请稍后重试；未上传成功的数据仍保存在手机上。",
    "The database cannot be reached right now; try again shortly. Nothing unsent is lost.",
)
STORAGE_UNAVAILABLE = ErrorCode(
    "storage_unavailable",
    503,
    "文件存储暂时无法访问，文件未保存，请稍后重新上传。",
    "File storage cannot be reached right now; nothing was stored. Upload again shortly.",
)
# Seconds a client is asked to wait before retrying after a 503 (the Retry-After header).
RETRY_AFTER_S = 5

_BY_STATUS = {
    400: BAD_REQUEST,
    401: NOT_AUTHENTICATED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    406: NOT_ACCEPTABLE,
    413: PAYLOAD_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    429: THROTTLED,
    500: SERVER_ERROR,
}


def _storage_errors() -> tuple[type[BaseException], ...]:
    try:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is installed with django-storages[s3]
        return ()
    # BotoCoreError: no connection, a timeout, the connection closed mid-answer (after botocore's
    # bounded retries, S3_MAX_ATTEMPTS). ClientError: the service answered with an error (5xx
    # SlowDown/ServiceUnavailable, or AccessDenied from a broken configuration). Boto3Error:
    # S3UploadFailedError, which boto3's transfer manager wraps some of them in.
    return (BotoCoreError, ClientError, Boto3Error)


def unavailable_error(exc: BaseException) -> ErrorCode | None:
    """DATABASE_UNAVAILABLE or STORAGE_UNAVAILABLE when ``exc`` (or what caused it) says the database
    or the file storage could not be used; None for anything else.

    Django raises ``OperationalError`` for a connection refused, lost or timed out (and also for a
    deadlock, a serialization failure or SQLite's "database is locked": all of them worth a retry),
    ``InterfaceError`` for a connection already closed. Domain errors are never re-classified.
    """
    from django.db import InterfaceError, OperationalError

    storage_errors = _storage_errors()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and not isinstance(current, DomainError):
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError):
            return DATABASE_UNAVAILABLE
        if storage_errors and isinstance(current, storage_errors):
            return STORAGE_UNAVAILABLE
        current = current.__cause__ or current.__context__
    return None


def unavailable_response(request: HttpRequest | None, error: ErrorCode, exc: BaseException) -> JsonResponse:
    """The 503 for a backing service that failed; the error itself goes to the log, not the client."""
    logger.error("%s: %r", error.code, exc, exc_info=exc)
    response = error_response(request, error)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def request_language(request: HttpRequest | None) -> str:
    """'en' when the client asked for English, else 'zh-hans'."""
    if request is None:
        language = translation.get_language() or "zh-hans"
    else:
        language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)
    return "en" if language.lower().startswith("en") else "zh-hans"


def error_response(
    request: HttpRequest | None,
    error: ErrorCode,
    *,
    details: Any = None,
    status: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> JsonResponse:
    """The error shape for ``error``. The message's placeholders come in ``params``, one mapping and
    never keyword arguments beside this function's own: a rule that raised
    ``DomainError(OM_RECORD_CLOSED, status="已审核")`` once collided with ``status`` here, a 500 where
    a 409 was meant (F10 item 3)."""
    params = params or {}
    language = request_language(request)
    with translation.override(language):
        # Lazy strings in details (DRF's and Django's own messages) render in the same language.
        body = json.loads(json.dumps({"details": details}, default=str))
        payload = {
            "code": error.code,
            "message": error.message(language, **params),
            "details": body["details"],
        }
    response = JsonResponse(payload, status=status or error.status, json_dumps_params={"ensure_ascii": False})
    response["Content-Language"] = language
    return response


# --- DRF ------------------------------------------------------------------------------------------
def _drf_error(exc: drf.APIException, request: HttpRequest | None) -> tuple[ErrorCode, Any, dict]:
    if isinstance(exc, drf.ValidationError):
        return VALIDATION_FAILED, exc.detail, {}
    if isinstance(exc, drf.ParseError):
        return MALFORMED_REQUEST, {"reason": exc.detail}, {}
    if isinstance(exc, drf.UnsupportedMediaType):
        media_type = getattr(request, "content_type", "") or ""
        return UNSUPPORTED_MEDIA_TYPE, {"content_type": media_type}, {"content_type": media_type}
    if isinstance(exc, drf.MethodNotAllowed):
        return METHOD_NOT_ALLOWED, None, {"method": getattr(request, "method", "")}
    if isinstance(exc, drf.AuthenticationFailed):
        return AUTHENTICATION_FAILED, None, {}
    if isinstance(exc, drf.NotAuthenticated):
        return NOT_AUTHENTICATED, None, {}
    if isinstance(exc, drf.PermissionDenied):
        return PERMISSION_DENIED, None, {}
    if isinstance(exc, drf.NotFound):
        return NOT_FOUND, None, {}
    if isinstance(exc, drf.NotAcceptable):
        return NOT_ACCEPTABLE, None, {}
    if isinstance(exc, drf.Throttled):
        return THROTTLED, {"retry_after_seconds": exc.wait}, {}
    return _BY_STATUS.get(exc.status_code, HTTP_ERROR), {"reason": exc.detail}, {"status": exc.status_code}


def api_exception_handler(exc: Exception, context: dict) -> HttpResponse | None:
    """DRF's EXCEPTION_HANDLER: maps domain and framework errors to the one error shape.

    Anything not recognised is left to Django (a 500, rendered by ``server_error``) after being
    logged with its traceback by Django's request logger.
    """
    request = context.get("request")
    headers: dict[str, str] = {}
    status = None
    if isinstance(exc, DomainError):
        error, details, params = exc.error, exc.details, exc.params
    elif isinstance(exc, DjangoValidationError):
        error = VALIDATION_FAILED
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        params = {}
    elif isinstance(exc, Http404):
        error, details, params = NOT_FOUND, None, {}
    elif isinstance(exc, PermissionDenied):
        error, details, params = PERMISSION_DENIED, None, {}
    elif isinstance(exc, RequestDataTooBig):
        error, details, params = PAYLOAD_TOO_LARGE, None, {}
    elif isinstance(exc, drf.APIException):
        error, details, params = _drf_error(exc, request)
        status = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait))
    elif (unavailable := unavailable_error(exc)) is not None:
        return unavailable_response(request, unavailable, exc)
    else:
        return None

    from rest_framework.views import (
        set_rollback,  # here: DRF's views import the auth classes, which import us
    )

    set_rollback()
    response = error_response(request, error, details=details, status=status, params=params)
    for name, value in headers.items():
        response[name] = value
    if response.status_code == 503:  # media_unavailable and the like: worth a retry, say when
        response.setdefault("Retry-After", str(RETRY_AFTER_S))
    if isinstance(exc, drf.MethodNotAllowed) and context.get("view") is not None:
        response["Allow"] = ", ".join(context["view"].allowed_methods)
    return response


# --- Django's own error handlers (wired in server/urls.py and CSRF_FAILURE_VIEW) ------------------
def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, PAYLOAD_TOO_LARGE)
    return error_response(request, BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(request, PERMISSION_DENIED)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(request, NOT_FOUND)


def server_error(request: HttpRequest) -> JsonResponse:
    # Django calls handler500 while it handles the exception: the database or storage failing in a
    # middleware or a plain Django view (outside DRF's handler) is a 503 here too.
    exc = sys.exc_info()[1]
    unavailable = unavailable_error(exc) if exc is not None else None
    if unavailable is not None:
        response = error_response(request, unavailable)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    return error_response(request, SERVER_ERROR)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return error_response(request, CSRF_FAILED, details={"reason": reason})


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> JsonResponse:
    response = error_response(request, METHOD_NOT_ALLOWED, params={"method": request.method})
    response["Allow"] = ", ".join(allowed)
    return response


_JSON_TYPES = ("application/json", "application/problem+json", "application/vnd.oai.openapi+json")


# A request to one of these URL namespaces comes from a person's browser: its errors are pages.
PERSON_NAMESPACES = frozenset({"workspace", "maps"})


def for_person(request: HttpRequest) -> bool:
    """Whether an error is answered with a page rather than JSON: the request was for a workspace
    page (or the map), or, matching no URL at all, a browser's navigation outside the API (a
    mistyped address). The API, the phones and scripts keep the JSON error shape."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return bool(PERSON_NAMESPACES.intersection(match.namespaces))
    if request.path.startswith(("/api/", "/admin/")):
        return False
    return _accepts_html(request)


def _accepts_html(request: HttpRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def _person_page(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The error as a page of the workspace (``settings.PERSON_ERROR_VIEW``), with the message of the
    error the response carries (its JSON ``code``) or of its status, in the person's language."""
    error = _BY_STATUS.get(response.status_code, HTTP_ERROR)
    if response.get("Content-Type", "").startswith(_JSON_TYPES):
        with contextlib.suppress(ValueError, AttributeError):
            error = _REGISTRY.get(json.loads(response.content).get("code"), error)
    params = {"method": request.method, "status": response.status_code, "content_type": request.content_type}
    page = import_string(settings.PERSON_ERROR_VIEW)(request, error, response.status_code, params)
    for header in ("Allow", "Retry-After"):
        if header in response:
            page[header] = response[header]
    return page


class JsonErrorMiddleware:
    """Last line of defence: no error leaves as an HTML page.

    Django renders some errors itself before any handler of ours runs: DEBUG's technical 404 and
    500 pages, SuspiciousOperation's 400, a bare 405 from ``require_http_methods``. Any response
    of status >= 400 that is not already JSON is replaced by the one error shape for its status.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or getattr(response, "workspace_page", False):
            return response  # a workspace page's own 404/429 is made for a person (workspace/pages.py)
        is_json = response.get("Content-Type", "").startswith(_JSON_TYPES)
        # A page's script that fetched JSON (the map's data) keeps its JSON error; a form posted
        # by the browser itself (a CSRF failure) accepts HTML and gets a page.
        if for_person(request) and (not is_json or _accepts_html(request)):
            return _person_page(request, response)
        if is_json:
            return response
        error = _BY_STATUS.get(response.status_code, HTTP_ERROR)
        replacement = error_response(
            request,
            error,
            status=response.status_code,
            params={
                "method": request.method,
                "status_code": response.status_code,
                "content_type": request.content_type,
                "status": response.status_code,
            },
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement
