"""Track ingest: points per second through ``server.tracks.services.track_append`` (parse and convert
at the boundary, the assignment check, the task lock, the duplicate pre-query, Traccar-style judging
with geodesic distances, segmenting, bulk insert), in batches of 500, next to the floor: a bare
``TrackPoint.objects.bulk_create`` of the same rows (built before the clock starts).

A run is BATCHES batches of a phone walking at 1.4 m/s with a fix every 5 s (GCJ-02, as WeChat gives
it), appended in time order to a fresh task; the floor inserts the same points under another fresh
task. One untimed warm-up of each, then RUNS timed runs interleaved, medians reported.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

from django.contrib.gis.geos import Point
from django.utils import timezone

from bench._common import Result, Row, three_digits, timed
from server.accounts.models import Device
from server.accounts.services import DeviceInfo, token_issue
from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import task_create
from server.geo import from_wgs84
from server.tracks import services
from server.tracks.models import TrackPoint

NAME = "track-ingest"
BATCH = services.MAX_BATCH
BATCHES = 4
RUNS = 5


def _walk(start: dt.datetime, n: int, lon: float, lat: float) -> list[dict]:
    points = []
    east = north = 0.0
    for i in range(n):
        east += 1.4 * 5 * math.cos(i / 40)  # metres: 7 m every 5 s along a winding path
        north += 1.4 * 5 * math.sin(i / 40)
        wlon = lon + east / (111_320 * math.cos(math.radians(lat)))
        wlat = lat + north / 110_574
        glon, glat = from_wgs84(wlon, wlat, "gcj02")
        points.append(
            {
                "fix_time": start + dt.timedelta(seconds=5 * i),
                "longitude": glon,
                "latitude": glat,
                "coordinate_system": "gcj02",
                "accuracy_m": 8.0,
                "speed_mps": 1.4,
                "bearing": 90.0,
                "altitude_m": 4.0,
                "mock_location": False,
            }
        )
    return points


def run_benchmark(world) -> Result:
    side = world.shanghai
    user = side.field_user
    device_id = str(uuid.uuid4())
    token_issue(user=user, info=DeviceInfo(id=device_id, platform="wechat", app_version="2.0.0"))
    device = Device.objects.get(pk=device_id)
    lon, lat = side.wastewater.location.x, side.wastewater.location.y
    # The day so far: points every 5 s since a task created three hours ago (points before their
    # task, or in the future, would be filtered as time-insane and skip the other filters).
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    batches = [_walk(start + dt.timedelta(seconds=5 * BATCH * b), BATCH, lon, lat) for b in range(BATCHES)]
    points_per_run = BATCH * BATCHES
    service_row = Row(NAME, "tracks.services.track_append", points_per_run)
    floor_row = Row(NAME, "floor: TrackPoint.bulk_create", points_per_run)

    def new_task():
        task, _ = task_create(actor=user, task_id=uuid.uuid4(), project=side.project, name="航迹基准")
        MonitoringTask.objects.filter(pk=task.pk).update(created_at=start - dt.timedelta(minutes=1))
        task.refresh_from_db()
        return task

    def service_run() -> float:
        task = new_task()
        seconds = timed(
            lambda: [
                services.track_append(actor=user, task=task, device=device, points=batch) for batch in batches
            ]
        )
        kept = TrackPoint.objects.filter(task=task, filtered="").count()
        if kept != points_per_run:
            raise RuntimeError(f"track bench: {kept} of {points_per_run} points kept")
        return points_per_run / seconds

    def floor_run() -> float:
        task = new_task()
        rows = [
            [
                TrackPoint(
                    task=task,
                    device=device,
                    recorded_at=p["fix_time"],
                    location=Point(p["longitude"], p["latitude"], srid=4326),
                    longitude=p["longitude"],
                    latitude=p["latitude"],
                    coordinate_system="gcj02",
                    accuracy_m=p["accuracy_m"],
                    speed_mps=p["speed_mps"],
                    bearing=p["bearing"],
                    altitude_m=p["altitude_m"],
                    segment=1,
                )
                for p in batch
            ]
            for batch in batches
        ]
        seconds = timed(lambda: [TrackPoint.objects.bulk_create(chunk) for chunk in rows])
        return points_per_run / seconds

    service_run()  # warm-up
    floor_run()
    for _ in range(RUNS):
        service_row.rates.append(service_run())
        floor_row.rates.append(floor_run())
    ratio = service_row.median / floor_row.median
    summary = (
        f"bench track-ingest: {service_row.median:.1f} points/s; floor {floor_row.median:.1f} points/s; "
        f"ratio {three_digits(ratio)}"
    )
    return Result(rows=[service_row, floor_row], summary=summary)
