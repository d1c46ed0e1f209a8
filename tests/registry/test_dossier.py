"""The filing dossier (seed 001 §3.1 基本信息/技术能力/设施设备/管理能力) and the change rule of §3.3:
what a submission needs, who reads the files, what a filed agency's change waits for."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from server import access
from server.accounts.models import Role, User
from server.errors import DomainError
from server.registry import dossier
from server.registry.models import (
    Agency,
    AgencyDocument,
    AgencyFilingEvent,
    AgencyQualification,
    AgencySite,
    PersonDocument,
)
from server.registry.services import agency_register, agency_transition, agency_update, staff_depart
from tests.factories import (
    PASSWORD,
    approved_agency,
    credit_code,
    hire,
    pdf_upload,
    regulator_user,
)

F = Agency.FilingStatus
pytestmark = pytest.mark.django_db


def registered(kind: str = Agency.Kind.MONITORING, region_code: str = "310104") -> tuple[Agency, User]:
    return agency_register(
        credit_code=credit_code("91310104MA"),
        name="备案材料检测有限公司",
        kind=kind,
        legal_representative="李明",
        address="漕溪路 100 号",
        region_code=region_code,
        username=f"dossier{kind}{region_code}",
        password=PASSWORD,
    )


def codes(error: pytest.ExceptionInfo) -> tuple[str, object]:
    return error.value.error.code, error.value.details


def test_submission_names_every_missing_document_of_a_monitoring_agency():
    agency, main = registered(Agency.Kind.BOTH)
    with pytest.raises(DomainError) as refused:
        agency_transition(agency=agency, to=F.SUBMITTED, actor=main)
    assert codes(refused) == (
        "filing_incomplete",
        {
            "missing": [
                "business_licence",
                "quality_manual",
                "cma_certificate",
                "monitoring_categories",
                "om_categories",
            ]
        },
    )
    assert refused.value.error.message("zh", **refused.value.params) == (
        "备案材料不全，不能提交：缺少营业执照、质量手册、资质认定证书（CMA）及其扫描件、监测类别、运维类别。"
    )
    agency.refresh_from_db()
    assert agency.filing_status == F.DRAFT
    assert not AgencyFilingEvent.objects.filter(agency=agency).exists()


def test_an_om_agency_files_without_a_capability_certificate():
    """Seed 001 §3.1.2.3: 若无证书编号则无需填写 — no O&M certificate is required, nor a CMA."""
    agency, main = registered(Agency.Kind.OM)
    agency_update(agency=agency, actor=main, om_categories=["waste_gas"])
    dossier.document_add(agency=agency, kind="business_licence", upload=pdf_upload("执照.pdf"), actor=main)
    with pytest.raises(DomainError) as refused:
        agency_transition(agency=agency, to=F.SUBMITTED, actor=main)
    assert refused.value.details == {"missing": ["quality_manual"]}
    dossier.document_add(agency=agency, kind="quality_manual", upload=pdf_upload("手册.pdf"), actor=main)
    agency = agency_transition(agency=agency, to=F.SUBMITTED, actor=main)
    assert agency.filing_status == F.SUBMITTED


def test_a_document_is_stored_with_its_digest_name_and_size_and_only_pdf_jpg_png():
    agency, main = registered()
    upload = pdf_upload("营业执照.pdf", b"licence body")
    document = dossier.document_add(agency=agency, kind="business_licence", upload=upload, actor=main)
    stored = AgencyDocument.objects.get(pk=document.pk)
    content = stored.file.open("rb").read()
    assert (stored.file_name, stored.size, stored.sha256, stored.uploaded_by_id) == (
        "营业执照.pdf",
        len(content),
        hashlib.sha256(content).hexdigest(),
        main.pk,
    )
    html = SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf")
    with pytest.raises(DomainError) as refused:
        dossier.document_add(agency=agency, kind="quality_manual", upload=html, actor=main)
    assert refused.value.error.code == "file_type_not_allowed"
    assert AgencyDocument.objects.filter(agency=agency).count() == 1


def test_a_cma_certificate_needs_its_scan_and_its_number_once():
    agency, main = registered()
    with pytest.raises(DomainError) as refused:
        dossier.qualification_add(agency=agency, kind="cma", number="CMA-1", actor=main)
    assert refused.value.error.code == "cma_scan_required"
    cma = dossier.qualification_add(
        agency=agency,
        kind="cma",
        number="CMA-1",
        scope="水和废水",
        first_granted_on=dt.date(2020, 3, 1),
        valid_until=dt.date(2026, 2, 28),
        upload=pdf_upload("cma.pdf"),
        actor=main,
    )
    stored = AgencyQualification.objects.get(pk=cma.pk)
    assert (stored.number, stored.scope, stored.first_granted_on, stored.file_name) == (
        "CMA-1",
        "水和废水",
        dt.date(2020, 3, 1),
        "cma.pdf",
    )
    with pytest.raises(DomainError) as twice:
        dossier.qualification_add(
            agency=agency, kind="cma", number="CMA-1", upload=pdf_upload("b.pdf"), actor=main
        )
    assert twice.value.error.code == "qualification_number_taken"
    cnas = dossier.qualification_add(agency=agency, kind="cnas", number="L1234", actor=main)
    assert not cnas.file  # other accreditations come without a scan (§3.1.1.3 无需上传佐证材料)


def test_the_dossier_is_frozen_under_review_and_a_filed_agency_keeps_its_required_documents():
    agency, main = approved_agency(kind=Agency.Kind.MONITORING)
    licence = AgencyDocument.objects.get(agency=agency, kind="business_licence")
    with pytest.raises(DomainError) as refused:
        dossier.document_delete(document=licence, actor=main)
    assert refused.value.error.code == "document_still_required"
    assert AgencyDocument.objects.filter(pk=licence.pk).exists()
    # Upload the new licence first, then the old one goes.
    dossier.document_add(agency=agency, kind="business_licence", upload=pdf_upload("新执照.pdf"), actor=main)
    dossier.document_delete(document=licence, actor=main)
    assert list(
        AgencyDocument.objects.filter(agency=agency, kind="business_licence").values_list(
            "file_name", flat=True
        )
    ) == ["新执照.pdf"]
    # Under review nothing moves.
    Agency.objects.filter(pk=agency.pk).update(filing_status=F.SUBMITTED)
    with pytest.raises(DomainError) as frozen:
        dossier.site_add(agency=agency, name="二号实验室", address="x", region_code="310104", actor=main)
    assert frozen.value.error.code == "dossier_locked"


def test_sites_and_facilities_are_stored_as_given():
    agency, main = registered()
    site = dossier.site_add(
        agency=agency,
        name="松江实验室",
        address="松江区 1 号",
        region_code="310117",
        area_m2="320.5",
        actor=main,
    )
    stored = AgencySite.objects.get(pk=site.pk)
    assert (stored.region_code, stored.area_m2) == ("310117", Decimal("320.5"))
    with pytest.raises(DomainError) as bad_region:
        dossier.site_add(agency=agency, name="x", address="y", region_code="31", actor=main)
    assert bad_region.value.error.code == "invalid_region_code"
    with pytest.raises(DomainError) as neither:
        dossier.facility_add(agency=agency, name="气相色谱仪", actor=main)
    assert neither.value.details == {"quantity": ["请填写数量（设备）或面积（设施）。"]}
    gc = dossier.facility_add(agency=agency, name="气相色谱仪", model="GC-2030", quantity=2, actor=main)
    lab = dossier.facility_add(agency=agency, name="理化实验室", area_m2=120, actor=main)
    assert (gc.quantity, gc.area_m2, lab.quantity, lab.area_m2) == (2, None, None, 120)


# --- §3.3: five fields wait for review -----------------------------------------------------------
def test_the_five_reviewed_fields_wait_and_the_others_change_at_once():
    agency, main = approved_agency(kind=Agency.Kind.BOTH)
    regulator = regulator_user("310000")
    approved_name = agency.name
    agency = agency_update(
        agency=agency,
        actor=main,
        name="新名称检测有限公司",
        legal_representative="赵六",
        monitoring_categories=["noise", "water"],  # another order: normalised to the catalogue's
        om_categories=["waste_gas"],
        contact_name="钱七",
    )
    stored = Agency.objects.get(pk=agency.pk)
    assert stored.filing_status == F.CHANGED
    assert (stored.name, stored.legal_representative) == (approved_name, "王强")
    assert stored.monitoring_categories == ["water", "air"]
    assert stored.om_categories == ["wastewater", "waste_gas"]
    assert stored.contact_name == "钱七"  # not reviewed: at once
    assert stored.pending_changes == {
        "name": "新名称检测有限公司",
        "legal_representative": "赵六",
        "monitoring_categories": ["water", "noise"],
        "om_categories": ["waste_gas"],
    }
    event = AgencyFilingEvent.objects.filter(agency=agency).latest("at", "id")
    assert (event.from_status, event.to_status, event.actor_id) == (F.APPROVED, F.CHANGED, main.pk)
    agency_transition(agency=stored, to=F.APPROVED, actor=regulator)
    stored.refresh_from_db()
    assert (stored.name, stored.monitoring_categories, stored.om_categories, stored.pending_changes) == (
        "新名称检测有限公司",
        ["water", "noise"],
        ["waste_gas"],
        {},
    )


def test_the_same_categories_in_another_order_are_no_change():
    agency, main = approved_agency(kind=Agency.Kind.MONITORING)
    agency = agency_update(agency=agency, actor=main, monitoring_categories=["air", "water"])
    stored = Agency.objects.get(pk=agency.pk)
    assert (stored.filing_status, stored.pending_changes) == (F.APPROVED, {})


def test_an_unknown_category_is_refused_and_nothing_stored():
    agency, main = approved_agency(kind=Agency.Kind.MONITORING)
    with pytest.raises(DomainError) as refused:
        agency_update(agency=agency, actor=main, monitoring_categories=["water", "moon"], contact_name="x")
    assert (refused.value.error.code, refused.value.details) == (
        "unknown_category",
        {"monitoring_categories": ["moon"]},
    )
    stored = Agency.objects.get(pk=agency.pk)
    assert (stored.pending_changes, stored.contact_name) == ({}, "")


# --- Scopes ---------------------------------------------------------------------------------------
def test_dossier_files_are_read_by_the_agency_its_regulators_and_platform_only():
    agency, main = approved_agency(region_code="310104")
    _other, other_main = approved_agency(region_code="320102")
    shanghai, jiangsu = regulator_user("310000"), regulator_user("320000")
    platform = User.objects.create_user(username="platform-d", password=PASSWORD, role=Role.PLATFORM)
    licence = AgencyDocument.objects.get(agency=agency, kind="business_licence")
    for user, sees in (
        (main, True),
        (shanghai, True),
        (platform, True),
        (other_main, False),
        (jiangsu, False),
    ):
        assert access.agency_documents_for(user).filter(pk=licence.pk).exists() is sees, user.username


def test_a_persons_documents_follow_the_current_employer_only():
    agency, main = approved_agency(region_code="310104")
    _other, other_main = approved_agency(region_code="310105")
    employment = hire(agency, [])
    person = employment.person
    diploma = dossier.person_document_add(
        person=person, kind="diploma", upload=pdf_upload("学历证书.pdf"), actor=main, note="本科"
    )
    stored = PersonDocument.objects.get(pk=diploma.pk)
    assert (stored.agency_id, stored.kind, stored.note, stored.file_name) == (
        agency.pk,
        "diploma",
        "本科",
        "学历证书.pdf",
    )
    assert access.person_documents_for(main).filter(pk=diploma.pk).exists()
    assert access.person_documents_for(regulator_user("310000")).filter(pk=diploma.pk).exists()
    assert not access.person_documents_for(other_main).filter(pk=diploma.pk).exists()
    assert not access.person_documents_for(regulator_user("320000")).filter(pk=diploma.pk).exists()
    # Another agency cannot attach files to someone it does not employ.
    with pytest.raises(DomainError) as refused:
        dossier.person_document_add(person=person, kind="title", upload=pdf_upload("t.pdf"), actor=other_main)
    assert refused.value.error.code == "employment_not_active"
    # Once the person has left, the old agency no longer reads the files.
    staff_depart(employment=employment, departed_on=timezone.localdate())
    assert not access.person_documents_for(main).filter(pk=diploma.pk).exists()
