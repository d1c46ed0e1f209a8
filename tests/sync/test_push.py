"""Push: exactly once, per-operation results, hold and release, conflicts, clocks, bad batches."""

import datetime as dt
import uuid

import pytest

from server.fieldwork.models import MonitoringTask
from sync.models import Conflict, Operation, Push
from tests.factories import hire, staff_account
from tests.sync.helpers import Phone


@pytest.fixture
def team(world):
    """The Shanghai project's sampler, plus a courier and a lab analyst on their own phones."""
    side = world.shanghai
    from server.fieldwork.services import project_assign

    courier = hire(side.agency, ["courier"])
    project_assign(project=side.project, employment=courier, post_code="courier")
    courier_user = staff_account(side.main, courier)
    return {
        "project": side.project,
        "sampler": Phone.enrol(side.field_user),
        "courier": Phone.enrol(courier_user, clock_skew=dt.timedelta(minutes=-7)),
    }


def create(phone, project, name="采样任务", **payload):
    task_id = uuid.uuid4()
    return task_id, phone.op("task.create", task_id, {"project": project.pk, "name": name, **payload})


def test_create_then_update_applies_in_order(team):
    sampler = team["sampler"]
    task_id, _ = create(sampler, team["project"], sample_codes=["W-01"])
    sampler.op("task.update", task_id, {"note": "现场有雨"}, base_version=1)
    response = sampler.push()
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert results[1]["version"] == 2
    task = MonitoringTask.objects.get(pk=task_id)
    assert (task.name, task.sample_codes, task.note, task.version) == ("采样任务", ["W-01"], "现场有雨", 2)


def test_a_replayed_push_is_duplicate_for_everything_and_changes_nothing(team):
    sampler = team["sampler"]
    task_id, _ = create(sampler, team["project"])
    sampler.op("task.update", task_id, {"note": "a"}, base_version=1)
    first = sampler.push().json()["results"]
    # The phone saw a timeout after the server committed, and sends the same batch again.
    again = sampler.push().json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["first"] for r in again] == first
    assert Operation.objects.count() == 2
    assert MonitoringTask.objects.get(pk=task_id).version == 2


def test_same_op_id_with_different_content_is_rejected_and_changes_nothing(team):
    sampler = team["sampler"]
    task_id, op = create(sampler, team["project"])
    sampler.push()
    forged = op | {"payload": {"project": team["project"].pk, "name": "改过的名字"}}
    result = sampler.push([forged]).json()["results"][0]
    assert result["status"] == "rejected"
    assert result["code"] == "op_id_reused"
    assert MonitoringTask.objects.get(pk=task_id).name == "采样任务"


def test_one_bad_operation_does_not_block_the_others(team):
    sampler = team["sampler"]
    sampler.op("task.create", uuid.uuid4(), {"project": team["project"].pk})  # no name
    sampler.op("task.fly", uuid.uuid4(), {})
    good_id, _ = create(sampler, team["project"], name="好的任务")
    results = sampler.push().json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert results[0]["code"] == "validation_failed"
    assert "name" in results[0]["details"]
    assert results[1]["code"] == "unknown_op_type"
    assert results[1]["message"] == "未知的操作类型：task.fly。"
    assert MonitoringTask.objects.filter(pk=good_id).exists()


def test_a_courier_edit_before_the_task_arrives_is_held_then_released(team):
    sampler, courier = team["sampler"], team["courier"]
    task_id, _ = create(sampler, team["project"])
    courier.op("task.update", task_id, {"sample_codes": ["W-01", "W-02"]}, base_version=1)
    held = courier.push().json()["results"][0]
    assert held["status"] == "held"
    assert held["waits_for"] == {"kind": "entity", "entity": "task", "id": str(task_id)}
    assert not MonitoringTask.objects.filter(pk=task_id).exists()

    sampler.push()  # the sampler's phone finally syncs
    task = MonitoringTask.objects.get(pk=task_id)
    assert task.sample_codes == ["W-01", "W-02"]
    # The courier's phone learns the outcome by pushing again (duplicate) or from its state.
    replay = courier.push().json()["results"][0]
    assert replay["status"] == "duplicate"
    assert replay["first"]["status"] == "applied"


def test_a_devices_later_operations_on_a_held_entity_wait_behind_it(team):
    sampler, courier = team["sampler"], team["courier"]
    task_id, _ = create(sampler, team["project"])
    courier.op("task.update", task_id, {"note": "第一次"}, base_version=1)
    courier.op("task.update", task_id, {"note": "第二次"}, base_version=1)
    other_id, _ = create(team["sampler"], team["project"], name="另一个")
    results = courier.push().json()["results"]
    assert [r["status"] for r in results] == ["held", "held"]
    assert results[1]["waits_for"]["kind"] == "op"
    sampler.push()
    assert MonitoringTask.objects.get(pk=task_id).note == "第二次"
    assert MonitoringTask.objects.filter(pk=other_id).exists()


def test_operations_arriving_out_of_device_order_wait_for_the_gap(team):
    sampler = team["sampler"]
    task_id, create_op = create(sampler, team["project"])
    update = sampler.op("task.update", task_id, {"note": "后来的"}, base_version=1)
    early = sampler.push([update]).json()["results"][0]
    assert early["status"] == "held"
    assert early["waits_for"] == {"kind": "device_seq", "seq": 1}
    results = sampler.push([create_op]).json()["results"]
    assert results[0]["status"] == "applied"
    assert MonitoringTask.objects.get(pk=task_id).note == "后来的"


def test_same_field_from_the_same_base_is_a_conflict_with_both_values_kept(team):
    sampler, courier = team["sampler"], team["courier"]
    task_id, _ = create(sampler, team["project"])
    sampler.push()
    # The courier wrote ten minutes before the sampler, by the courier's own (slow) clock.
    ten_minutes_ago = courier.now() - dt.timedelta(minutes=10)
    courier.op(
        "task.update",
        task_id,
        {"note": "送样时冷藏", "sample_codes": ["W-9"]},
        base_version=1,
        device_time=ten_minutes_ago,
    )
    sampler.op("task.update", task_id, {"note": "采样时有雨"}, base_version=1)
    courier_result = courier.push().json()["results"][0]
    sampler_result = sampler.push().json()["results"][-1]
    assert courier_result["status"] == "applied"
    assert sampler_result["status"] == "conflict"
    assert sampler_result["conflict"]["fields"][0]["field"] == "note"
    task = MonitoringTask.objects.get(pk=task_id)
    # Different fields merge; the same field keeps the later change by corrected device time
    # (the courier's clock runs 7 minutes slow, so the sampler's note is the later one).
    assert task.sample_codes == ["W-9"]
    assert task.note == "采样时有雨"
    conflict = Conflict.objects.get(entity_id=str(task_id))
    assert {conflict.kept_value, conflict.other_value} == {"送样时冷藏", "采样时有雨"}


def test_each_push_records_both_clocks(team):
    courier = team["courier"]
    courier.push([])
    record = Push.objects.get(device_id=courier.device_id)
    assert abs(record.offset_ms - 7 * 60 * 1000) < 5000  # the phone's clock is 7 minutes slow


def test_versions_from_the_future_are_rejected(team):
    sampler = team["sampler"]
    task_id, _ = create(sampler, team["project"])
    sampler.op("task.update", task_id, {"note": "x"}, base_version=9)
    results = sampler.push().json()["results"]
    assert results[1]["status"] == "rejected"
    assert results[1]["code"] == "version_from_future"


def test_only_a_project_sampler_creates_tasks(team, world):
    reviewer = Phone.enrol(world.shanghai.reviewer)
    create(reviewer, team["project"])
    result = reviewer.push().json()["results"][0]
    assert result["code"] == "task_creator_not_sampler"
    outsider = Phone.enrol(world.jiangsu.field_user)
    create(outsider, team["project"])
    rejected = outsider.push().json()["results"][0]
    assert (rejected["code"], set(rejected["details"])) == ("validation_failed", {"project"})  # F10 item 6


# --- The envelope: refused whole, nothing applied -------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda body: body | {"ops": "not a list"}, 400, "validation_failed"),
        (lambda body: body | {"device_id": "nope"}, 400, "validation_failed"),
        (lambda body: {**body, "ops": [body["ops"][0] | {"op_id": "123"}]}, 400, "validation_failed"),
        (lambda body: {**body, "ops": [body["ops"][0], body["ops"][0]]}, 400, "duplicate_in_batch"),
        (lambda body: body | {"device_id": str(uuid.uuid4())}, 403, "device_mismatch"),
    ],
)
def test_bad_envelopes_apply_nothing(team, mutate, status, code):
    sampler = team["sampler"]
    create(sampler, team["project"])
    body = {"device_id": sampler.device_id, "device_time": sampler.now().isoformat(), "ops": sampler.queue}
    response = sampler.client().post("/api/v1/sync/push", mutate(body), format="json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert not Operation.objects.exists()
    assert not MonitoringTask.objects.exists()


def test_an_oversized_batch_is_a_413_naming_the_limit(team, settings):
    settings.SYNC_MAX_OPS = 3
    sampler = team["sampler"]
    for _ in range(4):
        create(sampler, team["project"])
    response = sampler.push()
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert "3" in response.json()["message"]
    assert not Operation.objects.exists()


def test_a_revoked_device_cannot_push(team):
    from server.accounts.models import Device
    from server.accounts.services import device_revoke

    sampler = team["sampler"]
    device_revoke(device=Device.objects.get(pk=sampler.device_id), actor=sampler.user)
    create(sampler, team["project"])
    response = sampler.push()
    assert response.status_code == 401
    assert not Operation.objects.exists()


def test_an_update_to_a_task_closed_since_its_base_is_a_conflict_not_an_overwrite(team):
    sampler, courier = team["sampler"], team["courier"]
    task_id, _ = create(sampler, team["project"], note="采样完成")
    sampler.push()
    # The lab closes the task (issue F5 adds the real end operation; here the record is set directly).
    task = MonitoringTask.objects.get(pk=task_id)
    task.status = MonitoringTask.Status.ENDED
    task.version = 2
    task.field_stamps = {**task.field_stamps, "status": {"v": 2, "k": [1, 0, "lab", 1], "op": None}}
    task.save()
    courier.op("task.update", task_id, {"note": "送样途中补充"}, base_version=1)
    result = courier.push().json()["results"][0]
    assert result["status"] == "conflict"
    assert result["conflict"]["reason"] == "closed_since_base"
    assert MonitoringTask.objects.get(pk=task_id).note == "采样完成"
    kept = Conflict.objects.get(entity_id=str(task_id))
    assert (kept.reason, kept.kept_value, kept.other_value) == (
        "closed_since_base",
        "采样完成",
        "送样途中补充",
    )


def test_an_entity_id_that_is_not_a_uuid_is_rejected_not_held_forever(team):
    sampler = team["sampler"]
    sampler.op("task.create", "not-a-uuid", {"project": team["project"].pk, "name": "x"})
    sampler.op("task.update", "not-a-uuid", {"note": "x"}, base_version=1)
    results = sampler.push().json()["results"]
    assert results[0]["status"] == "rejected"
    assert results[1]["status"] == "held"  # waits for a task that can never exist: expires for review


def test_a_server_bug_in_one_operation_rejects_it_retryably_and_blocks_nothing_else(team, monkeypatch):
    from server.fieldwork import services

    sampler = team["sampler"]
    first, _ = create(sampler, team["project"], name="一")
    sampler.op("task.update", first, {"note": "触发故障"}, base_version=1)
    second, _ = create(sampler, team["project"], name="二")
    real_update = services.task_update

    def broken(**kwargs):
        raise RuntimeError("a bug in the service")

    monkeypatch.setattr(services, "task_update", broken)
    results = sampler.push().json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "held"]
    assert results[1]["code"] == "server_error"
    assert results[1]["details"] == {"retry": True}
    assert results[2]["waits_for"] == {"kind": "device_seq", "seq": 2}  # keeps the device's order
    assert not Operation.objects.filter(seq=2).exists()  # not journaled: a retry runs it again

    monkeypatch.setattr(services, "task_update", real_update)  # the bug is fixed; the phone retries
    results = sampler.push().json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "applied", "duplicate"]
    assert results[2]["first"]["status"] == "applied"
    assert MonitoringTask.objects.get(pk=first).note == "触发故障"
    assert MonitoringTask.objects.filter(pk=second).exists()
