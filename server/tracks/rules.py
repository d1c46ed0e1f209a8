"""Pure track rules: point filtering in the manner of Traccar's FilterHandler, segmentation, length and
line simplification. Plain values in, plain values out; no database (tests/tracks run them on real GPX).

Filtering (``filter_reason``) judges a point against the previous *kept* point of the same task and
device, in time order, as Traccar judges a position against the device's last one. Unlike Traccar,
nothing is dropped: the point is stored with the reason, so the raw track stays reviewable.

Before that, ``time_reason`` checks the point's time itself, as Traccar's filter.future and
filter.past do, against a ``TimeWindow`` the caller reads (the task's creation, the batch's receipt):
a point whose time cannot be right is never a previous point, is in no segment and draws nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.geo import geodesic_distance_m


@dataclass(frozen=True)
class Thresholds:
    """Filtering and segmentation limits. Module constants on purpose (no setting): the same track must
    be judged the same way on every server, and tests import them."""

    max_accuracy_m: float = 100.0  # Traccar filter.accuracy: a fix worse than this is poor_accuracy
    max_speed_mps: float = 60.0  # filter.maxSpeed: 216 km/h, beyond any field vehicle on a road
    duplicate_window_s: float = 1.0  # same position within this many seconds: duplicate
    min_period_s: float = 1.0  # filter.minPeriod with filter.distance: closer in time than this...
    min_distance_m: float = 2.0  # ...and nearer than this: too_dense
    max_gap_s: float = 300.0  # more than 5 minutes between kept points starts a new segment
    # filter.future: nothing is recorded after the server received it, so this only absorbs the
    # disagreement of the phone's clock (it stamps the fix) with the server's; phones offline for
    # days drift by seconds to minutes. Beyond it the phone's clock or date was set wrong.
    max_future_s: float = 600.0
    # filter.past, against the task: the app may start recording while the sampler is still filling
    # in the new task, and the task's creation time is itself a (corrected) phone clock. An hour
    # covers both; a point from the day before belongs to other work (or a wrong date).
    max_before_task_s: float = 3600.0


THRESHOLDS = Thresholds()

KEPT = ""

# Earlier than any phone of this system recorded: a GPS week-number rollover (the 2019 one sent
# receivers 1024 weeks back, to 1999), a clock reset to its epoch (1970, or 1901 for the signed
# 32-bit minimum). Always ``time_invalid``, whatever the window. A later firmware pivot's wrap (to
# 2006, say) passes this but lands long before any task: ``time_before_task``.
EARLIEST_VALID = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)

TIME_INVALID = "time_invalid"
TIME_BEFORE_TASK = "time_before_task"
TIME_FUTURE = "time_future"
TIME_REASONS = frozenset({TIME_INVALID, TIME_BEFORE_TASK, TIME_FUTURE})
NO_SEGMENT = 0  # the segment of a point whose time cannot be right: it has no place in time order


@dataclass(frozen=True)
class Fix:
    """A point as the rules see it: WGS-84 position, its time, and what the phone said about it."""

    at: dt.datetime
    lon: float
    lat: float
    accuracy_m: float | None = None
    mock: bool = False


@dataclass(frozen=True)
class TimeWindow:
    """When a task's points can have been recorded: not (much) before the task existed, not (much)
    after the server received them. ``None`` where the caller does not know that bound."""

    task_created_at: dt.datetime | None = None  # the task's created_at: on the phone, when offline
    received_at: dt.datetime | None = None  # the server's clock when the batch arrived


NO_WINDOW = TimeWindow()  # only the fixed EARLIEST_VALID applies


def time_reason(at: dt.datetime, window: TimeWindow, limits: Thresholds = THRESHOLDS) -> str:
    """Why a point recorded ``at`` cannot be placed in the task's time ("" when it can)."""
    if at < EARLIEST_VALID:
        return TIME_INVALID
    if window.received_at is not None and (at - window.received_at).total_seconds() > limits.max_future_s:
        return TIME_FUTURE
    if (
        window.task_created_at is not None
        and (window.task_created_at - at).total_seconds() > limits.max_before_task_s
    ):
        return TIME_BEFORE_TASK
    return KEPT


def filter_reason(point: Fix, previous: Fix | None, limits: Thresholds = THRESHOLDS) -> str:
    """Why ``point`` is filtered ("" when kept), given the previous kept point of its device."""
    if point.lon == 0 and point.lat == 0:
        return "zero"  # Traccar filter.zero: a receiver's "no fix" placeholder
    if point.mock:
        return "mock"  # the OS reported a mock location provider: never evidence of presence
    if point.accuracy_m is not None and (point.accuracy_m < 0 or point.accuracy_m > limits.max_accuracy_m):
        # iOS reports a negative horizontalAccuracy when the coordinate is invalid.
        return "poor_accuracy"
    if previous is None:
        return KEPT
    seconds = abs((point.at - previous.at).total_seconds())
    same_place = point.lon == previous.lon and point.lat == previous.lat
    if seconds == 0 or (same_place and seconds <= limits.duplicate_window_s):
        return "duplicate"  # Traccar filter.duplicate: the same fix sent twice
    distance = geodesic_distance_m(previous.lon, previous.lat, point.lon, point.lat)
    if seconds < limits.min_period_s and distance < limits.min_distance_m:
        return "too_dense"
    if seconds > 0 and distance / seconds > limits.max_speed_mps:
        return "impossible_speed"
    return KEPT


def judge(
    points: Iterable[Fix],
    previous: Fix | None,
    segment: int = 1,
    limits: Thresholds = THRESHOLDS,
    window: TimeWindow = NO_WINDOW,
) -> list[tuple[str, int]]:
    """(reason, segment number) for each of ``points`` (in time order), continuing after ``previous``,
    the last kept point before them (in ``segment``). A gap over ``max_gap_s`` between kept points
    starts the next segment; a filtered point carries the segment of the kept point before it, except
    a point outside ``window`` (``time_reason``), which is in no segment (``NO_SEGMENT``) and is never
    the previous point: a fix stamped tomorrow would make every real one after it look impossible."""
    out = []
    for point in points:
        reason = time_reason(point.at, window, limits)
        if reason:
            out.append((reason, NO_SEGMENT))
            continue
        reason = filter_reason(point, previous, limits)
        if reason == KEPT:
            if previous is not None and (point.at - previous.at).total_seconds() > limits.max_gap_s:
                segment += 1
            previous = point
        out.append((reason, segment))
    return out


Pause = tuple[dt.datetime, dt.datetime | None]


def segments(
    kept: Sequence[Fix], pauses: Iterable[Pause] = (), limits: Thresholds = THRESHOLDS
) -> list[list[Fix]]:
    """Split one device's kept points (time order) into segments: at gaps over ``max_gap_s`` and at
    every pause of the task.

    ``pauses`` are (paused at, resumed at) intervals, ``None`` for a pause not yet resumed; they will
    come from the task lifecycle's history (pause/continue). A point strictly inside a pause belongs
    to no segment (the task was not being worked on); points at its very start or end do.
    """
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    intervals = sorted((start, end or far) for start, end in pauses)
    out: list[list[Fix]] = []
    previous: Fix | None = None
    for point in kept:
        if any(start < point.at < end for start, end in intervals):
            continue
        breaks = previous is None or (point.at - previous.at).total_seconds() > limits.max_gap_s
        if previous is not None and not breaks:
            breaks = any(start < point.at and end > previous.at for start, end in intervals)
        if breaks:
            out.append([])
        out[-1].append(point)
        previous = point
    return out


def length_m(points: Sequence[Fix]) -> float:
    """Geodesic length of a polyline (metres, WGS-84 ellipsoid)."""
    return sum(geodesic_distance_m(a.lon, a.lat, b.lon, b.lat) for a, b in itertools.pairwise(points))


# --- Simplification -------------------------------------------------------------------------------
_EARTH_RADIUS_M = 6371008.8  # mean radius (IUGG); the plane is local, so its error is second-order


def _project(coords: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Equirectangular plane in metres around the first point: over a few km the scale error is far
    below the 5 m tolerance, where simplifying in degrees would squash east-west by cos(latitude)."""
    lon0, lat0 = coords[0]
    kx = _EARTH_RADIUS_M * math.cos(math.radians(lat0)) * math.pi / 180
    ky = _EARTH_RADIUS_M * math.pi / 180
    return [((lon - lon0) * kx, (lat - lat0) * ky) for lon, lat in coords]


def _distance_to_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy))


def simplified_line(
    coords: Sequence[tuple[float, float]], tolerance_m: float = 5.0
) -> list[tuple[float, float]]:
    """Douglas–Peucker on (lon, lat) WGS-84 points with a tolerance in metres: the endpoints stay and
    every dropped point lies within ``tolerance_m`` of the simplified line (in the local plane)."""
    if len(coords) < 3:
        return list(coords)
    plane = _project(coords)
    keep = [False] * len(coords)
    keep[0] = keep[-1] = True
    stack = [(0, len(coords) - 1)]  # iterative: a day's track would exceed the recursion limit
    while stack:
        first, last = stack.pop()
        worst, index = -1.0, -1
        for i in range(first + 1, last):
            d = _distance_to_segment(plane[i], plane[first], plane[last])
            if d > worst:
                worst, index = d, i
        if index != -1 and worst > tolerance_m:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [c for c, k in zip(coords, keep, strict=True) if k]
