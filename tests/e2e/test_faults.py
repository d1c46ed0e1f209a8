"""Faults against the production server (gunicorn, sync workers, DEBUG off):

- the whole gunicorn killed (SIGKILL) while phones are pushing and uploading, then restarted: every
  phone sends again what it saw no answer for, and everything is stored exactly once;
- the database unreachable for a few seconds (a pausable TCP proxy in front of PostgreSQL): a clean
  503 ``database_unavailable`` in seconds, and service again without a restart when it is back;
- the S3 endpoint unreachable during a photo upload: a clean 503 ``storage_unavailable``, nothing
  half-stored, and the phone's retry afterwards stores the photo once.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import json
import threading
import time
import uuid

import pytest
import requests

from server.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_S, STORAGE_UNAVAILABLE
from tests.e2e.live import (
    Server,
    count_rows,
    django_env,
    fresh_database,
    fresh_postgis_database,
    manage,
    new_bucket,
    s3_env,
    with_port,
)
from tests.e2e.phones import WORLD, HttpPhone, photo_manifest, sha256, world_of
from tests.shared_data import PHOTOS
from tests.support.s3_server import _delete_bucket
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

ALL_PHOTOS = sorted(path.name for path in PHOTOS.iterdir() if path.is_file())

STATE = """
import django, json
django.setup()
from django.db.models import Count
from media_rules.models import Blob, Photo
from server.fieldwork.models import MonitoringTask
from sync.models import Operation
print(json.dumps({
    "ops": {str(o.op_id): o.status for o in Operation.objects.all()},
    "op_rows": Operation.objects.count(),
    "task_versions": sorted(set(MonitoringTask.objects.values_list("version", flat=True))),
    "tasks": MonitoringTask.objects.count(),
    "photos": {str(p.pk): p.blob_id for p in Photo.objects.all()},
    "photo_rows": Photo.objects.count(),
    "blobs": {b.sha256: {"name": b.name, "size": b.size, "thumbnail": b.thumbnail}
              for b in Blob.objects.all()},
    "blob_rows": Blob.objects.count(),
    "unused_blobs": Blob.objects.annotate(n=Count("photos")).filter(n=0).count(),
}))
"""


def state_of(env) -> dict:
    return json.loads(manage(env, code=STATE).strip().splitlines()[-1])


def tasks_batch(phone: HttpPhone, world: dict, n_tasks: int) -> list[dict]:
    """Tasks made offline: each created and then given a note (version 1, then 2)."""
    now = dt.datetime.now(dt.UTC)
    ops = []
    for n in range(n_tasks):
        task = str(uuid.uuid4())
        ops.append(phone.op("task.create", task, {"project": world["project"], "name": f"任务{n}"}, at=now))
        ops.append(phone.op("task.update", task, {"note": "现场有雨"}, at=now, base_version=1))
    return ops


def assert_unavailable(response: requests.Response, error, elapsed: float, limit: float) -> None:
    assert response.status_code == 503, response.text
    assert elapsed < limit, f"the 503 took {elapsed:.1f} s"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    body = response.json()
    assert body["code"] == error.code
    assert body["message"] == error.zh


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


# --- a. SIGKILL mid-push and mid-upload -------------------------------------------------------------
class FieldPhone:
    """A phone with a day's work (pushes and photos, interleaved) that it sends until it has an
    answer for each, remembering what was acknowledged."""

    def __init__(self, base_url: str, world: dict, photos: list[str], task: str):
        self.http = HttpPhone(base_url)
        self.world = world
        self.task = task
        self.items: list[tuple[str, object]] = []
        self.acked: set[int] = set()
        self.in_flight_at_kill: list[str] = []
        self.photos = {str(uuid.uuid4()): (PHOTOS / name).read_bytes() for name in photos}
        self.batches: list[list[dict]] = []

    def plan(self, n_batches: int, tasks_per_batch: int) -> None:
        at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        photo_items = [
            ("photo", (photo_id, data, photo_manifest(self.world, self.task, "sampling_site", at)))
            for photo_id, data in self.photos.items()
        ]
        for n in range(n_batches):
            batch = tasks_batch(self.http, self.world, tasks_per_batch)
            self.batches.append(batch)
            self.items.append(("push", batch))
            if n < len(photo_items):
                self.items.append(photo_items[n])
        self.items.extend(photo_items[n_batches:])

    def send(self, index: int, in_flight: dict, lock: threading.Lock) -> None:
        kind, item = self.items[index]
        with lock:
            in_flight[id(self), index] = kind
        try:
            if kind == "push":
                response = self.http.push(item, timeout=30)
                ok = response.status_code == 200 and all(
                    r["status"] in {"applied", "duplicate"} for r in response.json()["results"]
                )
            else:
                photo_id, data, manifest = item
                response = self.http.upload(photo_id, data, manifest, timeout=30)
                ok = response.status_code in {200, 201}
        except requests.RequestException:
            ok = False  # no answer: the phone keeps it and sends it again later
        finally:
            with lock:
                in_flight.pop((id(self), index), None)
        if ok:
            self.acked.add(index)

    def send_all(self, stop: threading.Event, in_flight: dict, lock: threading.Lock) -> None:
        for index in range(len(self.items)):
            if stop.is_set():
                return
            self.send(index, in_flight, lock)

    def unacknowledged(self) -> list[int]:
        return [i for i in range(len(self.items)) if i not in self.acked]


@pytest.fixture
def killable(tmp_path, s3_server):
    """gunicorn on a fresh database of the suite's kind, photos in an S3 bucket (moto over HTTP)."""
    with fresh_database(tmp_path) as database_url:
        bucket = new_bucket(s3_server)
        env = s3_env(django_env(database_url, tmp_path), s3_server, bucket.bucket)
        env["DEBUG"] = "0"
        manage(env, "migrate", "--noinput")
        world = world_of(manage(env, code=WORLD))
        servers: list[Server] = []
        try:
            yield env, world, bucket, database_url, servers
        finally:
            for server in servers:
                server.stop()
            _delete_bucket(bucket.client, bucket.bucket)


def test_gunicorn_killed_mid_push_and_mid_upload_loses_and_doubles_nothing(killable, tmp_path):
    env, world, bucket, database_url, servers = killable
    started = time.monotonic()
    server = Server(env, tmp_path / "server.log", gunicorn_workers=2)
    servers.append(server)
    server.start()

    # Three phones of the sampler, each with its own task for its photos (pushed before the chaos),
    # three pushes of 15 tasks (30 operations) and three real photos each; no photo on two phones.
    phones = []
    for n in range(3):
        task = str(uuid.uuid4())
        phone = FieldPhone(server.url, world, ALL_PHOTOS[3 * n : 3 * n + 3], task)
        phone.http.sign_in(world["username"])
        at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        created = phone.http.push(
            [phone.http.op("task.create", task, {"project": world["project"], "name": "采样"}, at=at)]
        )
        assert created.json()["results"][0]["status"] == "applied", created.text
        phone.plan(n_batches=3, tasks_per_batch=15)
        phones.append(phone)
    total_ops = sum(len(batch) for phone in phones for batch in phone.batches)

    in_flight: dict = {}
    lock = threading.Lock()
    stop = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(phones)) as pool:
        running = [pool.submit(phone.send_all, stop, in_flight, lock) for phone in phones]
        # Kill once some of the work has committed and while a photo upload and a push are in flight.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with lock:
                kinds = set(in_flight.values())
            if count_rows(database_url, "sync_operation") >= 30 and kinds == {"push", "photo"}:
                break
            time.sleep(0.01)
        with lock:
            cut = dict(in_flight)
        server.kill()
        stop.set()
        for future in running:
            future.result(timeout=60)
    assert "push" in cut.values(), f"no push was in flight when gunicorn was killed: {cut}"
    for (phone_id, index), _kind in cut.items():
        phone = next(p for p in phones if id(p) == phone_id)
        assert index not in phone.acked  # the phone got no answer for what was cut
    committed = count_rows(database_url, "sync_operation")
    assert committed < total_ops + 3, "everything finished before the kill"
    print(f"killed with {committed - 3} of {total_ops} operations stored; in flight: {sorted(cut.values())}")

    # The same server again, on the same database and bucket: each phone sends what it has no answer for.
    restarted = Server(env, tmp_path / "server2.log", gunicorn_workers=2)
    servers.append(restarted)
    restarted.start()
    for phone in phones:
        phone.http.base_url = restarted.url
        phone.http.session = requests.Session()
        for index in phone.unacknowledged():
            phone.send(index, {}, threading.Lock())
        assert phone.unacknowledged() == [], f"not acknowledged after the restart: {phone.unacknowledged()}"
    # And once more, all of it (a phone that lost its own bookkeeping): nothing new is stored.
    for phone in phones:
        for batch in phone.batches:
            replay = phone.http.push(batch)
            assert {r["status"] for r in replay.json()["results"]} == {"duplicate"}, replay.text

    state = state_of(env)
    sent_ops = {op["op_id"] for phone in phones for batch in phone.batches for op in batch}
    assert state["op_rows"] == total_ops + 3  # the three tasks of the photos
    assert sent_ops <= set(state["ops"])
    assert set(state["ops"].values()) == {"applied"}
    assert state["tasks"] == total_ops // 2 + 3
    assert state["task_versions"] == [1, 2]  # the photo tasks (1), the noted ones (2)
    files = {photo_id: data for phone in phones for photo_id, data in phone.photos.items()}
    assert state["photo_rows"] == len(files)
    assert state["photos"] == {photo_id: sha256(data) for photo_id, data in files.items()}  # none half-in
    assert state["blob_rows"] == len({sha256(d) for d in files.values()})
    assert state["unused_blobs"] == 0
    keys = set(bucket.keys())
    for digest, blob in state["blobs"].items():
        assert blob["name"] in keys
        stored = bucket.client.get_object(Bucket=bucket.bucket, Key=blob["name"])["Body"].read()
        assert hashlib.sha256(stored).hexdigest() == digest
    # No file in the bucket that no row names (a kill after the upload reused its key on the retry).
    assert {key for key in keys if key.startswith("photos/")} == {b["name"] for b in state["blobs"].values()}
    assert time.monotonic() - started < 120  # a guard against hangs; ~15-45 s on an idle machine


# --- b. The database unreachable for a few seconds --------------------------------------------------
@pytest.fixture
def behind_db_proxy(tmp_path):
    with fresh_postgis_database(tmp_path) as database_url:
        db_host = database_url.split("@", 1)[-1].split("/", 1)[0]
        host, _, port = db_host.partition(":")
        with TcpProxy((host, int(port or 5432))) as proxy:
            env = django_env(with_port(database_url, "127.0.0.1", proxy.port), tmp_path)
            env.update({"DEBUG": "0", "DATABASE_CONN_MAX_AGE": "60", "DATABASE_CONNECT_TIMEOUT": "2"})
            manage(env, "migrate", "--noinput")
            world = world_of(manage(env, code=WORLD))
            server = Server(env, tmp_path / "server.log", gunicorn_workers=2)
            try:
                server.start()
                yield server, env, world, proxy, tmp_path
            finally:
                server.stop()


def test_database_unreachable_for_a_few_seconds_is_a_clean_503_then_service_resumes(behind_db_proxy):
    server, env, world, proxy, tmp_path = behind_db_proxy
    started = time.monotonic()
    phone = HttpPhone(server.url)
    phone.sign_in(world["username"])
    first = tasks_batch(phone, world, 5)
    assert {r["status"] for r in phone.push(first).json()["results"]} == {"applied"}
    for _ in range(6):  # both workers now hold a persistent connection (CONN_MAX_AGE)
        assert phone.get("/api/v1/me").status_code == 200
    gunicorn_pid = server.process.pid

    second = tasks_batch(phone, world, 5)
    for mode in ("refuse", "blackhole"):
        # refuse: the database host is gone (connections refused, open ones reset); blackhole: the
        # network drops everything, so only DATABASE_CONNECT_TIMEOUT (2 s) ends the wait.
        proxy.down(mode)
        limit = 4 if mode == "refuse" else 8
        for _ in range(2):  # each worker at least once, most likely
            for call in (
                lambda: phone.get("/api/v1/me"),
                lambda: phone.pull(0),
                lambda: phone.push(second),
                lambda: phone.get("/api/v1/photo-types"),
            ):
                response, elapsed = timed(call)
                assert_unavailable(response, DATABASE_UNAVAILABLE, elapsed, limit)
        sign_in, elapsed = timed(
            phone.session.post,
            f"{server.url}/api/v1/auth/login",
            json={
                "username": world["username"],
                "password": "x",
                "device": {"id": str(uuid.uuid4()), "platform": "android", "app_version": "2.3.0"},
            },
            timeout=30,
        )
        assert_unavailable(sign_in, DATABASE_UNAVAILABLE, elapsed, limit)
        health, elapsed = timed(phone.get, "/healthz")
        assert health.status_code == 503
        assert elapsed < limit
        assert health.headers["Retry-After"] == str(RETRY_AFTER_S)
        assert health.json()["details"]["failing"] == ["database"]
        assert health.json()["details"]["checks"]["database"]["code"] == "database_unavailable"
        english = phone.session.get(
            f"{server.url}/api/v1/me", headers={**phone.headers(), "Accept-Language": "en"}, timeout=30
        )
        assert english.json()["message"] == DATABASE_UNAVAILABLE.en

        # Back: the next requests are served by the same workers, on new connections.
        proxy.up()
        for _ in range(6):
            me = phone.get("/api/v1/me")
            assert me.status_code == 200, me.text
        assert phone.get("/healthz").status_code == 200

    # What was refused during the outage is sent again and applied once; the earlier push is a duplicate.
    assert {r["status"] for r in phone.push(second).json()["results"]} == {"applied"}
    assert {r["status"] for r in phone.push(first).json()["results"]} == {"duplicate"}
    state = state_of(env)
    assert state["op_rows"] == len(first) + len(second)
    assert set(state["ops"].values()) == {"applied"}
    assert server.process.poll() is None  # never restarted
    assert server.process.pid == gunicorn_pid
    log = (tmp_path / "server.log").read_text()
    assert '" 500 ' not in log  # gunicorn's access log: no request ended in a 500
    assert "Worker timeout" not in log  # and none hung until gunicorn killed its worker
    assert time.monotonic() - started < 120  # a guard against hangs; ~15-45 s on an idle machine


# --- c. The S3 endpoint failing during a photo upload ------------------------------------------------
@pytest.fixture
def behind_s3_proxy(tmp_path, s3_server):
    host, _, port = s3_server.removeprefix("http://").partition(":")
    with fresh_postgis_database(tmp_path) as database_url, TcpProxy((host, int(port))) as proxy:
        bucket = new_bucket(s3_server)
        env = s3_env(django_env(database_url, tmp_path), f"http://127.0.0.1:{proxy.port}", bucket.bucket)
        env.update({"DEBUG": "0", "S3_CONNECT_TIMEOUT": "1", "S3_READ_TIMEOUT": "3", "S3_MAX_ATTEMPTS": "2"})
        manage(env, "migrate", "--noinput")
        world = world_of(manage(env, code=WORLD))
        server = Server(env, tmp_path / "server.log", gunicorn_workers=2)
        try:
            server.start()
            yield server, env, world, proxy, bucket, tmp_path
        finally:
            server.stop()
            _delete_bucket(bucket.client, bucket.bucket)


def test_storage_failing_during_an_upload_is_a_clean_503_and_the_retry_stores_once(behind_s3_proxy):
    server, env, world, proxy, bucket, tmp_path = behind_s3_proxy
    started = time.monotonic()
    phone = HttpPhone(server.url)
    phone.sign_in(world["username"])
    task = str(uuid.uuid4())
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    created = phone.push(
        [phone.op("task.create", task, {"project": world["project"], "name": "采样"}, at=at)]
    )
    assert created.json()["results"][0]["status"] == "applied", created.text
    manifest = photo_manifest(world, task, "sampling_site", at)
    files = {
        str(uuid.uuid4()): (PHOTOS / name).read_bytes()
        for name in ("DSCN0010.jpg", "jolla.jpg", "landscape_6.jpg")
    }
    (first_id, first), (cut_id, cut), (hung_id, hung) = files.items()
    sent = phone.upload(first_id, first, manifest)
    assert sent.status_code == 201, sent.text

    proxy.down("refuse")  # the endpoint refuses connections
    response, elapsed = timed(phone.upload, cut_id, cut, manifest)
    assert_unavailable(response, STORAGE_UNAVAILABLE, elapsed, 10)
    download, elapsed = timed(phone.get, f"/api/v1/photos/{first_id}/file")
    assert download.status_code == 503, download.text
    assert elapsed < 10
    assert download.json()["code"] == "media_unavailable"
    assert download.headers["Retry-After"] == str(RETRY_AFTER_S)
    health = phone.get("/healthz")
    assert health.status_code == 503
    assert health.json()["details"]["checks"]["storage"]["code"] == "storage_unavailable"

    proxy.down("blackhole")  # the endpoint accepts and never answers: only timeouts end the wait
    response, elapsed = timed(phone.upload, hung_id, hung, manifest)
    assert_unavailable(response, STORAGE_UNAVAILABLE, elapsed, 20)

    # Nothing of the refused uploads was kept: no photo row, no file row, no object.
    state = state_of(env)
    assert set(state["photos"]) == {first_id}
    assert set(state["blobs"]) == {sha256(first)}
    assert not any(sha256(cut) in key or sha256(hung) in key for key in set(bucket.keys()))

    # Storage back: the phone sends both again (same photo ids) and each is stored once.
    proxy.up()
    for photo_id, data in ((cut_id, cut), (hung_id, hung)):
        retried = phone.upload(photo_id, data, manifest)
        assert retried.status_code == 201, retried.text
        again = phone.upload(photo_id, data, manifest)
        assert again.status_code == 200, again.text
        download = phone.get(f"/api/v1/photos/{photo_id}/file")
        assert download.status_code == 200
        assert download.content == data
    state = state_of(env)
    assert state["photos"] == {photo_id: sha256(data) for photo_id, data in files.items()}
    assert state["blob_rows"] == 3
    assert state["unused_blobs"] == 0
    keys = set(bucket.keys())
    for digest, blob in state["blobs"].items():
        stored = bucket.client.get_object(Bucket=bucket.bucket, Key=blob["name"])["Body"].read()
        assert hashlib.sha256(stored).hexdigest() == digest
    assert {key for key in keys if key.startswith("photos/")} == {b["name"] for b in state["blobs"].values()}
    log = (tmp_path / "server.log").read_text()
    assert '" 500 ' not in log
    assert time.monotonic() - started < 120  # a guard against hangs; ~15-45 s on an idle machine
