"""Face (work) photos at rest (media_rules/private_files.py): sealed in storage once they are known to
show a person, read back whole through the API, the export and the background job; other photos
stay as they are."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest
import skimage.data
from django.core.files.storage import default_storage
from PIL import Image

from media_rules import private_files
from media_rules.models import Blob, Photo
from server.privacy import crypto
from tests.conftest import TEST_PII_KEY_1, TEST_PII_KEY_2
from tests.support.storage import disk_storage, stored_files

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture(autouse=True)
def storage_root(settings, tmp_path) -> Path:
    root = disk_storage(settings, tmp_path)
    return root


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


FACE = jpeg(Image.fromarray(skimage.data.astronaut()))
LANDSCAPE = jpeg(Image.new("RGB", (320, 240), (40, 120, 200)))


def post_photo(client, task, data: bytes, photo_type: str, capture) -> Photo:
    file = io.BytesIO(data)
    file.name = "tmp.jpg"
    body = {"id": str(uuid.uuid4()), "photo_type": photo_type, "task": str(task.pk), "file": file}
    with capture(execute=True):  # the background job runs when the upload commits
        response = client.post(f"{API}/photos", body, format="multipart")
    assert response.status_code == 201, response.json()
    return Photo.objects.select_related("blob").get(pk=response.json()["id"])


def stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as stream:
        return stream.read()


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_work_photo_is_sealed_and_read_back_whole(
    field, task, storage_root, django_capture_on_commit_callbacks
):
    photo = post_photo(field, task, FACE, "work_photo", django_capture_on_commit_callbacks)
    blob = photo.blob
    assert blob.encrypted
    assert blob.face_count == 1
    # In storage: neither the file nor its thumbnail is a JPEG, and no plain copy is left.
    assert blob.name.startswith("sealed/")
    assert blob.thumbnail.startswith("sealed/")
    for name in (blob.name, blob.thumbnail):
        assert not stored(name).startswith(b"\xff\xd8")
        assert crypto.is_sealed(stored(name))
    assert stored_files(storage_root) == sorted([blob.name, blob.thumbnail])
    assert FACE[1000:1064] not in stored(blob.name)

    original = field.get(f"{API}/photos/{photo.pk}/file")
    assert original.status_code == 200
    assert original["Content-Type"] == "image/jpeg"
    assert streamed(original) == FACE
    thumbnail = field.get(f"{API}/photos/{photo.pk}/thumbnail")
    assert thumbnail.status_code == 200
    assert Image.open(io.BytesIO(streamed(thumbnail))).format == "JPEG"

    export = field.get(f"{API}/tasks/{task.pk}/photos.zip")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(streamed(export))) as archive:
        [name] = [n for n in archive.namelist() if n.startswith("photos/")]
        assert archive.read(name) == FACE
        assert "included" in archive.read("manifest.csv").decode("utf-8-sig")


def test_an_ordinary_photo_is_stored_as_it_came(field, task, django_capture_on_commit_callbacks):
    photo = post_photo(field, task, LANDSCAPE, "sampling_site", django_capture_on_commit_callbacks)
    assert not photo.blob.encrypted
    assert stored(photo.blob.name) == LANDSCAPE
    assert stored(photo.blob.thumbnail).startswith(b"\xff\xd8")


def test_a_file_already_stored_is_sealed_when_a_work_photo_names_it(
    field, task, storage_root, django_capture_on_commit_callbacks
):
    first = post_photo(field, task, FACE, "sampling_site", django_capture_on_commit_callbacks)
    assert not first.blob.encrypted
    assert stored(first.blob.name) == FACE
    work = post_photo(field, task, FACE, "work_photo", django_capture_on_commit_callbacks)
    blob = Blob.objects.get(pk=work.sha256)
    assert blob.encrypted
    assert blob.face_count == 1
    assert stored_files(storage_root) == sorted([blob.name, blob.thumbnail])  # plain copies gone
    assert streamed(field.get(f"{API}/photos/{first.pk}/file")) == FACE  # the other photo reads it too


def test_a_wrong_key_is_a_clean_503(field, task, settings, django_capture_on_commit_callbacks):
    photo = post_photo(field, task, FACE, "work_photo", django_capture_on_commit_callbacks)
    settings.PII_KEYS = f"test1:{TEST_PII_KEY_2}"
    response = field.get(f"{API}/photos/{photo.pk}/file")
    assert response.status_code == 503
    assert response.json()["code"] == "pii_unreadable"
    settings.PII_KEYS = f"test2:{TEST_PII_KEY_2},test1:{TEST_PII_KEY_1}"
    assert private_files.reseal(Blob.objects.get(pk=photo.sha256))
    settings.PII_KEYS = f"test2:{TEST_PII_KEY_2}"
    assert streamed(field.get(f"{API}/photos/{photo.pk}/file")) == FACE


def test_plain_face_files_left_behind_are_sealed_by_the_daily_job(
    field, task, settings, django_capture_on_commit_callbacks
):
    photo = post_photo(field, task, FACE, "work_photo", django_capture_on_commit_callbacks)
    # As a file stored before sealing existed: plain, measured already.
    blob = Blob.objects.get(pk=photo.sha256)
    with default_storage.open(blob.name, "rb") as stream:
        plain = crypto.unseal(stream.read(), purpose=f"media_rules.Blob:{blob.sha256}:file")
    plain_name = default_storage.save("photos/legacy", io.BytesIO(plain))
    Blob.objects.filter(pk=blob.pk).update(encrypted=False, name=plain_name)
    assert private_files.seal_pending() == 1
    blob.refresh_from_db()
    assert blob.encrypted
    assert not default_storage.exists(plain_name)
    assert private_files.read_bytes(blob) == FACE
