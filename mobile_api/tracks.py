"""A task's track (监测航迹) online: append a batch (the same service as the ``track.append`` sync
operation), draw it as GeoJSON (one simplified LineString per segment), list raw points in a bbox."""

from __future__ import annotations

import math

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from mobile_api.common import XLSX, FilterSet, parse, parse_query
from mobile_api.exports import (
    CRS_PARAMETER,
    CSV,
    GEOJSON,
    CheckInExportIn,
    FileFormatNegotiation,
    checkin_export,
)
from server import access
from server.accounts.models import Device
from server.errors import DomainError
from server.fields import InstantField
from server.tracks import checkins, errors, services
from server.tracks.models import CheckIn, TrackPoint
from server.tracks.operations import CheckInPayload, TrackBatchIn, points_of, record_checkin, visible_task


class TrackIn(TrackBatchIn):
    device_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The phone that recorded the points; defaults to the token's device.",
    )


class IngestOut(serializers.Serializer):
    received = serializers.IntegerField()
    stored = serializers.IntegerField(help_text="New points, kept or filtered.")
    duplicates = serializers.IntegerField(help_text="Already stored for this device and time.")
    kept = serializers.IntegerField()
    filtered = serializers.DictField(child=serializers.IntegerField(), help_text="New points by reason.")
    rejudged = serializers.IntegerField(help_text="Stored later points judged again after a late batch.")


class SegmentProperties(serializers.Serializer):
    device = serializers.UUIDField(allow_null=True)
    segment = serializers.IntegerField()
    started_at = InstantField()
    ended_at = InstantField()
    duration_s = serializers.FloatField()
    length_m = serializers.FloatField()
    points = serializers.IntegerField(help_text="Kept points in the segment.")
    line_points = serializers.IntegerField(help_text="Points of the simplified line.")


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["LineString", "Point"]},
            "coordinates": {"type": "array", "items": {}},
        },
    }
)
class LineGeometryField(GeometryField):
    """GeoJSON geometry of a segment's simplified line."""


class SegmentFeature(serializers.Serializer):
    type = serializers.CharField(default="Feature")
    geometry = LineGeometryField(help_text="A LineString (a Point for a one-point segment), WGS-84.")
    properties = SegmentProperties()


class TrackOut(serializers.Serializer):
    type = serializers.CharField(default="FeatureCollection")
    features = SegmentFeature(many=True)
    length_m = serializers.FloatField()
    duration_s = serializers.FloatField()
    stored = serializers.IntegerField()
    kept = serializers.IntegerField()
    filtered = serializers.DictField(child=serializers.IntegerField())


class TrackPointOut(GeoFeatureModelSerializer):
    # Named as a capture fix is named everywhere (server/capture.py, F10 item 5), inputs and outputs.
    mock_location = serializers.BooleanField(source="mock", read_only=True)

    class Meta:
        model = TrackPoint
        geo_field = "location"
        fields = (
            "id",
            "device",
            "recorded_at",
            "longitude",
            "latitude",
            "coordinate_system",
            "accuracy_m",
            "speed_mps",
            "bearing",
            "altitude_m",
            "mock_location",
            "filtered",
            "segment",
        )


def _device(request: Request, device_id) -> Device | None:
    if device_id is not None:
        device = Device.objects.filter(pk=device_id, user=request.user).first()
        if device is None:
            raise DomainError(errors.TRACK_DEVICE_UNKNOWN)
        return device
    record = getattr(request, "device_token", None)
    return record.device if record is not None else None


def _feature(segment: services.Segment) -> dict:
    line = segment.simplified()
    geometry = (
        {"type": "LineString", "coordinates": [list(c) for c in line]}
        if len(line) > 1
        else {"type": "Point", "coordinates": list(line[0])}
    )
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "device": segment.device_id,
            "segment": segment.number,
            "started_at": segment.started_at,
            "ended_at": segment.ended_at,
            "duration_s": segment.duration_s,
            "length_m": round(segment.length_m, 3),
            "points": len(segment.points),
            "line_points": len(line),
        },
    }


class TrackView(APIView):
    @extend_schema(responses=TrackOut, summary="The task's track as GeoJSON, one feature per segment")
    def get(self, request: Request, task_id) -> Response:
        summary = services.track_summary(visible_task(request.user, task_id))
        body = {
            "type": "FeatureCollection",
            "features": [_feature(segment) for segment in summary.segments],
            "length_m": round(summary.length_m, 3),
            "duration_s": summary.duration_s,
            "stored": summary.stored,
            "kept": summary.kept,
            "filtered": summary.filtered,
        }
        return Response(TrackOut(body).data)

    @extend_schema(request=TrackIn, responses=IngestOut, summary="Append a batch of track points")
    def post(self, request: Request, task_id) -> Response:
        task = visible_task(request.user, task_id)
        data = parse(TrackIn, request.data)
        result = services.track_append(
            actor=request.user, task=task, device=_device(request, data["device_id"]), points=points_of(data)
        )
        return Response(IngestOut(result).data)


BBOX = OpenApiParameter(
    "bbox", str, required=False, description="minlon,minlat,maxlon,maxlat (WGS-84): only points inside."
)


class TrackPointPagination(GeoJsonPagination):
    page_size = 500
    max_page_size = 2000

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """A page is the list's FeatureCollection (``schema``: its type and features) with count, next
        and previous. rest_framework_gis's own schema keeps DRF's required ``results`` and puts the
        whole collection where the features go, which answers do not match."""
        page = super(GeoJsonPagination, self).get_paginated_response_schema(schema)
        del page["properties"]["results"]
        page["required"] = ["count"]
        return {"allOf": [schema, page]}


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise DomainError(errors.TRACK_BBOX_INVALID) from None
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise DomainError(errors.TRACK_BBOX_INVALID)
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise DomainError(errors.TRACK_BBOX_INVALID)
    return min_lon, min_lat, max_lon, max_lat


class TrackPointList(ListAPIView):
    """Every raw point of the task, filtered ones with their reason, in time order."""

    queryset = TrackPoint.objects.none()  # for the schema; requests use get_queryset
    serializer_class = TrackPointOut
    pagination_class = TrackPointPagination

    def get_queryset(self):
        from django.contrib.gis.geos import Polygon

        task = visible_task(self.request.user, self.kwargs["task_id"])
        qs = TrackPoint.objects.filter(task_id=task.pk).order_by("recorded_at", "id")
        bbox = self.request.query_params.get("bbox")
        if bbox:
            polygon = Polygon.from_bbox(_bbox(bbox))
            polygon.srid = 4326
            qs = qs.filter(location__within=polygon)
        return qs

    @extend_schema(parameters=[BBOX], summary="The task's raw track points (GeoJSON, paginated)")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


# --- Check-ins --------------------------------------------------------------------------------------
class CheckInIn(CheckInPayload):
    id = serializers.UUIDField(help_text="The phone's UUID for this check-in (a retry sends it again).")
    device_clock = InstantField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The phone's clock when sending: corrects time.",
    )


class CheckInOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    at = InstantField()
    task = serializers.UUIDField(source="task_id", allow_null=True)
    om_task = serializers.IntegerField(source="om_task_id", allow_null=True)
    outlet = serializers.IntegerField(source="outlet_id", allow_null=True)
    longitude = serializers.FloatField(source="location.x", help_text="WGS-84.")
    latitude = serializers.FloatField(source="location.y", help_text="WGS-84.")
    given = serializers.SerializerMethodField()
    accuracy_m = serializers.FloatField(allow_null=True)
    distance_m = serializers.FloatField(allow_null=True)
    geofence_m = serializers.FloatField(allow_null=True)
    verdict = serializers.ChoiceField(choices=CheckIn.Verdict.choices)
    findings = serializers.ListField(child=serializers.DictField())

    @extend_schema_field(serializers.DictField())
    def get_given(self, checkin: CheckIn) -> dict:
        return {
            "longitude": checkin.given_longitude,
            "latitude": checkin.given_latitude,
            "system": checkin.given_system,
        }


# GET /checkins/latest: a CheckInOut, or null (drf-spectacular marks no top-level answer nullable).
LATEST_CHECKIN = {"nullable": True, "allOf": [{"$ref": "#/components/schemas/CheckInOut"}]}


class CheckInFilter(FilterSet):
    class Meta:
        model = CheckIn
        fields = ["task", "om_task", "outlet", "kind", "verdict"]


class CheckInViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """GPS check-ins (签到) for a monitoring task, or at an O&M task's point."""

    queryset = CheckIn.objects.none()  # for the schema; requests use get_queryset
    serializer_class = CheckInOut
    filterset_class = CheckInFilter

    def get_queryset(self):
        return access.checkins_for(self.request.user).order_by("-at", "id")

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(
        request=CheckInIn,
        responses={201: CheckInOut, 200: CheckInOut},
        description=(
            "Check in with the phone's fix (any coordinate system; stored in WGS-84). The answer says "
            "how far the site is and whether the fix is inside its geofence (accuracy-aware), or a "
            "coordinate-system mix-up. The same id again answers the stored check-in (200); another "
            "check-in under that id is 409 checkin_conflict. Offline: the checkin.record operation."
        ),
    )
    def create(self, request: Request) -> Response:
        data = parse(CheckInIn, request.data)
        clock = data.get("device_clock")
        checkin, created = record_checkin(
            user=request.user,
            device=_device(request, None),
            checkin_id=data["id"],
            data=data,
            clock_offset=timezone.now() - clock if clock else None,
            fallback_time=timezone.now(),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(CheckInOut(checkin).data, status=code)

    @extend_schema(
        responses={
            200: OpenApiResponse(LATEST_CHECKIN, description="The check-in, or null before the first.")
        },
        description="Your latest check-in: the home screen's location; null when you have none yet (a "
        "404 is a wrong URL, not an empty answer: F10 item 6).",
    )
    @action(detail=False, methods=["get"])
    def latest(self, request: Request) -> Response:
        checkin = checkins.latest_checkin(request.user)
        if checkin is None:
            return JsonResponse(None, safe=False)  # a JSON null: DRF's renderer writes an empty body
        return Response(CheckInOut(checkin).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["xlsx", "csv", "geojson"], description="xlsx (default)"),
            CRS_PARAMETER,
        ],
        responses={
            (200, XLSX): OpenApiTypes.BINARY,
            (200, CSV): OpenApiTypes.STR,
            (200, GEOJSON): OpenApiTypes.OBJECT,
        },
        filters=True,
    )
    @action(detail=False, methods=["get"], content_negotiation_class=FileFormatNegotiation)
    def export(self, request: Request) -> HttpResponse | StreamingHttpResponse:
        """导出: the check-ins the list shows for the same filters, as Excel, CSV or GeoJSON (a
        FeatureCollection of points with verdict, distance, accuracy and times)."""
        data = parse_query(CheckInExportIn, request.query_params)
        related = self.get_queryset().select_related("user__person", "task", "om_task", "outlet")
        return checkin_export(self.filter_queryset(related), data["format"], data["crs"])
