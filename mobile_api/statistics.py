"""查询统计 (``GET /statistics``): counts of projects, monitoring tasks, O&M records and findings
grouped by agency, region, status or month, over what the caller may see. The counting is
``server.evidence.statistics``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import parse_query
from mobile_api.evidence import MomentField
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
