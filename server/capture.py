"""A capture fix: where and when a phone was when it took a photo, checked in or recorded a track
point. One vocabulary, written once here and read by photos, check-ins, track points and their sync
payloads (F10 item 5: a check-in read ``mock`` and ``time`` where a photo read ``mock_location`` and
``device_time``, and a check-in sent with ``mock_location: true`` was stored ``inside``).

The subclasses leave out (``name = None``) what their record does not keep: a field accepted and
not stored would be a field silently dropped (server/strict.py).
"""

from __future__ import annotations

from rest_framework import serializers

from server.fields import InstantField
from server.geo import CoordinateSystem

SYSTEMS = CoordinateSystem.choices()
SYSTEM_HELP = (
    "The system of longitude/latitude (wx.getLocation gives gcj02 when asked for it); stored converted "
    "to WGS-84."
)


class CaptureFixIn(serializers.Serializer):
    longitude = serializers.FloatField(help_text="In the system named by coordinate_system.")
    latitude = serializers.FloatField(help_text="In the system named by coordinate_system.")
    coordinate_system = serializers.ChoiceField(choices=SYSTEMS, help_text=SYSTEM_HELP)
    accuracy_m = serializers.FloatField(
        required=False, allow_null=True, default=None, help_text="The fix's horizontal accuracy, metres."
    )
    mock_location = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The OS flagged the fix as from a mock location provider (Android Location.isMock()).",
    )
    fix_time = InstantField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The location fix's own timestamp (Android Location.getTime(), iOS CLLocation.timestamp: "
        "satellite or network time). Not corrected by the phone's clock offset: leave it out when the "
        "only time known is the phone's clock (wx.getLocation gives none).",
    )
    device_time = InstantField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The phone's clock at the capture; corrected by the clock offset the request or the "
        "push measures (device_clock, the push's device_time).",
    )
    # Names phones sent before F10 item 5: refused as unknown, the message naming the new one.
    renamed_fields = {"mock": "mock_location", "time": "device_time"}


class OptionalFixIn(CaptureFixIn):
    """A capture fix that may be absent (a photo taken without a location): longitude and latitude
    come together, with their coordinate system."""

    longitude = serializers.FloatField(required=False, allow_null=True, default=None)
    latitude = serializers.FloatField(required=False, allow_null=True, default=None)
    coordinate_system = serializers.ChoiceField(
        choices=SYSTEMS,
        required=False,
        allow_blank=True,
        default="",
        help_text=SYSTEM_HELP,
    )

    def validate(self, attrs):
        located = attrs.get("longitude") is not None, attrs.get("latitude") is not None
        if any(located) and not all(located):
            raise serializers.ValidationError({"latitude": "经度和纬度须一起提交。"})
        if all(located) and not attrs.get("coordinate_system"):
            raise serializers.ValidationError({"coordinate_system": "请说明坐标系（wgs84、gcj02 或 bd09）。"})
        return super().validate(attrs)
