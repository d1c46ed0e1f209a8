"""Tracks and check-ins in the admin: written only by phones, so shown read-only."""

from django.contrib import admin

from server.maps.widgets import MapAdminMixin, point_map
from server.tracks.models import CheckIn, TrackPoint
from sync.admin import ReadOnly


@admin.register(CheckIn)
class CheckInAdmin(MapAdminMixin, ReadOnly):
    list_display = ["at", "user", "kind", "verdict", "distance_m", "accuracy_m", "task", "om_task", "outlet"]
    list_filter = ["verdict", "kind", "mock"]
    search_fields = ["=id", "user__username", "=task__id", "outlet__name"]
    list_select_related = ["user", "task", "om_task", "outlet"]
    date_hierarchy = "at"
    readonly_fields = ["location_map"]
    location_map = point_map("location", "地图")


@admin.register(TrackPoint)
class TrackPointAdmin(MapAdminMixin, ReadOnly):
    list_display = ["recorded_at", "task", "device", "accuracy_m", "filtered", "segment"]
    list_filter = ["filtered"]
    search_fields = ["=task__id"]
    list_select_related = ["task", "device"]
    date_hierarchy = "recorded_at"
    readonly_fields = ["location_map"]
    location_map = point_map("location", "地图")
