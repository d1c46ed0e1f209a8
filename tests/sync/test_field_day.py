"""A field day through the HTTP API, as three phones play it (seed 002: 采样 → 送样 → 实验室分析).

The sampler is offline all morning: creates the task, starts it, checks in at the outlet, walks with
GPS on, takes both sampling photos and saves (暂存). The courier picks the samples up at noon on their
own phone: continues, photographs the hand-over, saves. The lab analyst continues in the afternoon,
photographs the analysis and ends the task. Each phone then pushes its day in one go and sends its
files, and the three pushes arrive in every possible order.

Whatever the order, the server ends in the same state: the task ended, all four photos in with the
same verdicts, the same lifecycle history (every move applied, in the order made), the same track,
and every operation stored exactly once, none left held or refused. The orders where a later stage
arrives first exercise what would otherwise be refused: the courier's photo before the sampler's is
held until the sampling photos arrive, the analyst's end before the courier's photo is held until the
last required photo arrives, and a move pushed after a later move made on another phone is replayed
in its place in time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import uuid
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from media_rules.models import Photo
from server.fieldwork.models import MonitoringTask, ProjectAssignment
from server.fieldwork.services import project_assign
from server.geo import from_wgs84
from server.tracks.models import CheckIn, TrackPoint
from server.tracks.services import track_summary
from sync.models import Operation
from tests.factories import hire, staff_account
from tests.media_rules.test_verdicts import make_photo
from tests.sync.helpers import Phone
from tests.tracks.helpers import batch, timed_korita

pytestmark = pytest.mark.django_db


@dataclass
class Member:
    name: str
    phone: Phone
    files: list[bytes] = field(default_factory=list)


def at_outlet(side) -> tuple[float, float]:
    return from_wgs84(side.wastewater.location.x, side.wastewater.location.y, "gcj02")


def photo_op(member: Member, side, task_id, photo_type: str, seed: int, when: dt.datetime) -> None:
    """A photo taken at the outlet at ``when``: its record now, its file when the phone has signal."""
    lon, lat = at_outlet(side)
    data = make_photo(seed, when=when, gps=(side.wastewater.location.x, side.wastewater.location.y))
    member.files.append(data)
    member.phone.op(
        "photo.record",
        uuid.uuid5(task_id, photo_type),
        {
            "sha256": hashlib.sha256(data).hexdigest(),
            "photo_type": photo_type,
            "task": str(task_id),
            "outlet": side.wastewater.pk,
            "longitude": lon,
            "latitude": lat,
            "coordinate_system": "gcj02",
            "accuracy_m": 6.0,
            "fix_time": when.isoformat(),
            "device_time": when.isoformat(),
        },
        device_time=when,
    )


def move(member: Member, task_id, to: str, when: dt.datetime) -> None:
    member.phone.op("task.transition", task_id, {"to": to}, device_time=when)


def plan_the_day(
    side, courier_user, analyst_user, task_id, seed: int
) -> tuple[dt.datetime, dict[str, Member]]:
    """Each phone's queue of the day, made offline (device times are the moments the work was done)."""
    t0 = timezone.now() - dt.timedelta(hours=9)
    sampler = Member("sampler", Phone.enrol(side.field_user))
    courier = Member("courier", Phone.enrol(courier_user))
    analyst = Member("analyst", Phone.enrol(analyst_user))

    sampler.phone.op(
        "task.create", task_id, {"project": side.project.pk, "name": "进水口季度采样"}, device_time=t0
    )
    move(sampler, task_id, "running", t0 + dt.timedelta(minutes=5))
    lon, lat = at_outlet(side)
    sampler.phone.op(
        "checkin.record",
        uuid.uuid5(task_id, "checkin"),
        {
            "longitude": lon,
            "latitude": lat,
            "coordinate_system": "gcj02",
            "accuracy_m": 5,
            "task": str(task_id),
            "outlet": side.wastewater.pk,
            "device_time": (t0 + dt.timedelta(minutes=10)).isoformat(),
        },
        device_time=t0 + dt.timedelta(minutes=10),
    )
    photo_op(sampler, side, task_id, "sampling_operation", seed + 1, t0 + dt.timedelta(hours=1))
    photo_op(sampler, side, task_id, "sampling_site", seed + 2, t0 + dt.timedelta(hours=1, minutes=5))
    # A real GPS track (korita-zbevnica.gpx, a point every ~28 s for 3 h), replayed from the moment
    # the task started and sent in batches as the phone records them (ops in the order made).
    points = timed_korita()[:400]
    shift = t0 + dt.timedelta(minutes=6) - points[0]["fix_time"]
    walked = [{**p, "fix_time": p["fix_time"] + shift} for p in points]
    for i in range(0, len(walked), 200):
        sampler.phone.op(
            "track.append",
            task_id,
            {**batch(walked[i : i + 200]), "task": str(task_id)},
            device_time=walked[min(i + 199, len(walked) - 1)]["fix_time"],
        )
    move(sampler, task_id, "saved", t0 + dt.timedelta(hours=3, minutes=30))

    move(courier, task_id, "running", t0 + dt.timedelta(hours=4))
    photo_op(courier, side, task_id, "sample_delivery", seed + 3, t0 + dt.timedelta(hours=4, minutes=30))
    move(courier, task_id, "saved", t0 + dt.timedelta(hours=5))

    move(analyst, task_id, "running", t0 + dt.timedelta(hours=6))
    photo_op(analyst, side, task_id, "lab_analysis", seed + 4, t0 + dt.timedelta(hours=7))
    move(analyst, task_id, "ended", t0 + dt.timedelta(hours=8))
    return t0, {m.name: m for m in (sampler, courier, analyst)}


def reach_the_network(member: Member, capture) -> list[dict]:
    """The phone pushes its whole queue, then sends its files (background work runs inline).
    Returns the push's answers."""
    response = member.phone.push()
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert {r["status"] for r in results} <= {"applied", "held", "conflict"}, results
    for data in member.files:
        with capture(execute=True):
            sent = member.phone.client().post("/api/v1/media", {"file": io.BytesIO(data)}, format="multipart")
        assert sent.status_code == 201, sent.json()
    return results


def end_state(task_id, members: dict[str, Member], t0: dt.datetime) -> dict:
    """What the server holds of the day, named by who did what and when (minutes after the start)."""
    who = {m.phone.user.pk: name for name, m in members.items()}
    task = MonitoringTask.objects.get(pk=task_id)
    summary = track_summary(task)
    return {
        "status": task.status,
        "events": [
            (e.from_status, e.to_status, e.applied, who[e.actor_id], round((e.at - t0).total_seconds() / 60))
            for e in task.events.order_by("at", "id")
        ],
        "photos": sorted(
            (p.photo_type_id, p.verdict, sorted(f["code"] for f in p.findings), p.awaiting_media)
            for p in Photo.objects.filter(task_id=task_id)
        ),
        "checkins": list(CheckIn.objects.filter(task_id=task_id).values_list("verdict", flat=True)),
        "track_points": TrackPoint.objects.filter(task_id=task_id).count(),
        "kept_points": TrackPoint.objects.filter(task_id=task_id, filtered="").count(),
        "track_m": round(sum(s.length_m for s in summary.segments), 3),
        "segments": len(summary.segments),
    }


# What the day must end in, whatever the order: the moves in the order they were made, all applied.
MOVES = [
    ("created", "running", True, "sampler", 5),
    ("running", "saved", True, "sampler", 210),
    ("saved", "running", True, "courier", 240),
    ("running", "saved", True, "courier", 300),
    ("saved", "running", True, "analyst", 360),
    ("running", "ended", True, "analyst", 480),
]
PHOTOS = sorted(
    (code, "pass", ["exif_gps_agrees", "within_geofence"], False)
    for code in ("sampling_operation", "sampling_site", "sample_delivery", "lab_analysis")
)
ORDERS = list(itertools.permutations(["sampler", "courier", "analyst"]))


def test_a_field_day_ends_in_the_same_state_whatever_order_the_phones_sync(
    world, django_capture_on_commit_callbacks
):
    side = world.shanghai
    courier_staff = hire(side.agency, ["courier"])
    project_assign(project=side.project, employment=courier_staff, post_code="courier")
    lab = ProjectAssignment.objects.get(project=side.project, post__code="lab_analyst").employment
    courier_user, analyst_user = staff_account(side.main, courier_staff), staff_account(side.main, lab)

    states, answers = {}, {}
    for number, order in enumerate(ORDERS):
        # The same day played again on a task of its own, with new photos (a reused file would
        # rightly be judged a duplicate), each order on the same server.
        task_id = uuid.uuid4()
        t0, members = plan_the_day(side, courier_user, analyst_user, task_id, seed=600 + 10 * number)
        for name in order:
            answers[order, name] = reach_the_network(members[name], django_capture_on_commit_callbacks)
        # Nothing left waiting, nothing refused, each operation stored once.
        sent = [op["op_id"] for m in members.values() for op in m.phone.queue]
        rows = Operation.objects.filter(op_id__in=sent)
        assert rows.count() == len(sent) == len(set(sent))
        assert set(rows.values_list("status", flat=True)) <= {"applied", "conflict"}, order
        states[order] = end_state(task_id, members, t0)

    # What the phones were told on the way. The lab's day before the courier's: its photo and its
    # end wait for the delivery photo (not refused); the courier's, for the sampling photos.
    lab_first = answers[("sampler", "analyst", "courier"), "analyst"]
    assert [a["status"] for a in lab_first] == ["applied", "held", "held"]
    assert lab_first[1]["waits_for"] == {
        "kind": "stages",
        "task": lab_first[0]["entity_id"],
        "missing": ["送样照片"],
        "stage": "lab",
    }
    assert lab_first[2]["waits_for"]["missing"] == ["送样照片", "实验室分析照片"]
    courier_early = answers[("courier", "sampler", "analyst"), "courier"]
    assert {a["status"] for a in courier_early} == {"held"}  # the task itself has not arrived
    # A move pushed after a later move made on another phone: replayed in its place, all applied
    # in the end, but the phone was told at the time that it did not fit (kept for review).
    superseded = Operation.objects.filter(status="conflict")
    assert superseded.exists()
    assert {(op.op_type, op.result["conflict"]["reason"]) for op in superseded} == {
        ("task.transition", "transition_superseded")
    }

    first = states[ORDERS[0]]
    assert first["status"] == "ended"
    assert first["events"] == MOVES
    assert first["photos"] == PHOTOS
    assert first["checkins"] == ["inside"]
    assert first["track_points"] == 400  # every raw point kept
    assert 300 < first["kept_points"] <= 400
    assert first["track_m"] > 1000
    for order, state in states.items():
        assert state == first, order
