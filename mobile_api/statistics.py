"""查询统计 (``GET /statistics``): counts of projects, monitoring tasks, O&M records and findings
grouped by agency, region, status or month, over what the caller may see. The counting is
``server.evidence.statistics``."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import parse_query
from mobile_api.evidence import MomentField
from mobile_api.exports import FORMAT_PARAMETER, TABLE_RESPONSES, FileFormatNegotiation, table_response
from server import access
from server.evidence import statistics
from server.fields import InstantField


class StatisticsQuery(serializers.Serializer):
    by = serializers.ChoiceField(
        choices=statistics.BY,
        default="agency",
        help_text="agency (the agency's id), region (the 6-digit code), status (each measure's own), "
        "month (YYYY-MM, Asia/Shanghai).",
    )
    since = MomentField(required=False, allow_null=True, default=None, help_text="From this date or time.")
    until = MomentField(
        required=False, allow_null=True, default=None, end_of_day=True, help_text="Up to this date or time."
    )


class StatisticsGroupOut(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class StatisticsMeasureOut(serializers.Serializer):
    total = serializers.IntegerField()
    groups = StatisticsGroupOut(many=True)


class StatisticsMeasuresOut(serializers.Serializer):
    projects = StatisticsMeasureOut(help_text="Monitoring projects, by when they were registered.")
    tasks = StatisticsMeasureOut(help_text="Monitoring tasks, by when they were created.")
    om_records = StatisticsMeasureOut(help_text="O&M records (drafts only for their agency), by their day.")
    violations = StatisticsMeasureOut(
        help_text="Violations and rectification orders, by when they were opened."
    )
    flagged_photos = StatisticsMeasureOut(help_text="Photos judged warn or fail, by when they were received.")
    flagged_checkins = StatisticsMeasureOut(
        help_text="Check-ins outside their geofence or with a coordinate mix-up, by when they were received."
    )


class StatisticsOut(serializers.Serializer):
    by = serializers.ChoiceField(choices=statistics.BY)
    since = InstantField(allow_null=True)
    until = InstantField(allow_null=True)
    measures = StatisticsMeasuresOut()


class StatisticsView(APIView):
    """查询统计: regulators their region, an agency's main and manager accounts their agency."""

    @extend_schema(parameters=[StatisticsQuery], responses=StatisticsOut)
    def get(self, request: Request) -> Response:
        access.require_role(request.user, statistics.STATISTICS_ROLES)
        params = parse_query(StatisticsQuery, request.query_params)
        counts = statistics.statistics(
            user=request.user, by=params["by"], since=params["since"], until=params["until"]
        )
        return Response(StatisticsOut(counts).data)


class StatisticsExportQuery(StatisticsQuery):
    format = serializers.ChoiceField(choices=["xlsx", "csv"], default="xlsx")


# Column headings of the export, one per measure, in the order of ``StatisticsMeasuresOut``.
MEASURE_HEADERS = {
    "projects": "监测项目",
    "tasks": "监测任务",
    "om_records": "运维记录",
    "violations": "违规",
    "flagged_photos": "问题照片",
    "flagged_checkins": "异常签到",
}
BY_HEADERS = {
    "agency": ("机构", "机构编号"),
    "region": ("地区", "行政区划代码"),
    "status": ("状态", "状态代码"),
    "month": ("月份", ""),
}


def statistics_rows(counts: dict) -> list[list]:
    """One row per group (named: a region as 上海市徐汇区, with its code beside it), a count per
    measure, and a total row."""
    labels: dict[str, str] = {}
    for measure in MEASURE_HEADERS:
        for group in counts["measures"][measure]["groups"]:
            labels.setdefault(group["key"], group["label"] or "未知")
    keys = sorted(labels, key=lambda k: (labels[k], k)) if counts["by"] == "agency" else sorted(labels)
    by_measure = {m: {g["key"]: g["count"] for g in counts["measures"][m]["groups"]} for m in MEASURE_HEADERS}
    code_column = bool(BY_HEADERS[counts["by"]][1])
    rows = []
    for key in keys:
        head = [labels[key], key] if code_column else [labels[key]]
        rows.append(head + [by_measure[m].get(key, 0) for m in MEASURE_HEADERS])
    total = ["合计", ""] if code_column else ["合计"]
    rows.append(total + [counts["measures"][m]["total"] for m in MEASURE_HEADERS])
    return rows


class StatisticsExportView(APIView):
    """查询统计的导出: the same counts as ``GET /statistics`` as XLSX (default) or CSV, each group
    named (regions by name, their code in a column beside)."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(parameters=[StatisticsQuery, FORMAT_PARAMETER], responses=TABLE_RESPONSES)
    def get(self, request: Request) -> HttpResponse:
        access.require_role(request.user, statistics.STATISTICS_ROLES)
        params = parse_query(StatisticsExportQuery, request.query_params)
        counts = statistics.statistics(
            user=request.user, by=params["by"], since=params["since"], until=params["until"]
        )
        label, code = BY_HEADERS[params["by"]]
        headers = [label, code] if code else [label]
        return table_response(
            params["format"],
            title="查询统计",
            headers=[*headers, *MEASURE_HEADERS.values()],
            rows=statistics_rows(counts),
        )
