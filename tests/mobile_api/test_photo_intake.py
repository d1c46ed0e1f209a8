"""Photo intake over the API: the photo record with and without its file, the size and format limits,
resumable uploads, direct uploads to S3, who may record and read photos, reconcile by file hash.

Files are real photos from the shared data (tests/shared_data.py) or tiny images made here. Storage
is a fresh directory per test (or a fresh S3 bucket), so what each test stored can be listed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
import zlib
from pathlib import Path

import pytest
import requests
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from media_rules.intake import MULTIPART_OVERHEAD, blob_name, refuse_oversized_body
from media_rules.models import Blob, Photo, Upload
from server.errors import DomainError
from server.fieldwork.services import task_create
from tests.conftest import CheckedAPIClient
from tests.shared_data import PHOTOS
from tests.support.storage import disk_storage, stored_files
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db

API = "/api/v1"
ALL_PHOTOS = sorted(path for path in PHOTOS.iterdir() if path.is_file())
VERDICTS = {"pass", "warn", "fail"}


# --- Fixtures and helpers --------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def storage_root(settings, tmp_path) -> Path:
    root = disk_storage(settings, tmp_path)
    assert Path(default_storage.location) == root
    return root


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def task(side):
    created, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="采样")
    return created


@pytest.fixture
def field(client_for, side):
    return client_for(side.field_user)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def real(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def image(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose IHDR (CRC fixed) declares width x height: a decompression bomb's header."""
    data = image("PNG", (8, 8))
    ihdr = bytearray(data[8:33])  # length, b"IHDR", 13 bytes of header, CRC
    assert ihdr[4:8] == b"IHDR"
    ihdr[8:16] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    ihdr[21:25] = zlib.crc32(bytes(ihdr[4:21])).to_bytes(4, "big")
    return data[:8] + bytes(ihdr) + data[33:]


def upload_file(data: bytes, name: str = "wxfile://tmp_3f9a.jpg") -> io.BytesIO:
    """A file as wx.uploadFile sends it: a temporary name chosen by WeChat, whatever the content."""
    file = io.BytesIO(data)
    file.name = name.rsplit("/", 1)[-1]
    return file


def post_photo(client, *, task=None, file: bytes | None = None, photo_id=None, **fields):
    """POST /photos: multipart with string form fields when there is a file, else JSON."""
    body = {"id": str(photo_id or uuid.uuid4()), "photo_type": "sampling_site", **fields}
    if task is not None:
        body["task"] = str(task.pk)
    if file is None:
        return client.post(f"{API}/photos", body, format="json")
    body = {key: str(value) for key, value in body.items()} | {"file": upload_file(file)}
    return client.post(f"{API}/photos", body, format="multipart")


def post_media(client, data: bytes, **fields):
    return client.post(f"{API}/media", {"file": upload_file(data), **fields}, format="multipart")


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


def streamed(response) -> bytes:
    # Reading to the end closes the response (the test client's wrapper) and its file. Calling
    # response.close() here instead would fire request_finished and drop the test's DB connection.
    return b"".join(response.streaming_content)


def put_chunk(client, upload_id, offset, chunk: bytes):
    return client.put(
        f"{API}/media/uploads/{upload_id}?offset={offset}", chunk, content_type="application/octet-stream"
    )


def start_upload(client, data: bytes, declared: str | None = None):
    return client.post(
        f"{API}/media/uploads", {"sha256": declared or sha(data), "size": len(data)}, format="json"
    )


AT_THE_OUTLET = {
    "longitude": "121.4365",
    "latitude": "31.188",
    "coordinate_system": "gcj02",
    "accuracy_m": "8",
    "mock_location": "false",
}


# --- 1. wx.uploadFile multipart --------------------------------------------------------------------
def test_multipart_upload_records_photo_stores_file_and_makes_an_upright_thumbnail(
    field, side, task, storage_root, django_capture_on_commit_callbacks
):
    data = real("landscape_6.jpg")  # stored pixels 450x600 (portrait), EXIF Orientation 6
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (450, 600)
        assert stored.getexif()[0x0112] == 6
    digest = sha(data)
    device_time = (timezone.now() - dt.timedelta(minutes=2)).isoformat()

    with django_capture_on_commit_callbacks() as callbacks:
        response = post_photo(
            field, task=task, file=data, outlet=side.wastewater.pk, device_time=device_time, **AT_THE_OUTLET
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == digest
    assert body["awaiting_media"] is False
    assert body["verdict"] in VERDICTS
    assert body["task"] == str(task.pk)
    assert body["outlet"] == side.wastewater.pk
    assert body["photo_type"] == "sampling_site"
    assert body["stage"] == "sampling"
    assert body["version"] == 1

    photo = Photo.objects.get(pk=body["id"])
    blob = Blob.objects.get()
    assert photo.blob_id == blob.sha256 == digest
    assert photo.verdict == body["verdict"]
    assert photo.taken_by == side.field_user
    assert photo.agency == side.agency
    assert (photo.fix_raw_lon, photo.fix_raw_lat, photo.fix_system) == (121.4365, 31.188, "gcj02")
    assert photo.fix_accuracy_m == 8
    assert photo.mock_location is False
    assert photo.device_time is not None
    assert blob.size == len(data)
    assert blob.format == "jpeg"
    assert (blob.width, blob.height) == (600, 450)  # upright
    assert blob.name == blob_name(digest) == f"photos/{digest[:2]}/{digest[2:4]}/{digest}"
    with default_storage.open(blob.name, "rb") as stream:
        assert stream.read() == data
    assert (storage_root / blob.name).read_bytes() == data
    assert stored_files(storage_root) == [blob.name]

    file_response = field.get(f"{API}/photos/{photo.pk}/file")
    assert file_response.status_code == 200
    assert file_response["Content-Type"] == "image/jpeg"
    assert streamed(file_response) == data

    # The thumbnail is made after the commit, off the request.
    error(field.get(f"{API}/photos/{photo.pk}/thumbnail"), 409, "thumbnail_not_ready")
    assert len(callbacks) == 1
    callbacks[0]()

    blob.refresh_from_db()
    assert blob.processed_at is not None
    assert blob.process_error == ""
    assert blob.phash is not None
    thumb_response = field.get(f"{API}/photos/{photo.pk}/thumbnail")
    assert thumb_response.status_code == 200
    assert thumb_response["Content-Type"] == "image/jpeg"
    thumb_bytes = streamed(thumb_response)
    with Image.open(io.BytesIO(thumb_bytes)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.width > thumb.height  # turned upright: the stored pixels are portrait
        assert max(thumb.size) <= 320
        assert 0x0112 not in thumb.getexif()  # no EXIF carried over
    assert (storage_root / blob.thumbnail).read_bytes() == thumb_bytes
    photo.refresh_from_db()
    assert photo.verdict in VERDICTS


def test_multipart_with_blank_optional_form_fields_and_a_matching_declared_hash(field, task):
    data = image()
    response = post_photo(
        field, task=task, file=data, sha256=sha(data).upper(), outlet="", longitude="", latitude=""
    )
    assert response.status_code == 201, response.json()
    assert response.json()["sha256"] == sha(data)
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.outlet_id is None
    assert photo.fix_location is None


def test_multipart_with_a_declared_hash_other_than_the_file_is_refused(field, task, storage_root):
    data = image()
    response = post_photo(field, task=task, file=data, sha256="0" * 64)
    body = error(response, 422, "media_hash_mismatch")
    assert sha(data) in body["message"]
    assert not Blob.objects.exists()
    assert not Photo.objects.exists()
    assert stored_files(storage_root) == []


def test_a_record_without_file_or_hash_is_refused(field, task):
    error(post_photo(field, task=task), 400, "media_file_missing")
    assert not Photo.objects.exists()


# --- 2. Idempotency, conflicts, one copy per content ------------------------------------------------
def test_same_photo_again_is_idempotent_another_file_conflicts_same_file_is_stored_once(
    field, task, storage_root
):
    first, other = image(color=(10, 120, 200)), image(color=(250, 250, 0))
    photo_id = uuid.uuid4()
    created = post_photo(field, task=task, file=first, photo_id=photo_id)
    assert created.status_code == 201, created.json()
    version = created.json()["version"]

    again = post_photo(field, task=task, file=first, photo_id=photo_id)
    assert again.status_code == 200, again.json()
    assert again.json() == created.json()
    assert Photo.objects.count() == 1
    assert Blob.objects.count() == 1
    assert Photo.objects.get().version == version

    conflict = error(post_photo(field, task=task, file=other, photo_id=photo_id), 409, "photo_conflict")
    assert conflict["details"] == {"stored": sha(first), "sent": sha(other)}
    photo = Photo.objects.get(pk=photo_id)
    assert photo.sha256 == photo.blob_id == sha(first)
    assert photo.version == version
    with default_storage.open(blob_name(sha(first)), "rb") as stream:
        assert stream.read() == first
    # Also without the file: the JSON record naming another file is refused the same way.
    error(post_photo(field, task=task, photo_id=photo_id, sha256=sha(other)), 409, "photo_conflict")
    assert Photo.objects.get(pk=photo_id).sha256 == sha(first)

    reused = post_photo(field, task=task, file=first)
    assert reused.status_code == 201, reused.json()
    assert reused.json()["id"] != str(photo_id)
    assert reused.json()["sha256"] == sha(first)
    assert Photo.objects.filter(sha256=sha(first)).count() == 2
    assert Blob.objects.filter(pk=sha(first)).count() == 1
    assert [name for name in stored_files(storage_root) if sha(first) in name] == [blob_name(sha(first))]


def test_media_endpoint_stores_once_and_reports_presence(field, storage_root):
    data = image("PNG", color=(1, 2, 3))
    missing = field.get(f"{API}/media/{sha(data)}")
    assert missing.json() == {"sha256": sha(data), "present": False, "size": None, "format": None}

    first = post_media(field, data, sha256=sha(data))
    assert first.status_code == 201, first.json()
    assert first.json() == {"sha256": sha(data), "present": True, "size": len(data), "format": "png"}
    second = post_media(field, data)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert Blob.objects.count() == 1
    assert stored_files(storage_root) == [blob_name(sha(data))]
    assert field.get(f"{API}/media/{sha(data).upper()}").json()["present"] is True
    error(field.get(f"{API}/media/not-a-hash"), 400, "validation_failed")


# --- 3. Records before files; late manifests ---------------------------------------------------------
def test_record_first_then_file_completes_the_photo(field, task, django_capture_on_commit_callbacks):
    data = real("DSCN0021.jpg")
    other_task, _ = task_create(
        actor=task.created_by, task_id=uuid.uuid4(), project=task.project, name="另一个任务"
    )
    record = post_photo(field, task=task, sha256=sha(data), **AT_THE_OUTLET)
    assert record.status_code == 201, record.json()
    body = record.json()
    assert body["awaiting_media"] is True
    assert body["verdict"] == "pending"
    assert body["findings"] == []
    with_file = post_photo(field, task=task, file=image())
    assert with_file.status_code == 201
    post_photo(field, task=other_task, file=image(color=(9, 9, 9)))  # not on this task

    listing = field.get(f"{API}/photos", {"task": str(task.pk)}).json()
    assert {p["id"] for p in listing["results"]} == {body["id"], with_file.json()["id"]}
    assert listing["completeness"] == {"photos": 2, "with_media": 1, "awaiting_media": 1}
    awaiting = field.get(f"{API}/photos", {"task": str(task.pk), "awaiting_media": "true"}).json()
    assert [p["id"] for p in awaiting["results"]] == [body["id"]]
    error(field.get(f"{API}/photos/{body['id']}/file"), 409, "media_not_received")

    with django_capture_on_commit_callbacks(execute=True):
        sent = post_media(field, data)
    assert sent.status_code == 201, sent.json()

    photo = Photo.objects.get(pk=body["id"])
    assert photo.blob_id == sha(data)
    assert photo.verdict in VERDICTS
    assert photo.version == 2
    shown = field.get(f"{API}/photos/{photo.pk}").json()
    assert shown["awaiting_media"] is False
    assert shown["verdict"] == photo.verdict
    assert shown["findings"] == photo.findings
    listing = field.get(f"{API}/photos", {"task": str(task.pk)}).json()
    assert listing["completeness"] == {"photos": 2, "with_media": 2, "awaiting_media": 0}
    assert streamed(field.get(f"{API}/photos/{photo.pk}/file")) == data


def test_a_late_manifest_fills_in_the_fix_and_judges_again(field, side, task):
    data = real("no_exif.jpg")
    photo_id = uuid.uuid4()
    first = post_photo(field, task=task, file=data, photo_id=photo_id, outlet=side.wastewater.pk)
    assert first.status_code == 201, first.json()
    assert first.json()["verdict"] == "fail"
    assert "location_missing" in {f["code"] for f in first.json()["findings"]}
    assert Photo.objects.get(pk=photo_id).fix_location is None

    late = post_photo(
        field,
        task=task,
        photo_id=photo_id,
        sha256=sha(data),
        outlet=side.wastewater.pk,
        longitude=121.4365,
        latitude=31.188,
        coordinate_system="gcj02",
        accuracy_m=10,
    )
    assert late.status_code == 200, late.json()
    body = late.json()
    assert "location_missing" not in {f["code"] for f in body["findings"]}
    assert body["version"] == first.json()["version"] + 1
    photo = Photo.objects.get(pk=photo_id)
    assert (photo.fix_raw_lon, photo.fix_raw_lat, photo.fix_system) == (121.4365, 31.188, "gcj02")
    assert photo.fix_location is not None
    assert photo.findings == body["findings"]

    # The fix is filled in once: a different one later changes nothing.
    moved = post_photo(
        field,
        task=task,
        photo_id=photo_id,
        sha256=sha(data),
        outlet=side.wastewater.pk,
        longitude=120.0,
        latitude=30.0,
        coordinate_system="wgs84",
    )
    assert moved.status_code == 200
    assert moved.json() == body
    assert Photo.objects.get(pk=photo_id).fix_raw_lon == 121.4365


# --- 4. Size limits -------------------------------------------------------------------------------
def test_files_over_the_limit_are_refused_with_413_and_nothing_is_stored(field, task, settings, storage_root):
    settings.MEDIA_MAX_BYTES = 50_000
    limits = field.get(f"{API}/media/limits").json()
    assert limits["max_bytes"] == 50_000
    assert limits["formats"] == ["jpeg", "png", "heic", "heif"]
    assert limits["direct_upload"] is False

    whole = real("DSCN0010.jpg")  # 161 kB: the announced body is refused before it is read
    streamed_over = whole[:80_000]  # within the multipart allowance: stopped while streaming in
    assert len(whole) > 50_000 + MULTIPART_OVERHEAD > len(streamed_over) > 50_000
    for data in (whole, streamed_over):
        body = error(post_photo(field, task=task, file=data), 413, "media_too_large")
        assert "50000" in body["message"]
        body = error(post_media(field, data), 413, "media_too_large")
        assert "50000" in body["message"]
    error(start_upload(field, whole), 413, "media_too_large")

    assert not Blob.objects.exists()
    assert not Photo.objects.exists()
    assert not Upload.objects.exists()
    assert stored_files(storage_root) == []

    small = image()
    assert post_photo(field, task=task, file=small).status_code == 201


@pytest.mark.parametrize("path", ["/photos", "/media"])
def test_an_announced_huge_body_is_refused_before_it_is_read(field, path, settings):
    settings.MEDIA_MAX_BYTES = 50_000
    # The body is a few bytes; reading the 1 GB it announces would fail the test client's payload.
    response = field.generic(
        "POST",
        f"{API}{path}",
        b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(1024**3),
    )
    body = error(response, 413, "media_too_large")
    assert "50000" in body["message"]
    assert not Blob.objects.exists()


def test_refuse_oversized_body_checks_the_announced_length(settings):
    settings.MEDIA_MAX_BYTES = 50_000
    for harmless in (None, "", "not a number", "0", str(50_000 + MULTIPART_OVERHEAD)):
        refuse_oversized_body(harmless)
    with pytest.raises(DomainError) as caught:
        refuse_oversized_body(str(50_000 + MULTIPART_OVERHEAD + 1))
    assert caught.value.error.code == "media_too_large"
    assert caught.value.error.status == 413
    with pytest.raises(DomainError):
        refuse_oversized_body(50_001, overhead=0)


# --- 5. Formats -----------------------------------------------------------------------------------
NOT_IMAGES = {
    "gif": lambda: image("GIF"),
    "pdf": lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    "text": lambda: "采样记录：COD 35 mg/L\n".encode(),
    "bmp": lambda: image("BMP"),
}


@pytest.mark.parametrize("kind", sorted(NOT_IMAGES))
def test_files_that_are_not_accepted_images_get_415(field, task, storage_root, kind):
    data = NOT_IMAGES[kind]()
    error(post_photo(field, task=task, file=data), 415, "unsupported_image")
    error(post_media(field, data), 415, "unsupported_image")
    assert not Blob.objects.exists()
    assert not Photo.objects.exists()
    assert stored_files(storage_root) == []


def test_png_and_heic_are_accepted(field, task):
    png = image("PNG", (40, 30))
    response = post_photo(field, task=task, file=png)
    assert response.status_code == 201, response.json()
    blob = Blob.objects.get(pk=sha(png))
    assert (blob.format, blob.width, blob.height) == ("png", 40, 30)

    heic = real("IMG_5195.HEIC")
    response = post_photo(field, task=task, file=heic)
    assert response.status_code == 201, response.json()
    assert response.json()["verdict"] in VERDICTS
    blob = Blob.objects.get(pk=sha(heic))
    assert (blob.format, blob.width, blob.height) == ("heic", 2566, 3313)
    assert blob.exif  # the iPhone's EXIF (GPS, time) was read
    file_response = field.get(f"{API}/photos/{response.json()['id']}/file")
    assert file_response["Content-Type"] == "image/heic"
    assert streamed(file_response) == heic


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("bomb_400mp", lambda: png_claiming(20_000, 20_000), "image_too_large_pixels"),
        ("over_limit_64mp", lambda: png_claiming(8_000, 8_000), "image_too_large_pixels"),
        ("truncated_jpeg", lambda: real("DSCN0010.jpg")[: 161_713 // 2], "image_unreadable"),
        ("truncated_heic", lambda: real("IMG_5195.HEIC")[:400_000], "image_unreadable"),
        ("jpeg_magic_only", lambda: b"\xff\xd8\xff\xe0" + b"\0" * 200, "image_unreadable"),
    ],
)
def test_bombs_and_undecodable_images_get_422(field, task, storage_root, name, make, code):
    data = make()
    assert len(data) < 500_000
    body = error(post_photo(field, task=task, file=data), 422, code)
    if code == "image_too_large_pixels":
        assert "60,000,000" in body["message"] or "60000000" in body["message"]
    assert not Blob.objects.exists()
    assert not Photo.objects.exists()
    assert stored_files(storage_root) == []


@pytest.mark.parametrize("name", ["corrupted.jpg", "image00971.jpg", "30-type_error.jpg", "no_exif.jpg"])
def test_awkward_real_photos_are_taken_cleanly(field, task, name):
    data = real(name)
    response = post_photo(field, task=task, file=data)
    assert response.status_code == 201, response.json()
    assert response.json()["verdict"] in VERDICTS
    blob = Blob.objects.get(pk=sha(data))
    assert blob.format == "jpeg"
    assert blob.width
    assert blob.height
    assert isinstance(blob.exif, dict)


@pytest.mark.parametrize("path", ALL_PHOTOS, ids=lambda p: p.name)
def test_every_shared_photo_has_a_clean_outcome(field, task, storage_root, path):
    data = path.read_bytes()
    response = post_photo(field, task=task, file=data)
    assert response.status_code != 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    if response.status_code == 201:
        assert body["sha256"] == sha(data)
        assert body["awaiting_media"] is False
        assert body["verdict"] in VERDICTS
        assert all({"code", "severity"} <= set(f) for f in body["findings"])
        blob = Blob.objects.get(pk=sha(data))
        assert blob.format == ("heic" if path.suffix.lower() == ".heic" else "jpeg")
        assert (storage_root / blob.name).read_bytes() == data
    else:
        assert 400 <= response.status_code < 500
        assert body["code"] in {"unsupported_image", "image_unreadable", "image_too_large_pixels"}
        assert not Photo.objects.exists()


# --- 6. Resumable uploads ---------------------------------------------------------------------------
CHUNK = 64 * 1024


def test_resumable_upload_resumes_after_a_lost_answer_and_completes(
    field, client_for, world, settings, storage_root
):
    settings.MEDIA_CHUNK_MAX_BYTES = CHUNK
    data = real("DSCN0010.jpg")  # three chunks: 64 kB, 64 kB, the rest
    digest, size = sha(data), len(data)

    started = start_upload(field, data)
    assert started.status_code == 201, started.json()
    body = started.json()
    assert (body["sha256"], body["size"], body["offset"], body["complete"]) == (digest, size, 0, False)
    assert body["chunk_max_bytes"] == CHUNK
    assert body["expires_at"]
    upload_id = body["id"]
    # Starting again (an app restart) finds the same upload.
    assert start_upload(field, data).json()["id"] == upload_id

    error(put_chunk(field, upload_id, 0, data[: CHUNK + 1]), 413, "upload_chunk_too_large")
    first = put_chunk(field, upload_id, 0, data[:CHUNK])
    assert first.status_code == 200, first.json()
    assert (first.json()["offset"], first.json()["complete"]) == (CHUNK, False)
    assert field.get(f"{API}/media/uploads/{upload_id}").json()["offset"] == CHUNK

    mismatch = error(put_chunk(field, upload_id, 5, data[5 : 5 + CHUNK]), 409, "upload_offset_mismatch")
    assert mismatch["details"] == {"received": CHUNK}
    error(put_chunk(field, upload_id, "x", b"..."), 409, "upload_offset_mismatch")

    # The second chunk arrives but its answer is lost; the phone sends it again at the old offset.
    assert put_chunk(field, upload_id, CHUNK, data[CHUNK : 2 * CHUNK]).json()["offset"] == 2 * CHUNK
    lost = error(put_chunk(field, upload_id, CHUNK, data[CHUNK : 2 * CHUNK]), 409, "upload_offset_mismatch")
    assert lost["details"] == {"received": 2 * CHUNK}
    assert Upload.objects.get(pk=upload_id).parts == 2

    # Someone else cannot see or continue my upload.
    stranger = client_for(world.jiangsu.field_user)
    error(stranger.get(f"{API}/media/uploads/{upload_id}"), 404, "not_found")
    error(put_chunk(stranger, upload_id, 2 * CHUNK, data[2 * CHUNK :]), 404, "not_found")
    error(stranger.post(f"{API}/media/uploads/{upload_id}/confirm"), 404, "not_found")
    assert Upload.objects.get(pk=upload_id).received == 2 * CHUNK

    assert not Blob.objects.exists()
    last = put_chunk(field, upload_id, lost["details"]["received"], data[2 * CHUNK :])
    assert last.status_code == 200, last.json()
    assert (last.json()["offset"], last.json()["complete"]) == (size, True)

    blob = Blob.objects.get(pk=digest)
    assert (blob.size, blob.format) == (size, "jpeg")
    with default_storage.open(blob.name, "rb") as stream:
        assert stream.read() == data
    assert stored_files(storage_root) == [blob.name]  # the chunks are gone
    assert Upload.objects.get(pk=upload_id).completed_at is not None

    # The last answer lost too: sending the last chunk again says complete, stores nothing new.
    again = put_chunk(field, upload_id, 2 * CHUNK, data[2 * CHUNK :])
    assert again.status_code == 200
    assert again.json()["complete"] is True
    assert Blob.objects.count() == 1

    # The server has the file: nothing to send.
    done = start_upload(field, data)
    assert done.status_code == 200
    assert done.json() == {
        "id": None,
        "sha256": digest,
        "size": size,
        "offset": size,
        "complete": True,
        "chunk_max_bytes": CHUNK,
        "expires_at": None,
    }


def test_resumable_upload_of_other_bytes_than_declared_starts_over(field, settings, storage_root):
    settings.MEDIA_CHUNK_MAX_BYTES = CHUNK
    data = real("DSCN0012.jpg")
    damaged = bytearray(data)
    damaged[100_000] ^= 0xFF
    damaged = bytes(damaged)
    upload_id = start_upload(field, data).json()["id"]

    for offset in range(0, len(damaged) - CHUNK, CHUNK):
        assert put_chunk(field, upload_id, offset, damaged[offset : offset + CHUNK]).status_code == 200
    assert stored_files(storage_root)  # the chunks are in storage
    last = len(damaged) // CHUNK * CHUNK
    body = error(put_chunk(field, upload_id, last, damaged[last:]), 422, "media_hash_mismatch")
    assert sha(damaged) in body["message"]

    state = field.get(f"{API}/media/uploads/{upload_id}").json()
    assert (state["offset"], state["complete"]) == (0, False)
    assert Upload.objects.get(pk=upload_id).parts == 0
    assert stored_files(storage_root) == []
    assert not Blob.objects.exists()

    # Sent again, right this time: the same upload completes.
    for offset in range(0, len(data), CHUNK):
        response = put_chunk(field, upload_id, offset, data[offset : offset + CHUNK])
        assert response.status_code == 200, response.json()
    assert response.json()["complete"] is True
    assert stored_files(storage_root) == [blob_name(sha(data))]


def test_resumable_upload_checks_what_it_is_told(field, settings):
    settings.MEDIA_CHUNK_MAX_BYTES = CHUNK
    error(
        field.post(f"{API}/media/uploads", {"sha256": "abc", "size": 10}, format="json"),
        400,
        "validation_failed",
    )
    error(
        field.post(f"{API}/media/uploads", {"sha256": "a" * 64, "size": 0}, format="json"),
        400,
        "validation_failed",
    )
    # A last chunk longer than the declared size: the size was wrong.
    data = image()
    upload_id = field.post(
        f"{API}/media/uploads", {"sha256": sha(data), "size": len(data) - 10}, format="json"
    ).json()["id"]
    error(put_chunk(field, upload_id, 0, data), 422, "media_size_mismatch")
    assert field.get(f"{API}/media/uploads/{upload_id}").json()["offset"] == 0
    # Expired uploads say so.
    Upload.objects.filter(pk=upload_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    error(put_chunk(field, upload_id, 0, data[:10]), 410, "upload_expired")
    error(field.get(f"{API}/media/uploads/{uuid.uuid4()}"), 404, "not_found")


# --- 7. Direct upload to S3 ---------------------------------------------------------------------------
def post_to_bucket(presigned: dict, data: bytes) -> requests.Response:
    """What the phone does: the policy's fields, then the file last."""
    return requests.post(
        presigned["url"],
        data=presigned["fields"],
        files={"file": ("photo.jpg", data, presigned["fields"]["Content-Type"])},
        timeout=10,
    )


def test_direct_upload_to_s3_presign_post_confirm(field, s3_storage):
    assert field.get(f"{API}/media/limits").json()["direct_upload"] is True
    data = real("DSCN0025.jpg")
    upload_id = start_upload(field, data).json()["id"]
    incoming = f"incoming/{upload_id}"

    error(
        field.post(f"{API}/media/uploads/{upload_id}/presign", {"content_type": "image/gif"}, format="json"),
        400,
        "validation_failed",
    )
    presigned = field.post(
        f"{API}/media/uploads/{upload_id}/presign", {"content_type": "image/jpeg"}, format="json"
    )
    assert presigned.status_code == 200, presigned.json()
    presigned = presigned.json()
    assert presigned["url"] == f"{s3_storage.endpoint}/{s3_storage.bucket}"
    assert presigned["fields"]["key"] == incoming
    assert presigned["fields"]["Content-Type"] == "image/jpeg"
    assert presigned["expires_at"]

    error(field.post(f"{API}/media/uploads/{upload_id}/confirm"), 409, "media_not_received")
    assert not Blob.objects.exists()

    assert post_to_bucket(presigned, data).status_code == 204
    in_bucket = s3_storage.keys()
    assert incoming in in_bucket
    confirmed = field.post(f"{API}/media/uploads/{upload_id}/confirm")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json() == {"sha256": sha(data), "present": True, "size": len(data), "format": "jpeg"}

    blob = Blob.objects.get(pk=sha(data))
    assert blob.name == blob_name(sha(data))
    with default_storage.open(blob.name, "rb") as stream:
        assert stream.read() == data
    assert s3_storage.keys() == [blob.name]  # the incoming object is gone
    assert Upload.objects.get(pk=upload_id).completed_at is not None
    # Confirming again (a lost answer) gives the same answer.
    assert field.post(f"{API}/media/uploads/{upload_id}/confirm").json() == confirmed.json()


def test_direct_upload_of_other_bytes_is_refused_and_nothing_kept(field, s3_storage):
    data = real("DSCN0025.jpg")
    damaged = bytearray(data)
    damaged[50_000] ^= 0xFF
    upload_id = start_upload(field, data).json()["id"]
    presigned = field.post(
        f"{API}/media/uploads/{upload_id}/presign", {"content_type": "image/jpeg"}, format="json"
    ).json()
    assert post_to_bucket(presigned, bytes(damaged)).status_code == 204

    body = error(field.post(f"{API}/media/uploads/{upload_id}/confirm"), 422, "media_hash_mismatch")
    assert sha(bytes(damaged)) in body["message"]
    assert not Blob.objects.exists()
    assert s3_storage.keys() == []
    assert Upload.objects.get(pk=upload_id).completed_at is None

    # A file of another size is refused for its size.
    assert post_to_bucket(presigned, data[:-1]).status_code == 204
    error(field.post(f"{API}/media/uploads/{upload_id}/confirm"), 422, "media_size_mismatch")
    assert s3_storage.keys() == []


def test_presign_is_unavailable_on_disk_storage(field):
    data = image()
    upload_id = start_upload(field, data).json()["id"]
    response = field.post(
        f"{API}/media/uploads/{upload_id}/presign", {"content_type": "image/jpeg"}, format="json"
    )
    error(response, 409, "presign_unavailable")
    error(field.post(f"{API}/media/uploads/{upload_id}/confirm"), 409, "media_not_received")


# --- 8. Who may record and read photos --------------------------------------------------------------
def test_photos_are_recorded_and_read_within_scope(world, task, field, client_for):
    sh, js = world.shanghai, world.jiangsu
    task_photo = post_photo(field, task=task, file=image(color=(1, 1, 1)))
    site_photo = post_photo(field, outlet=sh.wastewater.pk, file=image(color=(2, 2, 2)))
    assert task_photo.status_code == site_photo.status_code == 201
    task_photo_id, site_photo_id = task_photo.json()["id"], site_photo.json()["id"]
    assert Photo.objects.get(pk=site_photo_id).task_id is None

    outsider = client_for(js.field_user)
    refused_id = uuid.uuid4()
    refused = error(
        post_photo(outsider, task=task, photo_id=refused_id, sha256="a" * 64), 400, "validation_failed"
    )
    assert set(refused["details"]) == {"task"}  # a body's reference is named (F10 item 6)
    refused = error(
        post_photo(outsider, task=task, photo_id=refused_id, file=image()), 400, "validation_failed"
    )
    assert set(refused["details"]) == {"task"}
    refused = error(
        post_photo(outsider, outlet=sh.wastewater.pk, photo_id=refused_id, sha256="a" * 64),
        400,
        "validation_failed",
    )
    assert set(refused["details"]) == {"outlet"}
    assert not Photo.objects.filter(pk=refused_id).exists()
    error(post_photo(field, task=task, photo_type="no_such_type", sha256="a" * 64), 400, "photo_type_unknown")

    expected = {
        # Agency staff: their agency's photos (field staff: on their projects) and site photos.
        sh.field_user: {task_photo_id, site_photo_id},
        sh.manager: {task_photo_id, site_photo_id},
        js.field_user: set(),
        js.manager: set(),
        # The enterprise sees the photos on its project and at its outlets.
        sh.enterprise_user: {task_photo_id, site_photo_id},
        js.enterprise_user: set(),
        # Regulators by region.
        sh.regulator: {task_photo_id, site_photo_id},
        js.regulator: set(),
        world.platform: {task_photo_id, site_photo_id},
    }
    for user, visible in expected.items():
        client = client_for(user)
        listing = client.get(f"{API}/photos")
        assert listing.status_code == 200, (user.username, listing.json())
        assert {p["id"] for p in listing.json()["results"]} == visible, user.role
        for photo_id in (task_photo_id, site_photo_id):
            if photo_id in visible:
                assert client.get(f"{API}/photos/{photo_id}").json()["id"] == photo_id
                assert client.get(f"{API}/photos/{photo_id}/file").status_code == 200
            else:
                error(client.get(f"{API}/photos/{photo_id}"), 404, "not_found")
                error(client.get(f"{API}/photos/{photo_id}/file"), 404, "not_found")
                error(client.get(f"{API}/photos/{photo_id}/thumbnail"), 404, "not_found")


def test_another_agency_cannot_touch_a_photo_by_reusing_its_id(world, task, field, client_for):
    """Knowing a photo's id and file hash gives another agency neither its data nor a way to fill in
    its manifest (a fix turning a failed photo into a passed one)."""
    sh, js = world.shanghai, world.jiangsu
    their_task, _ = task_create(actor=js.field_user, task_id=uuid.uuid4(), project=js.project, name="采样")
    data = image(color=(21, 22, 23))
    photo_id = uuid.uuid4()
    ours = post_photo(field, task=task, file=data, photo_id=photo_id, outlet=sh.wastewater.pk)
    assert ours.json()["verdict"] == "fail"  # no location

    outsider = client_for(js.field_user)
    fill_in = post_photo(outsider, task=their_task, photo_id=photo_id, sha256=sha(data), **AT_THE_OUTLET)
    error(fill_in, 404, "not_found")
    other_file = post_photo(outsider, task=their_task, photo_id=photo_id, sha256="b" * 64)
    body = error(other_file, 404, "not_found")
    assert sha(data) not in str(body)
    photo = Photo.objects.get(pk=photo_id)
    assert photo.fix_location is None
    assert (photo.verdict, photo.version, photo.task_id) == ("fail", 1, task.pk)


def test_only_agency_staff_record_photos(world, task, client_for):
    sh = world.shanghai
    for user in (sh.enterprise_user, sh.regulator, world.platform):
        photo_id = uuid.uuid4()
        response = post_photo(client_for(user), task=task, photo_id=photo_id, sha256="c" * 64)
        error(response, 403, "photo_no_agency")
        assert not Photo.objects.filter(pk=photo_id).exists()
    # Agency staff not assigned to the task's project neither.
    photo_id = uuid.uuid4()
    error(
        post_photo(client_for(sh.reviewer), task=task, photo_id=photo_id, sha256="c" * 64),
        403,
        "not_on_project",
    )
    assert not Photo.objects.filter(pk=photo_id).exists()
    assigned = post_photo(client_for(sh.field_user), task=task, photo_id=photo_id, sha256="c" * 64)
    assert assigned.status_code == 201, assigned.json()
    assert Photo.objects.get(pk=photo_id).taken_by == sh.field_user


# --- 9. Reconcile by file hash --------------------------------------------------------------------
def test_reconcile_says_which_files_the_server_lacks(world, side):
    phone = Phone.enrol(side.field_user)
    held, never_sent = image(color=(3, 3, 3)), image(color=(4, 4, 4))
    assert post_media(phone.client(), held).status_code == 201
    body = {
        "device_id": phone.device_id,
        "ops": [],
        "media": [sha(held).upper(), sha(never_sent), sha(held)],
    }
    response = phone.client().post(f"{API}/sync/reconcile", body, format="json")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["media"] == {"missing": [sha(never_sent)], "present": [sha(held)]}
    assert answer["missing"] == answer["held"] == answer["done"] == []

    bad = {"device_id": phone.device_id, "ops": [], "media": ["not-a-hash"]}
    error(phone.client().post(f"{API}/sync/reconcile", bad, format="json"), 400, "validation_failed")


# --- 10. English messages ---------------------------------------------------------------------------
def test_refusals_speak_english_when_asked(world, task, client_for, settings):
    settings.MEDIA_MAX_BYTES = 50_000
    english = client_for(world.shanghai.field_user, "en")
    big = real("DSCN0010.jpg")[:80_000]

    response = post_photo(english, task=task, file=big)
    body = error(response, 413, "media_too_large")
    assert body["message"] == "The photo file is too large (the limit is 50000 bytes)."
    assert response["Content-Language"] == "en"
    body = error(post_media(english, image("GIF")), 415, "unsupported_image")
    assert body["message"] == "Unsupported image format; only JPEG, PNG and HEIC are accepted."

    chinese = client_for(world.shanghai.field_user)
    assert (
        "照片文件过大" in error(post_photo(chinese, task=task, file=big), 413, "media_too_large")["message"]
    )
    assert "不支持的图片格式" in error(post_media(chinese, image("GIF")), 415, "unsupported_image")["message"]


# --- The back office: session sign-in, CSRF ------------------------------------------------------
def test_session_uploads_from_the_back_office_pass_the_csrf_check_and_the_limits(world, task, settings):
    """A signed-in browser's CSRF check reads the multipart body before the view runs: the upload must
    still work (not a 500 for setting upload handlers too late) and still respect the limit."""
    settings.MEDIA_MAX_BYTES = 50_000
    browser = CheckedAPIClient(enforce_csrf_checks=True)
    browser.force_login(world.shanghai.field_user)
    browser.cookies["csrftoken"] = "a" * 32
    csrf = {"X-CSRFToken": "a" * 32}
    data, photo_file = image(color=(11, 12, 13)), image(color=(13, 12, 11))

    media = browser.post(f"{API}/media", {"file": upload_file(data)}, format="multipart", headers=csrf)
    assert media.status_code == 201, media.content[:300]
    assert media.json()["sha256"] == sha(data)
    body = {"id": str(uuid.uuid4()), "photo_type": "sampling_site", "task": str(task.pk)}
    photo = browser.post(
        f"{API}/photos", {**body, "file": upload_file(photo_file)}, format="multipart", headers=csrf
    )
    assert photo.status_code == 201, photo.content[:300]
    assert Photo.objects.get(pk=body["id"]).blob_id == sha(photo_file)
    with default_storage.open(blob_name(sha(photo_file)), "rb") as stream:
        assert stream.read() == photo_file

    too_big = real("DSCN0010.jpg")[:80_000]
    response = browser.post(f"{API}/media", {"file": upload_file(too_big)}, format="multipart", headers=csrf)
    error(response, 413, "media_too_large")
    assert not Blob.objects.filter(pk=sha(too_big)).exists()
    error(
        browser.post(f"{API}/media", {"file": upload_file(data)}, format="multipart"),
        403,
        "permission_denied",
    )


# --- Outside the test transaction, as in production ----------------------------------------------
def test_photos_awaiting_a_file_are_attached_and_judged_inside_a_transaction(field, task, monkeypatch):
    """Requests run in autocommit in production (no ATOMIC_REQUESTS), and PostgreSQL refuses the row
    locks media_arrived takes (FOR UPDATE) outside a transaction: a 500 after the file was stored, the
    photo awaiting it for ever. The test's own transaction hides that, so this checks that intake
    opens one around it. (A transaction=True test would flush the seeded photo types and posts.)"""
    from django.db import connection

    from media_rules import services

    outside = len(connection.atomic_blocks)
    depths = []
    media_arrived = services.media_arrived

    def spy(blob, **kwargs):
        depths.append(len(connection.atomic_blocks))
        return media_arrived(blob, **kwargs)

    monkeypatch.setattr(services, "media_arrived", spy)
    by_media, by_photo = image(color=(5, 6, 7)), image(color=(7, 6, 5))
    waiting = {data: post_photo(field, task=task, sha256=sha(data)).json() for data in (by_media, by_photo)}
    assert all(body["awaiting_media"] for body in waiting.values())

    assert post_media(field, by_media).status_code == 201
    assert post_photo(field, task=task, file=by_photo).status_code == 201

    assert len(depths) == 2
    assert all(depth > outside for depth in depths), (outside, depths)
    for data, body in waiting.items():
        photo = Photo.objects.get(pk=body["id"])
        assert photo.blob_id == sha(data)
        assert photo.verdict in VERDICTS
        assert photo.version == 2


def test_a_refused_record_leaves_no_file_row_behind(field, task, world):
    data = image(color=(10, 200, 30))
    error(post_photo(field, task=task, file=data, photo_type="no_such_type"), 400, "photo_type_unknown")
    assert not Blob.objects.filter(pk=sha(data)).exists()
    stranger = type("Task", (), {"pk": uuid.uuid4()})()  # a task the server has never seen
    assert set(error(post_photo(field, file=data, task=stranger), 400, "validation_failed")["details"]) == {
        "task"
    }
    assert not Blob.objects.filter(pk=sha(data)).exists()
    assert not Photo.objects.exists()
    # Sent again correctly, the file is taken (its bytes already on disk are reused).
    assert post_photo(field, task=task, file=data).status_code == 201
    assert Blob.objects.filter(pk=sha(data)).exists()


def test_a_stored_file_lost_from_storage_is_a_clean_503_not_a_500(field, task, storage_root, caplog):
    data = real("landscape_6.jpg")
    response = post_photo(field, task=task, file=data, **AT_THE_OUTLET)
    assert response.status_code == 201, response.json()
    photo_id = response.json()["id"]
    assert field.get(f"{API}/photos/{photo_id}/file").status_code == 200
    default_storage.delete(blob_name(sha(data)))  # a disk wiped, an S3 object deleted by hand

    response = field.get(f"{API}/photos/{photo_id}/file", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response.json()["code"] == "media_unavailable"
    assert response.json()["message"].startswith("The photo file cannot be read from storage")
    assert any("cannot be read" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert Photo.objects.get(pk=photo_id).blob_id == sha(data)  # the record stays as it was


# --- The decode check moved off the request ----------------------------------------------------------
@pytest.mark.parametrize("name", ["DSCN0010.jpg", "Canon_40D.jpg", "HMD_Nokia_8.3_5G.jpg", "landscape_6.jpg"])
@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.5, 0.9, 0.999])
def test_a_jpeg_cut_anywhere_after_its_headers_is_refused_without_decoding_it(
    field, task, storage_root, monkeypatch, name, fraction
):
    data = real(name)
    cut = data[: int(len(data) * fraction)]
    from media_rules import imaging

    decoded = []
    monkeypatch.setattr(imaging, "_decode", lambda *args, **kwargs: decoded.append(args))
    error(post_photo(field, task=task, file=cut), 422, "image_unreadable")
    assert decoded == []  # refused by the structure check alone
    assert not Blob.objects.exists()
    assert stored_files(storage_root) == []


def test_a_whole_jpeg_that_fails_its_background_decode_is_judged_unreadable(
    field, task, monkeypatch, django_capture_on_commit_callbacks
):
    from media_rules import background
    from media_rules.imaging import IMAGE_UNREADABLE

    with django_capture_on_commit_callbacks() as callbacks:
        response = post_photo(field, task=task, file=real("DSCN0010.jpg"))
    assert response.status_code == 201, response.json()
    assert "image_unreadable" not in [f["code"] for f in response.json()["findings"]]

    def damaged(*args, **kwargs):
        raise DomainError(IMAGE_UNREADABLE)

    monkeypatch.setattr(background, "thumbnail_and_hashes", damaged)
    for callback in callbacks:
        callback()
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.blob.process_error == "image_unreadable"
    assert photo.verdict == "fail"
    finding = next(f for f in photo.findings if f["code"] == "image_unreadable")
    assert finding["severity"] == "fail"
    assert field.get(f"{API}/photos/{photo.pk}").json()["verdict"] == "fail"


@pytest.mark.parametrize("memory_bytes", [0, 64 * 1024, 16 * 1024 * 1024])
def test_an_upload_is_kept_in_memory_or_spilled_to_disk_by_its_size_and_stored_whole(
    field, task, settings, storage_root, monkeypatch, memory_bytes
):
    import tempfile

    settings.MEDIA_MEMORY_BYTES = memory_bytes
    spilled = []
    temporary_file = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda: spilled.append(temporary_file()) or spilled[-1])
    # 2,190,194 bytes: nine pieces of the upload handler, hashed one after another on the media thread.
    data = real("HMD_Nokia_8.3_5G.jpg")
    response = post_photo(field, task=task, file=data)
    assert response.status_code == 201, response.json()
    assert len(spilled) == (1 if memory_bytes < len(data) else 0)
    assert response.json()["sha256"] == sha(data)
    assert (storage_root / blob_name(sha(data))).read_bytes() == data


def test_two_uploads_of_one_file_racing_leave_one_copy_under_its_content_address(
    field, task, storage_root, monkeypatch
):
    from media_rules import intake

    data = real("DSCN0010.jpg")
    name = blob_name(sha(data))
    default_storage.save(name, io.BytesIO(data))  # the other upload got there first...
    from django.core.files.storage import FileSystemStorage

    exists = FileSystemStorage.exists
    looked = []

    def racing_exists(storage, path):  # ...just after this one looked
        looked.append(path)
        return False if len(looked) == 1 else exists(storage, path)

    monkeypatch.setattr(FileSystemStorage, "exists", racing_exists)
    blob, created = intake.ingest(data, holder=None)
    assert created
    assert blob.name == name
    assert stored_files(storage_root) == [name]
    assert (storage_root / name).read_bytes() == data


def test_files_whose_background_work_was_lost_are_processed_by_the_hourly_sweep(
    field, task, django_capture_on_commit_callbacks
):
    from media_rules.background import process_pending

    with django_capture_on_commit_callbacks():  # the queued task is lost: its callback never runs
        response = post_photo(field, task=task, file=real("DSCN0010.jpg"))
    assert response.status_code == 201
    blob = Blob.objects.get()
    assert blob.processed_at is None
    assert process_pending() == 0  # within the grace period: the queued task may still come
    later = timezone.now() + dt.timedelta(minutes=11)
    assert process_pending(now=later) == 1
    blob.refresh_from_db()
    assert blob.processed_at is not None
    assert blob.thumbnail
    assert blob.phash is not None
    assert process_pending(now=later) == 0  # done once


def test_a_photo_with_its_file_is_stored_in_a_bounded_number_of_statements(field, task, side):
    """The upload's statements (bench/RESULTS.md counts 24 on PostgreSQL with the token, BEGIN and
    COMMIT, for a photo of the first stage; one more since F9 item 1: the agency's hold on the file):
    the photo is inserted once, with its verdict, and the file row is read once. More means a
    regression on the request every photo makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sync.models import Change

    data = real("DSCN0010.jpg")
    with CaptureQueriesContext(connection) as queries:
        response = post_photo(field, task=task, file=data, outlet=side.wastewater.pk)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.blob_id == sha(data)
    assert photo.verdict in VERDICTS
    assert photo.verdict == response.json()["verdict"]
    assert photo.version == 1
    change = Change.objects.get(entity_type="photo", entity_id=str(photo.pk))
    assert change.data["verdict"] == photo.verdict
    assert change.version == 1
    sql = [q["sql"] for q in queries.captured_queries]
    photo_writes = [
        s for s in sql if s.startswith(('INSERT INTO "media_rules_photo"', 'UPDATE "media_rules_photo"'))
    ]
    assert len(photo_writes) == 1, photo_writes
    assert photo_writes[0].startswith("INSERT"), photo_writes
    assert sum(s.startswith('SELECT "media_rules_blob"') for s in sql) == 1, sql
    # Look-ups by a unique key carry no ORDER BY (server/lookups.py): a third of their ORM time.
    by_key = ('WHERE "media_rules_blob"."sha256" = ', 'WHERE "media_rules_phototype"."code" = ')
    by_key += ('WHERE "media_rules_photo"."id" = ',)  # is it new? (FOR UPDATE)
    looked_up = [s for s in sql if s.startswith("SELECT") and any(key in s for key in by_key)]
    assert len(looked_up) == 3, sql
    assert not [s for s in looked_up if "ORDER BY" in s], looked_up
    # A photo of the first stage waits for no earlier photos: the task's photos are not counted.
    assert not [s for s in sql if 'COUNT("media_rules_photo"."id")' in s], sql
    # F9 item 1: who holds the file is one INSERT, read in the file row's own SELECT (holders.held_by).
    assert sum(s.startswith('INSERT INTO "media_rules_blobholder"') for s in sql) == 1, sql
    assert len(sql) <= 24, "\n".join(sql)


def test_the_file_is_written_while_the_photo_is_recorded_and_is_stored_before_the_answer(
    field, task, storage_root, monkeypatch
):
    """intake.stores_overlapped: the write runs on the media thread while the request records and
    judges the photo (the photo's INSERT happens during the write), and the answer waits for it."""
    import threading
    import time

    from django.core.files.storage import FileSystemStorage
    from django.db import connection

    events: dict[str, object] = {}
    save = FileSystemStorage.save

    def slow_save(self, name, content, *args, **kwargs):
        events["thread"] = threading.current_thread().name
        events["write_started"] = time.monotonic()
        time.sleep(0.3)  # a PUT to S3 far away
        try:
            return save(self, name, content, *args, **kwargs)
        finally:
            events["write_ended"] = time.monotonic()

    def watch(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "media_rules_photo"'):
            events["photo_inserted"] = time.monotonic()
        return execute(sql, params, many, context)

    monkeypatch.setattr(FileSystemStorage, "save", slow_save)
    data = real("DSCN0010.jpg")
    with connection.execute_wrapper(watch):
        response = post_photo(field, task=task, file=data)
    assert response.status_code == 201, response.json()
    assert events["thread"].startswith("media-io")
    assert events["write_started"] < events["photo_inserted"] < events["write_ended"]
    stored = storage_root / blob_name(sha(data))
    assert stored.read_bytes() == data
    assert Photo.objects.get(pk=response.json()["id"]).blob_id == sha(data)


def test_a_file_cut_short_under_its_name_is_written_again_not_trusted(field, task, storage_root):
    """A worker killed mid-write on disk storage leaves part of a file under the content address: the
    next upload of that file replaces it instead of recording a photo whose file is broken."""
    data = real("DSCN0010.jpg")
    stored = storage_root / blob_name(sha(data))
    stored.parent.mkdir(parents=True)
    stored.write_bytes(data[: len(data) // 3])
    response = post_photo(field, task=task, file=data)
    assert response.status_code == 201, response.json()
    assert stored.read_bytes() == data
    assert sorted(p.name for p in stored.parent.iterdir()) == [sha(data)]
    assert Blob.objects.get(pk=sha(data)).size == len(data)
