"""Photos against a real server and a real Celery worker over Redis: the upload answers with a
verdict at once, and the worker makes the thumbnail and hashes and judges the photo again."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.conftest import BASE_DIR
from tests.e2e.live import Server, django_env, fresh_database, manage
from tests.e2e.test_sync_live import SETUP
from tests.shared_data import PHOTOS

pytestmark = pytest.mark.slow

REDIS = ("127.0.0.1", 6379)


def redis_is_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def live_with_worker(tmp_path):
    assert redis_is_up(), "this test needs the machine's Redis on 127.0.0.1:6379 (see the env notes)"
    with fresh_database(tmp_path) as database_url:
        env = django_env(database_url, tmp_path)
        # A Redis database of its own, so that no other run's worker takes these tasks.
        env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{random.randint(2, 15)}"  # noqa: S311
        manage(env, "migrate", "--noinput")
        world = json.loads(manage(env, code=SETUP).strip().splitlines()[-1])
        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool=solo", "-l", "info"],
            cwd=BASE_DIR,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(env, tmp_path / "server.log").start()
        try:
            yield server, world, tmp_path / "worker.log"
        finally:
            server.stop()
            os.killpg(worker.pid, 15)
            worker.wait(timeout=20)
            worker_log.close()


def test_the_worker_makes_the_thumbnail_and_hashes(live_with_worker):
    server, world, worker_log = live_with_worker
    headers = {"Authorization": f"Bearer {world['token']}"}
    now = dt.datetime.now(dt.UTC)
    task = str(uuid.uuid4())
    status, body = server.request(
        "POST",
        "/api/v1/sync/push",
        {
            "device_id": world["device"],
            "device_time": now.isoformat(),
            "ops": [
                {
                    "op_id": str(uuid.uuid4()),
                    "seq": 1,
                    "type": "task.create",
                    "entity_id": task,
                    "device_time": now.isoformat(),
                    "payload": {"project": world["project"], "name": "采样"},
                }
            ],
        },
        token=world["token"],
    )
    assert status == 200, body
    assert body["results"][0]["status"] == "applied"

    photo_id = str(uuid.uuid4())
    data = (PHOTOS / "landscape_6.jpg").read_bytes()
    response = requests.post(
        f"{server.url}/api/v1/photos",
        headers=headers,
        data={"id": photo_id, "photo_type": "sampling_site", "task": task, "device_time": now.isoformat()},
        files={"file": ("wx-tmp.jpg", data, "image/jpeg")},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    assert response.json()["verdict"] in {"pass", "warn", "fail"}

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        thumb = requests.get(f"{server.url}/api/v1/photos/{photo_id}/thumbnail", headers=headers, timeout=30)
        if thumb.status_code == 200:
            break
        assert thumb.json()["code"] == "thumbnail_not_ready"
        time.sleep(0.3)
    else:
        pytest.fail(f"no thumbnail after 60 s; worker log:\n{worker_log.read_text()[-3000:]}")
    assert thumb.headers["Content-Type"] == "image/jpeg"
    assert thumb.content[:2] == b"\xff\xd8"
    # It was the worker, not the web process, that did the work (the thumbnail is served as soon as
    # it is stored; the task then judges the photo again before it reports success).
    deadline = time.monotonic() + 30
    while "succeeded" not in worker_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    log = worker_log.read_text()
    assert "media_rules.process_blob" in log
    assert "succeeded" in log, log[-3000:]
