"""The projects pages and a monitoring task's page with Django's test client: the list (scope,
filters, stable pages, htmx), registering a project under an accepted contract, attachments (the
API's service and size limit, download), staff by post, submitting and resubmitting after a return
(the service's own checks said in the page), the task's stages, moves, check-ins and map data, and
who reaches what."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.fieldwork.models import MonitoringProject, ProjectAttachment, ProjectEvent
from server.fieldwork.services import project_attach, project_create, project_transition, task_transition
from server.registry.models import Contract
from server.registry.services import contract_create
from tests.factories import build_world, hire
from tests.fieldwork.helpers import ended_task
from tests.maps.helpers import field_day
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import machine_words, visible_text

pytestmark = pytest.mark.django_db
S = MonitoringProject.Status


@pytest.fixture
def world(db):
    return build_world()


def a_project(side, number: str, name: str = "年度土壤监测", **fields) -> MonitoringProject:
    return project_create(
        agency=side.agency,
        actor=side.main,
        number=number,
        name=name,
        monitoring_type=fields.pop("monitoring_type", MonitoringProject.MonitoringType.SOIL),
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
        **fields,
    )


def a_file(name: str = "委托合同.pdf", content: bytes = b"%PDF-1.4 contract\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def attach_contract(side, project) -> ProjectAttachment:
    return project_attach(project=project, kind="contract", upload=a_file(), actor=side.main)


# --- The list -------------------------------------------------------------------------------------
def test_the_agency_and_its_regulator_see_its_projects_and_not_the_other_sides(world):
    own, other = world.shanghai, world.jiangsu
    for user in (own.main, own.manager, own.regulator):
        response = signed_in(user).get("/projects/")
        assert response.status_code == 200
        text = visible_text(response)
        assert own.project.number in text
        assert other.project.number not in text
        assert f'href="/projects/{own.project.pk}/"'.encode() in response.content
        assert machine_words(text) == []
    # Registering is for the agency's main and manager accounts; the regulator reads.
    assert "登记项目" in visible_text(signed_in(own.main).get("/projects/"))
    assert "登记项目" not in visible_text(signed_in(own.regulator).get("/projects/"))


def test_a_field_account_lists_the_projects_it_is_on(world):
    side = world.shanghai
    a_project(side, "P-未分配")
    text = visible_text(signed_in(side.field_user).get("/projects/"))
    assert side.project.number in text  # the sampler is on it
    assert "P-未分配" not in text


def test_the_filters_status_enterprise_and_name_or_number(world):
    side = world.shanghai
    returned = a_project(side, "P-退回", name="噪声专项监测")
    attach_contract(side, returned)
    ended_task(side, returned)
    project_transition(project=returned, to=S.SUBMITTED, actor=side.main)
    project_transition(project=returned, to=S.RETURNED, actor=side.regulator, reason="缺少监测方案")
    client = signed_in(side.main)

    def numbers(**query) -> str:
        return visible_text(client.get("/projects/", query))

    text = numbers(status="returned")
    assert "P-退回" in text
    assert side.project.number not in text
    text = numbers(q="噪声")  # 项目名称 supports fuzzy search
    assert "P-退回" in text
    assert side.project.number not in text
    text = numbers(q=side.project.number)
    assert side.project.number in text
    assert "P-退回" not in text
    assert "P-退回" in numbers(enterprise=side.enterprise.pk)
    # Another side's enterprise is not a choice: said beside the field, nothing listed from it.
    response = client.get("/projects/", {"enterprise": world.jiangsu.enterprise.pk})
    assert "请选择列表中的企业" in visible_text(response)
    assert world.jiangsu.project.number not in visible_text(response)


def test_pages_are_stable_and_keep_the_filters(world):
    side = world.shanghai
    for n in range(24):
        a_project(side, f"Q-{n:02d}")
    # Registered in the same instant: the id still orders them, so pages neither skip nor repeat.
    MonitoringProject.objects.filter(agency=side.agency).update(created_at=timezone.now())
    client = signed_in(side.main)

    def rows(number) -> list[str]:
        content = client.get("/projects/", {"q": "Q-", "page": number}).content.decode()
        found = [
            (content.index(f">Q-{n:02d}<"), f"Q-{n:02d}") for n in range(24) if f">Q-{n:02d}<" in content
        ]
        return [number for _, number in sorted(found)]

    first, second = rows(1), rows(2)
    assert len(first) == 20
    assert len(second) == 4
    assert sorted(first + second) == [f"Q-{n:02d}" for n in range(24)]
    assert rows(1) == first
    assert rows(2) == second
    page_one = client.get("/projects/", {"q": "Q-"}).content.decode()
    assert "?q=Q-&amp;page=2" in page_one  # the next page keeps the search
    assert "共 24 个项目" in visible_text(client.get("/projects/", {"q": "Q-", "page": "x"}))


def test_htmx_gets_the_filters_and_results_only(world):
    side = world.shanghai
    response = signed_in(side.main).get("/projects/", {"q": side.project.number}, HTTP_HX_REQUEST="true")
    content = response.content.decode().lstrip()
    assert content.startswith('<div id="project-panel">')
    assert "<html" not in content
    assert side.project.number in visible_text(response)
    # A wrong filter is said beside it, in what htmx swaps in; nothing is listed.
    response = signed_in(side.main).get(
        "/projects/", {"enterprise": world.jiangsu.enterprise.pk}, HTTP_HX_REQUEST="true"
    )
    assert "请选择列表中的企业" in visible_text(response)
    assert "没有符合条件的项目" in visible_text(response)
    # htmx restoring a page from its history asks for the whole page.
    whole = signed_in(side.main).get(
        "/projects/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert b"<html" in whole.content


def test_the_list_reads_a_bounded_number_of_queries(world):
    side = world.shanghai
    client = signed_in(side.main)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/projects/").status_code == 200
        return len(queries)

    before = count()
    for n in range(5):
        a_project(side, f"R-{n}")
    assert count() == before
    assert before <= 20


# --- Registering ----------------------------------------------------------------------------------
def test_the_form_offers_only_accepted_monitoring_contracts_in_force(world):
    side = world.shanghai
    today = timezone.localdate()
    proposed = contract_create(
        agency=side.agency,
        enterprise=side.enterprise,
        nature=Contract.Nature.MONITORING,
        number="JC-待确认",
        title="待确认的监测合同",
        amount=1000,
        starts_on=today,
        ends_on=today + dt.timedelta(days=30),
    )
    response = signed_in(side.main).get("/projects/new/")
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<option value="{side.monitoring_contract.pk}">' in content
    assert f'value="{proposed.pk}"' not in content  # not accepted yet
    assert f'value="{side.om_contract.pk}"' not in content  # an O&M contract
    assert f'value="{world.jiangsu.monitoring_contract.pk}"' not in content  # another agency's
    assert side.enterprise.name in visible_text(response)  # the enterprise follows the contract
    # Chosen anyway (a forged form): refused as not a choice, nothing registered.
    response = signed_in(side.main).post(
        "/projects/new/",
        {"contract": proposed.pk, "number": "P-新", "name": "新项目", "monitoring_type": "water"},
    )
    assert response.status_code == 200
    assert "请选择列表中的合同" in visible_text(response)
    assert not MonitoringProject.objects.filter(number="P-新").exists()


def test_registering_stores_the_project_with_the_enterprises_region(world):
    side = world.shanghai
    client = signed_in(side.manager)
    response = client.post(
        "/projects/new/",
        {
            "contract": side.monitoring_contract.pk,
            "number": " P-2026-001 ",
            "name": "2026 年二季度废水监测",
            "monitoring_type": "water",
        },
    )
    project = MonitoringProject.objects.get(agency=side.agency, number="P-2026-001")
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.name == "2026 年二季度废水监测"
    assert project.enterprise == side.enterprise
    assert project.region_code == side.enterprise.region_code
    assert project.status == S.UNFINISHED
    assert project.created_by == side.manager
    text = visible_text(client.get(response["Location"]))
    assert "项目已登记" in text
    assert "未完成" in text
    assert "提交前须上传合同附件" in text


def test_what_the_form_or_the_service_refuses_is_said_beside_the_field(world):
    side = world.shanghai
    client = signed_in(side.main)
    response = client.post(
        "/projects/new/", {"contract": "", "number": "", "name": "", "monitoring_type": ""}
    )
    assert visible_text(response).count("该字段是必填项") == 4
    taken = {
        "contract": side.monitoring_contract.pk,
        "number": side.project.number,
        "name": "重名项目",
        "monitoring_type": "water",
    }
    response = client.post("/projects/new/", taken)
    assert response.status_code == 200
    assert f"项目编号 {side.project.number} 已存在" in visible_text(response)
    assert 'value="重名项目"'.encode() in response.content  # what was typed is kept
    # The contract ended since the page was opened: the service's own message.
    Contract.objects.filter(pk=side.monitoring_contract.pk).update(status=Contract.Status.ENDED)
    response = client.post("/projects/new/", {**taken, "number": "P-晚了"})
    assert "请选择列表中的合同" in visible_text(response)


@pytest.mark.parametrize("role", ["agency_reviewer", "agency_field", "regulator", "enterprise"])
def test_only_the_agencys_administrators_register(world, role):
    side = world.shanghai
    client = signed_in(side.users[role])
    assert client.get("/projects/new/").status_code == 404
    response = client.post(
        "/projects/new/",
        {"contract": side.monitoring_contract.pk, "number": "X-1", "name": "x", "monitoring_type": "water"},
    )
    assert response.status_code == 404
    assert not MonitoringProject.objects.filter(number="X-1").exists()


# --- A project's page -----------------------------------------------------------------------------
def test_the_project_page_shows_its_data_staff_and_tasks(world):
    side = world.shanghai
    scene = field_day(side, name="进水口采样")
    response = signed_in(side.main).get(f"/projects/{side.project.pk}/")
    assert response.status_code == 200
    text = visible_text(response)
    for shown in (
        side.project.number,
        side.project.name,
        "水和废水",
        side.enterprise.name,
        side.monitoring_contract.number,
        side.sampler.person.name,
        "采样人员",
        "实验室分析人员",
        "进水口采样",
    ):
        assert shown in text, shown
    assert f'href="/tasks/{scene.task.pk}/"'.encode() in response.content
    assert machine_words(text.replace(side.monitoring_contract.number, "")) == []


def test_an_attachment_is_stored_by_the_apis_service_and_downloaded(world):
    side = world.shanghai
    client = signed_in(side.main)
    content = b"%PDF-1.4 the signed contract\n"
    response = client.post(
        f"/projects/{side.project.pk}/attachments/",
        {"kind": "contract", "file": a_file("委托监测合同.pdf", content)},
    )
    assert response.status_code == 302
    attachment = ProjectAttachment.objects.get(project=side.project)
    assert (attachment.kind, attachment.name, attachment.size) == (
        "contract",
        "委托监测合同.pdf",
        len(content),
    )
    assert attachment.uploaded_by == side.main
    page = client.get(f"/projects/{side.project.pk}/")
    link = f"/projects/{side.project.pk}/attachments/{attachment.pk}/file"
    assert link.encode() in page.content
    assert "附件已上传" in visible_text(page)
    for user in (side.main, side.regulator):
        download = signed_in(user).get(link)
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == content
        assert "attachment;" in download["Content-Disposition"]
    assert signed_in(world.jiangsu.main).get(link).status_code == 404
    assert signed_in(world.jiangsu.regulator).get(link).status_code == 404


def test_attachment_refusals_are_said_in_the_form(world, settings):
    side = world.shanghai
    client = signed_in(side.main)
    url = f"/projects/{side.project.pk}/attachments/"
    settings.ATTACHMENT_MAX_BYTES = 1024
    response = client.post(url, {"kind": "contract", "file": a_file(content=b"x" * 1025)})
    assert response.status_code == 200
    assert "附件过大：单个文件不得超过 1024 字节" in visible_text(response)
    response = client.post(url, {"kind": "contract", "file": a_file(), "number": "BG-1"})
    assert "只有监测报告附件可填写报告编号和签发日期" in visible_text(response)
    response = client.post(
        url, {"kind": "report", "file": a_file(), "number": "BG-1", "issued_on": "2026-02-30"}
    )
    assert "请输入日期" in visible_text(response)
    assert not ProjectAttachment.objects.exists()
    response = client.post(
        url, {"kind": "report", "file": a_file(), "number": "BG-1", "issued_on": "2026-05-04"}
    )
    assert response.status_code == 302
    report = ProjectAttachment.objects.get()
    assert (report.kind, report.number, report.issued_on) == ("report", "BG-1", dt.date(2026, 5, 4))


def test_staff_are_assigned_by_post(world):
    side = world.shanghai
    client = signed_in(side.main)
    courier = hire(side.agency, ["courier"], name="送样员小周")
    url = f"/projects/{side.project.pk}/assignments/"
    response = client.post(url, {"employment": courier.pk, "post": "lab_analyst"})
    assert response.status_code == 200
    assert "该人员未登记“实验室分析人员”岗位" in visible_text(response)
    response = client.post(url, {"employment": courier.pk, "post": "courier"})
    assert response.status_code == 302
    assert side.project.assignments.filter(employment=courier, post__code="courier").exists()
    text = visible_text(client.get(f"/projects/{side.project.pk}/"))
    assert "送样员小周" in text
    # Another agency's staff is not a choice.
    response = client.post(url, {"employment": world.jiangsu.sampler.pk, "post": "sampler"})
    assert "选择一个有效的选项" in visible_text(response)


def test_submitting_needs_the_contract_then_a_return_is_shown_and_resubmitted(world):
    side = world.shanghai
    project = side.project
    client = signed_in(side.main)
    url = f"/projects/{project.pk}/submit"
    response = client.post(url)
    assert response.status_code == 409
    assert "请先上传合同附件，再提交项目" in visible_text(response)
    project.refresh_from_db()
    assert project.status == S.UNFINISHED

    attach_contract(side, project)
    response = client.post(url)
    assert response.status_code == 409
    assert "项目还没有已结束的监测任务，不能提交" in visible_text(response)
    ended_task(side, project)
    assert client.post(url).status_code == 302
    project.refresh_from_db()
    assert project.status == S.SUBMITTED
    text = visible_text(client.get(f"/projects/{project.pk}/"))
    assert "项目已提交审核" in text
    assert "提交审核" in text
    assert "未完成 → 已提交" in text
    assert "上传附件" not in text  # submitted: attachments no longer change
    assert client.post(url).status_code == 409  # twice: the table says no

    project_transition(project=project, to=S.RETURNED, actor=side.regulator, reason="缺少采样点位图")
    page = client.get(f"/projects/{project.pk}/")
    text = visible_text(page)
    assert "退回原因： 缺少采样点位图" in text or "退回原因：缺少采样点位图" in text
    assert "原因：缺少采样点位图" in text.replace(" ", "")
    assert "再次提交" in text
    assert client.post(url).status_code == 302
    project.refresh_from_db()
    assert project.status == S.SUBMITTED
    moves = list(ProjectEvent.objects.filter(project=project).values_list("to_status", flat=True))
    assert moves == [S.SUBMITTED, S.RETURNED, S.SUBMITTED]
    assert "退回后再提交" in visible_text(client.get(f"/projects/{project.pk}/"))


def test_the_regulator_reads_the_project_without_its_forms(world):
    side = world.shanghai
    response = signed_in(side.regulator).get(f"/projects/{side.project.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "/submit" not in content
    assert "/attachments/" not in content
    assert "/assignments/" not in content
    client = signed_in(side.regulator)
    assert client.post(f"/projects/{side.project.pk}/submit").status_code == 404
    assert (
        client.post(
            f"/projects/{side.project.pk}/attachments/", {"kind": "contract", "file": a_file()}
        ).status_code
        == 404
    )
    assert not ProjectAttachment.objects.exists()


def test_the_regulators_review_page_and_the_project_page_link_to_each_other(world):
    side = world.shanghai
    client = signed_in(side.regulator)
    review = client.get(f"/regulator/projects/{side.project.pk}/")
    assert f'href="/projects/{side.project.pk}/"'.encode() in review.content
    page = client.get(f"/projects/{side.project.pk}/")
    assert f'href="/regulator/projects/{side.project.pk}/"'.encode() in page.content
    # Its list is 项目审核: no second list of projects in its navigation; the agency's has one.
    assert b'<a href="/projects/"' not in client.get("/regulator/").content
    assert b'<a href="/projects/"' in signed_in(side.main).get("/agency/").content
    assert (
        b'href="/regulator/projects/' not in signed_in(side.main).get(f"/projects/{side.project.pk}/").content
    )


@pytest.mark.parametrize(
    "role", ["agency_main", "agency_manager", "agency_reviewer", "agency_field", "regulator", "enterprise"]
)
def test_another_sides_project_and_task_are_not_found(world, role):
    own, other = world.shanghai, world.jiangsu
    task = field_day(other, name="南京的任务").task
    client = signed_in(own.users[role])
    assert client.get(f"/projects/{other.project.pk}/").status_code == 404
    assert client.get(f"/tasks/{task.pk}/").status_code == 404
    assert client.post(f"/projects/{other.project.pk}/submit").status_code == 404
    assert (
        client.post(
            f"/projects/{other.project.pk}/attachments/", {"kind": "contract", "file": a_file()}
        ).status_code
        == 404
    )
    assert client.get(f"/tasks/{uuid.uuid4()}/").status_code == 404
    assert client.get("/projects/999999/").status_code == 404
    expected = 404 if role == "enterprise" else 200
    assert client.get(f"/projects/{own.project.pk}/").status_code == expected


def test_the_writes_need_csrf(world):
    side = world.shanghai
    client = signed_in(side.main, csrf=True)
    assert client.post(f"/projects/{side.project.pk}/submit").status_code == 403
    assert (
        client.post(
            f"/projects/{side.project.pk}/attachments/", {"kind": "contract", "file": a_file()}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/projects/new/",
            {
                "contract": side.monitoring_contract.pk,
                "number": "C-1",
                "name": "c",
                "monitoring_type": "water",
            },
        ).status_code
        == 403
    )
    assert not ProjectAttachment.objects.exists()
    assert not MonitoringProject.objects.filter(number="C-1").exists()


# --- A monitoring task's page ---------------------------------------------------------------------
def test_the_task_page_shows_stages_moves_and_checkins(world, django_capture_on_commit_callbacks):
    side = world.shanghai
    with django_capture_on_commit_callbacks(execute=True):  # the thumbnail is made after commit
        scene = field_day(side, name="进水口采样")
    task = scene.task
    started = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=36)
    task_transition(actor=side.field_user, task=task, to="running", at=started)
    task_transition(actor=side.field_user, task=task, to="paused", at=started + dt.timedelta(minutes=9))
    task_transition(actor=side.field_user, task=task, to="running", at=started + dt.timedelta(minutes=12))
    response = signed_in(side.regulator).get(f"/tasks/{task.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    text = visible_text(response)
    # Stages as columns, the sampling photo in the first with its thumbnail, verdict and link.
    assert (
        content.index('id="stage-sampling"')
        < content.index('id="stage-delivery"')
        < content.index('id="stage-lab"')
    )
    sampling = content[content.index('id="stage-sampling"') : content.index('id="stage-delivery"')]
    assert f'href="/photos/{scene.photo.pk}/"' in sampling
    assert f'src="/api/v1/photos/{scene.photo.pk}/thumbnail"' in sampling
    assert "不通过" in sampling
    assert "采样点现场照片" in text
    # Moves in seed 002's words, at Beijing time.
    local = timezone.localtime(started, timezone=dt.timezone(dt.timedelta(hours=8)))
    assert f"{local:%Y-%m-%d %H:%M:%S} 开始" in text
    assert "暂停" in text
    assert "继续" in text
    # Check-ins: one inside the geofence, one 3 km off.
    assert "在电子围栏内" in text
    assert "超出电子围栏" in text
    assert "距点位 80 米" in text
    assert "距点位 300" in text
    assert machine_words(text) == []
    # The map: Leaflet and map.js from the map page's static files, the task's data from /map/data.
    assert "/static/leaflet/leaflet.js" in content
    assert "/static/maps/map.js" in content
    assert "/static/maps/layers.css" in content
    assert f"/map/data?task={task.pk}&amp;start=" in content
    assert 'data-tile-system="wgs84"' in content


def test_the_task_maps_data_hold_its_track_and_checkins(world):
    side = world.shanghai
    scene = field_day(side, name="进水口采样")
    client = signed_in(side.main)
    page = client.get(f"/tasks/{scene.task.pk}/").content.decode()
    start = page.index("/map/data?")
    url = page[start : page.index('"', start)].replace("&amp;", "&")
    body = client.get(url).json()
    counts = body["counts"]
    assert counts["track"] == 2
    assert counts["track_gap"] == 1
    assert counts["checkin"] == 2
    assert {
        f["properties"].get("task_id") for f in body["features"] if f["properties"]["layer"] == "track"
    } == {str(scene.task.pk)}


def test_the_map_window_holds_the_task_and_stays_within_the_maps_limit(world):
    from server.maps.forms import MAX_DAYS
    from workspace.project_selectors import map_window

    task = field_day(world.shanghai).task
    today = timezone.localdate()
    start, end = map_window(task, today)
    assert start == timezone.localdate(task.created_at) - dt.timedelta(days=1)
    assert end == today
    task.created_at = timezone.now() - dt.timedelta(days=800)
    start, end = map_window(task, today)
    assert (end - start).days == MAX_DAYS - 1


def test_the_project_and_task_pages_read_a_bounded_number_of_queries(world):
    side = world.shanghai
    scene = field_day(side, name="第一次采样")
    client = signed_in(side.main)

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    project_before = count(f"/projects/{side.project.pk}/")
    task_before = count(f"/tasks/{scene.task.pk}/")
    for n in range(3):
        field_day(side, name=f"更多采样{n}")
    attach_contract(side, side.project)
    ended_task(side)
    project_transition(project=side.project, to=S.SUBMITTED, actor=side.main)
    assert count(f"/projects/{side.project.pk}/") <= project_before + 1  # the submit form's row is gone
    assert count(f"/tasks/{scene.task.pk}/") == task_before
    assert max(project_before, task_before) <= 40


def test_english_when_chosen(world):
    side = world.shanghai
    scene = field_day(side)
    client = signed_in(side.main)
    client.post("/i18n/setlang/", {"language": "en", "next": "/projects/"})
    text = visible_text(client.get("/projects/"))
    assert "Register a project" in text
    assert "Unfinished" in text
    text = visible_text(client.get(f"/projects/{side.project.pk}/"))
    assert "Water and wastewater" in text
    assert "Status history" in text
    assert "Photos by stage" in visible_text(client.get(f"/tasks/{scene.task.pk}/"))
