"""The admin's maps: django-leaflet's widget on the same base map as the map page.

Points are stored in WGS-84. On GCJ-02 tiles (``MAP_TILE_SYSTEM=gcj02``: Gaode, Tencent) a point is
shown shifted into GCJ-02 and what is drawn is shifted back before it is saved, so an outlet placed
on the map is stored where it is on the ground.

Read-only admins (check-ins, track points, photos: written only by phones) show no form widgets;
``point_map`` gives them a map of a point field that cannot be edited.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import admin
from django.contrib.gis.geos import GEOSGeometry, Point
from django.forms import Media
from leaflet.admin import LeafletAdminWidget, LeafletGeoAdminMixin

from server.geo import CoordinateSystem, from_wgs84, to_wgs84

GCJ02 = CoordinateSystem.GCJ02.value


def _on_gcj02() -> bool:
    return settings.MAP_TILE_SYSTEM == GCJ02


class MapWidget(LeafletAdminWidget):
    def serialize(self, value) -> str:
        if value and _on_gcj02() and value.geom_type == "Point":
            value = Point(*from_wgs84(value.x, value.y, GCJ02), srid=4326)
        return super().serialize(value)

    def deserialize(self, value) -> GEOSGeometry | None:
        geometry = super().deserialize(value)
        if geometry is not None and _on_gcj02() and geometry.geom_type == "Point":
            geometry = Point(*to_wgs84(geometry.x, geometry.y, GCJ02), srid=geometry.srid or 4326)
        return geometry


class MapAdminMixin(LeafletGeoAdminMixin):
    """``LeafletGeoAdminMixin`` with the coordinate-system-aware widget and Leaflet's files on every
    page (read-only pages render ``point_map`` outside any form)."""

    widget = MapWidget

    @property
    def media(self) -> Media:
        return super().media + MapWidget().media


class _ReadOnlyPointMap(MapWidget):
    modifiable = False
    geom_type = "POINT"


def point_map(field: str, description: str) -> Callable:
    """An admin display of ``field`` (a point) on a map that cannot be edited."""

    @admin.display(description=description)
    def show(model_admin, obj) -> str:
        value = getattr(obj, field)
        if value is None:
            return "-"
        widget = _ReadOnlyPointMap(attrs={"geom_type": "POINT"})
        widget.settings_overrides = getattr(model_admin, "settings_overrides", {})
        return widget.render(f"{field}_map", value, attrs={"id": f"id_{field}_map"})

    return show
