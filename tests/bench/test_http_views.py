"""The photo bench's own views (bench/_http_urls.py). The ceiling, ``/bench/store-only``, is only a
bound if it does the storing work the API does: the file hashed, checked, read for its EXIF and
stored, a photo row with a verdict, its change row and its audit row. These tests hold it to that, so
that a ceiling which quietly stopped storing (and so got faster) fails here instead of misleading
whoever reads bench/RESULTS.md."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from media_rules.models import Photo
from server.accounts.services import DeviceInfo, token_issue
from server.audit.models import AuditEntry
from server.fieldwork.services import task_create
from sync.models import Change
from tests.shared_data import PHOTOS
from tests.support.storage import disk_storage

pytestmark = pytest.mark.django_db

GPS_PHOTO = "DSCN0010.jpg"  # a Nikon's photo with EXIF GPS


@pytest.fixture
def bench_urls(settings, tmp_path):
    settings.ROOT_URLCONF = "bench._http_urls"
    disk_storage(settings, tmp_path)


@pytest.fixture
def phone(world):
    side = world.shanghai
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="基准")
    device = DeviceInfo(id=str(uuid.uuid4()), platform="wechat", app_version="bench")
    issued = token_issue(user=side.field_user, info=device)
    form = {"photo_type": "sampling_site", "task": str(task.pk), "outlet": str(side.wastewater.pk)}
    return Client(headers={"Authorization": f"Bearer {issued.token}"}), form


def test_the_ceiling_stores_the_file_and_the_rows_the_api_would(bench_urls, phone):
    client, form = phone
    data = (PHOTOS / GPS_PHOTO).read_bytes()
    photo_id = uuid.uuid4()
    with (PHOTOS / GPS_PHOTO).open("rb") as file:
        response = client.post("/bench/store-only", {**form, "id": str(photo_id), "file": file})

    assert response.status_code == 201, response.content
    sha256 = hashlib.sha256(data).hexdigest()
    assert response.json() == {"id": str(photo_id), "sha256": sha256, "verdict": "pass", "version": 1}
    photo = Photo.objects.select_related("blob").get(pk=photo_id)
    assert (photo.verdict, photo.blob.sha256, photo.blob.size) == ("pass", sha256, len(data))
    assert photo.blob.exif["gps_lat"] is not None
    assert (photo.blob.width, photo.blob.height) != (None, None)
    with default_storage.open(photo.blob.name, "rb") as stored:
        assert stored.read() == data
    assert Change.objects.filter(entity_type="photo", entity_id=str(photo_id), version=1).count() == 1
    assert AuditEntry.objects.filter(action="photo.created", subject_id=str(photo_id)).count() == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_the_ceiling_refuses_a_phone_without_a_valid_token(bench_urls, phone, headers):
    _, form = phone
    with (PHOTOS / GPS_PHOTO).open("rb") as file:
        body = {**form, "id": str(uuid.uuid4()), "file": file}
        refused = Client(headers=headers).post("/bench/store-only", body)
    assert refused.status_code == 401
    assert not Photo.objects.exists()


@pytest.mark.parametrize("drop", ["file", "id", "outlet"])
def test_the_ceiling_refuses_a_body_that_is_not_the_benchs(bench_urls, phone, drop):
    client, form = phone
    with (PHOTOS / GPS_PHOTO).open("rb") as file:
        body = {**form, "id": str(uuid.uuid4()), "file": file}
        del body[drop]
        refused = client.post("/bench/store-only", body)
    assert (refused.status_code, refused.json()["code"]) == (400, "validation_failed")
    assert not Photo.objects.exists()


def test_the_floor_reads_and_hashes_the_body(bench_urls):
    body = b"any bytes at all"
    sunk = Client().post("/bench/sink", body, content_type="application/octet-stream")
    assert sunk.json() == {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
