"""The filing dossier and staff documents over the API (``/agencies/{id}/dossier|documents|…``,
``/staff/{id}/documents``): what is stored, and another agency's or region's files never found."""

from __future__ import annotations

import pytest

from server.registry.models import Agency, AgencyDocument, AgencySite, PersonDocument
from tests.factories import pdf_upload

API = "/api/v1"
F = Agency.FilingStatus


@pytest.fixture
def sides(world):
    return world.shanghai, world.jiangsu


def test_the_dossier_reads_as_stored_and_is_not_found_outside_the_tenancy(world, client_for, sides):
    side, other = sides
    answer = client_for(side.main).get(f"{API}/agencies/{side.agency.pk}/dossier")
    assert answer.status_code == 200
    body = answer.json()
    assert body["missing"] == []
    assert sorted(d["kind"] for d in body["documents"]) == ["business_licence", "quality_manual"]
    (cma,) = body["qualifications"]
    assert (cma["kind"], cma["has_file"], cma["first_granted_on"]) == ("cma", True, "2020-01-01")
    assert client_for(side.regulator).get(f"{API}/agencies/{side.agency.pk}/dossier").status_code == 200
    for outsider in (other.main, other.regulator, side.enterprise_user):
        assert client_for(outsider).get(f"{API}/agencies/{side.agency.pk}/dossier").status_code == 404


def test_documents_upload_download_delete_and_the_rules_say_why(world, client_for, sides):
    side, other = sides
    main = client_for(side.main)
    url = f"{API}/agencies/{side.agency.pk}/documents"
    created = main.post(
        url, {"kind": "commitment", "file": pdf_upload("承诺书.pdf"), "note": "书面承诺"}, format="multipart"
    )
    assert created.status_code == 201
    stored = AgencyDocument.objects.get(pk=created.json()["id"])
    assert (stored.kind, stored.note, stored.file_name, stored.size) == (
        "commitment",
        "书面承诺",
        "承诺书.pdf",
        stored.file.size,
    )
    assert created.json()["sha256"] == stored.sha256
    file = main.get(f"{url}/{stored.pk}/file")
    assert file.status_code == 200
    assert b"".join(file.streaming_content) == stored.file.open("rb").read()
    assert client_for(side.regulator).get(f"{url}/{stored.pk}/file").status_code == 200
    # Another agency cannot read, upload or delete; the row stays.
    stranger = client_for(other.main)
    assert stranger.get(f"{url}/{stored.pk}/file").status_code == 404
    assert stranger.delete(f"{url}/{stored.pk}").status_code == 404
    assert stranger.post(url, {"kind": "other", "file": pdf_upload()}, format="multipart").status_code == 404
    assert client_for(other.regulator).get(f"{url}/{stored.pk}/file").status_code == 404
    # A regulator reads but does not write.
    assert client_for(side.regulator).delete(f"{url}/{stored.pk}").status_code in (403, 404)
    assert AgencyDocument.objects.filter(pk=stored.pk).exists()
    # The filed agency's only business licence stays until a new one is in.
    licence = AgencyDocument.objects.get(agency=side.agency, kind="business_licence")
    refused = main.delete(f"{url}/{licence.pk}")
    assert (refused.status_code, refused.json()["code"]) == (409, "document_still_required")
    assert main.delete(f"{url}/{stored.pk}").status_code == 204
    assert not AgencyDocument.objects.filter(pk=stored.pk).exists()


def test_sites_and_qualifications_over_the_api(world, client_for, sides):
    side, other = sides
    main = client_for(side.main)
    site = main.post(
        f"{API}/agencies/{side.agency.pk}/sites",
        {"name": "松江实验室", "address": "松江区 1 号", "region_code": "310117", "area_m2": "120.50"},
        format="json",
    )
    assert site.status_code == 201
    assert AgencySite.objects.filter(agency=side.agency, name="松江实验室", region_code="310117").exists()
    bad = main.post(
        f"{API}/agencies/{side.agency.pk}/sites",
        {"name": "x", "address": "y", "region_code": "3101"},
        format="json",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_region_code")
    assert (
        client_for(other.main)
        .delete(f"{API}/agencies/{side.agency.pk}/sites/{site.json()['id']}")
        .status_code
        == 404
    )
    no_scan = main.post(
        f"{API}/agencies/{side.agency.pk}/qualifications",
        {"kind": "cma", "number": "X-1"},
        format="multipart",
    )
    assert (no_scan.status_code, no_scan.json()["code"]) == (400, "cma_scan_required")
    cnas = main.post(
        f"{API}/agencies/{side.agency.pk}/qualifications",
        {"kind": "cnas", "number": "CNAS L1234", "valid_until": "2030-12-31"},
        format="multipart",
    )
    assert cnas.status_code == 201
    assert (cnas.json()["number"], cnas.json()["valid_until"], cnas.json()["has_file"]) == (
        "CNAS L1234",
        "2030-12-31",
        False,
    )


def test_categories_wait_for_review_over_the_api(world, client_for, sides):
    side, _ = sides
    agency = side.agency
    changed = client_for(side.main).patch(
        f"{API}/agencies/{agency.pk}",
        {"monitoring_categories": ["noise"], "nature": "private"},
        format="json",
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["filing_status"], body["nature"]) == ("changed", "private")
    assert body["monitoring_categories"] == agency.monitoring_categories  # the approved value stands
    assert body["pending_changes"] == {"monitoring_categories": ["noise"]}
    unknown = client_for(side.main).patch(
        f"{API}/agencies/{agency.pk}", {"om_categories": ["moon"]}, format="json"
    )
    assert unknown.status_code == 400


def test_staff_documents_over_the_api(world, client_for, sides):
    side, other = sides
    employment = side.sampler
    url = f"{API}/staff/{employment.pk}/documents"
    created = client_for(side.main).post(
        url, {"kind": "title", "file": pdf_upload("职称证书.pdf"), "note": "中级"}, format="multipart"
    )
    assert created.status_code == 201
    stored = PersonDocument.objects.get(pk=created.json()["id"])
    assert (stored.person_id, stored.agency_id, stored.kind, stored.note) == (
        employment.person_id,
        side.agency.pk,
        "title",
        "中级",
    )
    listed = client_for(side.regulator).get(url)
    # The world's diploma (tests/factories.py) and the title certificate just uploaded.
    assert sorted(d["file_name"] for d in listed.json()) == ["学历证书.pdf", "职称证书.pdf"]
    assert client_for(side.regulator).get(f"{url}/{stored.pk}/file").status_code == 200
    for outsider in (other.main, other.regulator):
        assert client_for(outsider).get(url).status_code == 404
        assert client_for(outsider).get(f"{url}/{stored.pk}/file").status_code == 404
        assert client_for(outsider).delete(f"{url}/{stored.pk}").status_code == 404
    assert client_for(side.main).delete(f"{url}/{stored.pk}").status_code == 204
    assert not PersonDocument.objects.filter(pk=stored.pk).exists()


def test_a_file_gone_from_storage_is_a_stable_503_and_the_row_stays(world, client_for, sides):
    """Found on CI by the fuzzer: a document whose file the storage no longer holds answered 500.
    Now: document_unavailable (503), and the row stays."""
    side, _ = sides
    diploma = PersonDocument.objects.get(person=side.sampler.person)
    licence = AgencyDocument.objects.filter(agency=side.agency, kind="business_licence").first()
    for row in (diploma, licence):
        row.file.storage.delete(row.file.name)
    for url in (
        f"{API}/staff/{side.sampler.pk}/documents/{diploma.pk}/file",
        f"{API}/agencies/{side.agency.pk}/documents/{licence.pk}/file",
    ):
        answer = client_for(side.regulator).get(url)
        assert (answer.status_code, answer.json()["code"]) == (503, "document_unavailable"), url
        assert "暂时无法从存储中读取" in answer.json()["message"]
    assert PersonDocument.objects.filter(pk=diploma.pk).exists()
    assert AgencyDocument.objects.filter(pk=licence.pk).exists()
