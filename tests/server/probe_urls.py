"""A URLconf for the error-shape tests: the real routes plus one DRF view that can fail on demand.

The view goes through the same DRF settings, exception handler and middleware as every endpoint.
"""

from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from server.errors import DomainError, ErrorCode
from server.urls import handler400, handler403, handler404, handler500
from server.urls import urlpatterns as real_urlpatterns

PROBE_RULE = ErrorCode(
    "probe_rule_broken", 409, "规则 {rule} 不允许此操作。", "Rule {rule} does not allow this."
)


class ProbeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["ok", "domain", "crash"])
    count = serializers.IntegerField(min_value=1)


class ProbeView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request):
        data = ProbeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = data.validated_data["outcome"]
        if outcome == "domain":
            raise DomainError(PROBE_RULE, details={"rule": "R7"}, rule="R7")
        if outcome == "crash":
            raise RuntimeError("an unexpected bug")
        return Response({"ok": True})


urlpatterns = [path("probe", ProbeView.as_view()), *real_urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
