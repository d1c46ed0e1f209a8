"""The JavaScript sync client (field_app/static/field_app/sync/) against the real server: a Node
script (phone.mjs) plays a phone with the client's Node adapter over HTTP, and the database says
what it did. This proves the client speaks the real wire format, not only the fakes of
tests/js/sync/.

Node is needed: skipped with the reason outside CI, a failure on CI (as tests/support/browser.py
does for chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from media_rules.models import Blob, Photo
from mobile_api.photos import open_stored
from server.fieldwork.models import MonitoringTask
from sync.models import Operation
from tests.factories import PASSWORD, build_world
from tests.shared_data import PHOTOS

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCRIPT = Path(__file__).with_name("phone.mjs")
BIG = PHOTOS / "DSCN0010.jpg"  # 158 KB: three chunks of 64 KB through /media/uploads
SMALL = PHOTOS / "Canon_40D.jpg"  # 8 KB: one multipart POST /media


def node() -> str:
    found = shutil.which("node")
    if not found:
        reason = "the sync client's test against the server needs Node 20+ (apt-get install nodejs)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. On CI a missing node is a failure, not a skip.")
        pytest.skip(reason)
    return found


def test_the_sync_client_enrols_pushes_uploads_and_pulls_against_the_real_server(live_server, settings):
    executable = node()
    settings.MEDIA_CHUNK_MAX_BYTES = 64 * 1024
    side = build_world().shanghai
    outlet = side.wastewater
    world = {
        "base_url": live_server.url,
        "username": side.field_user.username,
        "password": PASSWORD,
        "project": side.project.pk,
        "outlet": outlet.pk,
        "outlet_lon": outlet.location.x,
        "outlet_lat": outlet.location.y,
        "photos": {"sampling_site": str(BIG), "sampling_operation": str(SMALL)},
    }
    run = subprocess.run(
        [executable, str(SCRIPT), json.dumps(world)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    # The lost answer: the retry was answered duplicate, each operation applied once.
    assert [(a["type"], a["status"], a["duplicate"]) for a in seen["answers"]] == [
        ("task.create", "applied", True),
        ("photo.record", "applied", True),
        ("photo.record", "applied", True),
    ]
    assert seen["requests"].count("POST /api/v1/sync/push 200") == 2
    state = seen["state"]
    assert (state["phase"], state["queued"], state["held"], state["rejected"]) == ("idle", 0, [], [])
    assert state["uploads"] == {"waiting": 0, "ready": 0, "done": 2, "failed": []}
    assert abs(state["clockOffsetMs"]) < 5000

    # The files: the big one in chunks after the records, the small one whole.
    requests = seen["requests"]
    chunks = [r for r in requests if r.startswith("PUT /api/v1/media/uploads/")]
    assert len(chunks) == 3
    assert all(r.endswith(" 200") for r in chunks)
    assert "POST /api/v1/media 201" in requests
    assert requests.index("POST /api/v1/media/uploads 201") > requests.index("POST /api/v1/sync/push 200")

    # What the database holds.
    task = MonitoringTask.objects.get(pk=seen["task"])
    assert (task.name, task.project_id) == ("外业客户端任务", side.project.pk)
    ops = Operation.objects.filter(user=side.field_user).order_by("seq")
    assert [(o.seq, o.op_type, o.status) for o in ops] == [
        (1, "task.create", "applied"),
        (2, "photo.record", "applied"),
        (3, "photo.record", "applied"),
    ]
    for kind, path in world["photos"].items():
        photo = Photo.objects.select_related("blob").get(pk=seen["photos"][kind]["id"])
        assert photo.task_id == task.pk
        assert photo.photo_type_id == kind
        assert photo.blob is not None, f"{kind}: the file reached the server"
        assert photo.blob.sha256 == seen["photos"][kind]["sha256"]
        with closing(open_stored(photo.blob)) as stored:
            assert stored.read() == Path(path).read_bytes()
    assert Blob.objects.count() == 2

    # Pulled into the phone's store: the task and both photos, as the server sees them.
    assert seen["pulled"]["task"]["data"]["name"] == "外业客户端任务"
    pulled_photos = sorted(p["id"] for p in seen["pulled"]["photos"])
    assert pulled_photos == sorted(p["id"] for p in seen["photos"].values())
    assert state["cursor"] > 0
