"""The public side (seed 002 监测业务公开端): an agency by name, a monitoring report by its number, with
no sign-in, nothing personal in the answer, and a per-address rate limit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from mobile_api.public import PublicLookupThrottle
from server.accounts.models import User
from server.fieldwork.errors import REPORT_NUMBER_NOT_A_REPORT, REPORT_NUMBER_TAKEN
from server.fieldwork.models import ProjectAttachment
from server.registry.models import Agency
from server.registry.services import agency_transition, agency_update
from tests.conftest import CheckedAPIClient, run_django
from tests.factories import PASSWORD, approved_agency, complete_dossier, credit_code, regulator_user

pytestmark = pytest.mark.django_db
API = "/api/v1/public"
AGENCY_FIELDS = {
    "name",
    "credit_code",
    "kind",
    "kind_label",
    "address",
    "region_code",
    "region_name",
    "filing_status",
    "filing_status_label",
    "approved_at",
    "capabilities",
    "monitoring_categories",  # 业务范围 as approved (seed 001 §2.4)
    "om_categories",
}
REPORT_FIELDS = {
    "number",
    "project_number",
    "project_name",
    "agency_name",
    "enterprise_name",
    "issued_on",
    "project_status",
    "project_status_label",
}


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Throttle counts live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anonymous():
    return CheckedAPIClient()


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [agency["name"] for agency in response.json()["results"]]


# --- Agencies ---------------------------------------------------------------------------------------
@pytest.fixture
def filings(world):
    """Agencies named 绿源 in every filing state but approved, and two approved ones."""
    from server.registry.services import agency_register

    regulator = regulator_user("310000")
    made = {}
    for state in ("draft", "submitted", "returned", "cancelled", "changed"):
        agency, main = agency_register(
            credit_code=credit_code("91310104MA"),
            name=f"上海绿源检测{state}有限公司",
            kind=Agency.Kind.MONITORING,
            legal_representative="赵六",
            contact_name="钱七",
            contact_phone="13800000000",
            address="浦东新区测试路 2 号",
            region_code="310115",
            username=f"lv-{state}",
            password=PASSWORD,
        )
        if state != "draft":
            complete_dossier(agency, main)
            agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=main)
        if state == "returned":
            agency_transition(
                agency=agency, to=Agency.FilingStatus.RETURNED, actor=regulator, reason="缺材料"
            )
        if state in ("changed", "cancelled"):
            agency_transition(agency=agency, to=Agency.FilingStatus.APPROVED, actor=regulator)
        if state == "cancelled":
            agency_transition(agency=agency, to=Agency.FilingStatus.CANCELLED, actor=main)
        if state == "changed":  # a new name awaiting review is not shown as if it were filed
            agency_update(agency=agency, actor=main, name="上海绿源检测变更后有限公司")
        agency.refresh_from_db()
        assert agency.filing_status == state
        made[state] = agency
    made["approved"], _ = approved_agency(
        kind=Agency.Kind.OM, region_code="310115", name="上海绿源运维有限公司"
    )
    made["both"], _ = approved_agency(
        kind=Agency.Kind.BOTH, region_code="320102", name="江苏绿源检测运维有限公司"
    )
    return made


def test_approved_agencies_are_found_by_part_of_their_name_without_signing_in(anonymous, filings):
    response = anonymous.get(f"{API}/agencies", {"name": "绿源"})
    # By name; the one whose change awaits review keeps its approved name.
    assert names(response) == [
        "上海绿源检测changed有限公司",
        "上海绿源运维有限公司",
        "江苏绿源检测运维有限公司",
    ]
    first = response.json()["results"][1]
    assert set(first) == AGENCY_FIELDS  # no id, no legal representative, no contacts
    approved = filings["approved"]
    assert first["credit_code"] == approved.credit_code
    assert (first["kind"], first["kind_label"]) == ("om", "运维机构")
    assert (first["filing_status"], first["filing_status_label"]) == ("approved", "审查通过")
    assert first["address"] == approved.address
    assert first["capabilities"] == [{"code": "om", "label": "运维"}]
    event = approved.filing_events.get(to_status="approved")
    assert dt.datetime.fromisoformat(first["approved_at"]) == event.at
    both = response.json()["results"][2]
    assert [c["code"] for c in both["capabilities"]] == ["monitoring", "om"]
    assert "王强" not in response.content.decode()  # the factories' legal representative


def test_agencies_not_approved_are_not_public(anonymous, filings):
    assert names(anonymous.get(f"{API}/agencies", {"name": "检测"})) == [
        "上海绿源检测changed有限公司",
        "江苏绿源检测运维有限公司",
    ]
    for state in ("draft", "submitted", "returned", "cancelled"):
        agency = filings[state]
        assert names(anonymous.get(f"{API}/agencies", {"credit_code": agency.credit_code})) == [], state
    assert names(anonymous.get(f"{API}/agencies", {"name": "变更后"})) == []


def test_an_approved_agency_stays_public_with_its_approved_values_while_a_change_waits(anonymous, filings):
    """F10 item 9: it disappeared from the look-up while its change was pending. The new name is not
    shown before a regulator approves it; then it is."""
    agency = filings["changed"]
    found = anonymous.get(f"{API}/agencies", {"credit_code": agency.credit_code}).json()["results"]
    assert [(a["name"], a["filing_status"]) for a in found] == [("上海绿源检测changed有限公司", "changed")]
    agency.refresh_from_db()
    assert agency.pending_changes == {"name": "上海绿源检测变更后有限公司"}
    regulator = regulator_user("310000")
    agency_transition(agency=agency, to=Agency.FilingStatus.RETURNED, actor=regulator, reason="请附证明")
    assert names(anonymous.get(f"{API}/agencies", {"credit_code": agency.credit_code})) == [
        "上海绿源检测changed有限公司"
    ]
    main = User.objects.get(agency=agency, role="agency_main")
    agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=main)
    agency_transition(agency=agency, to=Agency.FilingStatus.APPROVED, actor=regulator)
    assert names(anonymous.get(f"{API}/agencies", {"credit_code": agency.credit_code})) == [
        "上海绿源检测变更后有限公司"
    ]
    agency.refresh_from_db()
    assert (agency.name, agency.pending_changes) == ("上海绿源检测变更后有限公司", {})


def test_the_public_reads_the_approved_categories_while_a_category_change_waits(anonymous):
    """Seed 001 §3.3: 监测类别 is reviewed; the look-up shows what was approved, never what waits."""
    agency, main = approved_agency(kind=Agency.Kind.MONITORING)
    agency_update(agency=agency, actor=main, monitoring_categories=["noise"])
    (found,) = anonymous.get(f"{API}/agencies", {"credit_code": agency.credit_code}).json()["results"]
    assert found["monitoring_categories"] == [
        {"code": "water", "label": "水（含大气降水）和废水"},
        {"code": "air", "label": "环境空气和废气"},
    ]
    assert found["om_categories"] == []
    agency.refresh_from_db()
    assert agency.pending_changes == {"monitoring_categories": ["noise"]}
    agency_transition(agency=agency, to=Agency.FilingStatus.APPROVED, actor=regulator_user("310000"))
    (found,) = anonymous.get(f"{API}/agencies", {"credit_code": agency.credit_code}).json()["results"]
    assert found["monitoring_categories"] == [{"code": "noise", "label": "噪声"}]


def test_agencies_by_credit_code_and_kind(anonymous, filings, world):
    approved = filings["approved"]
    assert names(anonymous.get(f"{API}/agencies", {"credit_code": approved.credit_code.lower()})) == [
        approved.name
    ]
    om = names(anonymous.get(f"{API}/agencies", {"kind": "om", "page_size": 200}))
    assert om == ["上海绿源运维有限公司"]
    everyone = anonymous.get(f"{API}/agencies", {"page_size": 200}).json()
    expected = Agency.objects.filter(filing_status__in=["approved", "changed"]).count()
    assert everyone["count"] == expected == 5  # the world's two, the two approved above, the changed one
    bad = anonymous.get(f"{API}/agencies", {"kind": "lab"})
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_failed")


# --- Reports ----------------------------------------------------------------------------------------
def attach(client, project, *, kind="report", number="", issued_on=None, content=b"%PDF-1.4 report"):
    form = {"kind": kind, "file": SimpleUploadedFile("监测报告.pdf", content, "application/pdf")}
    if number:
        form["number"] = number
    if issued_on:
        form["issued_on"] = issued_on
    return client.post(f"/api/v1/projects/{project.pk}/attachments", form, format="multipart")


def test_a_report_is_found_by_its_number(world, client_for, anonymous):
    side = world.shanghai
    answer = attach(
        client_for(side.main), side.project, number="沪环监(2026)第0012号", issued_on="2026-05-04"
    )
    assert answer.status_code == 201, answer.json()
    stored = ProjectAttachment.objects.get(project=side.project, kind="report")
    assert (stored.number, stored.issued_on) == ("沪环监(2026)第0012号", dt.date(2026, 5, 4))
    assert answer.json()["attachments"][0]["number"] == "沪环监(2026)第0012号"

    response = anonymous.get(f"{API}/reports/沪环监(2026)第0012号")
    assert response.status_code == 200, response.json()
    assert response.json()["number"] == "沪环监(2026)第0012号"
    (report,) = response.json()["reports"]
    assert set(report) == REPORT_FIELDS
    assert report == {
        "number": "沪环监(2026)第0012号",
        "project_number": side.project.number,
        "project_name": side.project.name,
        "agency_name": side.agency.name,
        "enterprise_name": side.enterprise.name,
        "issued_on": "2026-05-04",
        "project_status": "unfinished",
        "project_status_label": "未完成",
    }
    missing = anonymous.get(f"{API}/reports/沪环监(2026)第9999号")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    # An attachment without a number is never found by an empty one.
    assert anonymous.get(f"{API}/reports/%20").status_code == 404


def test_report_numbers_are_unique_within_an_agency(world, client_for, anonymous):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    main = client_for(shanghai.main)
    assert attach(main, shanghai.project, number="BG-001").status_code == 201
    again = attach(main, shanghai.project, number=" BG-001 ", content=b"%PDF-1.4 another report")
    assert (again.status_code, again.json()["code"]) == (409, REPORT_NUMBER_TAKEN.code)
    wrong_kind = attach(main, shanghai.project, kind="contract", number="HT-1", content=b"%PDF contract")
    assert (wrong_kind.status_code, wrong_kind.json()["code"]) == (400, REPORT_NUMBER_NOT_A_REPORT.code)
    assert ProjectAttachment.objects.filter(project=shanghai.project).count() == 1
    # Another agency may use the same number: the public sees both, told apart by agency.
    assert attach(client_for(jiangsu.main), jiangsu.project, number="BG-001").status_code == 201
    reports = anonymous.get(f"{API}/reports/BG-001").json()["reports"]
    assert sorted(r["agency_name"] for r in reports) == sorted([shanghai.agency.name, jiangsu.agency.name])


# --- Rate limit -------------------------------------------------------------------------------------
def test_lookups_are_rate_limited_per_address(world, anonymous, monkeypatch):
    monkeypatch.setattr(PublicLookupThrottle, "THROTTLE_RATES", {"public_lookup": "3/min"})
    for _ in range(2):
        assert anonymous.get(f"{API}/agencies", {"name": "测试"}).status_code == 200
    assert anonymous.get(f"{API}/reports/BG-404").status_code == 404  # counted too
    limited = anonymous.get(f"{API}/agencies", {"name": "测试"})
    assert limited.status_code == 429
    assert set(limited.json()) == {"code", "message", "details"}
    assert limited.json()["code"] == "throttled"
    assert 0 < limited.json()["details"]["retry_after_seconds"] <= 60
    assert 0 < int(limited["Retry-After"]) <= 60
    assert anonymous.get(f"{API}/reports/BG-404").status_code == 429
    # Another address is not slowed by this one.
    other = CheckedAPIClient(REMOTE_ADDR="10.0.0.9")
    assert other.get(f"{API}/agencies").status_code == 200


def test_the_rate_comes_from_the_environment():
    code = (
        "from django.conf import settings; "
        "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['public_lookup'])"
    )
    assert (
        run_django(code, {"SECRET_KEY": "x", "THROTTLE_PUBLIC_LOOKUP": "5/hour"}).stdout.strip() == "5/hour"
    )
    assert run_django(code, {"SECRET_KEY": "x"}).stdout.strip() == "30/min"
