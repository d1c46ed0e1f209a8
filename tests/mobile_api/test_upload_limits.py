"""Every size limit on what a client sends is enforced with a stable code, a Chinese message, and
nothing stored: photo files (MEDIA_MAX_BYTES), resumable chunks (MEDIA_CHUNK_MAX_BYTES), O&M reports
(OM_REPORT_MAX_BYTES), sync pushes (SYNC_MAX_BYTES), other bodies (DATA_UPLOAD_MAX_MEMORY_SIZE) and
base64 signatures (media_rules.signatures.MAX_BYTES). Limits are set small here: no test builds a
30 MB body."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from media_rules import signatures
from media_rules.models import Blob, Photo, Upload
from server.errors import DomainError
from server.om.models import OmRecord, OmReport
from server.tracks.models import CheckIn
from tests.mobile_api.test_photo_intake import image, post_media, post_photo, put_chunk, sha, start_upload
from tests.om.helpers import record_payload, signature_b64
from tests.om.test_records import checkin
from tests.om.test_reports import PDF
from tests.support.storage import disk_storage, stored_files
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture(autouse=True)
def storage_root(settings, tmp_path) -> Path:
    root = disk_storage(settings, tmp_path)
    assert Path(default_storage.location) == root
    return root


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]  # Chinese
    return body


def padded_jpeg(size: int) -> bytes:
    """A real JPEG made exactly ``size`` bytes long (bytes after EOI are ignored by decoders)."""
    data = image()
    assert len(data) <= size
    return data + b"\0" * (size - len(data))


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def field(client_for, side):
    return client_for(side.field_user)


@pytest.fixture
def task(side):
    from server.fieldwork.services import task_create

    created, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="采样")
    return created


# --- Photos -----------------------------------------------------------------------------------------
def test_a_photo_one_byte_over_the_limit_is_refused_and_nothing_is_stored(
    field, task, settings, storage_root
):
    settings.MEDIA_MAX_BYTES = 4096
    over = padded_jpeg(4097)
    body = refused(post_photo(field, task=task, file=over), 413, "media_too_large")
    assert "4096" in body["message"]
    refused(post_media(field, over), 413, "media_too_large")
    refused(start_upload(field, over), 413, "media_too_large")
    assert not Blob.objects.exists()
    assert not Photo.objects.exists()
    assert not Upload.objects.exists()
    assert stored_files(storage_root) == []
    # At the limit exactly: accepted.
    assert post_photo(field, task=task, file=padded_jpeg(4096)).status_code == 201


def test_an_over_limit_multipart_body_is_not_read_into_memory(field, settings):
    """Announced too large: refused before one byte of the body is read (the test client's payload
    fails the request if read past the few bytes it holds)."""
    settings.MEDIA_MAX_BYTES = 4096
    response = field.generic(
        "POST",
        f"{API}/photos",
        b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(2 * 1024**3),
    )
    refused(response, 413, "media_too_large")


def test_a_resumable_chunk_over_the_limit_is_refused_and_nothing_is_stored(field, settings, storage_root):
    settings.MEDIA_CHUNK_MAX_BYTES = 16 * 1024
    data = padded_jpeg(40 * 1024)
    upload_id = start_upload(field, data).json()["id"]
    body = refused(put_chunk(field, upload_id, 0, data[: 16 * 1024 + 1]), 413, "upload_chunk_too_large")
    assert str(16 * 1024) in body["message"]
    upload = Upload.objects.get(pk=upload_id)
    assert (upload.received, upload.parts) == (0, 0)
    assert stored_files(storage_root) == []
    # The last chunk longer than what remains of the declared size: refused as well.
    assert put_chunk(field, upload_id, 0, data[: 16 * 1024]).status_code == 200
    assert put_chunk(field, upload_id, 16 * 1024, data[16 * 1024 : 32 * 1024]).status_code == 200
    refused(put_chunk(field, upload_id, 32 * 1024, data[32 * 1024 :] + b"\0"), 422, "media_size_mismatch")
    assert Upload.objects.get(pk=upload_id).received == 32 * 1024
    assert not Blob.objects.exists()
    assert put_chunk(field, upload_id, 32 * 1024, data[32 * 1024 :]).json()["complete"] is True
    assert Blob.objects.filter(pk=sha(data)).exists()


# --- O&M reports ------------------------------------------------------------------------------------
def test_a_report_over_the_limit_is_refused_and_nothing_is_stored(client_for, side, settings, storage_root):
    settings.OM_REPORT_MAX_BYTES = 2048
    client = client_for(side.main)
    url = f"{API}/om-tasks/{side.om_task.pk}/reports"
    over = PDF + b"%" * (2049 - len(PDF))
    fields = {"name": "10月运维月报", "category": "monthly", "description": ""}
    response = client.post(url, {**fields, "file": SimpleUploadedFile("r.pdf", over)}, format="multipart")
    body = refused(response, 413, "om_report_too_large")
    assert "报告附件不能超过" in body["message"]
    assert body["details"] == {"size": 2049, "limit": 2048}
    assert not OmReport.objects.exists()
    assert stored_files(storage_root) == []
    at_limit = SimpleUploadedFile("r.pdf", over[:2048])
    assert client.post(url, {**fields, "file": at_limit}, format="multipart").status_code == 201


# --- Sync pushes ------------------------------------------------------------------------------------
def test_a_sync_push_over_the_byte_limit_is_refused_before_anything_applies(side, task, settings):
    phone = Phone.enrol(side.field_user)
    op = phone.op("task.update", task.pk, {"name": "x" * 20_000}, base_version=1)
    body = {"device_id": phone.device_id, "device_time": phone.now().isoformat(), "ops": [op]}
    data = json.dumps(body).encode()
    settings.SYNC_MAX_BYTES = len(data) - 1
    response = phone.client().post(f"{API}/sync/push", data, content_type="application/json")
    refused(response, 413, "batch_too_large")
    task.refresh_from_db()
    assert task.name == "采样"
    from sync.models import Operation

    assert not Operation.objects.exists()


# --- Other bodies -----------------------------------------------------------------------------------
@pytest.mark.parametrize("idempotency_key", [None, "key-1"])
def test_a_json_body_over_django_s_limit_is_413(field, side, settings, idempotency_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {"id": str(uuid.uuid4()), "project": side.project.pk, "name": "采" * 1000}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    response = field.post(f"{API}/tasks", body, format="json", headers=headers)
    refused(response, 413, "payload_too_large")
    from server.fieldwork.models import MonitoringTask

    assert not MonitoringTask.objects.exists()


def test_form_fields_over_django_s_limit_are_413(field, task, settings, storage_root):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = post_photo(field, task=task, file=image(), note="x" * 2000)
    refused(response, 413, "payload_too_large")
    assert not Blob.objects.exists()
    assert stored_files(storage_root) == []


# --- Signatures (base64 in JSON) --------------------------------------------------------------------
def test_a_signature_over_its_limit_is_refused_and_nothing_is_stored(world, client_for, monkeypatch):
    side = world.shanghai
    tech = client_for(side.technician_user)
    start = checkin(tech, side, "start")
    signature = signature_b64()
    monkeypatch.setattr(signatures, "MAX_BYTES", len(signatures.decode(signature)) - 1)
    blobs_before = set(Blob.objects.values_list("pk", flat=True))
    body = {"id": str(uuid.uuid4()), **record_payload(side, start=start, signature=signature)}
    response = tech.post(f"{API}/om/records", body, format="json")
    body = refused(response, 400, "signature_image_invalid")
    assert "KB" in body["message"]
    assert not OmRecord.objects.exists()
    assert set(Blob.objects.values_list("pk", flat=True)) == blobs_before
    assert CheckIn.objects.filter(pk=start).exists()  # what came before stays


def test_a_huge_base64_signature_is_refused_before_it_is_decoded(monkeypatch):
    monkeypatch.setattr(signatures, "MAX_BYTES", 1024)
    with pytest.raises(DomainError) as caught:
        signatures.decode("A" * 4096)
    assert caught.value.error.code == "signature_image_invalid"


def test_a_project_attachment_over_the_limit_is_refused_and_nothing_is_stored(
    world, client_for, settings, storage_root
):
    from server.fieldwork.models import ProjectAttachment

    settings.ATTACHMENT_MAX_BYTES = 2048
    side = world.shanghai
    main = client_for(side.main)

    def attach(content: bytes):
        form = {"kind": "contract", "file": SimpleUploadedFile("合同.pdf", content, "application/pdf")}
        return main.post(f"/api/v1/projects/{side.project.pk}/attachments", form, format="multipart")

    body = refused(attach(b"%PDF-1.4" + b"x" * 2041), 413, "attachment_too_large")
    assert "2048" in body["message"]
    assert not ProjectAttachment.objects.exists()
    assert stored_files(storage_root) == []
    assert attach(b"%PDF-1.4" + b"x" * 2040).status_code == 201  # exactly at the limit
    assert ProjectAttachment.objects.count() == 1


def test_a_rectification_file_over_the_limit_is_refused_and_nothing_is_stored(
    world, client_for, settings, storage_root
):
    from server.violations.models import Rectification
    from tests.violations.helpers import open_violation

    settings.ATTACHMENT_MAX_BYTES = 2048
    side = world.shanghai
    vid = open_violation(client_for(side.regulator), side.project).json()["id"]
    upload = SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4" + b"x" * 4096, content_type="application/pdf")
    response = client_for(side.main).post(
        f"/api/v1/violations/{vid}/rectify", {"text": "已补签", "file": upload}, format="multipart"
    )
    refused(response, 413, "attachment_too_large")
    assert not Rectification.objects.exists()
    assert stored_files(storage_root) == []
