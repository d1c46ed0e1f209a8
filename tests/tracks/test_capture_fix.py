"""F10 item 5: one vocabulary for a capture fix. A check-in sent with ``mock_location: true`` was
stored ``inside`` with no mock flag (check-ins read ``mock``); photos, check-ins, track points and
their sync payloads now take the same names (server/capture.py), and the old ones are refused."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from server.tracks.models import CheckIn, TrackPoint
from tests.sync.helpers import Phone
from tests.tracks.test_checkins import API, at_outlet, check_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def task_id(side, client_for):
    response = client_for(side.field_user).post(
        f"{API}/tasks", {"project": side.project.pk, "name": "总排口采样"}, format="json"
    )
    return response.json()["id"]


def test_a_check_in_flagged_mock_location_is_stored_mock_and_says_so(side, task_id, client_for):
    lon, lat = at_outlet(side.wastewater)
    answer = check_in(
        client_for(side.field_user),
        lon=lon,
        lat=lat,
        accuracy_m=8,
        task=task_id,
        outlet=side.wastewater.pk,
        mock_location=True,
        device_time="2026-11-23T09:00:00+08:00",
    )
    assert answer.status_code == 201, answer.json()
    assert "mock_location" in {f["code"] for f in answer.json()["findings"]}
    stored = CheckIn.objects.get(pk=answer.json()["id"])
    assert stored.mock is True
    assert stored.at == dt.datetime(2026, 11, 23, 1, tzinfo=dt.UTC)  # device_time, not the server's


def test_a_check_in_with_the_old_names_is_refused_naming_them_and_their_new_names(side, task_id, client_for):
    lon, lat = at_outlet(side.wastewater)
    answer = check_in(
        client_for(side.field_user),
        lon=lon,
        lat=lat,
        task=task_id,
        mock=True,
        time="2026-11-23T09:00:00+08:00",
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_failed")
    details = answer.json()["details"]
    assert set(details) == {"mock", "time"}
    assert "mock_location" in details["mock"][0]
    assert "device_time" in details["time"][0]
    assert not CheckIn.objects.exists()


def test_offline_check_in_takes_the_same_names_and_refuses_the_old(side, task_id):
    phone = Phone.enrol(side.field_user)
    lon, lat = at_outlet(side.wastewater)
    fix = {"longitude": lon, "latitude": lat, "coordinate_system": "gcj02", "task": task_id}
    good, old = uuid.uuid4(), uuid.uuid4()
    phone.op("checkin.record", good, fix | {"mock_location": True, "outlet": side.wastewater.pk})
    phone.op("checkin.record", old, fix | {"mock": True})
    results = phone.push().json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["code"] == "validation_failed"
    assert set(results[1]["details"]) == {"mock"}
    assert CheckIn.objects.get(pk=good).mock is True
    assert not CheckIn.objects.filter(pk=old).exists()


def point(at: dt.datetime, **fields) -> dict:
    return {"fix_time": at.isoformat(), "longitude": 121.44, "latitude": 31.19, **fields}


def test_a_track_point_takes_mock_location_and_fix_time(side, task_id, client_for):
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)  # after the task was created
    body = {
        "coordinate_system": "wgs84",
        "points": [point(t0), point(t0 + dt.timedelta(seconds=10), mock_location=True)],
    }
    answer = client_for(side.field_user).post(f"{API}/tasks/{task_id}/track", body, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["filtered"] == {"mock": 1}
    rows = TrackPoint.objects.filter(task_id=task_id).order_by("recorded_at")
    assert [(row.recorded_at, row.mock) for row in rows] == [
        (t0, False),
        (t0 + dt.timedelta(seconds=10), True),
    ]


def test_a_track_point_with_the_old_names_is_refused_naming_its_index(side, task_id, client_for):
    t0 = timezone.now() - dt.timedelta(minutes=5)
    old = {"time": t0.isoformat(), "longitude": 121.44, "latitude": 31.19, "mock": True}
    body = {"coordinate_system": "wgs84", "points": [point(t0 - dt.timedelta(seconds=5)), old]}
    answer = client_for(side.field_user).post(f"{API}/tasks/{task_id}/track", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_failed")
    details = answer.json()["details"]["points"]["1"]
    assert set(details) == {"time", "mock"}
    assert "fix_time" in details["time"][0]
    assert not TrackPoint.objects.exists()
