"""Pieces every endpoint shares: pagination, the device block of sign-in requests, parsing helpers."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from urllib.parse import quote

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from server.accounts.models import Device
from server.accounts.services import DeviceInfo
from server.client_address import client_address
from server.errors import DomainError, ErrorCode
from server.fields import MAX_ID
from server.regions import region_name
from server.registry.identifiers import mask_resident_id
from server.strict import validation_errors

try:
    from redis.exceptions import RedisError

    _CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError,)
except ImportError:  # pragma: no cover - redis comes with celery[redis]
    _CACHE_ERRORS = ()

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    """Pages of 50 (up to 200 with ?page_size=). Every list is ordered with the id as the last key,
    so that a page never repeats or skips a row between requests."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class DeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The phone's own UUID, generated once at install.")
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    app_version = serializers.CharField(max_length=32)
    model_name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    public_key = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)


def device_info(data: dict) -> DeviceInfo:
    return DeviceInfo(
        id=str(data["id"]),
        platform=data["platform"],
        app_version=data["app_version"],
        model_name=data["model_name"],
        public_key=data["public_key"],
    )


@extend_schema_field(OpenApiTypes.STR)
class MaskedIdField(serializers.Field):
    """A resident ID number as every output shows it: 5109**********3027."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        return mask_resident_id(value)


class RegionNameField(serializers.CharField):
    """The name of the 6-digit region code at ``source`` (310104 → 上海市徐汇区), beside the code: a
    person reads names, a program keeps the code (issue 23: statistics and lists showed codes)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", "The region's name (GB/T 2260), e.g. 上海市徐汇区 for 310104.")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return region_name(value or "")


def parse(serializer_class: type[serializers.Serializer], data, **kwargs) -> dict:
    """Validate a request body with an input serializer; field errors become validation_failed, and so
    does a key the serializer does not read, named in the details (F10 item 5: never dropped)."""
    serializer = serializer_class(data=data, **kwargs)
    errors = validation_errors(serializer)
    if errors:
        raise serializers.ValidationError(errors)
    return serializer.validated_data


def parse_query(serializer_class: type[serializers.Serializer], params) -> dict:
    """Validate a query string: the parameters the serializer reads, among the list's filters and
    pages (which it does not)."""
    serializer = serializer_class(data=params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """An id in a query string: a whole number from 1 to MAX_ID, as IdField takes in a body. Anything
    else is a 400 validation_failed naming the parameter. ``NumberFilter`` alone takes ``1e300``, and
    SQLite cannot bind a number past 64 bits: ``/tasks?agency=99999999999999999999`` was a 500 (F9
    item 9). Every filter on an id is one of these (tests/mobile_api/test_filters.py checks), never a
    ``ModelChoiceFilter``: its choices are every row, so a 400 for an id that names nothing and a 200
    for another tenant's would tell that the other tenant's object exists."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class FilterSet(filters.FilterSet):
    """The base of every list's filters. A relation named in ``Meta.fields`` is filtered by the id it
    holds (an IdFilter, or a UUID), not by django-filter's default ModelChoiceFilter: that one looks
    the id up among all rows, of every tenant, so ``?enterprise=<another tenant's>`` answered 200
    and ``?enterprise=<none>`` 400, telling the other tenant's object exists (F9)."""

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr=None):
        if not field.is_relation:
            return super().filter_for_field(field, field_name, lookup_expr)
        target = field.target_field
        if isinstance(target, models.UUIDField):
            return filters.UUIDFilter(field_name=field_name, lookup_expr=lookup_expr)
        if isinstance(target, models.IntegerField):  # AutoField and BigAutoField among them
            return IdFilter(field_name=field_name, lookup_expr=lookup_expr)
        return filters.CharFilter(field_name=field_name, lookup_expr=lookup_expr)


class CountedThrottle:
    """Mixed into every throttle: a cache that cannot be reached (Redis down, CACHE_URL) lets the
    request through with an error in the log. Field work is not stopped by the counter of a rate limit;
    passwords stay hashed and the other limits still hold in the processes that can count. The
    address counted is the client's as server/client_address.py finds it."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (OSError, *_CACHE_ERRORS) as exc:
            logger.error("throttle %s not applied: the cache failed: %r", getattr(self, "scope", "?"), exc)
            return True

    def get_ident(self, request) -> str:
        # Not DRF's, which takes X-Forwarded-For from anyone: rotating it was a new address each
        # time, and no per-address limit held (F9 item 8).
        return client_address(request)


class SignInThrottle(CountedThrottle, AnonRateThrottle):
    """Per client address, for password and WeChat sign-in (and so WeChat's code2session): slows
    password guessing and keeps one address from spending the mini-program's API quota."""

    scope = "sign_in"


def normalized_username(value: object) -> str:
    """A username as a rate limit counts it: NFKC (as Django stores usernames), trimmed (as sign-in
    does), case-folded, so that ``Alice``, ``alice `` and ``ａｌｉｃｅ`` are one account's attempts."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip().casefold()


class SignInAccountThrottle(CountedThrottle, SimpleRateThrottle):
    """Per account, for the password checks (password sign-in, WeChat binding): guessing one
    account's password from many addresses is slowed as much as from one. Whoever is refused
    waits; the account is not locked."""

    scope = "sign_in_account"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data
        username = normalized_username(data.get("username") if hasattr(data, "get") else None)
        if not username:
            return None  # nothing to count: the request is refused as invalid anyway
        # Hashed: a key holds no username, and any username makes a valid, bounded key.
        ident = hashlib.sha256(username.encode("utf-8")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterThrottle(CountedThrottle, AnonRateThrottle):
    scope = "register"


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str):
    from django.http import HttpResponse

    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


ATTACHMENT_TOO_LARGE = ErrorCode(
    "attachment_too_large",
    413,
    "附件过大：单个文件不得超过 {max_bytes} 字节。",
    "The attachment is too large: a file may be at most {max_bytes} bytes.",
)


class AttachmentField(serializers.FileField):
    """An uploaded document (project attachments, departure proofs, rectification files, Excel
    imports), at most ``ATTACHMENT_MAX_BYTES``: larger is a 413 ``attachment_too_large`` before
    anything is stored. Photos and O&M reports have their own limits (MEDIA_MAX_BYTES,
    OM_REPORT_MAX_BYTES)."""

    def to_internal_value(self, data):
        from django.conf import settings

        size = getattr(data, "size", None)
        if size is not None and size > settings.ATTACHMENT_MAX_BYTES:
            raise DomainError(ATTACHMENT_TOO_LARGE, max_bytes=settings.ATTACHMENT_MAX_BYTES)
        return super().to_internal_value(data)


class ImportIn(serializers.Serializer):
    file = AttachmentField(help_text="按模板填写的 .xlsx 文件。")
    partial = serializers.BooleanField(
        default=False, help_text="true：导入无误的行并报告错误行；false（默认）：有任何错误则全部不导入。"
    )


def import_response(report):
    """A report with errors and nothing imported is a 400 (the file was refused); otherwise 200."""
    from rest_framework.response import Response

    from server.errors import DomainError
    from server.registry.excel import EXCEL_ROWS_REJECTED, report_to_dict

    body = report_to_dict(report)
    if report.errors and not report.imported:
        raise DomainError(EXCEL_ROWS_REJECTED, details=body, count=len(report.errors))
    return Response(body)
