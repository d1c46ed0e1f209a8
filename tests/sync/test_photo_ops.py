"""The ``photo.record`` sync operation: held until its task reaches the server, released when it does,
idempotent, a conflict (never a silent replacement) for another file under the same photo id, and
pulled with its verdict by the other phones of the project."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid

import pytest
from django.utils import timezone

from media_rules.models import Photo
from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import project_assign
from server.geo import from_wgs84
from sync.models import Operation
from tests.factories import hire, staff_account
from tests.media_rules.test_verdicts import make_photo
from tests.sync.helpers import Phone


@pytest.fixture
def team(world, settings, tmp_path):
    """The Shanghai sampler and a courier of the same project, each with a phone."""
    settings.MEDIA_ROOT = tmp_path
    side = world.shanghai
    courier = hire(side.agency, ["courier"])
    project_assign(project=side.project, employment=courier, post_code="courier")
    return {
        "side": side,
        "sampler": Phone.enrol(side.field_user),
        "courier": Phone.enrol(staff_account(side.main, courier)),
    }


def manifest(side, task_id: uuid.UUID, data: bytes, **overrides) -> dict:
    """A photo.record payload: the honest capture fix at the wastewater outlet (GCJ-02), taken now."""
    lon, lat = from_wgs84(side.wastewater.location.x, side.wastewater.location.y, "gcj02")
    t = timezone.now().isoformat()
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "photo_type": "sampling_site",
        "task": str(task_id),
        "outlet": side.wastewater.pk,
        "longitude": lon,
        "latitude": lat,
        "coordinate_system": "gcj02",
        "accuracy_m": 8.0,
        "fix_time": t,
        "device_time": t,
        **overrides,
    }


def send_file(phone: Phone, data: bytes, capture) -> None:
    with capture(execute=True):
        response = phone.client().post("/api/v1/media", {"file": io.BytesIO(data)}, format="multipart")
    assert response.status_code == 201, response.json()


def test_a_photo_is_held_until_its_task_arrives_from_another_phone(team, django_capture_on_commit_callbacks):
    side, sampler, courier = team["side"], team["sampler"], team["courier"]
    task_id, photo_id = uuid.uuid4(), uuid.uuid4()
    data = make_photo(31)
    # The sampler created the task offline; the courier, who got it by Bluetooth, photographs the
    # site, and reaches the network first.
    create = sampler.op("task.create", task_id, {"project": side.project.pk, "name": "采样任务"})
    record = courier.op("photo.record", photo_id, manifest(side, task_id, data))

    held = courier.push([record]).json()["results"][0]
    assert held["status"] == "held"
    assert held["waits_for"] == {"kind": "entity", "entity": "task", "id": str(task_id)}
    assert not Photo.objects.filter(pk=photo_id).exists()

    assert sampler.push([create]).json()["results"][0]["status"] == "applied"

    row = Operation.objects.get(op_id=record["op_id"])
    assert row.status == Operation.Status.APPLIED
    assert row.result["status"] == "applied"
    assert (row.waits_for, row.wait_key) == (None, "")
    photo = Photo.objects.get(pk=photo_id)
    assert photo.task_id == task_id
    assert photo.taken_by == courier.user
    assert str(photo.device_id) == courier.device_id
    assert photo.awaiting_media  # recorded; its file is still on the phone
    assert photo.verdict == ""
    # The courier's phone asks again: the operation is done.
    again = courier.push([record]).json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["first"]["status"] == "applied"

    # The file arrives: the photo is judged, inside the task's window (the task came from the sampler).
    send_file(courier, data, django_capture_on_commit_callbacks)
    photo.refresh_from_db()
    assert not photo.awaiting_media
    assert photo.verdict == "pass", photo.findings
    assert {f["code"] for f in photo.findings} == {"within_geofence"}
    assert MonitoringTask.objects.filter(pk=task_id).exists()


def test_another_file_under_the_same_photo_id_is_a_conflict(team):
    side, sampler = team["side"], team["sampler"]
    task_id, photo_id = uuid.uuid4(), uuid.uuid4()
    first, other = make_photo(32), make_photo(33)
    sampler.op("task.create", task_id, {"project": side.project.pk, "name": "采样任务"})
    sampler.op("photo.record", photo_id, manifest(side, task_id, first))
    assert [r["status"] for r in sampler.push().json()["results"]] == ["applied", "applied"]

    # A bug on the phone reuses the photo's id for another picture.
    clash = sampler.op("photo.record", photo_id, manifest(side, task_id, other))
    result = sampler.push([clash]).json()["results"][0]

    stored = hashlib.sha256(first).hexdigest()
    assert result["status"] == "conflict"
    assert result["entity_id"] == str(photo_id)
    assert result["conflict"] == {
        "reason": "photo_file_differs",
        "fields": [{"field": "sha256", "stored": stored, "sent": hashlib.sha256(other).hexdigest()}],
    }
    photo = Photo.objects.get(pk=photo_id)
    assert photo.sha256 == stored  # never silently replaced
    assert photo.version == result["version"] == 1
    assert Operation.objects.get(op_id=clash["op_id"]).status == Operation.Status.CONFLICT


def test_the_same_operation_again_is_a_duplicate(team):
    side, sampler = team["side"], team["sampler"]
    task_id, photo_id = uuid.uuid4(), uuid.uuid4()
    sampler.op("task.create", task_id, {"project": side.project.pk, "name": "采样任务"})
    record = sampler.op("photo.record", photo_id, manifest(side, task_id, make_photo(34)))
    first = sampler.push().json()["results"][1]
    assert first["status"] == "applied"

    again = sampler.push([record]).json()["results"][0]

    assert again == {"op_id": record["op_id"], "status": "duplicate", "first": first}
    assert Photo.objects.filter(pk=photo_id).count() == 1
    assert Photo.objects.get(pk=photo_id).version == 1
    assert Operation.objects.filter(op_id=record["op_id"]).count() == 1


def test_the_other_phones_of_the_project_pull_the_photo_and_its_verdict(
    world, team, django_capture_on_commit_callbacks
):
    side, sampler, courier = team["side"], team["sampler"], team["courier"]
    task_id, photo_id = uuid.uuid4(), uuid.uuid4()
    data = make_photo(35)
    sampler.op("task.create", task_id, {"project": side.project.pk, "name": "采样任务"})
    # A photo 5 km from the outlet: its verdict is worth pulling.
    far = manifest(side, task_id, data)
    far["longitude"] += 0.0525  # about 5 km east at 31°N
    sampler.op("photo.record", photo_id, far)
    sampler.push()

    page = courier.pull(0).json()
    photos = [c for c in page["changes"] if c["entity"] == "photo"]
    assert [c["id"] for c in photos] == [str(photo_id)]
    assert photos[0]["data"]["verdict"] == "pending"
    assert photos[0]["data"]["awaiting_media"] is True

    send_file(sampler, data, django_capture_on_commit_callbacks)
    page = courier.pull(page["cursor"]).json()
    latest = [c for c in page["changes"] if c["entity"] == "photo"][-1]
    assert latest["id"] == str(photo_id)
    data_pulled = latest["data"]
    assert data_pulled["verdict"] == "fail"
    assert data_pulled["awaiting_media"] is False
    assert data_pulled["task"] == str(task_id)
    assert data_pulled["captured_from"] == "device_time"
    outside = next(f for f in data_pulled["findings"] if f["code"] == "outside_geofence")
    assert outside["severity"] == "fail"
    assert 4800 < outside["evidence"]["distance_m"] < 5200
    assert latest["version"] == data_pulled["version"] == Photo.objects.get(pk=photo_id).version
    # Another agency's phone sees none of it.
    assert not [
        c for c in Phone.enrol(world.jiangsu.field_user).pull(0).json()["changes"] if c["entity"] == "photo"
    ]


def test_a_photo_op_from_a_phone_with_a_fast_clock_is_corrected_by_the_push(
    team, django_capture_on_commit_callbacks
):
    side = team["side"]
    fast = Phone.enrol(side.field_user, clock_skew=dt.timedelta(hours=2))
    task_id, photo_id = uuid.uuid4(), uuid.uuid4()
    data = make_photo(36)
    fast.op("task.create", task_id, {"project": side.project.pk, "name": "采样任务"})
    # The phone stamps the capture with its own clock (2 h fast); no fix time (see test_verdicts).
    fast.op(
        "photo.record",
        photo_id,
        manifest(side, task_id, data, device_time=fast.now().isoformat(), fix_time=None),
    )
    assert [r["status"] for r in fast.push().json()["results"]] == ["applied", "applied"]
    send_file(fast, data, django_capture_on_commit_callbacks)

    photo = Photo.objects.get(pk=photo_id)
    assert abs(photo.device_time_corrected - timezone.now()) < dt.timedelta(minutes=1)
    assert photo.verdict == "pass", photo.findings
