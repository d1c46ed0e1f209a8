"""The evidence queue (``GET /evidence``) for regulators and agency admins: flagged photos, check-ins
outside their geofence, offline work held past its deadline, sync conflicts, overdue O&M plans and
O&M records whose computed judgement fails,
newest first, each with its evidence and the body that opens a violation from it. The queue is
``server.evidence.selectors``; this view parses, calls it and renders."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from mobile_api.common import parse_query
from server import access
from server.errors import request_language
from server.evidence import selectors
from server.evidence.selectors import KINDS, QueueQuery
from server.fields import DayField, IdField, InstantField, check_day, instant


# --- Input ----------------------------------------------------------------------------------------
@extend_schema_field(OpenApiTypes.STR)
class MomentField(serializers.Field):
    """A date (``2026-05-04``: the whole day, Asia/Shanghai) or a date-time with its offset."""

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> dt.datetime:
        value = str(data).strip()
        try:
            if len(value) == 10:
                day = check_day(dt.date.fromisoformat(value))
                start = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())
                return start + dt.timedelta(days=1, microseconds=-1) if self.end_of_day else start
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid")
        check_day(moment.date())
        if moment.tzinfo is None:
            moment = timezone.make_aware(moment)
        return moment

    def to_representation(self, value):
        return instant(value)

    default_error_messages = {
        "invalid": "须为日期（2026-05-04）或带时区的时间（2026-05-04T08:00:00+08:00）。"
    }


class EvidenceQuery(serializers.Serializer):
    kind = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text=f"Comma-separated kinds ({', '.join(KINDS)}); all of them when absent.",
    )
    agency = IdField(required=False, allow_null=True, default=None)
    since = MomentField(
        required=False,
        allow_null=True,
        default=None,
        help_text="From this date (its start) or time, by `at`.",
    )
    until = MomentField(
        required=False,
        allow_null=True,
        default=None,
        end_of_day=True,
        help_text="Up to this date (its end) or time, by `at`.",
    )
    cursor = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="`next` of the previous page gives it."
    )
    page_size = serializers.IntegerField(
        required=False, default=50, min_value=1, max_value=selectors.MAX_PAGE
    )

    def validate_kind(self, value: str) -> frozenset[str]:
        kinds = frozenset(k.strip() for k in value.split(",") if k.strip())
        unknown = sorted(kinds - set(KINDS))
        if unknown:
            raise serializers.ValidationError(f"未知的类型：{', '.join(unknown)}；可选 {', '.join(KINDS)}。")
        return kinds or frozenset(KINDS)


# --- Output ---------------------------------------------------------------------------------------
class EvidenceRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EvidenceSubjectOut(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["project", "om_task", "outlet"],
        help_text="project: a monitoring project; om_task: an O&M task; outlet: a site, when nothing "
        "else is.",
    )
    id = serializers.IntegerField()
    label = serializers.CharField()


class EvidenceViolationBodyOut(serializers.Serializer):
    """Exactly the body of ``POST /violations``: a suggested description and deadline (a week from
    today) that the page may change before sending it."""

    project = IdField(required=False)
    om_task = IdField(required=False)
    om_record = serializers.UUIDField(required=False)
    photo = serializers.UUIDField(required=False)
    checkin = serializers.UUIDField(required=False)
    description = serializers.CharField()
    deadline = DayField()


class EvidenceItemOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS))
    at = InstantField(
        help_text="When the server learned of it: a photo or check-in received, an operation received, "
        "an O&M occurrence's window passed, an O&M record first submitted."
    )
    agency = EvidenceRefOut(allow_null=True)
    enterprise = EvidenceRefOut(allow_null=True)
    subject = EvidenceSubjectOut(
        allow_null=True, help_text="Null: an offline operation on nothing the server holds yet."
    )
    evidence = serializers.DictField(
        help_text="By kind. photo: findings (with distances, times, duplicate photo ids), duplicates, "
        "thumbnail; checkin: distance_m, geofence_m, accuracy_m, position, findings; held: state "
        "(held_past_deadline, flagged_for_review, processed_late), waits_for, held_hours; conflict: "
        "reason, fields (kept and other values); overdue: plan, window_start, window_end, days_overdue; "
        "judgement: om_record, template_name, om_date, status, outlet, filled_by, judged and failed (each "
        "failing judgement's label, value and value_text, limit and limit_text, limit_type, limit_unit, "
        "source: the standard's clause, provisional: 待核实, text: the whole sentence)."
    )
    open_violation = EvidenceViolationBodyOut(
        allow_null=True,
        help_text="POST it to /violations to open a violation (a project) or a rectification order (an "
        "O&M task) from this item; null when none applies or the caller may not open one.",
    )


class EvidencePageOut(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null at the end.")
    results = EvidenceItemOut(many=True)


# --- View -----------------------------------------------------------------------------------------
class EvidenceView(APIView):
    """证据队列: flagged evidence first. Regulators see their region, an agency's main and manager
    accounts their agency; others are refused (403)."""

    @extend_schema(parameters=[EvidenceQuery], responses=EvidencePageOut)
    def get(self, request: Request) -> Response:
        access.require_role(request.user, selectors.QUEUE_ROLES)
        params = parse_query(EvidenceQuery, request.query_params)
        query = QueueQuery(
            kinds=params["kind"] if params["kind"] else frozenset(KINDS),
            agency=params["agency"],
            since=params["since"],
            until=params["until"],
            cursor=selectors.decode_cursor(params["cursor"]) if params["cursor"] else None,
            limit=params["page_size"],
            language=request_language(request),
            opens_violations=request.user.role in selectors.OPENS_VIOLATIONS,
            thumbnail_url=lambda pk: reverse("mobile_api:photo-thumbnail", args=[pk]),
        )
        page = selectors.queue(user=request.user, query=query)
        next_url = None
        if page.next is not None:
            url = request.build_absolute_uri()
            next_url = replace_query_param(url, "cursor", selectors.encode_cursor(page.next))
        return Response(EvidencePageOut({"next": next_url, "results": page.items}).data)
