"""Pieces every endpoint shares: pagination, the device block of sign-in requests, parsing helpers."""

from __future__ import annotations

from urllib.parse import quote

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.throttling import AnonRateThrottle

from server.accounts.models import Device
from server.accounts.services import DeviceInfo
from server.registry.identifiers import mask_resident_id


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


def parse(serializer_class: type[serializers.Serializer], data, **kwargs) -> dict:
    """Validate a request body with an input serializer; field errors become validation_failed."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class SignInThrottle(AnonRateThrottle):
    """Per client address, for password and WeChat sign-in: slows password guessing."""

    scope = "sign_in"


class RegisterThrottle(AnonRateThrottle):
    scope = "register"


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str):
    from django.http import HttpResponse

    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


class ImportIn(serializers.Serializer):
    file = serializers.FileField(help_text="按模板填写的 .xlsx 文件。")
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
