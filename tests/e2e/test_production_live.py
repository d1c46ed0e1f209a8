"""Production mode, end to end: gunicorn (sync workers, DEBUG off) on a fresh PostGIS database, photos
in an S3 bucket over real HTTP (moto's server, through django-storages and boto3 as configured by
the S3_* settings), a real Celery worker on the machine's Redis. A sampler's field day is played over
HTTP only, and then the bucket, the database and the API are checked against what the phone sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid

import pytest

from tests.e2e.live import (
    CeleryWorker,
    Server,
    celery_env,
    django_env,
    fresh_postgis_database,
    manage,
    new_bucket,
    redis_unreachable,
    s3_env,
)
from tests.e2e.phones import WORLD, HttpPhone, photo_manifest, world_of
from tests.shared_data import PHOTOS
from tests.support.s3_server import _delete_bucket
from tests.support.storage import WORLD_FOLDERS
from tests.tracks.helpers import gpx_segments

pytestmark = pytest.mark.slow

# Real phone photos (shared data); the HEIC one goes through the same path as the JPEGs.
PHOTO_FILES = ["landscape_6.jpg", "DSCN0010.jpg", "jolla.jpg", "IMG_5195.HEIC"]

STATE = """
import django, json
django.setup()
from media_rules.models import Blob, Photo
from server.fieldwork.models import MonitoringTask
from server.tracks.models import CheckIn, TrackPoint
from sync.models import Operation
task = MonitoringTask.objects.get(pk=%(task)r)
print(json.dumps({
    "task": {"status": task.status, "version": task.version, "note": task.note},
    "ops": sorted([str(o.op_id), o.status] for o in Operation.objects.all()),
    "photos": {str(p.pk): {"blob": p.blob_id, "verdict": p.verdict} for p in Photo.objects.all()},
    "blobs": {b.sha256: {"name": b.name, "size": b.size, "thumbnail": b.thumbnail,
                         "phash": b.phash, "processed": b.processed_at is not None}
              for b in Blob.objects.all()},
    "track_points": TrackPoint.objects.filter(task=task).count(),
    "checkins": CheckIn.objects.filter(task=task).count(),
}))
"""


@pytest.fixture
def production(tmp_path, s3_server):
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    with fresh_postgis_database(tmp_path) as database_url:
        bucket = new_bucket(s3_server)
        env = celery_env(s3_env(django_env(database_url, tmp_path), s3_server, bucket.bucket))
        env["DEBUG"] = "0"
        manage(env, "migrate", "--noinput")
        world = world_of(manage(env, code=WORLD))
        worker = CeleryWorker(env, tmp_path / "worker.log", concurrency=1).start()
        server = Server(env, tmp_path / "server.log", gunicorn_workers=2)
        try:
            server.start()
            yield server, env, world, bucket, tmp_path
        finally:
            server.stop()
            worker.stop()
            _delete_bucket(bucket.client, bucket.bucket)


def walk(start: dt.datetime, count: int) -> list[dict]:
    """A real GPS walk (korita-zbevnica.gpx), one point every 20 s from ``start``."""
    points = [p for segment in gpx_segments("korita-zbevnica.gpx") for p in segment][:count]
    return [
        {
            "fix_time": (start + dt.timedelta(seconds=20 * n)).isoformat(),
            "longitude": p["longitude"],
            "latitude": p["latitude"],
            "altitude_m": p["altitude_m"],
        }
        for n, p in enumerate(points)
    ]


def test_a_field_day_in_production_mode(production):
    server, env, world, bucket, tmp_path = production
    started = time.monotonic()

    # The deployment answers as production: healthy with every part configured, errors as JSON.
    phone = HttpPhone(server.url)
    health = phone.get("/healthz")
    assert health.status_code == 200, health.text
    assert set(health.json()["checks"]) == {"database", "storage", "broker"}
    missing = phone.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"  # not DEBUG's technical page

    signed_in = phone.sign_in(world["username"])
    assert signed_in["device_id"] == phone.device_id
    first_pull = phone.pull(0)
    assert first_pull.status_code == 200, first_pull.text
    assert isinstance(first_pull.json()["cursor"], int)

    # The morning, offline: the task, its note, started, a check-in at the outlet, the walk.
    task = str(uuid.uuid4())
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)
    points = walk(t0 + dt.timedelta(minutes=6), 120)
    morning = [
        phone.op("task.create", task, {"project": world["project"], "name": "进水口季度采样"}, at=t0),
        phone.op("task.update", task, {"note": "现场有雨"}, at=t0 + dt.timedelta(minutes=1), base_version=1),
        phone.op("task.transition", task, {"to": "running"}, at=t0 + dt.timedelta(minutes=5)),
        phone.op(
            "checkin.record",
            uuid.uuid4(),
            {
                "longitude": world["outlet_lon"],
                "latitude": world["outlet_lat"],
                "coordinate_system": "wgs84",
                "accuracy_m": 5,
                "task": task,
                "outlet": world["outlet"],
                "device_time": (t0 + dt.timedelta(minutes=10)).isoformat(),
            },
            at=t0 + dt.timedelta(minutes=10),
        ),
    ] + [
        phone.op(
            "track.append",
            task,
            {"coordinate_system": "wgs84", "points": points[i : i + 60], "task": task},
            at=t0 + dt.timedelta(minutes=30 + i),
        )
        for i in range(0, len(points), 60)
    ]
    pushed = phone.push(morning)
    assert pushed.status_code == 200, pushed.text
    assert [r["status"] for r in pushed.json()["results"]] == ["applied"] * len(morning), pushed.json()

    # The photos, as the phone gets signal: the upload answers with a verdict at once.
    files = {name: (PHOTOS / name).read_bytes() for name in PHOTO_FILES}
    photo_ids = {}
    for n, name in enumerate(PHOTO_FILES):
        photo_ids[name] = str(uuid.uuid4())
        kind = "sampling_operation" if n == 0 else "sampling_site"
        at = t0 + dt.timedelta(hours=1, minutes=n)
        sent = phone.upload(photo_ids[name], files[name], photo_manifest(world, task, kind, at))
        assert sent.status_code == 201, sent.text
        assert sent.json()["verdict"] in {"pass", "warn", "fail"}
        assert sent.json()["sha256"] == hashlib.sha256(files[name]).hexdigest()
    again = phone.upload(
        photo_ids[PHOTO_FILES[0]],
        files[PHOTO_FILES[0]],
        photo_manifest(world, task, "sampling_operation", t0 + dt.timedelta(hours=1)),
    )
    assert again.status_code == 200, again.text  # the same photo again: stored once

    # The afternoon: saved (暂存) after the photos.
    afternoon = [phone.op("task.transition", task, {"to": "saved"}, at=t0 + dt.timedelta(hours=2))]
    pushed = phone.push(afternoon)
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["results"][0]["status"] == "applied", pushed.json()

    # The morning's push again (its answer was lost): every operation a duplicate, applied once.
    replay = phone.push(morning)
    assert replay.status_code == 200, replay.text
    assert {r["status"] for r in replay.json()["results"]} == {"duplicate"}

    # The worker makes the thumbnails; the API serves them once it has.
    deadline = time.monotonic() + 45
    for name, photo_id in photo_ids.items():
        while True:
            thumb = phone.get(f"/api/v1/photos/{photo_id}/thumbnail")
            if thumb.status_code == 200:
                break
            assert thumb.json()["code"] == "thumbnail_not_ready", thumb.text
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no thumbnail for {name}; worker log:\n{(tmp_path / 'worker.log').read_text()[-3000:]}"
                )
            time.sleep(0.3)
        assert thumb.headers["Content-Type"] == "image/jpeg"
        assert thumb.content[:2] == b"\xff\xd8"

    # Each photo back through the API, byte for byte.
    for name, photo_id in photo_ids.items():
        download = phone.get(f"/api/v1/photos/{photo_id}/file")
        assert download.status_code == 200, download.text
        assert download.content == files[name]

    # The bucket: each file under its content address with its own bytes, and its thumbnail.
    state = json.loads(manage(env, code=STATE % {"task": task}).strip().splitlines()[-1])
    # The filing's documents (dossier/, people/) are the demo agencies' own, stored at set-up.
    stored_keys = bucket.keys()
    keys = {k for k in stored_keys if k.split("/")[0] not in WORLD_FOLDERS}
    for data in files.values():
        digest = hashlib.sha256(data).hexdigest()
        blob = state["blobs"][digest]
        assert blob["name"] == f"photos/{digest[:2]}/{digest[2:4]}/{digest}"
        assert blob["name"] in keys
        stored = bucket.client.get_object(Bucket=bucket.bucket, Key=blob["name"])["Body"].read()
        assert hashlib.sha256(stored).hexdigest() == digest
        assert blob["size"] == len(data)
        # Set by the worker, not the web process.
        assert blob["processed"], blob
        assert blob["thumbnail"] in keys, blob
        assert blob["phash"] is not None, blob
    assert keys == {b["name"] for b in state["blobs"].values()} | {
        b["thumbnail"] for b in state["blobs"].values()
    }

    # The database: every photo with its file and a verdict, every operation once and applied.
    assert len(state["photos"]) == len(PHOTO_FILES)
    assert {p["blob"] for p in state["photos"].values()} == {
        hashlib.sha256(d).hexdigest() for d in files.values()
    }
    assert all(p["verdict"] in {"pass", "warn", "fail"} for p in state["photos"].values())
    sent_ops = {op["op_id"] for op in morning + afternoon}
    assert state["ops"] == sorted([op_id, "applied"] for op_id in sent_ops)
    assert state["task"]["status"] == "saved"
    assert state["task"]["note"] == "现场有雨"
    assert state["track_points"] == len(points)
    assert state["checkins"] == 1
    # The worker really ran the task.
    assert "media_rules.process_blob" in (tmp_path / "worker.log").read_text()
    assert time.monotonic() - started < 150  # a guard against hangs; ~10 s on an idle machine
