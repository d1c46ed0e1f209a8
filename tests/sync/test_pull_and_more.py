"""Pull by cursor, reconcile, Idempotency-Key on online writes, held work past its deadline,
and a device's sync state."""

import datetime as dt
import threading
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from server.fieldwork.models import MonitoringTask
from sync.models import Change, IdempotentRequest, Operation
from tests.sync.helpers import Phone


@pytest.fixture
def sampler(world):
    return Phone.enrol(world.shanghai.field_user)


def make_task(phone, project, name="采样任务"):
    task_id = uuid.uuid4()
    phone.op("task.create", task_id, {"project": project.pk, "name": name})
    return task_id


# --- Pull -------------------------------------------------------------------------------------------------


def test_pull_pages_through_changes_by_cursor_and_ends(world, sampler):
    ids = [make_task(sampler, world.shanghai.project, f"任务{n}") for n in range(5)]
    sampler.push()
    seen, cursor, pages = [], 0, 0
    while True:
        page = sampler.pull(cursor, limit=2).json()
        pages += 1
        seen += [c["id"] for c in page["changes"]]
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert pages == 3
    assert seen == [str(i) for i in ids]
    # Nothing new: an empty page at the same cursor.
    assert sampler.pull(cursor).json() == {"changes": [], "cursor": cursor, "more": False}


def test_pull_pages_stop_at_the_byte_budget_but_always_move(world, sampler, settings):
    settings.SYNC_PULL_MAX_BYTES = 10_000
    for _ in range(3):
        task_id = make_task(sampler, world.shanghai.project)
        sampler.op("task.update", task_id, {"note": "长" * 3000}, base_version=1)  # ~9 kB of UTF-8 each
    sampler.push()
    page = sampler.pull(0).json()
    assert len(page["changes"]) == 1
    assert page["more"] is True


def test_a_change_moves_to_the_end_and_deletions_are_tombstones(world, sampler):
    first = make_task(sampler, world.shanghai.project, "一")
    make_task(sampler, world.shanghai.project, "二")
    sampler.push()
    cursor = sampler.pull(0).json()["cursor"]
    sampler.op("task.delete", first, base_version=1)
    sampler.push(sampler.queue[-1:])
    page = sampler.pull(cursor).json()
    assert [(c["id"], c["deleted"], c["data"]) for c in page["changes"]] == [(str(first), True, None)]


def test_pull_is_scoped_like_the_api(world, sampler):
    make_task(sampler, world.shanghai.project)
    sampler.push()
    other_agency = Phone.enrol(world.jiangsu.field_user)
    assert other_agency.pull(0).json()["changes"] == []
    shanghai_regulator = Phone.enrol(world.shanghai.regulator)
    assert len(shanghai_regulator.pull(0).json()["changes"]) == 1
    jiangsu_regulator = Phone.enrol(world.jiangsu.regulator)
    assert jiangsu_regulator.pull(0).json()["changes"] == []


@pytest.mark.parametrize("params", [{"cursor": "abc"}, {"cursor": -1}, {"limit": 0}])
def test_bad_pull_parameters_are_400(world, sampler, params):
    response = sampler.client().get("/api/v1/sync/pull", params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"


# serialized_rollback: a transactional test ends by emptying the database, seeded posts and photo
# types included; this brings them back first, whichever transactional test ran before.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_cursor_never_skips_a_change_committed_late(world):
    """A change that took its sequence first but commits last must not be jumped over: the counter
    lock makes the second writer wait, so sequences commit in order."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; the race needs two concurrent writers")
    from django.db import transaction

    from sync.changes import record_change

    started, release = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            record_change(entity_type="task", entity_id="slow", version=1, data={}, project_id=1)
            started.set()
            release.wait(5)
        connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    started.wait(5)
    fast_done = threading.Event()

    def fast_writer():
        with transaction.atomic():
            record_change(entity_type="task", entity_id="fast", version=1, data={}, project_id=1)
        fast_done.set()
        connection.close()

    other = threading.Thread(target=fast_writer)
    other.start()
    assert not fast_done.wait(0.5)  # the second writer waits for the first to commit
    release.set()
    thread.join()
    other.join()
    assert list(Change.objects.order_by("seq").values_list("entity_id", flat=True)) == ["slow", "fast"]


# --- Reconcile -------------------------------------------------------------------------------------------


def test_reconcile_says_what_the_server_lacks_holds_and_rejected(world, sampler):
    project = world.shanghai.project
    make_task(sampler, project)
    held = sampler.op("task.update", uuid.uuid4(), {"note": "x"}, base_version=1)  # a task nobody created
    bad = sampler.op("task.create", uuid.uuid4(), {"project": project.pk})
    sampler.push()
    never_sent = str(uuid.uuid4())
    body = {
        "device_id": sampler.device_id,
        "ops": [{"op_id": op["op_id"]} for op in sampler.queue] + [{"op_id": never_sent}],
    }
    answer = sampler.client().post("/api/v1/sync/reconcile", body, format="json").json()
    assert answer["missing"] == [never_sent]
    assert [h["op_id"] for h in answer["held"]] == [held["op_id"]]
    assert answer["rejected"] == [{"op_id": bad["op_id"], "code": "validation_failed"}]
    assert answer["done"] == [sampler.queue[0]["op_id"]]
    stored_hash = Operation.objects.get(op_id=sampler.queue[0]["op_id"]).content_hash
    differs = {
        "device_id": sampler.device_id,
        "ops": [{"op_id": sampler.queue[0]["op_id"], "content_hash": "0" * 64}],
    }
    assert sampler.client().post("/api/v1/sync/reconcile", differs, format="json").json()["differs"] == [
        sampler.queue[0]["op_id"]
    ]
    assert stored_hash != "0" * 64


# --- Idempotency-Key on online writes --------------------------------------------------------------------


def test_an_online_create_retried_with_its_key_is_applied_once(world, sampler):
    client = sampler.client()  # a phone online, with its bearer token
    body = {"project": world.shanghai.project.pk, "name": "网页端创建"}
    first = client.post("/api/v1/tasks", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/v1/tasks", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replay"] == "true"
    assert MonitoringTask.objects.count() == 1
    different = client.post(
        "/api/v1/tasks", body | {"name": "别的"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert different.status_code == 422
    assert different.json()["code"] == "idempotency_key_reused"
    assert MonitoringTask.objects.count() == 1
    # Without a key, a retry is a second request.
    client.post("/api/v1/tasks", body, format="json")
    assert MonitoringTask.objects.count() == 2


def test_a_refused_request_is_replayed_as_refused(world):
    client = Phone.enrol(world.shanghai.reviewer).client()  # not a sampler
    body = {"project": world.shanghai.project.pk, "name": "x"}
    first = client.post("/api/v1/tasks", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    again = client.post("/api/v1/tasks", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == again.status_code == 403
    assert again.json()["code"] == "task_creator_not_sampler"
    assert IdempotentRequest.objects.get(key="k-2").status_code == 403


def test_online_update_merges_with_the_base_version(world, client_for, sampler):
    task_id = make_task(sampler, world.shanghai.project)
    sampler.push()
    client = client_for(world.shanghai.field_user)
    response = client.patch(
        f"/api/v1/tasks/{task_id}", {"note": "网页补充", "base_version": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["task"]["version"] == 2
    assert response.json()["conflicts"] == []
    stale = client.patch(f"/api/v1/tasks/{task_id}", {"note": "旧页面", "base_version": 1}, format="json")
    assert stale.json()["conflicts"][0]["field"] == "note"


# --- Held work past its deadline, and a device's sync state ---------------------------------------------


def test_held_work_past_the_deadline_is_processed_or_flagged_never_dropped(world, sampler, settings):
    project = world.shanghai.project
    orphan = sampler.op("task.update", uuid.uuid4(), {"note": "没有任务"}, base_version=1)  # seq 1
    gap_create_id = uuid.uuid4()
    sampler.next_seq = 3  # seq 2 is lost on the phone
    late = sampler.op("task.create", gap_create_id, {"project": project.pk, "name": "缺口之后"})
    sampler.push()
    assert Operation.objects.filter(status="held").count() == 2
    Operation.objects.update(
        received_at=timezone.now() - dt.timedelta(hours=settings.SYNC_HOLD_DEADLINE_HOURS + 1)
    )
    call_command("sync_expire_holds")
    assert Operation.objects.get(op_id=orphan["op_id"]).status == "expired"
    assert Operation.objects.get(op_id=late["op_id"]).status == "applied"
    assert MonitoringTask.objects.filter(pk=gap_create_id).exists()
    replay = sampler.push([orphan]).json()["results"][0]
    assert replay["first"]["status"] == "expired"
    assert replay["first"]["code"] == "hold_expired"


def test_device_sync_state_for_the_phone_and_its_agency(world, sampler, client_for):
    sampler.op("task.update", uuid.uuid4(), {"note": "x"}, base_version=1)
    sampler.push()
    for user in (world.shanghai.field_user, world.shanghai.main):
        state = client_for(user).get(f"/api/v1/sync/devices/{sampler.device_id}").json()
        assert state["counts"] == {"held": 1}
        assert state["clock_offset_ms"] is not None
        assert state["needs_attention"][0]["status"] == "held"
    assert client_for(world.jiangsu.main).get(f"/api/v1/sync/devices/{sampler.device_id}").status_code == 404


def test_limits_are_advertised(world, sampler):
    limits = sampler.client().get("/api/v1/sync/limits").json()
    assert limits["max_ops"] == 500
    assert "task.update" in limits["op_types"]


def test_the_back_office_session_gets_idempotency_too(world, client):
    client.force_login(world.shanghai.field_user)
    body = {"project": world.shanghai.project.pk, "name": "后台创建"}
    for _ in range(2):
        response = client.post(
            "/api/v1/tasks", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="s-1"
        )
        assert response.status_code == 201
    assert MonitoringTask.objects.count() == 1


def test_the_agency_sees_held_work_of_all_its_phones(world, sampler, client_for):
    sampler.op("task.update", uuid.uuid4(), {"note": "x"}, base_version=1)
    sampler.push()
    listed = client_for(world.shanghai.main).get("/api/v1/sync/attention").json()
    assert [(item["device_id"], item["status"]) for item in listed] == [(sampler.device_id, "held")]
    assert client_for(world.jiangsu.main).get("/api/v1/sync/attention").json() == []


def test_multipart_uploads_pass_through_the_idempotency_layer(world, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    side = world.shanghai
    client = Phone.enrol(side.main).client()
    upload = SimpleUploadedFile("合同.pdf", b"%PDF-1.4 " + b"x" * 3_000_000, content_type="application/pdf")
    response = client.post(
        f"/api/v1/projects/{side.project.pk}/attachments",
        {"kind": "contract", "file": upload},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert response.status_code == 201
    assert not IdempotentRequest.objects.exists()
