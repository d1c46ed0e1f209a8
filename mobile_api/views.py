from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.fields import InstantField

API_VERSION = "1"


class MetaSerializer(serializers.Serializer):
    api_version = serializers.CharField()
    server_time = InstantField(help_text="The server's clock (ISO 8601 with its UTC offset).")
    time_zone = serializers.CharField(help_text="The zone dates are displayed in.")
    languages = serializers.ListField(child=serializers.CharField())


class MetaView(APIView):
    """What a phone asks before it goes offline: the API version and the server's clock.

    Phone clocks are often wrong; the app keeps the offset between its clock and ``server_time``
    and sends it with what it records offline.
    """

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=MetaSerializer, auth=[])
    def get(self, request: Request) -> Response:
        data = {
            "api_version": API_VERSION,
            "server_time": timezone.now(),
            "time_zone": settings.TIME_ZONE,
            "languages": [code for code, _ in settings.LANGUAGES],
        }
        return Response(MetaSerializer(data).data)
