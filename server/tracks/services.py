"""Track services: ingest a batch of points (filter, segment, store every raw point) and read a task's
track back as segments. The sync operation ``track.append`` and ``POST /api/v1/tasks/{id}/track``
both call ``track_append``.

Ingest is idempotent per (task, device, time): a re-sent batch stores nothing. A late batch whose
points fall before points already stored re-judges that device's points from its earliest new point
on, so the stored reasons and segments are what a single in-order upload would have produced.

Point times are the phone's, not corrected by a push's clock offset: the time is the point's identity,
and a re-sent batch measured with another offset would be stored twice. A phone whose clock was wrong
shows instead in the time checks (``rules.time_reason``): a point stamped after the server received
it, or before the task existed (each beyond its tolerance in ``rules.Thresholds``), or before 2000 is
stored with its reason and judges nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from server.accounts.models import Device, User
from server.errors import DomainError
from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import ensure_on_task
from server.geo import to_wgs84
from server.tracks import errors, rules
from server.tracks.models import TrackPoint

MAX_BATCH = 500


@dataclass
class IngestSummary:
    received: int
    stored: int = 0  # new rows, kept or filtered
    duplicates: int = 0  # already stored (a re-sent batch) or repeated within the batch
    kept: int = 0
    filtered: dict[str, int] = field(default_factory=dict)  # new rows by reason
    rejudged: int = 0  # stored points after a late batch whose reason or segment changed


# --- Parsing at the boundary ----------------------------------------------------------------------
def _invalid(index: int, field_name: str, reason: str, **details) -> DomainError:
    return DomainError(
        errors.TRACK_POINT_INVALID,
        details={"index": index, "field": field_name, "reason": reason, **details},
        index=index,
        field=field_name,
        reason=reason,
    )


def _optional_number(point: dict, key: str, index: int, *, negative_is_unknown: bool = False) -> float | None:
    value = point.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid(index, key, "not_a_number")
    value = float(value)
    if not math.isfinite(value):
        raise _invalid(index, key, "not_finite")
    if negative_is_unknown and value < 0:
        return None  # iOS sends -1 for an unknown speed or course
    return value


def _parse(index: int, point: dict) -> TrackPoint:
    at = point.get("fix_time")
    if at is None:
        # The time is the point's identity (idempotency per device and time): without it a point
        # cannot be stored, ordered or de-duplicated.
        raise _invalid(index, "fix_time", "missing")
    if not isinstance(at, dt.datetime):
        raise _invalid(index, "fix_time", "not_a_datetime")
    if at.tzinfo is None or at.utcoffset() is None:
        raise _invalid(index, "fix_time", "naive")
    system = point.get("coordinate_system")
    lon_in, lat_in = point.get("longitude"), point.get("latitude")
    try:
        lon, lat = to_wgs84(lon_in, lat_in, system)
    except DomainError as exc:
        details = exc.details or {}
        name = details.get("field", "coordinate_system")
        name = {"lon": "longitude", "lat": "latitude"}.get(name, name)
        raise _invalid(index, name, details.get("reason", exc.error.code)) from None
    return TrackPoint(
        recorded_at=at,
        location=Point(lon, lat, srid=4326),
        longitude=float(lon_in),
        latitude=float(lat_in),
        coordinate_system=str(system).strip().lower(),
        accuracy_m=_optional_number(point, "accuracy_m", index),
        speed_mps=_optional_number(point, "speed_mps", index, negative_is_unknown=True),
        bearing=_optional_number(point, "bearing", index, negative_is_unknown=True),
        altitude_m=_optional_number(point, "altitude_m", index),
        mock=bool(point.get("mock_location", False)),
    )


def _fix(row: TrackPoint) -> rules.Fix:
    return rules.Fix(
        at=row.recorded_at, lon=row.location.x, lat=row.location.y, accuracy_m=row.accuracy_m, mock=row.mock
    )


# --- Writes ---------------------------------------------------------------------------------------
def ensure_can_record(*, task: MonitoringTask, actor: User) -> None:
    """Only staff assigned to the task's project (in any post, while employed) record its track."""
    ensure_on_task(task, actor)


def track_append(
    *, actor: User, task: MonitoringTask, device: Device | None, points: list[dict]
) -> IngestSummary:
    ensure_can_record(task=task, actor=actor)
    return ingest_points(task=task, device=device, points=points)


def ingest_points(
    *,
    task: MonitoringTask,
    device: Device | None,
    points: list[dict],
    received_at: dt.datetime | None = None,
) -> IngestSummary:
    """Store a batch of raw points (dicts: time, longitude, latitude, coordinate_system, accuracy_m,
    speed_mps, bearing, altitude_m, mock), each judged and given its segment. A point that cannot be
    stored at all (no time, lat 95, an unknown coordinate system) refuses the whole batch, naming it.

    ``received_at`` (default: now) is when the server got the batch, the bound of ``time_future``. A
    ``track.append`` held for its task is judged when it applies, later than it arrived: that only
    widens the tolerance, never filters a point that was in time."""
    if len(points) > MAX_BATCH:
        raise DomainError(errors.TRACK_BATCH_TOO_LARGE, limit=MAX_BATCH)
    parsed = [_parse(index, point) for index, point in enumerate(points)]
    summary = IngestSummary(received=len(parsed))
    if not parsed:
        return summary
    by_time: dict[dt.datetime, TrackPoint] = {}
    for row in parsed:
        by_time.setdefault(row.recorded_at, row)
    window = rules.TimeWindow(task_created_at=task.created_at, received_at=received_at or timezone.now())
    with transaction.atomic():
        # One writer per task at a time: two batches of one device judged concurrently would each
        # miss the other's points.
        list(MonitoringTask.objects.select_for_update().filter(pk=task.pk).values_list("pk", flat=True))
        scope = TrackPoint.objects.filter(task_id=task.pk, device=device)
        stored = set(
            scope.filter(recorded_at__range=(min(by_time), max(by_time))).values_list(
                "recorded_at", flat=True
            )
        )
        new = sorted((row for at, row in by_time.items() if at not in stored), key=lambda r: r.recorded_at)
        summary.duplicates = len(parsed) - len(new)
        if not new:
            return summary
        # A point whose time cannot be right judges no other point, so it starts no re-judging: a
        # single 1999 fix in a batch would otherwise re-judge the device's whole track.
        in_time = [row for row in new if not rules.time_reason(row.recorded_at, window)]
        start = in_time[0].recorded_at if in_time else None
        previous = (
            scope.filter(recorded_at__lt=start, filtered=rules.KEPT).order_by("-recorded_at").first()
            if start
            else None
        )
        # A stored time_future point keeps its reason: it was judged against the server's clock when
        # it arrived, which is not stored; judged against now, its time may have come meanwhile.
        later = (
            list(
                scope.filter(recorded_at__gt=start)
                .exclude(filtered=rules.TIME_FUTURE)
                .order_by("recorded_at")
            )
            if start
            else []
        )
        merged = sorted(new + later, key=lambda r: r.recorded_at)
        verdicts = rules.judge(
            [_fix(row) for row in merged],
            _fix(previous) if previous else None,
            previous.segment if previous else 1,
            window=window,
        )
        changed = []
        for row, (reason, segment) in zip(merged, verdicts, strict=True):
            if row.pk is not None and (row.filtered, row.segment) != (reason, segment):
                changed.append(row)
            row.filtered, row.segment = reason, segment
        for row in new:
            row.task_id = task.pk
            row.device = device
        TrackPoint.objects.bulk_create(new, ignore_conflicts=True)
        if changed:
            TrackPoint.objects.bulk_update(changed, ["filtered", "segment"])
    reasons = Counter(row.filtered for row in new)
    summary.stored = len(new)
    summary.kept = reasons.pop(rules.KEPT, 0)
    summary.filtered = dict(sorted(reasons.items()))
    summary.rejudged = len(changed)
    return summary


# --- Reads ----------------------------------------------------------------------------------------
@dataclass
class Segment:
    device_id: str | None
    number: int
    points: list[rules.Fix]

    @property
    def started_at(self) -> dt.datetime:
        return self.points[0].at

    @property
    def ended_at(self) -> dt.datetime:
        return self.points[-1].at

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def length_m(self) -> float:
        return rules.length_m(self.points)

    def simplified(self, tolerance_m: float = 5.0) -> list[tuple[float, float]]:
        return simplified_line([(p.lon, p.lat) for p in self.points], tolerance_m)


@dataclass
class TrackSummary:
    segments: list[Segment]
    stored: int
    kept: int
    filtered: dict[str, int]

    @property
    def length_m(self) -> float:
        return sum(segment.length_m for segment in self.segments)

    @property
    def duration_s(self) -> float:
        return sum(segment.duration_s for segment in self.segments)


def simplified_line(points: list[tuple[float, float]], tolerance_m: float = 5.0) -> list[tuple[float, float]]:
    """Douglas–Peucker in metres (rules.simplified_line)."""
    return rules.simplified_line(points, tolerance_m)


def lifecycle_pauses(task: MonitoringTask) -> list[rules.Pause]:
    """The task's pauses from its lifecycle history (the moves applied): from each pause or save
    (暂停、暂存) to the next start or continue; the last one open (None) while the task stays paused
    or saved."""
    pauses: list[rules.Pause] = []
    since = None
    for to, at in task.events.filter(applied=True).order_by("at", "id").values_list("to_status", "at"):
        if to in (MonitoringTask.Status.PAUSED, MonitoringTask.Status.SAVED) and since is None:
            since = at
        elif to == MonitoringTask.Status.RUNNING and since is not None:
            pauses.append((since, at))
            since = None
    if since is not None:
        pauses.append((since, None))
    return pauses


def track_summary(task: MonitoringTask, pauses: list[rules.Pause] | None = None) -> TrackSummary:
    """A task's track: each device's kept points split into segments (gaps over 5 minutes, and the
    task's pauses: ``pauses`` as (paused at, resumed at or None), by default from its lifecycle
    history), with their geodesic length and duration. Segments are numbered per device from 1."""
    if pauses is None:
        pauses = lifecycle_pauses(task)
    counts = dict(
        TrackPoint.objects.filter(task_id=task.pk)
        .values_list("filtered")
        .annotate(n=Count("id"))
        .values_list("filtered", "n")
    )
    rows = (
        TrackPoint.objects.filter(task_id=task.pk, filtered=rules.KEPT)
        .order_by("device_id", "recorded_at")
        .values_list("device_id", "recorded_at", "location", "accuracy_m")
    )
    by_device: dict[str | None, list[rules.Fix]] = {}
    for device_id, at, location, accuracy in rows:
        by_device.setdefault(device_id and str(device_id), []).append(
            rules.Fix(at=at, lon=location.x, lat=location.y, accuracy_m=accuracy)
        )
    out = []
    for device_id, fixes in by_device.items():
        for number, points in enumerate(rules.segments(fixes, pauses or ()), start=1):
            out.append(Segment(device_id=device_id, number=number, points=points))
    out.sort(key=lambda s: (s.started_at, s.device_id or ""))
    kept = counts.pop(rules.KEPT, 0)
    return TrackSummary(
        segments=out, stored=kept + sum(counts.values()), kept=kept, filtered=dict(sorted(counts.items()))
    )
