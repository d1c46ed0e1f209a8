"""WeChat subscription messages (订阅消息): what the phone's wx.requestSubscribeMessage answered, and
how many messages of each template the server may still send the user."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import parse
from server.notifications import subscriptions

MAX_RESULTS = 20  # WeChat asks about at most 3 templates per call; leave room, refuse junk


class SubscriptionsIn(serializers.Serializer):
    request_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The phone's UUID for this report: a retry with the same id counts once.",
    )
    results = serializers.DictField(
        child=serializers.ChoiceField(choices=sorted(subscriptions.RESULTS)),
        allow_empty=False,
        help_text="wx.requestSubscribeMessage's answer as it came: {template_id: accept|reject|ban|filter}.",
    )

    def validate_results(self, value: dict) -> dict:
        if len(value) > MAX_RESULTS:
            raise serializers.ValidationError(f"At most {MAX_RESULTS} templates per report.")
        if any(not key or len(key) > subscriptions.TEMPLATE_ID_MAX for key in value):
            raise serializers.ValidationError("A template id is 1 to 128 characters.")
        return value


class QuotaOut(serializers.Serializer):
    template_id = serializers.CharField()
    kinds = serializers.ListField(
        child=serializers.CharField(), help_text="The reminders sent with it (om_day_unconfirmed, …)."
    )
    remaining = serializers.IntegerField(help_text="How many more messages of it the user will get.")


class QuotasOut(serializers.Serializer):
    templates = QuotaOut(many=True, help_text="The templates to ask about first, then any others held.")


class SubscriptionsOut(QuotasOut):
    replayed = serializers.BooleanField(help_text="This request id was reported before: nothing changed.")
    granted = serializers.ListField(child=serializers.CharField(), help_text="Templates that gained one.")
    ignored = serializers.ListField(
        child=serializers.CharField(), help_text="Template ids the server does not send with."
    )


class SubscriptionsView(APIView):
    @extend_schema(responses=QuotasOut, summary="The user's remaining WeChat messages per template")
    def get(self, request: Request) -> Response:
        return Response(QuotasOut({"templates": subscriptions.quotas_for(request.user)}).data)

    @extend_schema(
        request=SubscriptionsIn,
        responses=SubscriptionsOut,
        summary="Report wx.requestSubscribeMessage's results: each accept is one more message",
    )
    def post(self, request: Request) -> Response:
        data = parse(SubscriptionsIn, request.data)
        outcome = subscriptions.subscriptions_report(
            user=request.user, results=data["results"], request_id=data["request_id"]
        )
        body = {
            "replayed": outcome.replayed,
            "granted": outcome.report.granted,
            "ignored": outcome.ignored,
            "templates": subscriptions.quotas_for(request.user),
        }
        return Response(SubscriptionsOut(body).data)
