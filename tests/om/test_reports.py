"""上传报告 (seed 003 §2.5): a report file against an O&M task, linked to its submitted records."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from server.om.models import FormTemplate, OmRecord, OmReport
from tests.support.storage import stored_files

pytestmark = pytest.mark.django_db
API = "/api/v1"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def record(side, status: str = "submitted") -> OmRecord:
    task = side.om_task
    return OmRecord.objects.create(
        id=uuid.uuid4(),
        task=task,
        outlet=side.wastewater,
        template=FormTemplate.objects.filter(code="ww_daily_inspection").order_by("-version").first(),
        agency=task.agency,
        enterprise=task.contract.enterprise,
        filled_by=side.technician_user,
        status=status,
        om_date=timezone.localdate(),
        submitted_at=None if status == "draft" else timezone.now(),
    )


def upload(client, side, content: bytes = PDF, file_name: str = "10月运维月报.pdf", **fields):
    body = {
        "name": "10月运维月报",
        "category": "monthly",
        "description": "",
        "file": SimpleUploadedFile(file_name, content),
        **fields,
    }
    return client.post(f"{API}/om-tasks/{side.om_task.pk}/reports", body, format="multipart")


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["点位", "COD"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (40, 120, 200)).save(out, fmt)
    return out.getvalue()


def ole(stream: str) -> bytes:
    """The start of an OLE2 compound file whose directory names ``stream`` (UTF-16LE): enough for
    the type check, which looks for the Word or Excel stream's name."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entry = (stream.encode("utf-16-le") + b"\x00\x00").ljust(128, b"\x00")
    return header + b"\x00" * 512 + entry + b"\x00" * 1024


@pytest.fixture
def side(world):
    return world.shanghai


# --- Upload ---------------------------------------------------------------------------------------
def test_upload_stores_the_file_its_hash_and_the_linked_records(side, client_for, settings):
    first, second = record(side), record(side, "approved")
    response = upload(
        client_for(side.main), side, description=" 本月设备运行正常 ", records=[str(first.pk), str(second.pk)]
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    report = OmReport.objects.get()
    assert body["id"] == report.pk
    assert (report.name, report.category, report.description) == (
        "10月运维月报",
        "monthly",
        "本月设备运行正常",
    )
    assert (report.file_name, report.file_size) == ("10月运维月报.pdf", len(PDF))
    assert report.file_sha256 == hashlib.sha256(PDF).hexdigest() == body["file_sha256"]
    assert set(report.records.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert sorted(body["records"]) == sorted([str(first.pk), str(second.pk)])
    assert (report.uploaded_by, body["uploaded_by_name"]) == (side.main, side.main.username)
    with report.file.open("rb") as stored:
        assert stored.read() == PDF
    # Stored under a name of our own, never the client's.
    assert report.file.name.startswith("om_reports/")
    assert report.file.name.endswith(".pdf")
    assert "月报" not in report.file.name
    assert [Path(p).name for p in stored_files(settings.MEDIA_ROOT)] == [Path(report.file.name).name]


def test_the_tasks_staff_may_upload_and_others_may_not(world, client_for):
    side = world.shanghai
    assert upload(client_for(side.technician_user), side).status_code == 201
    assert upload(client_for(side.reviewer), side, file_name="b.pdf").status_code == 201
    assert upload(client_for(side.manager), side, file_name="c.pdf").status_code == 201
    # The regulator and the enterprise see the task but do not upload its reports.
    for user in (side.regulator, side.enterprise_user):
        response = upload(client_for(user), side, file_name="d.pdf")
        assert response.status_code == 403, user.role
        assert response.json()["code"] == "om_report_not_allowed"
    # Another agency does not see the task at all.
    response = upload(client_for(world.jiangsu.main), side, file_name="e.pdf")
    assert response.status_code == 404
    assert OmReport.objects.count() == 3


def test_a_record_of_another_task_is_refused_and_nothing_is_stored(world, client_for, settings):
    side = world.shanghai
    foreign = record(world.jiangsu)
    own = record(side)
    response = upload(client_for(side.main), side, records=[str(own.pk), str(foreign.pk)])
    assert response.status_code == 400
    assert response.json()["code"] == "om_report_record_foreign"
    assert response.json()["details"] == {"records": [str(foreign.pk)]}
    response = upload(client_for(side.main), side, records=[str(uuid.uuid4())])
    assert response.json()["code"] == "om_report_record_foreign"
    assert not OmReport.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


@pytest.mark.parametrize("status", ["draft", "voided"])
def test_a_record_not_submitted_is_refused(side, client_for, status):
    unsent = record(side, status)
    response = upload(client_for(side.main), side, records=[str(unsent.pk)])
    assert response.status_code == 409
    assert response.json()["code"] == "om_report_record_not_submitted"
    assert not OmReport.objects.exists()


@pytest.mark.parametrize(
    ("content", "file_name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "10月运维月报.pdf"),
        (b"#!/bin/sh\nrm -rf /\n", "report.docx"),
        (b"<html><script>alert(1)</script></html>", "report.png"),
        (b"PK\x03\x04" + b"\x00" * 50, "report.xlsx"),
    ],
    ids=["exe-as-pdf", "script-as-docx", "html-as-png", "junk-as-xlsx"],
)
def test_a_disguised_file_is_refused_by_its_content(side, client_for, settings, content, file_name):
    response = upload(client_for(side.main), side, content=content, file_name=file_name)
    assert response.status_code == 415
    assert response.json()["code"] == "om_report_type_not_allowed"
    assert not OmReport.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


def test_a_zip_or_compound_file_that_is_not_office_is_refused(side, client_for):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    for content, name in ((out.getvalue(), "report.docx"), (ole("MsiDatabase"), "report.xls")):
        response = upload(client_for(side.main), side, content=content, file_name=name)
        assert response.status_code == 415, name
        assert response.json()["code"] == "om_report_type_not_allowed"


@pytest.mark.parametrize(
    ("make", "file_name", "content_type"),
    [
        (lambda: PDF, "report.pdf", "application/pdf"),
        (docx, "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (xlsx, "report.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (lambda: ole("WordDocument"), "report.doc", "application/msword"),
        (lambda: ole("Workbook"), "report.xls", "application/vnd.ms-excel"),
        (lambda: image("PNG"), "photo.png", "image/png"),
        (lambda: image("JPEG"), "photo.jpg", "image/jpeg"),
        # The content decides, not the name: a PDF named .docx is served as a PDF.
        (lambda: PDF, "misnamed.docx", "application/pdf"),
    ],
)
def test_allowed_types_are_stored_and_served_as_their_content(
    side, client_for, make, file_name, content_type
):
    content = make()
    client = client_for(side.main)
    response = upload(client, side, content=content, file_name=file_name)
    assert response.status_code == 201, response.json()
    download = client.get(response.json()["file_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    assert b"".join(download.streaming_content) == content


def test_a_file_over_the_limit_is_refused(side, client_for, settings):
    settings.OM_REPORT_MAX_BYTES = 1024
    big = PDF + b"0" * 2048
    response = upload(client_for(side.main), side, content=big)
    assert response.status_code == 413
    assert response.json()["code"] == "om_report_too_large"
    assert not OmReport.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []
    assert upload(client_for(side.main), side, content=PDF).status_code == 201


def test_bad_bodies_are_400(side, client_for):
    client = client_for(side.main)
    for fields in ({"name": "   "}, {"category": "weekly"}, {"records": ["not-a-uuid"]}):
        response = upload(client, side, **fields)
        assert response.status_code == 400, fields
        assert response.json()["code"] == "validation_failed"
    response = client.post(f"{API}/om-tasks/{side.om_task.pk}/reports", {"name": "x", "category": "other"})
    assert response.json()["code"] == "validation_failed"
    assert "file" in response.json()["details"]
    assert not OmReport.objects.exists()


# --- Repeats --------------------------------------------------------------------------------------
def test_the_same_file_under_the_same_name_again_is_the_same_report(side, client_for, settings):
    linked = record(side)
    client = client_for(side.main)
    first = upload(client, side, records=[str(linked.pk)])
    again = upload(client_for(side.technician_user), side, records=[str(linked.pk)])
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert OmReport.objects.count() == 1
    assert len(stored_files(settings.MEDIA_ROOT)) == 1  # the repeat left no second file behind
    # The same file and name with other details is not a repeat: refused, not silently dropped.
    response = upload(client, side, records=[], name="10月运维月报（修订）")
    assert response.status_code == 409
    assert response.json()["code"] == "om_report_duplicate"
    assert response.json()["details"] == {"report_id": first.json()["id"]}
    # The same content under another file name is another report.
    other = upload(client, side, file_name="副本.pdf", records=[str(linked.pk)])
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert OmReport.objects.count() == 2
    assert len(stored_files(settings.MEDIA_ROOT)) == 2


# --- Reading --------------------------------------------------------------------------------------
def test_the_list_and_the_download(world, client_for):
    side = world.shanghai
    client = client_for(side.main)
    ids = [
        upload(client, side, file_name=f"r{n}.pdf", content=PDF + bytes([n])).json()["id"] for n in range(3)
    ]
    listed = client.get(f"{API}/om-tasks/{side.om_task.pk}/reports")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == ids[::-1]  # newest first
    download = client_for(side.regulator).get(f"{API}/om/reports/{ids[0]}/file")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF + b"\x00"
    assert "attachment" in download["Content-Disposition"]
    assert "r0.pdf" in download["Content-Disposition"]
    assert client_for(side.enterprise_user).get(f"{API}/om/reports/{ids[0]}/file").status_code == 200
    for user in (world.jiangsu.main, world.jiangsu.regulator):
        other = client_for(user)
        assert other.get(f"{API}/om/reports/{ids[0]}/file").status_code == 404
        assert other.get(f"{API}/om-tasks/{side.om_task.pk}/reports").status_code == 404


def test_the_list_runs_a_bounded_number_of_queries(side, client_for):
    client = client_for(side.main)
    url = f"{API}/om-tasks/{side.om_task.pk}/reports"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    upload(client, side, records=[str(record(side).pk)])
    few = count()
    for n in range(4):
        upload(client, side, file_name=f"{n}.pdf", records=[str(record(side).pk), str(record(side).pk)])
    assert count() == few


def test_a_lost_file_is_a_clean_503(side, client_for):
    client = client_for(side.main)
    report_id = upload(client, side).json()["id"]
    OmReport.objects.get(pk=report_id).file.delete(save=False)
    response = client.get(f"{API}/om/reports/{report_id}/file")
    assert response.status_code == 503
    assert response.json()["code"] == "om_report_unavailable"
