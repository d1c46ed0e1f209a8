"""Time sanity of track points (Traccar's filter.future and filter.past), on the real korita walk:
a point stamped after the server received it (``time_future``), before its task existed
(``time_before_task``) or before 2000 (``time_invalid``) is stored with its reason, is in no segment
and judges no other point, so the kept track is the clean walk's."""

from __future__ import annotations

import datetime as dt
import uuid

from server.fieldwork.models import MonitoringTask
from server.tracks import rules, services
from server.tracks.models import TrackPoint
from tests.sync.helpers import Phone
from tests.tracks.helpers import TASK_CREATED, UTC, WALK_START, batch, replayed, timed_korita, walk_task

MINUTE = dt.timedelta(minutes=1)
# The 2019 GPS week-number rollover: a receiver counting from 1999-08-22 again, 1024 weeks back.
ROLLOVER = dt.datetime(1999, 8, 22, tzinfo=UTC)


def with_bad_clocks(points: list[dict]) -> tuple[list[dict], dict[str, list[dict]]]:
    """Copies of some fixes of the walk, at real positions, stamped by a wrong clock: two days ahead
    (a phone's date set wrong), a day early (a day before the task existed), and from the rollover.
    Returns the walk with them, in the order a phone sends them (each copy after its original)."""
    bad = {
        "time_future": [{**p, "fix_time": p["fix_time"] + dt.timedelta(days=2)} for p in points[200:205]],
        "time_before_task": [
            {**p, "fix_time": p["fix_time"] - dt.timedelta(days=1)} for p in points[300:305]
        ],
        "time_invalid": replayed(points[400:405], start=ROLLOVER),
    }
    first = {"time_future": 200, "time_before_task": 300, "time_invalid": 400}
    copy_of = {first[reason] + i: copy for reason, copies in bad.items() for i, copy in enumerate(copies)}
    sent = []
    for index, point in enumerate(points):
        sent.append(point)
        if index in copy_of:
            sent.append(copy_of[index])
    return sent, bad


def fixes(points: list[dict]) -> list[rules.Fix]:
    return [rules.Fix(at=p["fix_time"], lon=p["longitude"], lat=p["latitude"]) for p in points]


# --- The rules, pure ---------------------------------------------------------------------------------
def test_time_reasons_at_their_tolerances():
    received = WALK_START + dt.timedelta(hours=4)  # the phone pushes after the walk
    window = rules.TimeWindow(task_created_at=TASK_CREATED, received_at=received)
    assert (rules.THRESHOLDS.max_future_s, rules.THRESHOLDS.max_before_task_s) == (600, 3600)
    assert rules.time_reason(received + 9 * MINUTE, window) == ""
    assert rules.time_reason(received + 11 * MINUTE, window) == "time_future"
    assert rules.time_reason(TASK_CREATED - 59 * MINUTE, window) == ""
    assert rules.time_reason(TASK_CREATED - 61 * MINUTE, window) == "time_before_task"
    assert rules.time_reason(ROLLOVER, window) == "time_invalid"
    # Before 2000 needs no window; a later firmware pivot's wrap (2006) is caught by the task's.
    assert rules.time_reason(ROLLOVER, rules.NO_WINDOW) == "time_invalid"
    assert rules.time_reason(dt.datetime(2006, 1, 1, tzinfo=UTC), rules.NO_WINDOW) == ""
    assert rules.time_reason(dt.datetime(2006, 1, 1, tzinfo=UTC), window) == "time_before_task"
    assert rules.time_reason(dt.datetime(1999, 12, 31, 23, 59, tzinfo=UTC), rules.NO_WINDOW) == "time_invalid"


def test_judging_with_bad_clocks_leaves_the_walk_as_it_was():
    walk = timed_korita()
    window = rules.TimeWindow(task_created_at=TASK_CREATED, received_at=walk[-1]["fix_time"] + MINUTE)
    clean = rules.judge(fixes(walk), None, window=window)
    sent, bad = with_bad_clocks(walk)
    ordered = sorted(fixes(sent), key=lambda f: f.at)
    verdicts = dict(zip(ordered, rules.judge(ordered, None, window=window), strict=True))
    # The rollover and the day-early copies come first in time order: had one become the previous
    # point, the walk's first fix would open segment 2 (a gap of days), and so on down the walk.
    assert [verdicts[f] for f in fixes(walk)] == clean
    for reason, points in bad.items():
        assert [verdicts[f] for f in fixes(points)] == [(reason, rules.NO_SEGMENT)] * 5
    kept = [f for f in ordered if verdicts[f][0] == ""]
    assert rules.length_m(kept) == rules.length_m(
        [f for f, (r, _) in zip(fixes(walk), clean, strict=True) if r == ""]
    )


# --- Through the API ---------------------------------------------------------------------------------
def post_all(client, task, points):
    url = f"/api/v1/tasks/{task.pk}/track"
    for i in range(0, len(points), services.MAX_BATCH):
        response = client.post(url, batch(points[i : i + services.MAX_BATCH]), format="json")
        assert response.status_code == 200, response.json()
    return client.get(url).json()


def test_points_with_impossible_times_are_stored_with_their_reason_and_draw_nothing(field):
    walk = timed_korita()
    client = field["phone"].client()
    clean_task = walk_task(field["side"], "对照")
    clean = post_all(client, clean_task, walk)
    sent, bad = with_bad_clocks(walk)
    drawn = post_all(client, field["task"], sent)

    # Every raw point is stored, the bad ones with their reason and in no segment.
    rows = {row.recorded_at: row for row in TrackPoint.objects.filter(task=field["task"])}
    assert len(rows) == len(sent) == len(walk) + 15
    for reason, points in bad.items():
        assert [(rows[p["fix_time"]].filtered, rows[p["fix_time"]].segment) for p in points] == [
            (reason, 0)
        ] * 5
    listed = client.get(f"/api/v1/tasks/{field['task'].pk}/track/points").json()
    assert listed["count"] == len(sent)

    # The walk is judged exactly as without them: same reasons, same segments, same lengths.
    def judged(task):
        return list(
            TrackPoint.objects.filter(task=task, recorded_at__in=[p["fix_time"] for p in walk])
            .order_by("recorded_at")
            .values_list("recorded_at", "filtered", "segment")
        )

    assert judged(field["task"]) == judged(clean_task)
    assert drawn["length_m"] == clean["length_m"] > 5000
    assert [f["properties"]["length_m"] for f in drawn["features"]] == [
        f["properties"]["length_m"] for f in clean["features"]
    ]
    assert [f["geometry"] for f in drawn["features"]] == [f["geometry"] for f in clean["features"]]
    assert (drawn["stored"], drawn["kept"]) == (clean["stored"] + 15, clean["kept"])
    assert drawn["filtered"] == {
        **clean["filtered"],
        "time_before_task": 5,
        "time_future": 5,
        "time_invalid": 5,
    }


def test_a_stored_future_point_keeps_its_reason_when_later_points_arrive(field):
    # The phone's clock jumped two hours ahead for one fix, pushed 42 minutes into the walk: the fix
    # lies among points the phone sends later, when its time has long come. Judged again then, it
    # would pass; it keeps the verdict it got when it arrived, and judges none of them.
    walk = timed_korita()
    glitch = {**walk[100], "fix_time": walk[100]["fix_time"] + dt.timedelta(hours=2, milliseconds=500)}
    assert walk[101]["fix_time"] < glitch["fix_time"] < walk[-1]["fix_time"]
    task, device = field["task"], field["device"]
    first = services.ingest_points(
        task=task, device=device, points=[*walk[:101], glitch], received_at=walk[100]["fix_time"]
    )
    assert first.filtered == {"time_future": 1}
    services.ingest_points(
        task=task, device=device, points=walk[101:], received_at=walk[-1]["fix_time"] + MINUTE
    )
    row = TrackPoint.objects.get(task=task, recorded_at=glitch["fix_time"])
    assert (row.filtered, row.segment) == ("time_future", 0)

    clean_task = walk_task(field["side"], "对照")
    services.ingest_points(task=clean_task, device=device, points=walk[:500])
    services.ingest_points(task=clean_task, device=device, points=walk[500:])

    def judged(task):
        return list(
            TrackPoint.objects.filter(task=task)
            .exclude(recorded_at=glitch["fix_time"])
            .order_by("recorded_at")
            .values_list("recorded_at", "filtered", "segment")
        )

    assert judged(task) == judged(clean_task)
    assert services.track_summary(task).length_m == services.track_summary(clean_task).length_m


# --- Through the sync operation ------------------------------------------------------------------------
def test_a_phone_two_days_ahead_pushes_a_track_from_the_future(field):
    # Point times are the phone's own and are not corrected by the push's measured clock offset (the
    # time is the point's identity: a re-sent batch, measured again, would be stored twice). So a
    # phone whose date is wrong pushes a track from the future, stored whole and drawn not at all.
    side = field["side"]
    ahead = Phone.enrol(side.field_user, clock_skew=dt.timedelta(days=2))
    walk = replayed(timed_korita()[:30], start=ahead.now() - 20 * MINUTE)
    task = field["task"]
    op = ahead.op("track.append", task.pk, {**batch(walk), "task": str(task.pk)})
    assert ahead.push([op]).json()["results"][0]["status"] == "applied"
    rows = list(TrackPoint.objects.filter(task=task).order_by("recorded_at"))
    assert [row.recorded_at for row in rows] == [p["fix_time"] for p in walk]
    assert {(row.filtered, row.segment) for row in rows} == {("time_future", 0)}
    summary = services.track_summary(task)
    assert (summary.segments, summary.stored, summary.kept, summary.filtered) == (
        [],
        30,
        0,
        {"time_future": 30},
    )


def test_before_the_task_counts_from_its_offline_creation(world):
    # Created offline by the sampler's phone half an hour into the walk, and pushed a day later: the
    # track is judged from the phone's (corrected) creation time, not the server row's, with an hour's
    # tolerance before it.
    side = world.shanghai
    sampler = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    created = WALK_START + dt.timedelta(minutes=90)
    create = sampler.op(
        "task.create", task_id, {"project": side.project.pk, "name": "采样"}, device_time=created
    )
    walk = timed_korita()[:200]  # 105 minutes from WALK_START: the first 30 beyond the tolerance
    body = {**batch(walk), "task": str(task_id)}
    append = sampler.op("track.append", task_id, body)
    results = sampler.push([create, append]).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    reasons = dict(TrackPoint.objects.filter(task_id=task_id).values_list("recorded_at", "filtered"))
    assert len(reasons) == len(walk)
    limit = created - dt.timedelta(seconds=rules.THRESHOLDS.max_before_task_s)
    early = [p for p in walk if p["fix_time"] < limit]
    assert 0 < len(early) < len(walk)
    assert {reasons[p["fix_time"]] for p in early} == {"time_before_task"}
    assert "time_before_task" not in {reasons[p["fix_time"]] for p in walk if p["fix_time"] >= limit}
    task = MonitoringTask.objects.get(pk=task_id)
    assert task.received_at > dt.datetime.now(tz=UTC) - MINUTE
    assert abs(task.created_at - created) < dt.timedelta(seconds=1)  # the push's offset (F10 item 7)
