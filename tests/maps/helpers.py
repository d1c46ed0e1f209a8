"""A day of field work to draw, made by the services: a task at Shanghai's wastewater outlet (geofence
150 m) with a check-in inside and one 3 km outside, a track of two segments around a 10-minute gap,
and a photo some 1.7 km off the outlet (outside its geofence: fail) whose file was stored and thumbnailed."""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid
from dataclasses import dataclass

from django.utils import timezone
from PIL import Image

from media_rules import intake
from media_rules.holders import tenant_of
from media_rules.models import Photo, PhotoType
from media_rules.services import Manifest, photo_record
from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import task_create
from server.tracks.checkins import Position, checkin_record
from server.tracks.models import CheckIn
from server.tracks.services import ingest_points

INSIDE = "#2e7d32"
OUTSIDE = "#c62828"
MIXUP = "#ef6c00"


def offset(lon: float, lat: float, east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    """A point some metres east and north of (lon, lat) (small distances: a local flat earth)."""
    return (
        lon + east_m / (111_320.0 * math.cos(math.radians(lat))),
        lat + north_m / 110_540.0,
    )


def jpeg(color=(40, 120, 200), size=(320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Scene:
    task: MonitoringTask
    inside: CheckIn
    outside: CheckIn
    photo: Photo
    started: dt.datetime


def field_day(side, *, name: str = "地图核查任务") -> Scene:
    user, outlet = side.field_user, side.wastewater
    now = timezone.now().replace(microsecond=0)
    task, _ = task_create(actor=user, task_id=uuid.uuid4(), project=side.project, name=name)
    MonitoringTask.objects.filter(pk=task.pk).update(created_at=now - dt.timedelta(hours=1))
    task.refresh_from_db()
    lon, lat = outlet.location.x, outlet.location.y

    def checkin(east_m: float, accuracy_m: float, minutes_ago: int) -> CheckIn:
        x, y = offset(lon, lat, east_m=east_m)
        return checkin_record(
            actor=user,
            checkin_id=uuid.uuid4(),
            position=Position(lon=x, lat=y, system="wgs84", accuracy_m=accuracy_m),
            at=now - dt.timedelta(minutes=minutes_ago),
            task=task,
            outlet=outlet,
        )[0]

    inside = checkin(80, 20, 40)
    outside = checkin(3000, 60, 5)

    # Two walks of 8 fixes, 15 s and some 20 m apart, with 10 minutes of nothing between them.
    started = now - dt.timedelta(minutes=35)
    points = []
    for walk, (t0, north0) in enumerate(((started, -300.0), (started + dt.timedelta(minutes=12), 100.0))):
        for i in range(8):
            x, y = offset(lon, lat, east_m=100.0 * walk + 20.0 * i, north_m=north0 + 5.0 * i)
            points.append(
                {
                    "fix_time": t0 + dt.timedelta(seconds=15 * i),
                    "longitude": x,
                    "latitude": y,
                    "coordinate_system": "wgs84",
                    "accuracy_m": 8.0,
                }
            )
    summary = ingest_points(task=task, device=None, points=points)
    assert summary.kept == 16, summary

    data = jpeg()
    blob, _ = intake.ingest(data, holder=tenant_of(user))
    x, y = offset(lon, lat, east_m=1500, north_m=-800)
    photo = photo_record(
        actor=user,
        photo_id=uuid.uuid4(),
        sha256=blob.sha256,
        photo_type=PhotoType.objects.get(code="sampling_site"),
        manifest=Manifest(
            lon=x, lat=y, system="wgs84", accuracy_m=10, fix_time=now - dt.timedelta(minutes=20)
        ),
        task=task,
        outlet=outlet,
    ).photo
    return Scene(task=task, inside=inside, outside=outside, photo=photo, started=started)
