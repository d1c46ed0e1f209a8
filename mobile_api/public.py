"""The public side (seed 002 监测业务公开端): anyone, without signing in, looks an agency up by name and
checks a monitoring report by its number. Only what a filing makes public leaves here: no person
(legal representative, contacts, staff), no internal id. Rate limited per client address
(``THROTTLE_PUBLIC_LOOKUP``).
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from mobile_api.common import CountedThrottle, RegionNameField, parse_query
from server.errors import NOT_FOUND, DomainError
from server.fields import DayField, InstantField
from server.fieldwork.models import MonitoringProject, ProjectAttachment
from server.registry.models import Agency, AgencyFilingEvent, MonitoringCategory, OmCategory


class PublicLookupThrottle(CountedThrottle, AnonRateThrottle):
    """Per client address: a person looking things up is not slowed, a scraper is."""

    scope = "public_lookup"


class PublicMixin:
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicLookupThrottle]


# --- Agencies ---------------------------------------------------------------------------------------
# What an agency's kind lets it do (seed 003 机构查询: 检测能力 / 运维能力).
CAPABILITIES = {
    Agency.Kind.MONITORING: [("monitoring", "检测")],
    Agency.Kind.OM: [("om", "运维")],
    Agency.Kind.BOTH: [("monitoring", "检测"), ("om", "运维")],
}


class CapabilityOut(serializers.Serializer):
    code = serializers.CharField(help_text="monitoring | om")
    label = serializers.CharField()


class CategoryOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


def _categories(codes: list[str], catalogue) -> list[dict]:
    labels = dict(catalogue.choices)
    return [{"code": code, "label": str(labels.get(code, code))} for code in codes or []]


class PublicAgencyOut(serializers.Serializer):
    name = serializers.CharField()
    credit_code = serializers.CharField(help_text="统一社会信用代码")
    kind = serializers.ChoiceField(choices=Agency.Kind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    address = serializers.CharField(help_text="注册地址")
    region_code = serializers.CharField(help_text="注册地行政区划代码")
    region_name = RegionNameField(source="region_code")
    filing_status = serializers.ChoiceField(choices=Agency.FilingStatus.choices)
    filing_status_label = serializers.CharField(source="get_filing_status_display")
    approved_at = InstantField(allow_null=True, help_text="备案公开时间: the latest approval.")
    capabilities = serializers.SerializerMethodField()
    # 业务范围 (seed 001 §2.4 备案信息查询): the categories as approved; a change waiting for review
    # (pending_changes) is not public.
    monitoring_categories = serializers.SerializerMethodField(help_text="监测类别（已备案）。")
    om_categories = serializers.SerializerMethodField(help_text="运维类别（已备案）。")

    @extend_schema_field(CategoryOut(many=True))
    def get_monitoring_categories(self, agency: Agency) -> list[dict]:
        return _categories(agency.monitoring_categories, MonitoringCategory)

    @extend_schema_field(CategoryOut(many=True))
    def get_om_categories(self, agency: Agency) -> list[dict]:
        return _categories(agency.om_categories, OmCategory)

    @extend_schema_field(CapabilityOut(many=True))
    def get_capabilities(self, agency: Agency) -> list[dict]:
        return [{"code": code, "label": label} for code, label in CAPABILITIES.get(agency.kind, [])]


class PublicAgencyQuery(serializers.Serializer):
    name = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=200, help_text="Part of the name (模糊查询)."
    )
    credit_code = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=18, help_text="统一社会信用代码 (exact)."
    )
    kind = serializers.ChoiceField(choices=Agency.Kind.choices, required=False)


def public_agencies():
    """Agencies whose filing is approved: the 备案公示 list, with the values a regulator approved. A
    first filing not approved yet (draft, submitted, returned) or a cancelled one is not public."""
    approvals = AgencyFilingEvent.objects.filter(
        agency_id=OuterRef("pk"), to_status=Agency.FilingStatus.APPROVED
    ).order_by("-at", "-id")
    # A filed agency whose change awaits review stays public with its approved values (the change
    # waits in pending_changes, never shown here); so does one whose change was returned.
    filed = Q(filing_status__in=[Agency.FilingStatus.APPROVED, Agency.FilingStatus.CHANGED]) | Q(
        filing_status=Agency.FilingStatus.RETURNED,
        pk__in=AgencyFilingEvent.objects.filter(to_status=Agency.FilingStatus.APPROVED).values("agency_id"),
    )
    return Agency.objects.filter(filed).annotate(approved_at=Subquery(approvals.values("at")[:1]))


class PublicAgencyList(PublicMixin, ListAPIView):
    """监测机构查询: approved agencies by part of their name, credit code or kind."""

    serializer_class = PublicAgencyOut
    filter_backends: list = []
    queryset = Agency.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        query = parse_query(PublicAgencyQuery, self.request.query_params)
        agencies = public_agencies().order_by("name", "id")
        if query["name"].strip():
            agencies = agencies.filter(name__icontains=query["name"].strip())
        if query["credit_code"].strip():
            agencies = agencies.filter(credit_code=query["credit_code"].strip().upper())
        if query.get("kind"):
            agencies = agencies.filter(kind=query["kind"])
        return agencies

    @extend_schema(parameters=[PublicAgencyQuery], auth=[])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


# --- Reports ----------------------------------------------------------------------------------------
class PublicReportOut(serializers.Serializer):
    number = serializers.CharField(help_text="报告编号")
    project_number = serializers.CharField(source="project.number")
    project_name = serializers.CharField(source="project.name")
    agency_name = serializers.CharField(source="project.agency.name")
    enterprise_name = serializers.CharField(source="project.enterprise.name")
    issued_on = DayField(allow_null=True, help_text="签发日期 (null: not given).")
    project_status = serializers.ChoiceField(
        source="project.status", choices=MonitoringProject.Status.choices
    )
    project_status_label = serializers.CharField(source="project.get_status_display")


class PublicReportAnswer(serializers.Serializer):
    number = serializers.CharField()
    reports = PublicReportOut(
        many=True, help_text="Usually one; numbers are unique within an agency, not across agencies."
    )


class PublicReportView(PublicMixin, APIView):
    @extend_schema(responses=PublicReportAnswer, auth=[])
    def get(self, request: Request, number: str) -> Response:
        """监测报告查询: a monitoring report by its number (exact), with its project, agency, client
        enterprise, issue date and the project's status. 404 when no report has this number."""
        number = number.strip()
        reports = list(
            # A deleted report, or one of a deleted project, is no longer the agency's word.
            ProjectAttachment.objects.filter(
                kind=ProjectAttachment.Kind.REPORT, number=number, deleted_at__isnull=True
            )
            .exclude(number="")
            .exclude(project__status=MonitoringProject.Status.DELETED)
            .select_related("project__agency", "project__enterprise")
            .order_by("issued_on", "id")
        )
        if not reports:
            raise DomainError(NOT_FOUND)
        return Response(PublicReportAnswer({"number": number, "reports": reports}).data)
