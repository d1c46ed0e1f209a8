"""The monitoring task's lifecycle (seed 002: 开始/暂停/继续/暂存/结束), online and offline: the table,
who may make each move by their post on the project, and ending only with every required photo."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest

from server.fieldwork.models import MonitoringTask, ProjectAssignment, TaskEvent
from sync.models import Change
from tests.factories import staff_account
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def analyst(side):
    lab = ProjectAssignment.objects.get(project=side.project, post__code="lab_analyst").employment
    return staff_account(side.main, lab)


@pytest.fixture
def task(side, client_for):
    response = client_for(side.field_user).post(
        f"{API}/tasks", {"project": side.project.pk, "name": "进水口采样"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return MonitoringTask.objects.get(pk=response.json()["id"])


def move(client, task, to, **extra):
    return client.post(f"{API}/tasks/{task.pk}/transition", {"to": to, **extra}, format="json")


def record_photo(client, task, photo_type):
    body = {
        "id": str(uuid.uuid4()),
        "sha256": hashlib.sha256(f"{task.pk}{photo_type}".encode()).hexdigest(),
        "photo_type": photo_type,
        "task": str(task.pk),
    }
    response = client.post(f"{API}/photos", body, format="json")
    assert response.status_code == 201, response.json()


def test_field_staff_start_pause_continue_and_save(side, task, client_for):
    sampler = client_for(side.field_user)
    for to in ("running", "paused", "running", "saved", "running", "saved"):
        response = move(sampler, task, to)
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == to
    task.refresh_from_db()
    assert task.status == "saved"
    assert task.version == 7  # created at 1, one per move
    events = list(task.events.order_by("at", "id").values_list("from_status", "to_status", "actor_id"))
    assert [(f, t) for f, t, _ in events] == [
        ("created", "running"),
        ("running", "paused"),
        ("paused", "running"),
        ("running", "saved"),
        ("saved", "running"),
        ("running", "saved"),
    ]
    assert {actor for *_, actor in events} == {side.field_user.pk}
    history = sampler.get(f"{API}/tasks/{task.pk}/events").json()
    assert [e["to_status"] for e in history] == ["running", "paused", "running", "saved", "running", "saved"]
    # Phones learn of it by pulling.
    change = Change.objects.get(entity_type="task", entity_id=str(task.pk))
    assert change.data["status"] == "saved"
    assert change.version == 7


def test_moves_outside_the_table_are_refused_and_change_nothing(side, task, client_for):
    sampler = client_for(side.field_user)
    response = move(sampler, task, "paused")
    assert response.status_code == 409
    assert response.json()["code"] == "task_transition_not_allowed"
    assert response.json()["details"] == {"from": "created", "to": "paused"}
    response = move(sampler, task, "created")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    task.refresh_from_db()
    assert (task.status, task.version, task.events.count()) == ("created", 1, 0)


def test_a_sampler_cannot_end_a_task(side, task, client_for):
    sampler = client_for(side.field_user)
    assert move(sampler, task, "running").status_code == 200
    response = move(sampler, task, "ended")
    assert response.status_code == 403
    assert response.json()["code"] == "task_actor_not_allowed"
    task.refresh_from_db()
    assert task.status == "running"


def test_the_analyst_ends_only_with_every_required_photo(side, task, analyst, client_for):
    lab = client_for(analyst)
    sampler = client_for(side.field_user)
    assert move(sampler, task, "running").status_code == 200
    response = move(lab, task, "ended")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "task_stages_incomplete"
    assert body["details"]["missing"] == ["采样作业照片", "采样点现场照片", "送样照片", "实验室分析照片"]
    record_photo(sampler, task, "sampling_operation")
    record_photo(sampler, task, "sampling_site")
    record_photo(sampler, task, "sample_delivery")
    assert move(lab, task, "ended").json()["details"]["missing"] == ["实验室分析照片"]
    record_photo(lab, task, "lab_analysis")
    response = move(lab, task, "ended")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ended"
    assert TaskEvent.objects.filter(task=task, to_status="ended", actor=analyst).count() == 1
    # Ended is final.
    assert move(lab, task, "running").json()["code"] == "task_transition_not_allowed"


def test_english_and_other_agencies(world, task, client_for):
    response = move(client_for(world.jiangsu.field_user), task, "running")
    assert response.status_code == 404
    response = client_for(world.shanghai.field_user, "en").post(
        f"{API}/tasks/{task.pk}/transition", {"to": "ended"}, format="json"
    )
    assert response.json()["code"] == "task_transition_not_allowed"
    message = response.json()["message"]
    assert message.startswith("The task is ")
    assert "cannot become" in message


def test_offline_moves_are_dated_by_the_corrected_phone_clock_and_wait_for_the_task(side):
    sampler = Phone.enrol(side.field_user)
    courier = Phone.enrol(side.field_user, clock_skew=dt.timedelta(hours=1))  # a phone an hour fast
    task_id = uuid.uuid4()
    # The courier's start arrives before the sampler's phone has synced the task: held, not refused.
    courier_op = courier.op("task.transition", task_id, {"to": "running"})
    answer = courier.push().json()["results"][0]
    assert answer["status"] == "held"
    assert answer["waits_for"] == {"kind": "entity", "entity": "task", "id": str(task_id)}
    sampler.op("task.create", task_id, {"project": side.project.pk, "name": "离线任务"})
    assert sampler.push().json()["results"][0]["status"] == "applied"
    task = MonitoringTask.objects.get(pk=task_id)
    assert task.status == "running"
    event = task.events.get()
    # Dated by the courier's clock corrected by its measured offset: about now, not an hour ahead.
    sent = dt.datetime.fromisoformat(courier_op["device_time"])
    assert abs((event.at - (sent - dt.timedelta(hours=1))).total_seconds()) < 60
    # A move the table refuses is rejected with its code, and the phone is told.
    sampler.queue.clear()
    sampler.op("task.transition", task_id, {"to": "ended"})
    answer = sampler.push().json()["results"][0]
    assert answer["status"] == "rejected"
    assert answer["code"] == "task_actor_not_allowed"
