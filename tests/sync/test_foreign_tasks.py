"""F9 item 10: a sync push answers for another tenant's task exactly as for a task that does not
exist. An operation naming it is held, waiting for the task, like any task not on the server yet;
``task.create`` with its id is refused as an unusable id (``validation_failed``), never
``task_exists``, and the other tenant's task is left as it was."""

import json
import uuid

from media_rules.models import Photo
from server.fieldwork.models import MonitoringTask
from sync.models import Operation
from tests.sync.helpers import Phone


def ops_on(phone: Phone, task_id) -> list[dict]:
    task = str(task_id)
    return [
        phone.op("task.update", task, {"note": "看看"}, base_version=1),
        phone.op("task.transition", task, {"to": "running"}),
        phone.op(
            "photo.record", uuid.uuid4(), {"sha256": "b" * 64, "photo_type": "sampling_site", "task": task}
        ),
    ]


def masked(results: list[dict], ops: list[dict], task_id) -> str:
    """The answers with the task id and the batch's op ids masked: what is left must be identical."""
    text = json.dumps(results, sort_keys=True, ensure_ascii=False).replace(str(task_id), "<task>")
    for index, op in enumerate(ops):
        text = text.replace(op["op_id"], f"<op {index}>")
    return text


def test_another_tenants_task_is_held_like_a_task_that_does_not_exist(world):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    owner = Phone.enrol(shanghai.field_user)
    task_id = uuid.uuid4()
    owner.op("task.create", task_id, {"project": shanghai.project.pk, "name": "进水口采样"})
    assert owner.push().json()["results"][0]["status"] == "applied"

    intruder = Phone.enrol(jiangsu.field_user)
    foreign_ops = ops_on(intruder, task_id)
    foreign = intruder.push(foreign_ops).json()["results"]
    absent_id = uuid.uuid4()
    absent_ops = ops_on(intruder, absent_id)
    absent = intruder.push(absent_ops).json()["results"]

    assert [r["status"] for r in foreign] == ["held", "held", "held"]
    assert foreign[0]["waits_for"] == {"kind": "entity", "entity": "task", "id": str(task_id)}
    assert masked(foreign, foreign_ops, task_id) == masked(absent, absent_ops, absent_id)
    # Nothing reached the Shanghai task.
    task = MonitoringTask.objects.get(pk=task_id)
    assert (task.version, task.status, task.note) == (1, "created", "")
    assert not Photo.objects.filter(task_id=task_id).exists()
    assert set(Operation.objects.filter(user=jiangsu.field_user).values_list("status", flat=True)) == {"held"}


def test_creating_a_task_under_another_tenants_id_is_refused_as_an_unusable_id(world):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    owner = Phone.enrol(shanghai.field_user)
    task_id = uuid.uuid4()
    owner.op("task.create", task_id, {"project": shanghai.project.pk, "name": "进水口采样"})
    assert owner.push().json()["results"][0]["status"] == "applied"

    intruder = Phone.enrol(jiangsu.field_user)
    intruder.op("task.create", task_id, {"project": jiangsu.project.pk, "name": "复制的编号"})
    refused = intruder.push().json()["results"][0]
    assert (refused["status"], refused["code"]) == ("rejected", "validation_failed")
    assert refused["details"] == {"id": ["此编号不可用，请重新生成。"]}
    task = MonitoringTask.objects.get(pk=task_id)
    assert (task.project_id, task.name, task.version) == (shanghai.project.pk, "进水口采样", 1)

    # Within the tenant, the same id again is still told apart: the phone's own task exists.
    owner.op("task.create", task_id, {"project": shanghai.project.pk, "name": "再来一次"})
    again = owner.push(owner.queue[-1:]).json()["results"][0]
    assert (again["status"], again["code"]) == ("rejected", "task_exists")
