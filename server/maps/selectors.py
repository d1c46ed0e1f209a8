"""What the map page draws, as one GeoJSON FeatureCollection, read through ``server.access`` scopes.

Layers (``properties.layer``):

- ``outlet``: an outlet or monitoring point with its geofence radius (``geofence_m``);
- ``checkin``: a check-in with its verdict, distance, accuracy radius (``accuracy_m``);
- ``track``: one segment of a task's track (``services.track_summary``: kept points only, split at
  gaps over 5 minutes and at the task's pauses), simplified to 5 m;
- ``track_gap``: the straight line between one segment's last point and the next segment's first
  point of the same phone. Nothing was recorded there; the page draws it dashed and thin;
- ``photo``: a flagged photo (verdict warn or fail) at its capture fix, with its thumbnail's address.

Coordinates are WGS-84, or GCJ-02 when the base map is (``MAP_TILE_SYSTEM``): converted here, once,
just before they leave (``server.geo.from_wgs84``). Radii stay in metres. Each layer is capped
(``LIMITS``); a capped layer is named in ``truncated``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.db.models.functions import Coalesce
from django.urls import reverse

from media_rules.models import Verdict
from server.access import checkins_for, om_tasks_for, outlets_for, photos_for, tasks_for
from server.accounts.models import User
from server.fields import instant
from server.fieldwork.models import MonitoringTask
from server.geo import CoordinateSystem, from_wgs84
from server.om.models import OmTask
from server.tracks import rules
from server.tracks.models import TrackPoint
from server.tracks.services import Segment, track_summary

# Enough for a district's day of field work; a track costs three queries (track_summary), so tracks
# are capped lowest.
LIMITS = {"outlet": 2000, "checkin": 2000, "photo": 1000, "track": 30}
SIMPLIFY_M = 5.0
FLAGGED = (Verdict.WARN, Verdict.FAIL)


@dataclass(frozen=True)
class MapFilters:
    start: dt.datetime  # aware, included
    end: dt.datetime  # aware, excluded
    task: MonitoringTask | None = None
    om_task: OmTask | None = None


class _Projector:
    """WGS-84 -> the base map's system, as GeoJSON ``[lon, lat]`` rounded to about 1 cm."""

    def __init__(self, system: str) -> None:
        self.gcj02 = system == CoordinateSystem.GCJ02.value

    def xy(self, lon: float, lat: float) -> list[float]:
        if self.gcj02:
            lon, lat = from_wgs84(lon, lat, CoordinateSystem.GCJ02.value)
        return [round(lon, 7), round(lat, 7)]


def _task_page(task_id) -> str | None:
    """The workspace page a popup links to: the monitoring task's (its stages, photos and events)."""
    return reverse("workspace:task", args=[task_id]) if task_id else None


def _feature(geometry: dict, **properties: Any) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _point(xy: list[float]) -> dict:
    return {"type": "Point", "coordinates": xy}


def _person(user: User) -> str:
    return user.get_full_name() or user.username


def _capped(rows: list, layer: str, truncated: list[str]) -> list:
    if len(rows) > LIMITS[layer]:
        truncated.append(layer)
        return rows[: LIMITS[layer]]
    return rows


def map_features(user: User, filters: MapFilters, *, system: str = "wgs84") -> dict:
    """The FeatureCollection the map page draws for ``user`` (see the module's docstring)."""
    project = _Projector(system)
    truncated: list[str] = []
    features = [
        *_outlets(user, filters, project, truncated),
        *_tracks(user, filters, project, truncated),
        *_checkins(user, filters, project, truncated),
        *_photos(user, filters, project, truncated),
    ]
    counts: dict[str, int] = {}
    for feature in features:
        layer = feature["properties"]["layer"]
        counts[layer] = counts.get(layer, 0) + 1
    return {
        "type": "FeatureCollection",
        "coordinate_system": system,
        "start": instant(filters.start),
        "end": instant(filters.end),
        "counts": counts,
        "truncated": truncated,
        "features": features,
    }


def _outlets(user: User, filters: MapFilters, project: _Projector, truncated: list[str]) -> list[dict]:
    qs = outlets_for(user).select_related("enterprise").order_by("enterprise_id", "name", "id")
    if filters.om_task is not None:
        qs = qs.filter(om_tasks=filters.om_task)
    elif filters.task is not None:
        qs = qs.filter(enterprise_id=filters.task.project.enterprise_id)
    rows = _capped(list(qs[: LIMITS["outlet"] + 1]), "outlet", truncated)
    return [
        _feature(
            _point(project.xy(o.location.x, o.location.y)),
            layer="outlet",
            id=o.pk,
            name=o.name,
            code=o.code,
            kind=o.get_kind_display(),
            enterprise=o.enterprise.name,
            geofence_m=o.geofence_radius_m,
        )
        for o in rows
    ]


def _checkins(user: User, filters: MapFilters, project: _Projector, truncated: list[str]) -> list[dict]:
    qs = (
        checkins_for(user)
        .filter(at__gte=filters.start, at__lt=filters.end)
        .select_related("user", "outlet", "task", "om_task")
        .order_by("-at", "id")
    )
    if filters.task is not None:
        qs = qs.filter(task=filters.task)
    if filters.om_task is not None:
        qs = qs.filter(om_task=filters.om_task)
    rows = _capped(list(qs[: LIMITS["checkin"] + 1]), "checkin", truncated)
    return [
        _feature(
            _point(project.xy(c.location.x, c.location.y)),
            layer="checkin",
            id=str(c.pk),
            verdict=c.verdict,
            verdict_label=c.get_verdict_display(),
            kind=c.get_kind_display(),
            at=instant(c.at),
            user=_person(c.user),
            accuracy_m=c.accuracy_m,
            distance_m=None if c.distance_m is None else round(c.distance_m, 1),
            geofence_m=c.geofence_m,
            mock=c.mock,
            outlet=c.outlet.name if c.outlet else "",
            task=c.task.name if c.task else (c.om_task.name if c.om_task else ""),
            page=_task_page(c.task_id),
        )
        for c in rows
    ]


def _photos(user: User, filters: MapFilters, project: _Projector, truncated: list[str]) -> list[dict]:
    qs = (
        photos_for(user)
        .filter(verdict__in=FLAGGED, fix_location__isnull=False)
        # The capture time when the evidence gives one, else when the server heard of the photo.
        .annotate(when=Coalesce("captured_at", "recorded_at"))
        .filter(when__gte=filters.start, when__lt=filters.end)
        .select_related("photo_type", "blob", "outlet", "task", "taken_by")
        .order_by("-when", "id")
    )
    if filters.task is not None:
        qs = qs.filter(task=filters.task)
    if filters.om_task is not None:
        # O&M photos are site photos: the task's points, taken by the task's agency.
        qs = qs.filter(
            task__isnull=True, agency_id=filters.om_task.agency_id, outlet__om_tasks=filters.om_task
        )
    rows = _capped(list(qs[: LIMITS["photo"] + 1]), "photo", truncated)
    out = []
    for p in rows:
        has_thumbnail = p.blob is not None and bool(p.blob.thumbnail)
        out.append(
            _feature(
                _point(project.xy(p.fix_location.x, p.fix_location.y)),
                layer="photo",
                id=str(p.pk),
                verdict=p.verdict,
                verdict_label=p.get_verdict_display(),
                photo_type=p.photo_type.name,
                at=instant(p.when),
                taken_by=_person(p.taken_by),
                accuracy_m=p.fix_accuracy_m,
                outlet=p.outlet.name if p.outlet else "",
                task=p.task.name if p.task else "",
                thumbnail=reverse("mobile_api:photo-thumbnail", args=[p.pk]) if has_thumbnail else None,
                file=reverse("mobile_api:photo-file", args=[p.pk]) if p.blob_id else None,
                page=reverse("workspace:photo", args=[p.pk]),
                findings=[
                    {"severity": f.get("severity"), "message": (f.get("message") or {}).get("zh-hans", "")}
                    for f in p.findings
                    if f.get("severity") in FLAGGED
                ],
            )
        )
    return out


def _tracks(user: User, filters: MapFilters, project: _Projector, truncated: list[str]) -> list[dict]:
    """The tracks of the tasks with kept points in the range, each whole: a task's track is one
    outing, and cutting it at midnight would draw a gap that is not there."""
    if filters.om_task is not None:
        return []  # O&M work records check-ins, not tracks
    recorded = TrackPoint.objects.filter(
        filtered=rules.KEPT, recorded_at__gte=filters.start, recorded_at__lt=filters.end
    )
    tasks = tasks_for(user).filter(pk__in=recorded.values("task_id"))
    if filters.task is not None:
        tasks = tasks.filter(pk=filters.task.pk)
    rows = _capped(list(tasks.order_by("-created_at", "id")[: LIMITS["track"] + 1]), "track", truncated)
    out = []
    for task in rows:
        by_device: dict[str | None, list[Segment]] = {}
        for segment in track_summary(task).segments:
            by_device.setdefault(segment.device_id, []).append(segment)
        for segments in by_device.values():
            segments.sort(key=lambda s: s.number)
            for segment in segments:
                out.append(_segment_feature(task, segment, project))
            for before, after in pairwise(segments):
                out.append(_gap_feature(task, before, after, project))
    return out


def _segment_feature(task: MonitoringTask, segment: Segment, project: _Projector) -> dict:
    line = (
        segment.simplified(SIMPLIFY_M)
        if len(segment.points) > 2
        else [(p.lon, p.lat) for p in segment.points]
    )
    if len(line) == 1:  # a lone fix: a line needs two positions
        line = line * 2
    return _feature(
        {"type": "LineString", "coordinates": [project.xy(lon, lat) for lon, lat in line]},
        layer="track",
        task_id=str(task.pk),
        page=_task_page(task.pk),
        task=task.name,
        device=segment.device_id,
        segment=segment.number,
        started_at=instant(segment.started_at),
        ended_at=instant(segment.ended_at),
        length_m=round(segment.length_m, 1),
        duration_s=round(segment.duration_s),
        points=len(segment.points),
    )


def _gap_feature(task: MonitoringTask, before: Segment, after: Segment, project: _Projector) -> dict:
    start, end = before.points[-1], after.points[0]
    return _feature(
        {
            "type": "LineString",
            "coordinates": [project.xy(start.lon, start.lat), project.xy(end.lon, end.lat)],
        },
        layer="track_gap",
        task_id=str(task.pk),
        page=_task_page(task.pk),
        task=task.name,
        device=before.device_id,
        after_segment=before.number,
        started_at=instant(start.at),
        ended_at=instant(end.at),
        gap_s=round((end.at - start.at).total_seconds()),
    )


def filter_choices(user: User, limit: int = 200) -> tuple[list[MonitoringTask], list[OmTask]]:
    """The latest tasks and O&M tasks the user sees, for the page's filter lists."""
    tasks = list(tasks_for(user).select_related("project").order_by("-created_at", "id")[:limit])
    om_tasks = list(om_tasks_for(user).order_by("-starts_on", "-id")[:limit])
    return tasks, om_tasks
