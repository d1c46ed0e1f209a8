"""The filing dossier on the agency's filing page and the regulator's filing page (seed 001 §3.1,
§3.3), and a person's documents on the staff page: what is stored, who downloads, what is refused."""

from __future__ import annotations

import pytest

from server.registry.models import (
    Agency,
    AgencyDocument,
    AgencyFacility,
    AgencyQualification,
    AgencySite,
    PersonDocument,
)
from server.registry.services import agency_register
from tests.factories import PASSWORD, build_world, credit_code, pdf_upload
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text

F = Agency.FilingStatus


@pytest.fixture
def world(db):
    return build_world()


def draft() -> tuple[Agency, object]:
    return agency_register(
        credit_code=credit_code("91310104MA"),
        name="材料页检测有限公司",
        kind=Agency.Kind.MONITORING,
        legal_representative="李明",
        address="漕溪路 100 号",
        region_code="310104",
        username="dossiermain",
        password=PASSWORD,
    )


def test_the_agency_fills_its_dossier_and_submits_only_when_complete(world):
    agency, main = draft()
    client = signed_in(main)
    page = visible_text(client.get("/agency/filing/"))
    assert "提交前还缺： 营业执照、质量手册、资质认定证书（CMA）及其扫描件、监测类别" in page
    refused = client.post("/agency/filing/submit")
    assert refused.status_code == 409
    assert "备案材料不全，不能提交：缺少营业执照" in visible_text(refused)
    # A file that is not a PDF, JPG or PNG is said beside the file field; nothing stored.
    html = client.post(
        "/agency/filing/documents",
        {"kind": "business_licence", "note": "", "file": _html_file()},
    )
    assert html.status_code == 400
    assert "只能上传 PDF、JPG 或 PNG 文件" in visible_text(html)
    assert not AgencyDocument.objects.filter(agency=agency).exists()
    for kind in ("business_licence", "quality_manual"):
        done = client.post(
            "/agency/filing/documents", {"kind": kind, "note": "盖章版", "file": pdf_upload(f"{kind}.pdf")}
        )
        assert done.status_code == 302
    assert sorted(AgencyDocument.objects.filter(agency=agency).values_list("kind", "note")) == [
        ("business_licence", "盖章版"),
        ("quality_manual", "盖章版"),
    ]
    no_scan = client.post("/agency/filing/qualifications", {"kind": "cma", "number": "230912345678"})
    assert no_scan.status_code == 400
    assert "请上传资质认定证书（CMA）扫描件" in visible_text(no_scan)
    assert 'value="230912345678"' in no_scan.content.decode()  # what was typed is kept
    client.post(
        "/agency/filing/qualifications",
        {
            "kind": "cma",
            "number": "230912345678",
            "scope": "水和废水",
            "first_granted_on": "2019-06-01",
            "valid_until": "2031-05-31",
            "file": pdf_upload("cma.pdf"),
        },
    )
    cma = AgencyQualification.objects.get(agency=agency)
    assert (cma.kind, cma.number, str(cma.first_granted_on), cma.file_name) == (
        "cma",
        "230912345678",
        "2019-06-01",
        "cma.pdf",
    )
    client.post(
        "/agency/filing/sites", {"name": "松江实验室", "address": "松江区 1 号", "region_code": "310117"}
    )
    client.post("/agency/filing/facilities", {"name": "气相色谱仪", "model": "GC-2030", "quantity": "2"})
    assert list(AgencySite.objects.filter(agency=agency).values_list("name", "region_code")) == [
        ("松江实验室", "310117")
    ]
    assert list(AgencyFacility.objects.filter(agency=agency).values_list("name", "quantity")) == [
        ("气相色谱仪", 2)
    ]
    edit = {
        "name": agency.name,
        "kind": agency.kind,
        "nature": "private",
        "monitoring_categories": ["water", "noise"],
        "legal_representative": agency.legal_representative,
        "address": agency.address,
        "region_code": agency.region_code,
    }
    assert client.post("/agency/filing/edit/", edit).status_code == 302
    agency.refresh_from_db()
    assert (agency.nature, agency.monitoring_categories) == ("private", ["water", "noise"])
    assert client.post("/agency/filing/submit").status_code == 302
    agency.refresh_from_db()
    assert agency.filing_status == F.SUBMITTED
    # Under review the dossier's forms are gone and a posted one is refused (409), nothing stored.
    page = client.get("/agency/filing/").content.decode()
    assert 'id="document-form"' not in page
    frozen = client.post("/agency/filing/sites", {"name": "二号", "address": "x", "region_code": "310104"})
    assert frozen.status_code == 409
    assert AgencySite.objects.filter(agency=agency).count() == 1


def _html_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "licence.pdf", b"<html><body>not a pdf</body></html>", content_type="application/pdf"
    )


def test_the_regulator_reads_the_dossier_and_downloads_in_its_region_only(world):
    side, other = world.shanghai, world.jiangsu
    licence = AgencyDocument.objects.get(agency=side.agency, kind="business_licence")
    regulator = signed_in(side.regulator)
    page = regulator.get(f"/regulator/filings/{side.agency.pk}/")
    text = visible_text(page)
    assert "营业执照" in text
    assert "资质认定证书（CMA）" in text
    assert "监测类别" in text
    download = regulator.get(f"/filing-documents/{licence.pk}/file")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == licence.file.open("rb").read()
    assert "attachment" in download["Content-Disposition"]
    # Another region's regulator and another agency: not found.
    assert signed_in(other.regulator).get(f"/filing-documents/{licence.pk}/file").status_code == 404
    assert signed_in(other.main).get(f"/filing-documents/{licence.pk}/file").status_code == 404
    assert signed_in(other.main).post(f"/agency/filing/documents/{licence.pk}/delete").status_code == 404
    assert AgencyDocument.objects.filter(pk=licence.pk).exists()


def test_a_filed_name_change_waits_beside_the_approved_name_on_both_pages(world):
    side = world.shanghai
    agency = side.agency
    approved = agency.name
    main = signed_in(side.main)
    data = {
        "name": "上海新名称检测有限公司",
        "kind": agency.kind,
        "nature": agency.nature,
        "monitoring_categories": list(agency.monitoring_categories),
        "om_categories": [*agency.om_categories, "ambient_air"],
        "legal_representative": agency.legal_representative,
        "contact_name": "新联系人",
        "address": agency.address,
        "region_code": agency.region_code,
    }
    assert main.post("/agency/filing/edit/", data).status_code == 302
    agency.refresh_from_db()
    assert (agency.name, agency.contact_name, agency.filing_status) == (approved, "新联系人", F.CHANGED)
    assert agency.pending_changes == {
        "name": "上海新名称检测有限公司",
        "om_categories": ["wastewater", "waste_gas", "ambient_air"],
    }
    for client, url in (
        (main, "/agency/filing/"),
        (signed_in(side.regulator), f"/regulator/filings/{agency.pk}/"),
    ):
        rows = client.get(url).content.decode().split('id="filing-data"')[1].split("</table>")[0]
        name_row = next(r for r in rows.split("<tr") if "机构名称" in r)
        assert approved in name_row
        assert "上海新名称检测有限公司" in name_row
        assert "待审" in name_row
        om_row = next(r for r in rows.split("<tr") if "运维类别" in r)
        assert "环境空气自动监测" in om_row
    decided = signed_in(side.regulator).post(
        f"/regulator/filings/{agency.pk}/", {"decision": "approve", "reason": ""}
    )
    assert decided.status_code == 302
    agency.refresh_from_db()
    assert (agency.name, agency.pending_changes, agency.filing_status) == (
        "上海新名称检测有限公司",
        {},
        F.APPROVED,
    )


def test_staff_documents_on_the_persons_page(world):
    side, other = world.shanghai, world.jiangsu
    employment = side.sampler
    client = signed_in(side.main)
    done = client.post(
        f"/staff/{employment.pk}/documents",
        {"kind": "diploma", "note": "本科", "file": pdf_upload("学历证书.pdf")},
    )
    assert done.status_code == 302
    document = PersonDocument.objects.get(person=employment.person, note="本科")
    assert (document.kind, document.note, document.file_name, document.agency_id) == (
        "diploma",
        "本科",
        "学历证书.pdf",
        side.agency.pk,
    )
    page = client.get(f"/staff/{employment.pk}/")
    assert "学历证书.pdf" in visible_text(page)
    assert employment.person.id_number not in page.content.decode()  # ID numbers stay masked
    url = f"/staff/{employment.pk}/documents/{document.pk}/file"
    assert client.get(url).status_code == 200
    assert signed_in(side.regulator).get(url).status_code == 200
    assert signed_in(other.main).get(url).status_code == 404
    assert signed_in(other.regulator).get(url).status_code == 404
    assert (
        signed_in(other.main).post(f"/staff/{employment.pk}/documents/{document.pk}/delete").status_code
        == 404
    )
    assert client.post(f"/staff/{employment.pk}/documents/{document.pk}/delete").status_code == 302
    assert not PersonDocument.objects.filter(pk=document.pk).exists()
