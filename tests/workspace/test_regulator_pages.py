"""The regulator's pages with Django's test client: filings to approve or return, projects to accept
or return, violations to open and rectifications to judge, the home's charts. Each role allowed or
refused, the other side's objects not found, a refused form kept in place, and what each action
stores (through the same services as the API)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from server.fieldwork.models import MonitoringProject, ProjectEvent
from server.fieldwork.services import project_attach, project_transition
from server.registry.models import Agency, AgencyFilingEvent
from server.registry.services import agency_register, agency_transition
from server.violations.models import Rectification, Violation
from tests.factories import PASSWORD, complete_dossier, credit_code
from tests.fieldwork.helpers import ended_task
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import machine_words, visible_text

pytestmark = pytest.mark.django_db

S = MonitoringProject.Status


def submitted(side) -> MonitoringProject:
    """The side's project with its contract attached, submitted for review by the agency."""
    upload = SimpleUploadedFile("合同.pdf", b"%PDF-1.4 contract " + str(side.project.pk).encode())
    project_attach(project=side.project, kind="contract", upload=upload, actor=side.main)
    ended_task(side)
    return project_transition(project=side.project, to=S.SUBMITTED, actor=side.main)


def filed_agency(region_code: str = "310105", name: str = "待审机构") -> Agency:
    agency, main = agency_register(
        credit_code=credit_code(f"91{region_code}MA"),
        name=name,
        kind=Agency.Kind.MONITORING,
        legal_representative="李明",
        address="备案路 2 号",
        region_code=region_code,
        username=f"filer{region_code}",
        password=PASSWORD,
    )
    complete_dossier(agency, main)
    return agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=main)


PAGES = ["/regulator/filings/", "/regulator/projects/", "/regulator/violations/"]


# --- Who reaches what -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["agency_main", "agency_manager", "enterprise"])
def test_other_roles_do_not_find_the_regulator_pages(busy, path, role):
    response = signed_in(busy.world.shanghai.users[role]).get(path)
    assert response.status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_the_regulator_reads_its_pages_in_chinese(busy, path):
    response = signed_in(busy.world.shanghai.regulator).get(path)
    assert response.status_code == 200
    text = visible_text(response)
    assert "备案审查" in text
    assert "项目审核" in text
    assert "违规整改" in text
    assert machine_words(text) == []


def test_the_other_sides_objects_are_not_found(busy):
    jiangsu = busy.world.jiangsu
    client = signed_in(busy.world.shanghai.regulator)
    violation = Violation.objects.get(project=jiangsu.project)
    for path in (
        f"/regulator/filings/{jiangsu.agency.pk}/",
        f"/regulator/projects/{jiangsu.project.pk}/",
        f"/regulator/violations/{violation.pk}/",
        f"/regulator/violations/new/?project={jiangsu.project.pk}",
        f"/regulator/violations/new/?om_task={jiangsu.om_task.pk}",
        "/regulator/violations/new/",
        "/regulator/violations/new/?project=x",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(
        f"/regulator/projects/{jiangsu.project.pk}/", {"decision": "return", "reason": "x"}
    )
    assert response.status_code == 404


# --- Filings --------------------------------------------------------------------------------------
def test_a_filing_awaiting_review_is_listed_and_approved(busy):
    agency = filed_agency()
    client = signed_in(busy.world.shanghai.regulator, csrf=True)
    listing = visible_text(client.get("/regulator/filings/"))
    assert agency.name in listing
    assert busy.world.shanghai.agency.name not in listing  # approved: not awaiting
    page = client.get(f"/regulator/filings/{agency.pk}/")
    text = visible_text(page)
    assert "备案信息" in text
    assert "李明" in text
    assert "草稿 → 已提交" in text
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/regulator/filings/{agency.pk}/", {"decision": "approve", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.filing_status == Agency.FilingStatus.APPROVED
    event = AgencyFilingEvent.objects.filter(agency=agency).latest("at", "id")
    assert (event.to_status, event.actor) == (Agency.FilingStatus.APPROVED, busy.world.shanghai.regulator)


def test_returning_a_filing_needs_a_reason_shown_in_place(busy):
    agency = filed_agency()
    client = signed_in(busy.world.shanghai.regulator)
    response = client.post(f"/regulator/filings/{agency.pk}/", {"decision": "return", "reason": "  "})
    assert response.status_code == 400
    assert "退回须填写原因" in visible_text(response)
    assert b'class="field invalid"' in response.content
    agency.refresh_from_db()
    assert agency.filing_status == Agency.FilingStatus.SUBMITTED
    response = client.post(
        f"/regulator/filings/{agency.pk}/", {"decision": "return", "reason": "缺少资质证书"}
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert (agency.filing_status, agency.return_reason) == (Agency.FilingStatus.RETURNED, "缺少资质证书")
    assert "缺少资质证书" in visible_text(client.get(f"/regulator/filings/{agency.pk}/"))


def test_a_post_without_the_csrf_token_is_refused(busy):
    agency = filed_agency()
    client = signed_in(busy.world.shanghai.regulator, csrf=True)
    response = client.post(f"/regulator/filings/{agency.pk}/", {"decision": "approve"})
    assert response.status_code == 403
    agency.refresh_from_db()
    assert agency.filing_status == Agency.FilingStatus.SUBMITTED


# --- Projects -------------------------------------------------------------------------------------
def test_a_submitted_project_is_listed_and_returned_with_its_reason(busy):
    side = busy.world.shanghai
    project = submitted(side)
    client = signed_in(side.regulator)
    listing = client.get("/regulator/projects/")
    assert project.name in visible_text(listing)
    assert f'href="/regulator/projects/{project.pk}/"'.encode() in listing.content
    page = visible_text(client.get(f"/regulator/projects/{project.pk}/"))
    assert "未完成 → 已提交" in page
    assert side.enterprise.name in page
    refused = client.post(f"/regulator/projects/{project.pk}/", {"decision": "return", "reason": ""})
    assert refused.status_code == 400
    assert "退回项目须填写退回原因" in visible_text(refused)
    response = client.post(
        f"/regulator/projects/{project.pk}/", {"decision": "return", "reason": "采样记录不全"}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.status, project.return_reason) == (S.RETURNED, "采样记录不全")
    event = ProjectEvent.objects.filter(project=project).latest("at", "id")
    assert (event.to_status, event.reason, event.actor) == (S.RETURNED, "采样记录不全", side.regulator)
    # Returned, it is no longer to review: accepting it now is refused on the page, not a 500.
    again = client.post(f"/regulator/projects/{project.pk}/", {"decision": "approve"})
    assert again.status_code == 400
    assert "项目当前状态不允许此操作" in visible_text(again)  # the service's refusal, shown
    project.refresh_from_db()
    assert project.status == S.RETURNED


def test_a_submitted_project_is_accepted(busy):
    side = busy.world.shanghai
    project = submitted(side)
    response = signed_in(side.regulator).post(f"/regulator/projects/{project.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == S.DONE


def test_the_project_list_filters_by_status_and_pages(busy):
    side = busy.world.shanghai
    client = signed_in(side.regulator)
    assert side.project.name not in visible_text(client.get("/regulator/projects/"))  # unfinished
    assert side.project.name in visible_text(client.get("/regulator/projects/?status=unfinished"))
    wrong = client.get("/regulator/projects/?status=nonsense")
    assert wrong.status_code == 200
    assert "没有这个状态" in visible_text(wrong)


# --- Violations -----------------------------------------------------------------------------------
def test_a_violation_is_opened_on_a_project(busy):
    side = busy.world.shanghai
    client = signed_in(side.regulator)
    path = f"/regulator/violations/new/?project={side.project.pk}"
    assert side.project.name in visible_text(client.get(path))
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    data = {"project": side.project.pk, "description": "现场照片位置不符", "deadline": yesterday}
    refused = client.post("/regulator/violations/new/", data)
    assert refused.status_code == 400
    text = visible_text(refused)
    assert "现场照片位置不符" in refused.content.decode()  # what was typed is kept
    assert "整改期限" in text
    assert b'class="field invalid"' in refused.content
    data["deadline"] = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    response = client.post("/regulator/violations/new/", data)
    assert response.status_code == 302
    violation = Violation.objects.get(description="现场照片位置不符")
    assert (violation.project, violation.opened_by, violation.status) == (
        side.project,
        side.regulator,
        Violation.Status.OPEN,
    )
    assert response["Location"] == f"/regulator/violations/{violation.pk}/"
    assert "现场照片位置不符" in visible_text(client.get(f"/regulator/projects/{side.project.pk}/"))


def test_an_order_is_opened_on_an_om_task(busy):
    side = busy.world.shanghai
    deadline = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    response = signed_in(side.regulator).post(
        "/regulator/violations/new/",
        {"om_task": side.om_task.pk, "description": "巡检漏项", "deadline": deadline},
    )
    assert response.status_code == 302
    assert Violation.objects.get(description="巡检漏项").om_task == side.om_task


def test_a_rectification_is_rejected_with_a_reason_then_accepted(busy):
    side = busy.world.shanghai
    violation = Violation.objects.get(project=side.project)  # rectified, awaiting the regulator
    client = signed_in(side.regulator)
    listing = visible_text(client.get("/regulator/violations/?status=rectified"))
    assert "采样记录缺少采样人签字" in listing
    page = visible_text(client.get(f"/regulator/violations/{violation.pk}/"))
    assert "已补签" in page
    assert "待审核" in page
    refused = client.post(f"/regulator/violations/{violation.pk}/", {"decision": "return", "reason": ""})
    assert refused.status_code == 400
    assert b'class="field invalid"' in refused.content
    response = client.post(
        f"/regulator/violations/{violation.pk}/", {"decision": "return", "reason": "签字不清"}
    )
    assert response.status_code == 302
    violation.refresh_from_db()
    assert violation.status == Violation.Status.OPEN
    rectification = Rectification.objects.get(violation=violation)
    assert (rectification.outcome, rectification.rejection_reason) == ("rejected", "签字不清")


# --- Home and bounded lists -----------------------------------------------------------------------
def test_the_home_embeds_the_charts_data(busy):
    side = busy.world.shanghai
    response = signed_in(side.regulator).get("/regulator/")
    content = response.content.decode()
    start = content.index('id="chart-data"')
    raw = content[content.index(">", start) + 1 : content.index("</script>", start)]
    charts = json.loads(raw)
    assert side.agency.name in charts["agency"]["categories"]
    assert busy.world.jiangsu.agency.name not in charts["agency"]["categories"]
    # Regions by name, as people say them (server/regions), only the regulator's own.
    assert charts["region"]["categories"] == ["上海市徐汇区"]
    assert "上海市" in visible_text(response)  # the top bar names the region, not its code
    flagged = {s["name"]: sum(s["data"]) for s in charts["flagged"]["series"]}
    assert flagged["问题照片"] >= 1
    assert flagged["异常签到"] >= 1
    month = timezone.localdate().strftime("%Y-%m")
    assert month in charts["month"]["categories"]
    assert "echarts.min.js" in content
    assert "regulator_charts.js" in content
    assert machine_words(visible_text(response)) == []


def test_the_lists_read_a_bounded_number_of_queries(busy, django_assert_max_num_queries):
    side = busy.world.shanghai
    client = signed_in(side.regulator)
    for n in range(3):
        filed_agency(region_code=f"31010{n + 5}", name=f"待审机构{n}")
    for n in range(4):
        client.post(
            "/regulator/violations/new/",
            {
                "project": side.project.pk,
                "description": f"问题{n}",
                "deadline": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            },
        )
    for path in ("/regulator/filings/", "/regulator/projects/?status=", "/regulator/violations/"):
        with django_assert_max_num_queries(8):
            assert client.get(path).status_code == 200


def test_the_project_list_exports_what_it_shows(busy):
    side = busy.world.shanghai
    submitted(side)
    client = signed_in(side.regulator)
    page = client.get("/regulator/projects/")
    assert b"/api/v1/projects/export?status=submitted" in page.content
    response = client.get("/api/v1/projects/export?status=submitted")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# --- Exports --------------------------------------------------------------------------------------
def sheet_rows(response) -> list[tuple]:
    import io

    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def test_the_filings_and_violations_lists_export_what_is_filtered(busy):
    side, other = busy.world.shanghai, busy.world.jiangsu
    filed_agency(name="待审机构甲")
    client = signed_in(side.regulator)
    page = client.get("/regulator/filings/")
    assert "export=xlsx" in page.content.decode()
    header, *rows = sheet_rows(client.get("/regulator/filings/", {"export": "xlsx"}))
    assert header[:2] == ("机构名称", "统一社会信用代码")
    assert [r[0] for r in rows] == ["待审机构甲"]
    assert rows[0][3] == "上海市长宁区"  # 310105 named, not the code
    # Another status filtered: the approved agencies of the region only.
    approved = sheet_rows(client.get("/regulator/filings/", {"status": "approved", "export": "xlsx"}))[1:]
    assert side.agency.name in [r[0] for r in approved]
    assert other.agency.name not in [r[0] for r in approved]

    header, *rows = sheet_rows(client.get("/regulator/violations/", {"export": "xlsx"}))
    assert header[0] == "违规情况"
    assert [r[2] for r in rows] == [side.project.name]  # the region's violations, not the other's
    assert rows[0][3] == side.agency.name
    client.cookies["django_language"] = "en"
    header = sheet_rows(client.get("/regulator/violations/", {"export": "xlsx"}))[0]
    assert header[0] == "Violation"
