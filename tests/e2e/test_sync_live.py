"""Sync against a real server process: parallel duplicate pushes, and a server killed mid-push."""

import concurrent.futures
import datetime as dt
import json
import time
import uuid

import pytest

from tests.e2e.live import Server, count_rows, django_env, fresh_database, manage

pytestmark = pytest.mark.slow

SETUP = """
import django, json, uuid
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from server.accounts.services import DeviceInfo, token_issue
from tests.factories import build_world
world = build_world()
side = world.shanghai
device = str(uuid.uuid4())
issued = token_issue(user=side.field_user, info=DeviceInfo(id=device, platform="android", app_version="2.0"))
print(json.dumps({"token": issued.token, "device": device, "project": side.project.pk}))
"""

COUNT = """
import django, json
django.setup()
from sync.models import Operation
from server.fieldwork.models import MonitoringTask
ops = Operation.objects
versions = [t.version for t in MonitoringTask.objects.all()] or [0]
print(json.dumps({"ops": ops.count(), "applied": ops.filter(status="applied").count(),
                  "tasks": MonitoringTask.objects.count(), "max_version": max(versions)}))
"""


@pytest.fixture
def live(tmp_path):
    with fresh_database(tmp_path) as database_url:
        env = django_env(database_url, tmp_path)
        manage(env, "migrate", "--noinput")
        world = json.loads(manage(env, code=SETUP).strip().splitlines()[-1])
        server = Server(env, tmp_path / "server.log").start()
        try:
            yield server, env, world, database_url
        finally:
            server.stop()


def batch(world, n_tasks=20):
    now = dt.datetime.now(dt.UTC)
    ops = []
    for n in range(n_tasks):
        task = str(uuid.uuid4())
        ops.append(
            {
                "op_id": str(uuid.uuid4()),
                "seq": 2 * n + 1,
                "type": "task.create",
                "entity_id": task,
                "device_time": now.isoformat(),
                "payload": {"project": world["project"], "name": f"任务{n}"},
            }
        )
        ops.append(
            {
                "op_id": str(uuid.uuid4()),
                "seq": 2 * n + 2,
                "type": "task.update",
                "entity_id": task,
                "base_version": 1,
                "device_time": now.isoformat(),
                "payload": {"note": "现场有雨"},
            }
        )
    return {"device_id": world["device"], "device_time": now.isoformat(), "ops": ops}


def test_parallel_identical_pushes_store_each_operation_once(live):
    server, env, world, _ = live
    body = batch(world)
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: server.request("POST", "/api/v1/sync/push", body, world["token"]), range(6))
        )
    assert all(status == 200 for status, _ in answers), answers
    per_op = {}
    for _, answer in answers:
        for result in answer["results"]:
            per_op.setdefault(result["op_id"], []).append(result["status"])
    for statuses in per_op.values():
        # Exactly one push applied it; every other push saw the first result again.
        assert statuses.count("applied") == 1, statuses
        assert statuses.count("duplicate") == 5, statuses
    counts = json.loads(manage(env, code=COUNT).strip().splitlines()[-1])
    assert counts == {"ops": 40, "applied": 40, "tasks": 20, "max_version": 2}


def test_a_push_killed_midway_and_replayed_loses_and_doubles_nothing(live, tmp_path):
    server, env, world, database_url = live
    body = batch(world, n_tasks=200)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(server.request, "POST", "/api/v1/sync/push", body, world["token"], 30)
        # Kill the server while it works through the batch: some operations have committed, the
        # phone gets no answer for any of them.
        deadline = time.monotonic() + 120
        while count_rows(database_url, "sync_operation") < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        finished_before_kill = pending.done()
        server.kill()
        assert not finished_before_kill, "the push finished before the server could be killed mid-way"
        with pytest.raises((ConnectionError, OSError)):  # the phone sees the connection drop
            pending.result()
    committed = count_rows(database_url, "sync_operation")
    assert 20 <= committed < 400
    restarted = Server(env, tmp_path / "server2.log").start()
    try:
        status, answer = restarted.request("POST", "/api/v1/sync/push", body, world["token"])
        assert status == 200
        statuses = [r["status"] for r in answer["results"]]
        assert statuses.count("duplicate") >= committed
        assert set(statuses) <= {"applied", "duplicate"}
        again = restarted.request("POST", "/api/v1/sync/push", body, world["token"])[1]
        assert {r["status"] for r in again["results"]} == {"duplicate"}
    finally:
        restarted.stop()
    counts = json.loads(manage(env, code=COUNT).strip().splitlines()[-1])
    assert counts == {"ops": 400, "applied": 400, "tasks": 200, "max_version": 2}
