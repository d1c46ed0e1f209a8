"""Tracks on the real GPX files of ../shared/data/tracks: lengths, filtering reasons, segments,
simplification, idempotency; the online endpoints and the ``track.append`` sync operation. The time
checks have their own module (test_track_times)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import uuid

import pytest
from geopy.distance import geodesic

from server.errors import DomainError
from server.tracks import rules, services
from server.tracks.errors import TRACK_POINT_INVALID
from server.tracks.models import TrackPoint
from tests.sync.helpers import Phone
from tests.tracks.helpers import TASK_CREATED, UTC, WALK_START, batch, gpx_segments, timed_korita, walk_task


def ingest_all(task, device, points):
    return [
        services.ingest_points(task=task, device=device, points=points[i : i + services.MAX_BATCH])
        for i in range(0, len(points), services.MAX_BATCH)
    ]


def kept_rows(task):
    return list(TrackPoint.objects.filter(task=task, filtered="").order_by("device_id", "recorded_at"))


# --- The real tracks --------------------------------------------------------------------------------
def test_segment_lengths_equal_a_geodesic_sum_of_the_same_kept_points(field):
    points = timed_korita()
    assert len(points) == 513
    ingest_all(field["task"], field["device"], points)
    summary = services.track_summary(field["task"])

    kept = kept_rows(field["task"])
    assert summary.kept == len(kept) == sum(len(s.points) for s in summary.segments)
    # Independently: split where kept points are more than 5 minutes apart, sum Karney geodesics.
    groups = [[kept[0]]]
    for a, b in itertools.pairwise(kept):
        if (b.recorded_at - a.recorded_at).total_seconds() > rules.THRESHOLDS.max_gap_s:
            groups.append([])
        groups[-1].append(b)
    expected = [
        sum(
            geodesic((a.location.y, a.location.x), (b.location.y, b.location.x), ellipsoid="WGS-84").meters
            for a, b in itertools.pairwise(group)
        )
        for group in groups
    ]
    assert [len(s.points) for s in summary.segments] == [len(g) for g in groups]
    for segment, length in zip(summary.segments, expected, strict=True):
        assert segment.length_m == pytest.approx(length, rel=1e-6)
        assert segment.duration_s == (segment.ended_at - segment.started_at).total_seconds()
    assert summary.length_m > 5000  # a real walk of several kilometres


def test_segments_split_at_long_gaps(field):
    ingest_all(field["task"], field["device"], timed_korita())
    segments = services.track_summary(field["task"]).segments
    assert len(segments) >= 3  # the file's own breaks, and the long pauses inside its segments
    for segment in segments:
        gaps = [
            (b.at - a.at).total_seconds() for a, b in zip(segment.points, segment.points[1:], strict=False)
        ]
        assert all(gap <= rules.THRESHOLDS.max_gap_s for gap in gaps)
    for before, after in itertools.pairwise(segments):
        assert (after.started_at - before.ended_at).total_seconds() > rules.THRESHOLDS.max_gap_s
    # The stored segment number is the same split, as drawn without pauses.
    stored = sorted({row.segment for row in kept_rows(field["task"])})
    assert stored == list(range(1, len(segments) + 1))


def test_points_without_time_refuse_the_batch_naming_the_point(field):
    untimed = gpx_segments("korita-zbevnica.gpx")[0]
    assert all(p["fix_time"] is None for p in untimed)
    with pytest.raises(DomainError) as caught:
        services.ingest_points(task=field["task"], device=field["device"], points=untimed[:10])
    assert caught.value.error is TRACK_POINT_INVALID
    assert caught.value.details == {"index": 0, "field": "fix_time", "reason": "missing"}
    assert not TrackPoint.objects.exists()


def test_a_broken_gps_clock_collapses_onto_its_few_distinct_times(field):
    # Mojstrovka.gpx: every fix says 1901-12-13T20:45:52 (the signed 32-bit epoch's minimum), with
    # two sub-second variants. One point per device and time is the idempotency key, so the rest are
    # duplicates of those: a real phone's bug made visible, not silently drawn.
    points = gpx_segments("Mojstrovka.gpx")[0]
    summary = services.ingest_points(task=field["task"], device=field["device"], points=points)
    assert (summary.received, summary.stored, summary.duplicates) == (184, 2, 182)
    assert summary.filtered == {"time_invalid": 2}
    assert services.track_summary(field["task"]).segments == []


def test_simplification_keeps_endpoints_and_stays_within_5_m(field):
    lines = [[(p["longitude"], p["latitude"]) for p in seg] for seg in gpx_segments("korita-zbevnica.gpx")]
    lines += [[(p["longitude"], p["latitude"]) for p in gpx_segments("Mojstrovka.gpx")[0]]]
    for line in lines:
        simple = services.simplified_line(line, tolerance_m=5)
        assert simple[0] == line[0]
        assert simple[-1] == line[-1]
        assert len(simple) < len(line)
        # Distances in metres on the local plane around the first point (independent arithmetic).
        lon0, lat0 = line[0]
        kx = 6371008.8 * math.cos(math.radians(lat0)) * math.pi / 180
        ky = 6371008.8 * math.pi / 180

        def xy(c, kx=kx, ky=ky, lon0=lon0, lat0=lat0):
            return ((c[0] - lon0) * kx, (c[1] - lat0) * ky)

        def to_segment(p, a, b):
            (px, py), (ax, ay), (bx, by) = xy(p), xy(a), xy(b)
            dx, dy = bx - ax, by - ay
            t = (
                0
                if dx == dy == 0
                else max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
            )
            return math.hypot(px - ax - t * dx, py - ay - t * dy)

        for point in line:
            nearest = min(to_segment(point, a, b) for a, b in itertools.pairwise(simple))
            assert nearest <= 5.0 + 1e-9


def test_simplifying_in_metres_not_degrees():
    # At 60°N a degree of longitude is half a degree of latitude: 4 m east and 4 m north offsets
    # must be treated alike (a tolerance in degrees would not).
    lat = 60.0
    north = 4 / 111_195
    east = 4 / (111_195 * math.cos(math.radians(lat)))
    line = [(10.0, lat), (10.0 + east, lat + 0.001), (10.0, lat + 0.002)]
    assert len(services.simplified_line(line, 5)) == 2
    line = [(10.0, lat), (10.0 + 2 * east, lat + 0.001), (10.0, lat + 0.002)]
    assert len(services.simplified_line(line, 5)) == 3
    assert north  # the same 4 m north would be well inside 5 m too


# --- Filtering -------------------------------------------------------------------------------------
def test_filtering_reasons_on_crafted_bad_points(field):
    good = timed_korita()[:6]
    t0 = good[0]["fix_time"]
    base = good[0]
    one_km_east = 1000 / (111_195 * math.cos(math.radians(base["latitude"])))
    bad = [
        {**base, "fix_time": t0 + dt.timedelta(milliseconds=400)},  # same place within 1 s
        {**base, "fix_time": t0 + dt.timedelta(milliseconds=1500), "longitude": 0.0, "latitude": 0.0},
        {**base, "fix_time": t0 + dt.timedelta(seconds=2), "accuracy_m": 500.0},
        {**base, "fix_time": t0 + dt.timedelta(seconds=3), "longitude": base["longitude"] + one_km_east},
        {**base, "fix_time": t0 + dt.timedelta(seconds=4), "mock_location": True},
        {**base, "fix_time": t0 + dt.timedelta(milliseconds=700), "latitude": base["latitude"] + 1e-5},
    ]
    summary = services.ingest_points(task=field["task"], device=field["device"], points=good + bad)
    reasons = dict(TrackPoint.objects.filter(task=field["task"]).values_list("recorded_at", "filtered"))
    assert [reasons[p["fix_time"]] for p in bad] == [
        "duplicate",
        "zero",
        "poor_accuracy",
        "impossible_speed",
        "mock",
        "too_dense",
    ]
    assert all(reasons[p["fix_time"]] == "" for p in good)
    assert summary.filtered == {
        "duplicate": 1,
        "impossible_speed": 1,
        "mock": 1,
        "poor_accuracy": 1,
        "too_dense": 1,
        "zero": 1,
    }
    assert summary.stored == 12
    assert summary.kept == 6
    # Read back as it was sent: mock_location, one vocabulary for a capture fix (F10 item 5).
    url = f"/api/v1/tasks/{field['task'].pk}/track/points"
    listed = field["phone"].client().get(url, {"page_size": 50}).json()["features"]
    flags = {f["properties"]["filtered"]: f["properties"]["mock_location"] for f in listed}
    assert (flags["mock"], flags[""]) == (True, False)
    assert all("mock" not in f["properties"] for f in listed)


def test_resending_a_batch_stores_nothing(field):
    points = timed_korita()[:200]
    first = services.ingest_points(task=field["task"], device=field["device"], points=points)
    before = list(TrackPoint.objects.order_by("id").values_list("id", "filtered", "segment"))
    again = services.ingest_points(task=field["task"], device=field["device"], points=points)
    assert first.stored == 200
    assert (again.stored, again.duplicates, again.rejudged) == (0, 200, 0)
    assert list(TrackPoint.objects.order_by("id").values_list("id", "filtered", "segment")) == before


def test_a_late_batch_is_judged_as_if_it_had_come_in_order(field, world):
    points = timed_korita()
    jump = dict(points[101])
    jump["longitude"] += 0.05  # a glitch kilometres away: impossible_speed in order
    points[101] = jump
    other = walk_task(field["side"], "对照")
    ingest_all(other, field["device"], points)
    # Odd points first, then the even ones arrive late.
    ingest_all(field["task"], field["device"], points[1::2])
    late = ingest_all(field["task"], field["device"], points[0::2])
    assert sum(s.rejudged for s in late) > 0

    def judged(task):
        return list(
            TrackPoint.objects.filter(task=task).order_by("recorded_at").values_list("filtered", "segment")
        )

    assert judged(field["task"]) == judged(other)
    assert "impossible_speed" in {reason for reason, _ in judged(other)}


def test_pauses_split_segments_and_drop_points_inside():
    t = dt.datetime(2024, 5, 1, 8, tzinfo=UTC)
    fixes = [rules.Fix(at=t + dt.timedelta(seconds=10 * i), lon=121 + i * 1e-4, lat=31.0) for i in range(10)]
    pauses = [(t + dt.timedelta(seconds=25), t + dt.timedelta(seconds=55))]
    split = rules.segments(fixes, pauses)
    assert [len(s) for s in split] == [3, 4]  # 30, 40, 50 s fall inside the pause
    assert rules.segments(fixes, [(t + dt.timedelta(seconds=45), None)]) == [fixes[:5]]


# --- The API ---------------------------------------------------------------------------------------
def test_lat_95_refuses_the_batch_with_a_stable_code(field):
    body = batch(timed_korita()[:20])
    body["points"][7]["latitude"] = 95
    response = field["phone"].client().post(f"/api/v1/tasks/{field['task'].pk}/track", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "track_point_invalid"
    assert response.json()["details"] == {"index": 7, "field": "latitude", "reason": "out_of_range"}
    assert not TrackPoint.objects.exists()


def test_append_and_draw_the_track_as_geojson(field, client_for):
    url = f"/api/v1/tasks/{field['task'].pk}/track"
    points = timed_korita()
    client = field["phone"].client()
    for i in range(0, len(points), 500):
        response = client.post(url, batch(points[i : i + 500]), format="json")
        assert response.status_code == 200, response.json()
    assert response.json()["stored"] == len(points) - 500
    assert TrackPoint.objects.filter(device_id=field["phone"].device_id).count() == len(points)

    # The enterprise sees the project: it may look at the track, not write it.
    enterprise = client_for(field["side"].enterprise_user)
    body = enterprise.get(url).json()
    assert body["type"] == "FeatureCollection"
    summary = services.track_summary(field["task"])
    assert len(body["features"]) == len(summary.segments)
    longest = max(range(len(summary.segments)), key=lambda i: len(summary.segments[i].points))
    feature = body["features"][longest]
    assert feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["length_m"] == pytest.approx(summary.segments[longest].length_m, abs=1e-3)
    assert feature["properties"]["points"] == len(summary.segments[longest].points)
    assert feature["properties"]["line_points"] < feature["properties"]["points"]
    refused = enterprise.post(url, batch(points[:3]), format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_on_project")

    # Raw points in a bbox, as GeoJSON pages.
    first = points[0]
    lon, lat = first["longitude"], first["latitude"]
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    page = client.get(f"{url}/points", {"bbox": box}).json()
    assert page["type"] == "FeatureCollection"
    inside = [
        p
        for p in points
        if abs(p["longitude"] - first["longitude"]) < 0.001 and abs(p["latitude"] - first["latitude"]) < 0.001
    ]
    assert page["count"] == len(inside) > 0
    assert client.get(f"{url}/points", {"bbox": "1,2,x"}).json()["code"] == "track_bbox_invalid"
    assert client.get(f"{url}/points").json()["count"] == len(points)


def test_another_agency_sees_no_track(field, client_for, world):
    url = f"/api/v1/tasks/{field['task'].pk}/track"
    for user in (world.jiangsu.main, world.jiangsu.field_user, world.jiangsu.regulator):
        client = client_for(user)
        assert client.get(url).status_code == 404
        assert client.get(f"{url}/points").status_code == 404
        assert client.post(url, batch(timed_korita()[:2]), format="json").status_code == 404


def test_track_append_is_held_until_its_task_arrives(world):
    side = world.shanghai
    sampler = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    # Created offline yesterday, before the walk; the server's row is created only now.
    create = sampler.op(
        "task.create", task_id, {"project": side.project.pk, "name": "采样"}, device_time=TASK_CREATED
    )
    body = {**batch(timed_korita()[:50]), "task": str(task_id)}
    # Another phone of the same sampler pushes first: its track waits for the task.
    other = Phone.enrol(side.field_user)
    append = other.op("track.append", task_id, body)
    held = other.push([append]).json()["results"][0]
    assert held["status"] == "held"
    assert held["waits_for"] == {"kind": "entity", "entity": "task", "id": str(task_id)}
    assert sampler.push([create]).json()["results"][0]["status"] == "applied"
    assert TrackPoint.objects.filter(task_id=task_id, device_id=other.device_id).count() == 50
    # Judged against the phone's (corrected) creation time, not the row's: all in time.
    assert set(TrackPoint.objects.filter(task_id=task_id).values_list("filtered", flat=True)) == {""}
    # Sent again under a new op id (the phone lost the answer): nothing new is stored.
    again = other.op("track.append", task_id, body)
    assert other.push([again]).json()["results"][0]["status"] == "applied"
    assert TrackPoint.objects.filter(task_id=task_id).count() == 50


def test_pause_and_continue_in_the_lifecycle_split_the_track(field):
    from server.fieldwork.services import task_transition

    task, user = field["task"], field["side"].field_user
    start = WALK_START
    points = [
        {
            "fix_time": start + dt.timedelta(seconds=10 * n),
            "longitude": 121.4365 + 0.0001 * n,
            "latitude": 31.188,
            "coordinate_system": "wgs84",
            "accuracy_m": 5,
        }
        for n in range(60)  # ten minutes, a point every 10 s, about 9.5 m apart
    ]
    services.ingest_points(task=task, device=field["device"], points=points)
    assert len(services.track_summary(task).segments) == 1
    task_transition(actor=user, task=task, to="running", at=start)
    task_transition(actor=user, task=task, to="paused", at=start + dt.timedelta(minutes=3))
    task_transition(actor=user, task=task, to="running", at=start + dt.timedelta(minutes=5))
    assert services.lifecycle_pauses(task) == [
        (start + dt.timedelta(minutes=3), start + dt.timedelta(minutes=5))
    ]
    first, second = services.track_summary(task).segments
    assert first.points[-1].at <= start + dt.timedelta(minutes=3)
    assert second.points[0].at >= start + dt.timedelta(minutes=5)
    # Saving (暂存) pauses the track too, open-ended while the task stays saved.
    task_transition(actor=user, task=task, to="saved", at=start + dt.timedelta(minutes=8))
    segments = services.track_summary(task).segments
    assert len(segments) == 2
    assert segments[-1].points[-1].at <= start + dt.timedelta(minutes=8)
