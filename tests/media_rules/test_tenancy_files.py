"""F9 items 1 and 4: files are stored once by content, but knowing a file's SHA-256 is not having it.

The Shanghai side's field worker photographs the wastewater outlet. The Jiangsu side (another
province's agency, tests/factories.py) learns the photo's hash (it shows in records, audit entries,
ZIP manifests, pulls) and tries every way in: the online photo record, the file and presence
endpoints, a sync push and reconcile. Its photo stays awaiting media until its own agency sends the
same bytes; then it links (the bytes are shared, the access is earned by having them), and the
same-file finding it gets names nothing of Shanghai's.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import uuid

import pytest
from django.apps import apps
from PIL import Image

from media_rules.models import BlobHolder, Photo
from server.fieldwork.services import task_create
from tests.support.storage import disk_storage
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    return disk_storage(settings, tmp_path)


def jpeg(color=(120, 60, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def task_of(side):
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="采样")
    return task


def record(client, side, task, *, data: bytes | None = None, digest: str = "", photo_id=None):
    """POST /photos: multipart with the file, or JSON naming it by hash only."""
    body = {
        "id": str(photo_id or uuid.uuid4()),
        "photo_type": "sampling_site",
        "task": str(task.pk),
        "outlet": side.wastewater.pk,
    }
    if data is None:
        return client.post(f"{API}/photos", {**body, "sha256": digest}, format="json")
    file = io.BytesIO(data)
    file.name = "photo.jpg"
    return client.post(f"{API}/photos", {**body, "file": file}, format="multipart")


def send(client, data: bytes):
    file = io.BytesIO(data)
    file.name = "photo.jpg"
    return client.post(f"{API}/media", {"file": file}, format="multipart")


def file_of(client, photo_id):
    return client.get(f"{API}/photos/{photo_id}/file")


@pytest.fixture
def shanghai_photo(world, client_for):
    """Shanghai's work photo, with its file: (bytes, photo)."""
    sh = world.shanghai
    data = jpeg()
    response = record(client_for(sh.field_user), sh, task_of(sh), data=data)
    assert response.status_code == 201, response.json()
    assert response.json()["awaiting_media"] is False
    return data, Photo.objects.get(pk=response.json()["id"])


# --- Item 1: the online API ------------------------------------------------------------------------
def test_a_hash_alone_links_no_file_until_the_agency_sends_the_bytes(world, client_for, shanghai_photo):
    data, theirs = shanghai_photo
    js = world.jiangsu
    attacker = client_for(js.field_user)
    task = task_of(js)

    response = record(attacker, js, task, digest=theirs.sha256)
    assert response.status_code == 201, response.json()
    assert response.json()["awaiting_media"] is True
    assert response.json()["verdict"] == "pending"
    mine = Photo.objects.get(pk=response.json()["id"])
    assert mine.blob_id is None
    answer = file_of(attacker, mine.pk)
    assert (answer.status_code, answer.json()["code"]) == (409, "media_not_received")
    assert file_of(attacker, theirs.pk).status_code == 404
    # The same id again (a retry) links nothing either.
    again = record(attacker, js, task, digest=theirs.sha256, photo_id=mine.pk)
    assert again.status_code == 200
    assert again.json()["awaiting_media"] is True

    # Jiangsu sends the same bytes: they are not stored again, Jiangsu now holds them, its photo links.
    sent = send(attacker, data)
    assert sent.status_code == 201, sent.json()  # new to Jiangsu: the answer does not say who had it
    mine.refresh_from_db()
    assert mine.blob_id == theirs.sha256
    assert mine.verdict != ""
    assert b"".join(file_of(attacker, mine.pk).streaming_content) == data
    holders = BlobHolder.objects.filter(blob_id=theirs.sha256)
    assert sorted(holders.values_list("agency_id", flat=True)) == sorted(
        [world.shanghai.agency.pk, js.agency.pk]
    )
    assert send(attacker, data).status_code == 200  # held already


def test_a_photo_sent_with_its_file_links_at_once_for_another_agency_too(world, client_for, shanghai_photo):
    data, theirs = shanghai_photo
    js = world.jiangsu
    response = record(client_for(js.field_user), js, task_of(js), data=data)
    assert response.status_code == 201, response.json()
    assert response.json()["awaiting_media"] is False
    assert Photo.objects.get(pk=response.json()["id"]).blob_id == theirs.sha256


def test_whether_a_file_is_here_is_answered_for_the_askers_agency(world, client_for, shanghai_photo):
    data, theirs = shanghai_photo
    sh, js = world.shanghai, world.jiangsu
    attacker, owner = client_for(js.field_user), client_for(sh.field_user)

    status = attacker.get(f"{API}/media/{theirs.sha256}").json()
    assert status == {"sha256": theirs.sha256, "present": False, "size": None, "format": None}
    assert owner.get(f"{API}/media/{theirs.sha256}").json()["present"] is True

    start = {"sha256": theirs.sha256, "size": len(data)}
    started = attacker.post(f"{API}/media/uploads", start, format="json")
    assert started.status_code == 201, started.json()
    assert started.json()["complete"] is False
    assert started.json()["offset"] == 0
    upload_id = started.json()["id"]
    done = owner.post(f"{API}/media/uploads", start, format="json")
    assert (done.status_code, done.json()["complete"], done.json()["id"]) == (200, True, None)

    # Jiangsu's resumable upload of the bytes: it holds them afterwards, and presence says so.
    chunk = attacker.put(
        f"{API}/media/uploads/{upload_id}?offset=0", data, content_type="application/octet-stream"
    )
    assert chunk.status_code == 200, chunk.json()
    assert chunk.json()["complete"] is True
    assert attacker.get(f"{API}/media/{theirs.sha256}").json()["present"] is True
    assert BlobHolder.objects.filter(blob_id=theirs.sha256, agency=js.agency).exists()


# --- Item 1: sync push and reconcile --------------------------------------------------------------
def test_a_pushed_photo_record_with_anothers_hash_awaits_its_own_upload(world, shanghai_photo):
    data, theirs = shanghai_photo
    js = world.jiangsu
    phone = Phone.enrol(js.field_user)
    task = task_of(js)
    photo_id = uuid.uuid4()
    phone.op(
        "photo.record",
        photo_id,
        {
            "sha256": theirs.sha256,
            "photo_type": "sampling_site",
            "task": str(task.pk),
            "outlet": js.wastewater.pk,
        },
    )
    results = phone.push().json()["results"]
    assert [r["status"] for r in results] == ["applied"], results
    mine = Photo.objects.get(pk=photo_id)
    assert mine.blob_id is None
    assert mine.verdict == ""

    body = {"device_id": phone.device_id, "ops": [], "media": [theirs.sha256]}
    reconciled = phone.client().post(f"{API}/sync/reconcile", body, format="json")
    assert reconciled.status_code == 200, reconciled.json()
    assert reconciled.json()["media"] == {"missing": [theirs.sha256], "present": []}
    pulled = [c for c in phone.pull().json()["changes"] if c["id"] == str(photo_id)]
    assert pulled
    assert pulled[-1]["data"]["awaiting_media"] is True

    assert send(phone.client(), data).status_code == 201
    mine.refresh_from_db()
    assert mine.blob_id == theirs.sha256
    reconciled = phone.client().post(f"{API}/sync/reconcile", body, format="json")
    assert reconciled.json()["media"] == {"missing": [], "present": [theirs.sha256]}


def test_a_file_the_owner_sends_later_links_only_the_owners_photos(world, client_for):
    """Both sides named the hash before any file came: the Shanghai upload links Shanghai's photo."""
    sh, js = world.shanghai, world.jiangsu
    data = jpeg(color=(10, 200, 90))
    own = record(client_for(sh.field_user), sh, task_of(sh), digest=sha(data)).json()
    other = record(client_for(js.field_user), js, task_of(js), digest=sha(data)).json()
    assert send(client_for(sh.field_user), data).status_code == 201
    assert Photo.objects.get(pk=own["id"]).blob_id == sha(data)
    assert Photo.objects.get(pk=other["id"]).blob_id is None


# --- Enterprise confirmers' work photos ------------------------------------------------------------
def test_an_enterprise_holds_the_work_photos_its_confirmer_sends(world, client_for):
    sh, js = world.shanghai, world.jiangsu
    data = jpeg(color=(1, 90, 200))
    body = {"id": str(uuid.uuid4()), "photo_type": "work_photo", "outlet": str(sh.wastewater.pk)}
    file = io.BytesIO(data)
    file.name = "me.jpg"
    sent = client_for(sh.enterprise_user).post(f"{API}/photos", {**body, "file": file}, format="multipart")
    assert sent.status_code == 201, sent.json()
    assert sent.json()["awaiting_media"] is False
    assert BlobHolder.objects.filter(blob_id=sha(data), enterprise=sh.enterprise, agency=None).exists()

    # The other province's confirmer, naming the hash only, links nothing and learns nothing.
    other = client_for(js.enterprise_user)
    named = {
        "id": str(uuid.uuid4()),
        "photo_type": "work_photo",
        "outlet": js.wastewater.pk,
        "sha256": sha(data),
    }
    response = other.post(f"{API}/photos", named, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["awaiting_media"] is True
    assert other.get(f"{API}/media/{sha(data)}").json()["present"] is False


# --- Item 4: the same-file finding names nothing of another tenant's --------------------------------
def test_the_same_file_used_by_another_agency_is_a_finding_that_names_nothing_of_theirs(
    world, client_for, shanghai_photo
):
    data, theirs = shanghai_photo
    sh, js = world.shanghai, world.jiangsu
    sh.wastewater.name = "徐汇某厂 1 号排口"  # the sides' outlets share a name: make Shanghai's telling
    sh.wastewater.save(update_fields=["name"])
    phone = Phone.enrol(js.field_user)
    response = record(phone.client(), js, task_of(js), data=data)
    assert response.status_code == 201, response.json()
    mine = Photo.objects.get(pk=response.json()["id"])

    finding = next(f for f in mine.findings if f["code"] == "same_file_reused")
    assert finding["severity"] == "fail"
    assert finding["evidence"] == {"photo_ids": [], "uses": [], "other_agency": True}
    assert finding["message"] == {
        "zh-hans": "同一文件已被其他机构使用",
        "en": "The same file was already used by another agency",
    }
    assert mine.verdict == "fail"
    secrets = [str(theirs.pk), str(theirs.task_id), sh.wastewater.name, sh.agency.name]

    def leaks(payload) -> list[str]:
        text = json.dumps(payload, ensure_ascii=False, default=str)
        return [s for s in secrets if s in text]

    assert leaks(mine.findings) == []
    assert leaks(response.json()) == []
    assert leaks(phone.pull().json()) == []
    queue = client_for(js.main).get(f"{API}/evidence", {"kind": "photo"})
    assert queue.status_code == 200, queue.json()
    items = [i for i in queue.json()["results"] if i["evidence"]["photo"] == str(mine.pk)]
    assert items
    assert items[0]["evidence"]["duplicates"] == []
    assert leaks(queue.json()) == []
    # The original keeps its verdict: the later use is the suspicious one.
    theirs.refresh_from_db()
    assert "same_file_reused" not in {f["code"] for f in theirs.findings}


def test_the_same_file_on_the_agencys_own_earlier_task_is_still_named(world, client_for, shanghai_photo):
    data, theirs = shanghai_photo
    sh = world.shanghai
    response = record(client_for(sh.field_user), sh, task_of(sh), data=data)
    finding = next(f for f in response.json()["findings"] if f["code"] == "same_file_reused")
    assert finding["evidence"]["photo_ids"] == [str(theirs.pk)]
    assert finding["evidence"]["other_agency"] is False
    assert str(theirs.pk) in finding["message"]["zh-hans"]


# --- The data migration ----------------------------------------------------------------------------
def test_the_migration_gives_each_linked_photos_agency_its_file(world, client_for, shanghai_photo):
    _, theirs = shanghai_photo
    js = world.jiangsu
    waiting = record(client_for(js.field_user), js, task_of(js), digest=theirs.sha256).json()
    BlobHolder.objects.all().delete()
    migration = importlib.import_module("media_rules.migrations.0004_blob_holders")
    migration.fill_holders(apps, None)
    rows = set(BlobHolder.objects.values_list("blob_id", "agency_id", "enterprise_id"))
    assert rows == {(theirs.sha256, world.shanghai.agency.pk, None)}
    assert Photo.objects.get(pk=waiting["id"]).blob_id is None
