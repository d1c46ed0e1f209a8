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


# --- Stages (seed 002: 采样照片齐全后才能上传送样照片，送样照片上传后才能上传实验室分析照片) -------------
def photo_body(task, photo_type, salt=""):
    return {
        "id": str(uuid.uuid4()),
        "sha256": hashlib.sha256(f"{task.pk}{photo_type}{salt}".encode()).hexdigest(),
        "photo_type": photo_type,
        "task": str(task.pk),
    }


def test_each_stage_opens_when_the_earlier_required_photos_are_in(side, task, analyst, client_for):
    sampler, lab = client_for(side.field_user), client_for(analyst)
    record_photo(sampler, task, "sampling_site")
    response = sampler.post(f"{API}/photos", photo_body(task, "sample_delivery"), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "photo_stage_not_open"
    assert response.json()["details"] == {"missing": ["采样作业照片"], "stage": "delivery"}
    assert response.json()["message"] == "送样阶段尚未开始：请先上传采样作业照片。"
    response = lab.post(f"{API}/photos", photo_body(task, "lab_analysis"), format="json")
    assert response.json()["details"]["missing"] == ["采样作业照片", "送样照片"]
    assert set(task.photos.values_list("photo_type_id", flat=True)) == {"sampling_site"}

    record_photo(sampler, task, "sampling_operation")
    record_photo(sampler, task, "sample_delivery")
    record_photo(lab, task, "lab_analysis")
    # A second photo of an open stage, and a work photo (no stage order) at any time.
    assert (
        sampler.post(f"{API}/photos", photo_body(task, "sampling_site", "2"), format="json").status_code
        == 201
    )
    assert sampler.post(f"{API}/photos", photo_body(task, "work_photo"), format="json").status_code == 201
    assert task.photos.count() == 6


def test_a_photo_type_the_monitoring_type_does_not_take_is_refused(side, task, client_for, world):
    sampler = client_for(side.field_user, "en")
    response = sampler.post(f"{API}/photos", photo_body(task, "om_site"), format="json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "photo_type_not_for_task"
    assert "om_site" not in body["details"]["allowed"]
    assert {"sampling_operation", "lab_analysis", "work_photo"} <= set(body["details"]["allowed"])
    # A noise measurement is done on site: no delivery or lab photos (data: TaskPhotoType).
    from server.fieldwork.models import MonitoringProject

    MonitoringProject.objects.filter(pk=side.project.pk).update(monitoring_type="noise")
    record_photo(client_for(side.field_user), task, "sampling_operation")
    record_photo(client_for(side.field_user), task, "sampling_site")
    response = sampler.post(f"{API}/photos", photo_body(task, "sample_delivery"), format="json")
    assert response.json()["code"] == "photo_type_not_for_task"
    assert response.json()["message"] == "The photo type 送样照片 is not taken on 噪声 monitoring tasks."
    assert not task.photos.filter(photo_type_id__in=["om_site", "sample_delivery"]).exists()


def test_an_offline_photo_for_a_stage_not_open_is_held_until_the_earlier_photos_arrive(
    side, task, client_for, world
):
    from server.fieldwork.services import project_assign
    from tests.factories import hire

    courier_staff = hire(side.agency, ["courier"])
    project_assign(project=side.project, employment=courier_staff, post_code="courier")
    courier = Phone.enrol(staff_account(side.main, courier_staff))
    body = photo_body(task, "sample_delivery")
    photo_id = body.pop("id")
    courier.op("photo.record", photo_id, body)
    answer = courier.push().json()["results"][0]
    assert answer["status"] == "held"
    assert answer["waits_for"] == {
        "kind": "stages",
        "task": str(task.pk),
        "missing": ["采样作业照片", "采样点现场照片"],
        "stage": "delivery",
    }
    sampler = client_for(side.field_user)
    record_photo(sampler, task, "sampling_operation")
    from sync.models import Operation

    assert Operation.objects.get(entity_id=photo_id).status == "held"  # one sampling photo is not enough
    record_photo(sampler, task, "sampling_site")  # online: releases the courier's held photo
    row = Operation.objects.get(entity_id=photo_id)
    assert row.status == "applied"
    assert (row.wait_key, row.waits_for) == ("", None)
    assert task.photos.filter(pk=photo_id, taken_by=courier.user).exists()


def test_the_same_move_again_online_changes_nothing(side, task, client_for):
    sampler = client_for(side.field_user)
    assert move(sampler, task, "running").status_code == 200
    response = move(sampler, task, "running")  # a double tap, or a second phone
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.status, task.version, task.events.count()) == ("running", 2, 1)


def test_offline_moves_are_replayed_in_the_order_they_were_made(side, task, client_for, analyst):
    """A save made at 10:00 reaches the server after a continue made at 11:00 on another phone: it is
    kept in the history in its place, and the status follows the moves in the order they were made."""
    sampler = Phone.enrol(side.field_user)
    lab = Phone.enrol(analyst)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    sampler.op("task.transition", task.pk, {"to": "running"}, device_time=start)
    assert sampler.push().json()["results"][0]["status"] == "applied"
    sampler.queue.clear()
    save = sampler.op("task.transition", task.pk, {"to": "saved"}, device_time=start + dt.timedelta(hours=1))
    lab.op("task.transition", task.pk, {"to": "paused"}, device_time=start + dt.timedelta(hours=2))
    # The lab's pause, made later, arrives first: running → paused.
    assert lab.push().json()["results"][0]["status"] == "applied"
    answer = sampler.push([save]).json()["results"][0]
    # Made before the pause: running → saved at 1 h, then saved → paused does not fit: the pause is
    # kept, unapplied, and the task is saved (the last move that fits).
    assert answer["status"] == "applied"
    task.refresh_from_db()
    assert task.status == "saved"
    events = list(task.events.order_by("at").values_list("from_status", "to_status", "applied"))
    assert events == [("created", "running", True), ("running", "saved", True), ("saved", "paused", False)]
    history = client_for(side.field_user).get(f"{API}/tasks/{task.pk}/events").json()
    assert [e["applied"] for e in history] == [True, True, False]
