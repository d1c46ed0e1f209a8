"""Whole resident ID numbers are never at rest in plain text, and never in an answer (extends the
response check of tests/conftest.py: CheckedAPIClient): after hiring through the API, an Excel
import, a transfer report and the audit trail's pages, no column of any table holds one, and the
exports and admin pages show only masked numbers."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from server.audit.models import AuditEntry
from server.registry.identifiers import mask_resident_id
from server.registry.models import Person
from tests.conftest import full_resident_ids
from tests.factories import resident_id

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()  # noqa: DTZ011 - a date for the API, as its tests use


def text_columns(model) -> list[str]:
    return [
        f.column
        for f in model._meta.concrete_fields
        if f.get_internal_type() in {"CharField", "TextField", "JSONField", "SlugField"}
    ]


def whole_numbers_at_rest() -> dict[str, list[str]]:
    """Every whole ID number in any text column of any table, read raw (not through the models)."""
    found = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            columns = text_columns(model)
            if not columns or model._meta.proxy or not model._meta.managed:
                continue
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            for row in cursor.fetchall():
                leaked = full_resident_ids(" ".join(str(value) for value in row if value is not None))
                if leaked:
                    found.setdefault(model._meta.label, []).extend(leaked)
    return found


def test_no_table_holds_a_whole_id_number(world, client_for, admin_client):
    main = client_for(world.shanghai.main)
    hired = main.post(
        "/api/v1/staff",
        {
            "id_number": resident_id("110105", "19700101"),
            "name": "李华",
            "education": "bachelor",
            "hired_on": str(TODAY - dt.timedelta(days=3)),
            "posts": ["courier"],
        },
        format="json",
    )
    assert hired.status_code == 201
    book = openpyxl.load_workbook(io.BytesIO(main.get("/api/v1/staff/template").content))
    sheet = book.worksheets[0]
    sheet.delete_rows(2, sheet.max_row)
    sheet.append(
        [
            "王五",
            resident_id("440305", "19880808"),
            "",
            "本科",
            "",
            "初级",
            "",
            "正式员工",
            "送样人员",
            "2026-01-05",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    imported = main.post("/api/v1/staff/import", {"file": SimpleUploadedFile("s.xlsx", out.getvalue())})
    assert imported.status_code == 200
    moved = world.jiangsu.sampler.person
    filed = main.post(
        "/api/v1/staff/transfers",
        {
            "id_number": moved.id_number,
            "name": moved.name,
            "education": "bachelor",
            "hired_on": str(TODAY),
            "departed_on": str(TODAY - dt.timedelta(days=1)),
            "proof": SimpleUploadedFile("离职证明.pdf", b"%PDF-1.4 signed"),
        },
        format="multipart",
    )
    assert filed.status_code == 201, filed.json()
    confirmed = client_for(world.jiangsu.main).post(f"/api/v1/staff/transfers/{filed.json()['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.json()
    assert AuditEntry.objects.filter(action="staff.hired").exists()

    assert whole_numbers_at_rest() == {}

    # The audit trail as the API and the admin show it; the staff export (CheckedAPIClient reads
    # inside the workbook).
    assert main.get("/api/v1/audit").status_code == 200
    assert main.get("/api/v1/staff/export").status_code == 200
    numbers = list(Person.objects.values_list("id_number", flat=True))
    for url in (
        reverse("admin:audit_auditentry_changelist"),
        reverse("admin:registry_person_changelist"),
        reverse("admin:registry_transferfiling_changelist"),
    ):
        page = admin_client.get(url).content.decode()
        assert not full_resident_ids(page), url
        assert not [n for n in numbers if n in page], url
    person = Person.objects.get(name="王五")
    assert (
        mask_resident_id(person.id_number)
        in admin_client.get(reverse("admin:registry_person_changelist")).content.decode()
    )


def test_the_scan_itself_finds_a_whole_number(world):
    from server.audit import services as audit

    number = resident_id("110105", "19491231")
    audit.record("probe", subject=world.shanghai.agency, actor=None, summary=f"号码 {number}")
    assert whole_numbers_at_rest() == {"audit.AuditEntry": [number]}
