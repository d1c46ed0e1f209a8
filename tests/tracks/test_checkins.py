"""GPS check-ins (签到): judged by the photo location rules, idempotent by the phone's id, online
and offline, for monitoring tasks and at O&M points."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from server.geo import from_wgs84
from server.tracks.models import CheckIn
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def task_id(side, client_for):
    response = client_for(side.field_user).post(
        f"{API}/tasks", {"project": side.project.pk, "name": "总排口采样"}, format="json"
    )
    assert response.status_code == 201
    return response.json()["id"]


def at_outlet(outlet, system="gcj02", east_m=0.0):
    lon, lat = outlet.location.x + east_m / 95_000, outlet.location.y  # ~95 km per degree at 31°N
    return from_wgs84(lon, lat, system)


def check_in(client, *, lon, lat, system="gcj02", **fields):
    body = {"id": str(uuid.uuid4()), "longitude": lon, "latitude": lat, "coordinate_system": system, **fields}
    return client.post(f"{API}/checkins", body, format="json")


def test_at_the_outlet_in_gcj02_is_inside_and_stored_in_wgs84(side, task_id, client_for):
    outlet = side.wastewater
    lon, lat = at_outlet(outlet)
    response = check_in(
        client_for(side.field_user),
        lon=lon,
        lat=lat,
        accuracy_m=8,
        task=task_id,
        outlet=outlet.pk,
        kind="start",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["verdict"] == "inside"
    assert body["distance_m"] < 1
    assert body["geofence_m"] == outlet.geofence_radius_m
    assert body["given"] == {"longitude": lon, "latitude": lat, "system": "gcj02"}
    stored = CheckIn.objects.get(pk=body["id"])
    assert stored.location.distance(outlet.location) < 1e-6  # converted back to WGS-84
    assert stored.kind == "start"


def test_far_away_is_outside_and_a_declared_system_mixup_is_named(side, task_id, client_for):
    client, outlet = client_for(side.field_user), side.wastewater
    lon, lat = at_outlet(outlet, east_m=5000)
    far = check_in(client, lon=lon, lat=lat, accuracy_m=10, task=task_id, outlet=outlet.pk).json()
    assert far["verdict"] == "outside"
    assert 4800 < far["distance_m"] < 5200
    # GCJ-02 coordinates (what wx.getLocation gives) declared as WGS-84: a client bug, not fraud.
    lon, lat = at_outlet(outlet, "gcj02")
    mixed = check_in(client, lon=lon, lat=lat, system="wgs84", accuracy_m=10, task=task_id, outlet=outlet.pk)
    assert mixed.json()["verdict"] == "coordinate_mixup"
    assert "coordinate_system_mixup" in {f["code"] for f in mixed.json()["findings"]}


def test_without_a_site_there_is_nothing_to_compare(side, task_id, client_for):
    body = check_in(client_for(side.field_user), lon=121.44, lat=31.19, task=task_id).json()
    assert body["verdict"] == "no_site"
    assert body["distance_m"] is None


def test_the_same_id_is_idempotent_and_another_check_in_under_it_is_refused(side, task_id, client_for):
    client = client_for(side.field_user)
    body = {
        "id": str(uuid.uuid4()),
        "longitude": 121.44,
        "latitude": 31.19,
        "coordinate_system": "gcj02",
        "task": task_id,
        "device_time": "2026-11-23T09:00:00+08:00",
    }
    first = client.post(f"{API}/checkins", body, format="json")
    again = client.post(f"{API}/checkins", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    moved = client.post(f"{API}/checkins", {**body, "longitude": 121.45}, format="json")
    assert moved.status_code == 409
    assert moved.json()["code"] == "checkin_conflict"
    assert CheckIn.objects.get().given_longitude == 121.44


def test_latest_is_the_home_screen_location(side, task_id, client_for):
    client = client_for(side.field_user)
    none_yet = client.get(f"{API}/checkins/latest")
    assert (none_yet.status_code, none_yet.json()) == (200, None)  # F10 item 6: not a wrong URL's 404
    for hour, lon in ((8, 121.40), (10, 121.42), (9, 121.41)):
        check_in(client, lon=lon, lat=31.19, task=task_id, device_time=f"2026-11-23T{hour:02d}:00:00+08:00")
    latest = client.get(f"{API}/checkins/latest").json()
    assert latest["given"]["longitude"] == 121.42


def test_om_check_ins_need_the_task_staff_and_one_of_its_points(side, world, client_for):
    technician = side.technician_user  # the technician's one account (seed 002: 账号分配 is not repeated)
    lon, lat = at_outlet(side.wastewater)
    ok = check_in(
        client_for(technician), lon=lon, lat=lat, om_task=side.om_task.pk, outlet=side.wastewater.pk
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["verdict"] == "inside"
    # A field user not on its staff does not even see the O&M task; a manager sees it, is not staff.
    unseen = check_in(
        client_for(side.field_user), lon=lon, lat=lat, om_task=side.om_task.pk, outlet=side.wastewater.pk
    )
    assert (unseen.status_code, set(unseen.json()["details"])) == (400, {"om_task"})  # F10 item 6
    refused = check_in(
        client_for(side.manager), lon=lon, lat=lat, om_task=side.om_task.pk, outlet=side.wastewater.pk
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "checkin_not_on_task"
    # A point that is not the task's enterprise's (another region's outlet is not even visible).
    hidden = check_in(
        client_for(technician), lon=lon, lat=lat, om_task=side.om_task.pk, outlet=world.jiangsu.wastewater.pk
    )
    assert (hidden.status_code, set(hidden.json()["details"])) == (400, {"outlet"})
    no_point = check_in(client_for(technician), lon=lon, lat=lat, om_task=side.om_task.pk)
    assert no_point.json()["code"] == "checkin_subject_required"
    # The enterprise sees the check-ins at its points; another agency does not.
    assert client_for(side.enterprise_user).get(f"{API}/checkins").json()["count"] == 1
    assert client_for(world.jiangsu.main).get(f"{API}/checkins").json()["count"] == 0


def test_bad_input_stores_nothing(side, world, task_id, client_for):
    client = client_for(side.field_user)
    response = check_in(client, lon=121.44, lat=95, task=task_id)
    assert response.status_code == 400
    assert response.json()["code"] in {"validation_failed", "invalid_coordinates"}
    other = check_in(client_for(world.jiangsu.field_user), lon=121.44, lat=31.19, task=task_id)
    assert (other.status_code, set(other.json()["details"])) == (400, {"task"})  # F10 item 6
    assert not CheckIn.objects.exists()


def test_offline_check_in_waits_for_its_task_and_is_dated_by_the_corrected_clock(side):
    sampler = Phone.enrol(side.field_user)
    courier = Phone.enrol(side.field_user, clock_skew=dt.timedelta(hours=2))  # two hours fast
    task_id, checkin_id = uuid.uuid4(), uuid.uuid4()
    sent = courier.now()
    lon, lat = at_outlet(side.wastewater)
    courier.op(
        "checkin.record",
        checkin_id,
        {
            "longitude": lon,
            "latitude": lat,
            "coordinate_system": "gcj02",
            "accuracy_m": 6,
            "task": str(task_id),
            "outlet": side.wastewater.pk,
            "device_time": sent.isoformat(),
        },
    )
    assert courier.push().json()["results"][0]["status"] == "held"
    sampler.op("task.create", task_id, {"project": side.project.pk, "name": "离线"})
    sampler.push()
    checkin = CheckIn.objects.get(pk=checkin_id)
    assert checkin.verdict == "inside"
    assert abs((checkin.at - (sent - dt.timedelta(hours=2))).total_seconds()) < 60
