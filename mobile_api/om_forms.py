"""O&M form templates for the phone (运维表单): the latest version of each to cache, and one form as
it is drawn for an outlet's chosen instruments and frequency groups (``server.om.forms.render``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import parse_query
from server import access
from server.errors import NOT_FOUND, DomainError
from server.fields import IdField
from server.om import errors, forms, judgements
from server.om.models import FormTemplate
from server.registry.models import OutletKind


def latest_templates(outlet_kind: str | None = None) -> list[FormTemplate]:
    """The highest version of each template code (one query)."""
    rows = FormTemplate.objects.order_by("code", "-version")
    if outlet_kind:
        rows = rows.filter(outlet_kind=outlet_kind)
    latest: dict[str, FormTemplate] = {}
    for row in rows:
        latest.setdefault(row.code, row)
    return list(latest.values())


class TemplateListIn(serializers.Serializer):
    outlet_kind = serializers.ChoiceField(choices=OutletKind.choices, required=False)


class TemplateOut(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    outlet_kind = serializers.CharField()
    definition = serializers.JSONField(help_text="The template file's JSON (forms_data/README.md).")
    limit_sets = serializers.JSONField(help_text="The limit sets its computations reference, by key.")


def _id_list(value: str) -> list[int]:
    try:
        ids = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise serializers.ValidationError("须为以逗号分隔的设备编号。") from None
    if any(i < 1 or i > 2**63 - 1 for i in ids):
        raise serializers.ValidationError("须为以逗号分隔的设备编号。")
    return list(dict.fromkeys(ids))


class TemplateRenderIn(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, help_text="Default: the latest version."
    )
    outlet = IdField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="The outlet the form is filled at."
    )
    instruments = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="The outlet's chosen instrument ids, e.g. 3,7: instrument sections are repeated for each.",
    )
    groups = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Chosen check groups, e.g. daily,weekly."
    )

    def validate_instruments(self, value: str) -> list[int]:
        return _id_list(value)

    def validate_groups(self, value: str) -> list[str]:
        return list(dict.fromkeys(g.strip() for g in value.split(",") if g.strip()))

    def validate(self, attrs: dict) -> dict:
        if "instruments" in attrs and not attrs.get("outlet"):
            raise serializers.ValidationError({"outlet": ["选择设备时须同时指定排口。"]})
        return attrs


class RenderedOut(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    outlet_kind = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField())
    groups = serializers.JSONField(help_text='[{"key": "daily", "label": "日检查维护"}, ...]')
    chosen_groups = serializers.ListField(child=serializers.CharField(), allow_null=True)
    instruments = serializers.JSONField(help_text="The chosen instruments, or null.")
    sections = serializers.JSONField(
        help_text="Sections to draw; instrument sections repeated per chosen instrument (`instrument`)."
    )
    computations = serializers.JSONField(help_text="Computations with their limit set (`limit`).")


class TemplateListView(APIView):
    @extend_schema(
        parameters=[TemplateListIn],
        responses=TemplateOut(many=True),
        summary="The latest version of each O&M form template, for the phone to cache.",
    )
    def get(self, request: Request) -> Response:
        data = parse_query(TemplateListIn, request.query_params)
        templates = latest_templates(data.get("outlet_kind"))
        limits = judgements.limits_for([t.definition for t in templates])
        body = []
        for template in templates:
            keys = sorted({c["limit_set"] for c in template.definition.get("computations") or []})
            body.append(
                {
                    "code": template.code,
                    "version": template.version,
                    "name": template.name,
                    "outlet_kind": template.outlet_kind,
                    "definition": template.definition,
                    "limit_sets": {k: limits[k].as_dict() for k in keys},
                }
            )
        return Response(body)


class TemplateView(APIView):
    @extend_schema(
        parameters=[TemplateRenderIn],
        responses=RenderedOut,
        summary="One O&M form as the phone draws it for an outlet's chosen instruments and groups.",
    )
    def get(self, request: Request, code: str) -> Response:
        data = parse_query(TemplateRenderIn, request.query_params)
        rows = FormTemplate.objects.filter(code=code)
        if "version" in data:
            rows = rows.filter(version=data["version"])
        template = rows.order_by("-version").first()
        if template is None:
            raise DomainError(NOT_FOUND)
        instruments = outlet_instruments = None
        if data.get("outlet"):
            outlet = access.access_outlet(request.user, data["outlet"])
            if outlet.kind != template.outlet_kind:
                raise DomainError(errors.OM_TEMPLATE_NOT_FOR_OUTLET, name=template.name)
            outlet_instruments = list(outlet.instruments.order_by("id"))
        if "instruments" in data:
            instruments = [access.access_instrument(request.user, pk) for pk in data["instruments"]]
            stray = [i.pk for i in instruments if i.outlet_id != data["outlet"]]
            if stray:
                raise DomainError(errors.OM_INSTRUMENT_NOT_AT_POINT, details={"instruments": stray})
        groups = data.get("groups")
        return Response(
            forms.render(
                template, instruments=instruments, groups=groups, outlet_instruments=outlet_instruments
            )
        )
