"""F9 item 3: a device id never passes between users. A sign-in with a device id enrolled by someone
else is refused (signed out or not); sync state, journal and answers are the pusher's own; audit
entries name a phone only to those of its user's agency (and to regulators and the platform)."""

import uuid

import pytest
from django.core.cache import cache

from server.accounts.models import Device, DeviceToken
from sync.models import Operation
from tests.factories import PASSWORD
from tests.sync.helpers import Phone

API = "/api/v1"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # the sign-in limits count per process: earlier tests' sign-ins must not spill over


def sign_in(api, user, device_id, language=None):
    body = {
        "username": user.username,
        "password": PASSWORD,
        "device": {"id": device_id, "platform": "android", "app_version": "3.0.0"},
    }
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return api.post(f"{API}/auth/login", body, format="json", **headers)


def held_photo_work(world):
    """The Shanghai sampler pushes a photo on a task not on the server yet (held), then signs out."""
    side = world.shanghai
    sampler = Phone.enrol(side.field_user)
    photo = sampler.op(
        "photo.record",
        uuid.uuid4(),
        {"sha256": "a" * 64, "photo_type": "sampling_operation", "task": str(uuid.uuid4())},
    )
    pushed = sampler.push().json()["results"]
    assert pushed[0]["status"] == "held", pushed
    assert sampler.client().post(f"{API}/auth/logout").status_code == 204
    return sampler, photo


def test_a_signed_out_device_id_is_refused_to_another_agencys_user(world, api):
    sampler, _ = held_photo_work(world)
    intruder = world.jiangsu.field_user
    response = sign_in(api, intruder, sampler.device_id)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "device_of_another_user"
    # It tells the phone what to do and nothing about who holds the id.
    assert "重新生成设备标识" in body["message"]
    assert world.shanghai.field_user.username not in str(body)
    english = sign_in(api, intruder, sampler.device_id, language="en").json()["message"]
    assert "generate a new device id" in english
    # The device stays its sampler's; nothing was issued to the intruder.
    assert Device.objects.get(pk=sampler.device_id).user == world.shanghai.field_user
    assert not DeviceToken.objects.filter(user=intruder).exists()
    # A colleague of the same agency is refused too: one device id, one account.
    assert sign_in(api, world.shanghai.reviewer, sampler.device_id).status_code == 409
    # The sampler signs in again on the phone: its own work is still there.
    again = sign_in(api, world.shanghai.field_user, sampler.device_id)
    assert again.status_code == 200, again.json()
    state = api.get(
        f"{API}/sync/devices/{sampler.device_id}", HTTP_AUTHORIZATION=f"Bearer {again.json()['token']}"
    ).json()
    assert state["counts"] == {"held": 1}


def test_a_device_that_changed_hands_before_the_fix_shows_nothing_of_its_first_user(world, api, client_for):
    """Devices handed over by the old code keep their first user's journal: it is not the new user's."""
    sampler, photo = held_photo_work(world)
    intruder = world.jiangsu.field_user
    Device.objects.filter(pk=sampler.device_id).update(user=intruder)  # as the old sign-in did
    token = Phone.enrol(intruder).token  # a token for the intruder, then bound to the shared device
    DeviceToken.objects.filter(user=intruder).update(device_id=sampler.device_id)
    phone = Phone(user=intruder, device_id=sampler.device_id, token=token)
    client = phone.client()

    state = client.get(f"{API}/sync/devices/{sampler.device_id}").json()
    assert (state["counts"], state["needs_attention"]) == ({}, [])
    reconciled = client.post(
        f"{API}/sync/reconcile",
        {"device_id": sampler.device_id, "ops": [{"op_id": photo["op_id"]}]},
        format="json",
    ).json()
    assert (reconciled["missing"], reconciled["held"]) == ([photo["op_id"]], [])
    # Replaying the sampler's op id gets no first result: it is refused as a reused op id.
    replay = phone.push([photo]).json()["results"][0]
    assert (replay["status"], replay["code"]) == ("rejected", "op_id_reused")
    assert "first" not in replay
    assert Operation.objects.filter(op_id=photo["op_id"]).count() == 1
    # The held work stays out of the other agency's attention list.
    attention = client_for(world.jiangsu.main).get(f"{API}/sync/attention").json()
    assert photo["entity_id"] not in {row["entity_id"] for row in attention}


def test_audit_entries_name_a_phone_only_to_its_agency(world, client_for):
    side = world.shanghai
    sampler = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    sampler.op("task.create", task_id, {"project": side.project.pk, "name": "进水口采样"})
    assert sampler.push().json()["results"][0]["status"] == "applied"

    def made(user):
        entries = client_for(user).get(f"{API}/audit/task/{task_id}").json()["results"]
        return next(e for e in entries if e["action"] == "task.created")

    assert made(side.main)["device"]["id"] == sampler.device_id
    assert made(side.regulator)["device"]["id"] == sampler.device_id
    # The enterprise sees the project's history, not the agency's phones or operations.
    seen = made(side.enterprise_user)
    assert (seen["device"], seen["operation"]) == (None, None)
    assert seen["actor"]["id"] == side.field_user.pk
