"""The real GPX files of ../shared/data/tracks as the track tests play them, and the tasks they are
recorded on.

The walks were recorded in 2010. A phone records a task's track after the task exists and before it
pushes, and the server checks that (``rules.time_reason``); so the tests replay a walk yesterday,
every interval unchanged, on a task created just before it.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET

from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import task_create
from tests.shared_data import TRACKS

UTC = dt.timezone.utc

WALK_START = dt.datetime.now(tz=UTC).replace(microsecond=0) - dt.timedelta(days=1)
TASK_CREATED = WALK_START - dt.timedelta(minutes=10)


def gpx_time(text: str | None) -> dt.datetime | None:
    """A GPX UTC time; fractions beyond microseconds (Mojstrovka has 7 digits) are cut."""
    if not text:
        return None
    whole, _, fraction = text.rstrip("Z").partition(".")
    parsed = dt.datetime.fromisoformat(whole).replace(tzinfo=UTC)
    return parsed.replace(microsecond=int((fraction + "000000")[:6])) if fraction else parsed


def gpx_segments(name: str) -> list[list[dict]]:
    """Each <trkseg> of a GPX 1.0/1.1 file as point dicts (time None where the file has none), at
    the file's own times."""
    root = ET.parse(TRACKS / name).getroot()  # noqa: S314
    ns = {"g": root.tag.split("}")[0][1:]}
    out = []
    for segment in root.iterfind(".//g:trkseg", ns):
        points = []
        for p in segment.findall("g:trkpt", ns):
            text = p.findtext("g:time", None, ns)
            points.append(
                {
                    "fix_time": gpx_time(text),
                    "longitude": float(p.get("lon")),
                    "latitude": float(p.get("lat")),
                    "altitude_m": float(p.findtext("g:ele", "nan", ns)),
                    "coordinate_system": "wgs84",
                }
            )
        if points:
            out.append(points)
    return out


def replayed(points: list[dict], start: dt.datetime = WALK_START) -> list[dict]:
    """``points`` (timed, in time order) moved as a whole so the first is at ``start``."""
    shift = start - points[0]["fix_time"]
    return [{**p, "fix_time": p["fix_time"] + shift} for p in points]


def timed_korita() -> list[dict]:
    """The 513 timed points of korita-zbevnica.gpx (a walk of some 20 hours), replayed yesterday."""
    return replayed([p for segment in gpx_segments("korita-zbevnica.gpx") for p in segment if p["fix_time"]])


def walk_task(side, name: str = "采样航迹", created_at: dt.datetime = TASK_CREATED) -> MonitoringTask:
    """A task of ``side``'s project created (online) at ``created_at``, before the replayed walk."""
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name=name)
    MonitoringTask.objects.filter(pk=task.pk).update(created_at=created_at)
    task.refresh_from_db()
    return task


def batch(points: list[dict]) -> dict:
    """An API body (``POST .../track``, the ``track.append`` payload without its task)."""
    return {
        "coordinate_system": "wgs84",
        "points": [
            {
                "fix_time": p["fix_time"].isoformat(),
                "longitude": p["longitude"],
                "latitude": p["latitude"],
                "altitude_m": p["altitude_m"],
            }
            for p in points
        ],
    }
