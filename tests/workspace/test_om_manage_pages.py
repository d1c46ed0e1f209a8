"""The agency's O&M management pages with Django's test client: its O&M tasks (filters, htmx, stable
pages, export), a task's page (contract, points, staff, instruments, plans, records linking to the
record page) and the staff and plans its administrators add through the API's services; 运维管理's
tabs, whose rows are those of ``GET /om-tasks/{id}/manage`` and ``GET /om/overdue``; reports uploaded
through ``report_upload`` and downloaded; the agency's violations and the rectification it submits
through ``rectification_submit``. What a form or a service refuses is said beside the field, with the
typed values kept; another agency's objects are not found; every write needs CSRF."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.om.models import OmPlan, OmRecord, OmReport, OmTask, OmTaskStaff
from server.om.reports import report_upload
from server.om.services import om_task_create
from server.violations.models import Rectification, Violation
from tests.factories import hire
from tests.workspace.conftest import om_record, signed_in
from tests.workspace.helpers import machine_words, visible_text
from tests.workspace.om_manage_scene import PDF, om_order, pdf_file

pytestmark = pytest.mark.django_db


def person_words(text: str) -> list[str]:
    """Machine words, less the data people type that looks like them (a contract number: YW-12)."""
    return [w for w in machine_words(text) if w not in {"YW", "JC", "PDF", "JPG", "PNG"}]


def another_task(side, number: str, name: str = "废水二期运维", **fields) -> OmTask:
    today = timezone.localdate()
    return om_task_create(
        agency=side.agency,
        contract=side.om_contract,
        number=number,
        name=name,
        kind="wastewater",
        starts_on=fields.pop("starts_on", today - dt.timedelta(days=3)),
        ends_on=today + dt.timedelta(days=30),
        points=[side.wastewater],
        **fields,
    )


# --- The list -------------------------------------------------------------------------------------
def test_the_agency_lists_its_tasks_and_not_the_other_sides(busy):
    own, other = busy.world.shanghai, busy.world.jiangsu
    for user in (own.main, own.manager, own.reviewer, own.technician_user):
        response = signed_in(user).get("/om/tasks/")
        assert response.status_code == 200
        text = visible_text(response)
        assert own.om_task.number in text
        assert own.om_task.name in text
        assert own.enterprise.name in text
        assert other.om_task.number not in text
        assert f'href="/om/tasks/{own.om_task.pk}/"' in response.content.decode()
        assert person_words(text) == []
    # A field account sees the tasks it is on: the sampler is on none.
    assert own.om_task.number not in visible_text(signed_in(own.field_user).get("/om/tasks/"))
    for user in (own.enterprise_user, own.regulator):
        assert signed_in(user).get("/om/tasks/").status_code == 404


def test_the_filters_status_enterprise_and_search(busy):
    side = busy.world.shanghai
    finished = another_task(side, "T-完结")
    OmTask.objects.filter(pk=finished.pk).update(status=OmTask.Status.FINISHED)
    client = signed_in(side.main)
    text = visible_text(client.get("/om/tasks/", {"status": "finished"}))
    assert "T-完结" in text
    assert side.om_task.number not in text
    text = visible_text(client.get("/om/tasks/", {"q": side.om_task.number}))
    assert side.om_task.number in text
    assert "T-完结" not in text
    assert "共 2 个任务" in visible_text(client.get("/om/tasks/", {"enterprise": side.enterprise.pk}))
    # Another side's enterprise is no choice: said beside the filter, nothing listed, the typed
    # search kept.
    response = client.get("/om/tasks/", {"enterprise": busy.world.jiangsu.enterprise.pk, "q": "废水"})
    text = visible_text(response)
    assert "请选择列表中的企业" in text
    assert "没有符合条件的运维任务" in text
    assert 'value="废水"' in response.content.decode()


def test_pages_are_stable_and_htmx_gets_the_panel_only(busy):
    side = busy.world.shanghai
    for n in range(23):
        another_task(side, f"Q-{n:02}")
    client = signed_in(side.main)
    first = visible_text(client.get("/om/tasks/", {"q": "Q-"}))
    second = visible_text(client.get("/om/tasks/", {"q": "Q-", "page": 2}))
    numbers = [f"Q-{n:02}" for n in range(23)]
    on_first = {n for n in numbers if n in first}
    on_second = {n for n in numbers if n in second}
    assert len(on_first) == 20
    assert len(on_second) == 3
    assert not on_first & on_second
    response = client.get("/om/tasks/", {"q": "Q-"}, HTTP_HX_REQUEST="true")
    content = response.content.decode().lstrip()
    assert content.startswith('<div id="om-task-panel">')
    assert "<html" not in content
    assert "?q=Q-&amp;page=2" in content


def test_the_export_holds_what_is_filtered(busy):
    side = busy.world.shanghai
    another_task(side, "T-导出")
    client = signed_in(side.main)
    response = client.get("/om/tasks/export", {"q": "T-导出", "format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8-sig")
    assert "任务编号" in text
    assert "T-导出" in text
    assert side.om_task.number not in text
    assert busy.world.jiangsu.om_task.number not in text
    xlsx = client.get("/om/tasks/export")
    assert xlsx.status_code == 200
    assert "spreadsheetml" in xlsx["Content-Type"]


def test_the_list_reads_a_bounded_number_of_queries(busy):
    side = busy.world.shanghai
    client = signed_in(side.main)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/om/tasks/").status_code == 200
        return len(queries)

    before = count()
    for n in range(5):
        another_task(side, f"R-{n}")
    assert count() == before
    assert before <= 20


# --- A task's page --------------------------------------------------------------------------------
def test_the_task_page_shows_contract_points_staff_instruments_plans_and_records(busy):
    side = busy.world.shanghai
    task = side.om_task
    response = signed_in(side.main).get(f"/om/tasks/{task.pk}/")
    assert response.status_code == 200
    text = visible_text(response)
    for expected in (
        task.number,
        side.om_contract.number,
        side.om_contract.title,
        side.enterprise.name,
        side.wastewater.name,
        side.technician.person.name,
        side.reviewer_staff.person.name,
        "现场运维",
        "运维审核",
        side.instrument.serial_number,
        "日常巡检",
        "每日",
    ):
        assert expected in text, expected
    html = response.content.decode()
    for record in OmRecord.objects.filter(task=task):
        assert f'href="/om/records/{record.pk}/"' in html
    assert f'href="/om/manage/?task={task.pk}"' in html
    assert f'href="/contracts/{side.om_contract.pk}/"' in html  # the administrators' contract page
    assert person_words(text) == []
    # The administrators' forms; the reviewer on the task reads, and may upload a report.
    assert "添加运维人员" in text
    assert "添加运维计划" in text
    assert "上传报告" in text
    text = visible_text(signed_in(side.reviewer).get(f"/om/tasks/{task.pk}/"))
    assert "添加运维人员" not in text
    assert "添加运维计划" not in text
    assert "上传报告" in text


def test_the_task_page_reads_a_bounded_number_of_queries(busy):
    side = busy.world.shanghai
    client = signed_in(side.main)
    url = f"/om/tasks/{side.om_task.pk}/"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add(n: int) -> None:
        record = om_record(side, OmRecord.Status.SUBMITTED, timezone.localdate() - dt.timedelta(days=3 + n))
        report_upload(
            task=side.om_task,
            actor=side.main,
            name=f"报告{n}",
            category="other",
            file=pdf_file(f"报告{n}.pdf", PDF + str(n).encode()),
            record_ids=[record.pk],
        )
        OmPlan.objects.create(
            task=side.om_task,
            title=f"计划{n}",
            frequency="weekly",
            window_start=timezone.localdate(),
            window_end=timezone.localdate(),
            template_codes=["ww_daily_inspection"],
        )

    add(0)  # one of each first: a list that is empty reads nothing related (no prefetch, no names)
    before = count()
    for n in range(1, 4):
        add(n)
    assert count() == before
    assert before <= 40


@pytest.mark.parametrize("role", ["agency_main", "agency_manager", "agency_reviewer", "agency_field"])
def test_another_sides_task_report_and_violation_are_not_found(busy, role):
    own, other = busy.world.shanghai, busy.world.jiangsu
    report = report_upload(
        task=other.om_task, actor=other.main, name="月报", category="monthly", file=pdf_file()
    )
    violation = om_order(other)
    client = signed_in(own.users[role])
    task = other.om_task.pk
    assert client.get(f"/om/tasks/{task}/").status_code == 404
    assert client.get("/om/tasks/999999/").status_code == 404
    assert client.post(f"/om/tasks/{task}/reports", {"name": "x", "category": "monthly"}).status_code == 404
    assert client.get(f"/om/reports/{report.pk}/file").status_code == 404
    assert client.get(f"/agency/violations/{violation.pk}/").status_code == 404
    assert client.post(f"/agency/violations/{violation.pk}/", {"text": "已整改"}).status_code == 404
    assert client.post(f"/om/tasks/{task}/staff", {"employment": 1, "role": "technician"}).status_code == 404
    assert client.post(f"/om/tasks/{task}/plans", {"title": "x"}).status_code == 404
    # 运维管理 names no task of another agency: said beside the choice, nothing listed.
    text = visible_text(client.get("/om/manage/", {"task": task, "view": "all"}))
    assert "请选择列表中的运维任务" in text
    assert other.om_task.number not in text
    assert not Rectification.objects.filter(violation=violation).exists()


def test_staff_are_added_through_the_service(busy):
    side = busy.world.shanghai
    newcomer = hire(side.agency, ["om_technician"], name="韩运维")
    client = signed_in(side.manager)
    response = client.post(
        f"/om/tasks/{side.om_task.pk}/staff", {"employment": newcomer.pk, "role": "technician"}
    )
    assert response.status_code == 302
    assert OmTaskStaff.objects.filter(task=side.om_task, employment=newcomer, role="technician").exists()
    assert "韩运维" in visible_text(client.get(response["Location"]))
    # The service's refusal (a reviewer's post, not a technician's) beside the person; nothing kept.
    reviewer = hire(side.agency, ["om_reviewer"], name="冯审核")
    response = client.post(
        f"/om/tasks/{side.om_task.pk}/staff", {"employment": reviewer.pk, "role": "technician"}
    )
    assert response.status_code == 400
    assert "冯审核" in visible_text(response)
    errors = response.context["staff_form"].errors
    assert "employment" in errors
    assert not OmTaskStaff.objects.filter(employment=reviewer).exists()


def test_plans_are_added_through_the_service_and_refusals_keep_what_was_typed(busy):
    side = busy.world.shanghai
    task = side.om_task
    client = signed_in(side.main)
    today = timezone.localdate()
    response = client.post(
        f"/om/tasks/{task.pk}/plans",
        {
            "title": "每周比对",
            "frequency": "weekly",
            "window_start": today.isoformat(),
            "window_end": (today + dt.timedelta(days=28)).isoformat(),
            "outlet": side.wastewater.pk,
            "template_codes": ["ww_daily_inspection", "ww_maintenance_repair"],
        },
    )
    assert response.status_code == 302
    plan = OmPlan.objects.get(task=task, title="每周比对")
    assert (plan.frequency, plan.outlet, plan.template_codes) == (
        "weekly",
        side.wastewater,
        ["ww_daily_inspection", "ww_maintenance_repair"],
    )
    # A window past the task's end: om_plan_add refuses it, said beside the field, the title kept.
    response = client.post(
        f"/om/tasks/{task.pk}/plans",
        {
            "title": "年度校准",
            "frequency": "custom",
            "interval_days": "30",
            "window_start": today.isoformat(),
            "window_end": (task.ends_on + dt.timedelta(days=10)).isoformat(),
            "template_codes": ["ww_standard_check_calibration"],
        },
    )
    assert response.status_code == 400
    assert response.context["plan_form"].errors["window_start"]
    assert 'value="年度校准"' in response.content.decode()
    assert not OmPlan.objects.filter(title="年度校准").exists()
    # A date the browser did not send as a date is the form's error, not a 500.
    response = client.post(
        f"/om/tasks/{task.pk}/plans",
        {"title": "x", "frequency": "daily", "window_start": "2026/13/01", "window_end": ""},
    )
    assert response.status_code == 400
    assert "请输入日期" in visible_text(response)


@pytest.mark.parametrize("role", ["agency_reviewer", "agency_field"])
def test_only_the_administrators_add_staff_and_plans(busy, role):
    side = busy.world.shanghai
    client = signed_in(side.users[role])
    newcomer = hire(side.agency, ["om_technician"])
    assert (
        client.post(
            f"/om/tasks/{side.om_task.pk}/staff", {"employment": newcomer.pk, "role": "technician"}
        ).status_code
        == 404
    )
    assert not OmTaskStaff.objects.filter(employment=newcomer).exists()


# --- Reports --------------------------------------------------------------------------------------
def test_a_report_is_uploaded_linked_listed_and_downloaded(busy):
    side = busy.world.shanghai
    record = OmRecord.objects.filter(task=side.om_task, status=OmRecord.Status.CONFIRMED).first()
    client = signed_in(side.main)
    response = client.post(
        f"/om/tasks/{side.om_task.pk}/reports",
        {
            "name": "11月运维月报",
            "category": "monthly",
            "file": pdf_file(),
            "description": "本月设备运行正常",
            "records": [str(record.pk)],
        },
    )
    assert response.status_code == 302
    report = OmReport.objects.get(task=side.om_task)
    assert (report.name, report.category, report.file_name) == ("11月运维月报", "monthly", "11月运维月报.pdf")
    assert list(report.records.all()) == [record]
    assert report.uploaded_by == side.main
    text = visible_text(client.get(f"/om/tasks/{side.om_task.pk}/"))
    assert "11月运维月报.pdf" in text
    assert "月度运维报告" in text
    download = client.get(f"/om/reports/{report.pk}/file")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    # The task's technician uploads too (the service: the task's own staff).
    tech = signed_in(side.technician_user)
    tech_pdf = pdf_file("维修报告.pdf", PDF + b"% repaired\n")
    response = tech.post(
        f"/om/tasks/{side.om_task.pk}/reports", {"name": "维修报告", "category": "repair", "file": tech_pdf}
    )
    assert response.status_code == 302
    assert OmReport.objects.filter(task=side.om_task, uploaded_by=side.technician_user).exists()


def test_report_refusals_are_said_beside_the_field(busy):
    side = busy.world.shanghai
    client = signed_in(side.main)
    text_file = SimpleUploadedFile(
        "报告.pdf", b"just some text, not a PDF at all", content_type="application/pdf"
    )
    response = client.post(
        f"/om/tasks/{side.om_task.pk}/reports",
        {"name": "伪装的报告", "category": "monthly", "file": text_file, "description": "说明"},
    )
    assert response.status_code == 400
    assert response.context["report_form"].errors["file"]
    html = response.content.decode()
    assert 'value="伪装的报告"' in html
    assert "说明" in html
    # A draft is no record a report links to; no file, no name: the form says so.
    draft = om_record(side, OmRecord.Status.DRAFT, timezone.localdate())
    response = client.post(
        f"/om/tasks/{side.om_task.pk}/reports",
        {"name": "", "category": "monthly", "records": [str(draft.pk)]},
    )
    assert response.status_code == 400
    errors = response.context["report_form"].errors
    assert {"name", "file", "records"} <= set(errors)
    assert not OmReport.objects.exists()


def test_an_agency_account_not_on_the_task_cannot_upload(busy):
    side = busy.world.shanghai
    # The sampler's field account is not on the O&M task: the task is out of its sight.
    response = signed_in(side.field_user).post(
        f"/om/tasks/{side.om_task.pk}/reports", {"name": "x", "category": "monthly", "file": pdf_file()}
    )
    assert response.status_code == 404
    assert not OmReport.objects.exists()


# --- 运维管理 ---------------------------------------------------------------------------------------
def _api_count(client, url: str, **params) -> int:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return response.json()["count"]


def test_the_tabs_hold_the_apis_rows(busy):
    side = busy.world.shanghai
    task = side.om_task
    client = signed_in(side.main)
    api = f"/api/v1/om-tasks/{task.pk}/manage"
    for view, _label in (("week", "本周"), ("month", "本月"), ("all", "全部"), ("overdue", "超期")):
        response = client.get("/om/manage/", {"task": task.pk, "view": view})
        assert response.status_code == 200
        count = response.context["results"].paginator.count
        assert count == _api_count(client, api, view=view)
        assert f"共 {count} 项" in visible_text(response)
        assert 'aria-current="page" data-view="' + view + '"' in response.content.decode()
    # All: the days with a record link to it; the overdue days say by how many days.
    response = client.get("/om/manage/", {"task": task.pk, "view": "all"})
    html = response.content.decode()
    for record in OmRecord.objects.filter(task=task):
        assert f'href="/om/records/{record.pk}/"' in html
    text = visible_text(client.get("/om/manage/", {"task": task.pk, "view": "overdue"}))
    assert "日常巡检" in text
    assert "超期 3 天" in text
    assert person_words(text) == []


def test_the_agency_wide_overdue_tab_is_the_apis_overdue_list(busy):
    side = busy.world.shanghai
    another_task(side, "T-二期", starts_on=timezone.localdate() - dt.timedelta(days=3)).plans.create(
        title="每日巡查",
        frequency="daily",
        window_start=timezone.localdate() - dt.timedelta(days=3),
        window_end=timezone.localdate() + dt.timedelta(days=3),
    )
    client = signed_in(side.main)
    response = client.get("/om/manage/", {"view": "overdue"})
    assert response.status_code == 200
    count = response.context["results"].paginator.count
    assert count == _api_count(client, "/api/v1/om/overdue") == 8 + 3
    rows = response.content.decode().split('id="om-manage-results"')[1]
    assert "T-二期" not in rows  # tasks by name
    text = visible_text(response)
    assert "每日巡查" in text
    assert "废水二期运维" in text
    assert side.om_task.name in text
    assert f'href="/om/tasks/{side.om_task.pk}/"' in rows
    assert f'href="/om/tasks/{busy.world.jiangsu.om_task.pk}/"' not in rows
    # The most recently due first: yesterday's occurrence of the new plan heads the list.
    first = response.context["rows"][0]
    assert first.occurrence.window_end == timezone.localdate() - dt.timedelta(days=1)
    assert first.days_overdue == 1
    # The week and the month across the agency's tasks.
    assert client.get("/om/manage/", {"view": "week"}).status_code == 200


def test_the_filters_of_manage_are_checked_in_place(busy):
    side = busy.world.shanghai
    client = signed_in(side.main)
    today = timezone.localdate()
    response = client.get(
        "/om/manage/",
        {"task": side.om_task.pk, "view": "all", "start": today.isoformat(), "end": "2020-01-01"},
    )
    assert response.status_code == 200
    assert "结束时间不能早于开始时间" in visible_text(response)
    assert response.context["results"].paginator.count == 0
    text = visible_text(client.get("/om/manage/", {"view": "year"}))
    assert "请选择本周、本月、全部或超期" in text
    text = visible_text(client.get("/om/manage/", {"view": "all", "start": "2026-02-31"}))
    assert "请输入日期" in text
    # A plan of the chosen task narrows the rows to it.
    other_plan = OmPlan.objects.create(
        task=side.om_task,
        title="月度比对",
        frequency="monthly",
        window_start=today,
        window_end=today,
        template_codes=["ww_daily_inspection"],
    )
    response = client.get("/om/manage/", {"task": side.om_task.pk, "view": "all", "plan": other_plan.pk})
    assert response.context["results"].paginator.count == 1
    assert "月度比对" in visible_text(response)


def test_manage_reads_a_bounded_number_of_queries(busy):
    side = busy.world.shanghai
    client = signed_in(side.main)

    def count(**params) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/om/manage/", params).status_code == 200
        return len(queries)

    before_all = count(task=side.om_task.pk, view="all")
    before_overdue = count(view="overdue")
    for n in range(4):
        om_record(side, OmRecord.Status.SUBMITTED, timezone.localdate() - dt.timedelta(days=3 + n))
        another_task(side, f"S-{n}").plans.create(
            title=f"巡检{n}",
            frequency="daily",
            window_start=timezone.localdate() - dt.timedelta(days=3),
            window_end=timezone.localdate(),
        )
    assert count(task=side.om_task.pk, view="all") == before_all
    assert count(view="overdue") <= before_overdue + 1  # the template names of new forms, once
    assert max(before_all, before_overdue) <= 30


# --- Violations -----------------------------------------------------------------------------------
def test_the_agency_lists_its_violations_with_the_seeds_filters(busy):
    own, other = busy.world.shanghai, busy.world.jiangsu
    order = om_order(own)
    om_order(other, "南京的整改单")
    client = signed_in(own.main)
    response = client.get("/agency/violations/")
    assert response.status_code == 200
    text = visible_text(response)
    assert "运维记录缺少比对数据" in text
    assert "采样记录缺少采样人签字" in text
    assert "南京的整改单" not in text
    assert person_words(text) == []
    text = visible_text(client.get("/agency/violations/", {"status": "open"}))
    assert "运维记录缺少比对数据" in text
    assert "采样记录缺少采样人签字" not in text
    text = visible_text(client.get("/agency/violations/", {"q": own.project.name}))
    assert "采样记录缺少采样人签字" in text
    assert "运维记录缺少比对数据" not in text
    after = (order.deadline + dt.timedelta(days=1)).isoformat()  # the project's is two days later
    text = visible_text(client.get("/agency/violations/", {"deadline_after": after}))
    assert "采样记录缺少采样人签字" in text
    assert "运维记录缺少比对数据" not in text
    response = client.get("/agency/violations/", {"deadline_before": "not a day", "q": "签字"})
    assert "请输入日期" in visible_text(response)
    assert 'value="签字"' in response.content.decode()
    body = client.get("/agency/violations/export", {"format": "csv", "status": "open"})
    csv = b"".join(body.streaming_content).decode("utf-8-sig") if body.streaming else body.content.decode()
    assert "运维记录缺少比对数据" in csv
    assert "采样记录缺少采样人签字" not in csv
    assert "南京的整改单" not in csv


def test_a_rectification_is_submitted_with_its_file(busy):
    side = busy.world.shanghai
    order = om_order(side)
    client = signed_in(side.main)
    page = client.get(f"/agency/violations/{order.pk}/")
    assert "提交整改" in visible_text(page)
    proof = SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4 proof of the fix\n", content_type="application/pdf")
    response = client.post(f"/agency/violations/{order.pk}/", {"text": "已补做比对监测", "file": proof})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Violation.Status.RECTIFIED
    rectification = Rectification.objects.get(violation=order)
    assert (rectification.text, rectification.file_name, rectification.submitted_by) == (
        "已补做比对监测",
        "整改报告.pdf",
        side.main,
    )
    text = visible_text(client.get(response["Location"]))
    assert "整改已提交" in text
    assert "整改报告.pdf" in text
    assert "待审核" in text
    download = client.get(f"/agency/rectifications/{rectification.pk}/file")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 proof of the fix\n"
    # A second submission while the first waits: the service's refusal, said on the page.
    response = client.post(f"/agency/violations/{order.pk}/", {"text": "再次整改"})
    assert response.status_code == 400
    assert "已提交的整改正在等待监管部门审核" in visible_text(response)
    assert Rectification.objects.filter(violation=order).count() == 1


def test_rectification_refusals_keep_the_violation_open(busy, settings):
    side = busy.world.shanghai
    order = om_order(side)
    client = signed_in(side.manager)
    response = client.post(f"/agency/violations/{order.pk}/", {"text": "   "})
    assert response.status_code == 400
    assert response.context["form"].errors["text"]
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("大文件.pdf", b"%PDF" + b"0" * 4096, content_type="application/pdf")
    response = client.post(f"/agency/violations/{order.pk}/", {"text": "已整改", "file": big})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert "已整改" in response.content.decode()
    # The reviewer reads the violation; rectifying is the administrators' (the service says so).
    reviewer = signed_in(side.reviewer)
    assert reviewer.get(f"/agency/violations/{order.pk}/").context["form"] is None
    response = reviewer.post(f"/agency/violations/{order.pk}/", {"text": "审核人整改"})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == Violation.Status.OPEN
    assert not Rectification.objects.filter(violation=order).exists()


def test_the_rectification_history_lists_the_agencys_own(busy):
    own, other = busy.world.shanghai, busy.world.jiangsu
    mine = Rectification.objects.get(violation__project=own.project)
    theirs = Rectification.objects.get(violation__project=other.project)
    client = signed_in(own.reviewer)
    response = client.get("/agency/rectifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="rectification-{mine.pk}"' in html
    assert f'id="rectification-{theirs.pk}"' not in html
    text = visible_text(response)
    assert "已补签" in text
    assert "待审核" in text
    assert person_words(text) == []
    assert "没有符合条件的整改记录" in visible_text(
        client.get("/agency/rectifications/", {"outcome": "accepted"})
    )
    response = client.get("/agency/rectifications/", {"deadline_after": "2026-13-01", "q": "季度"})
    assert "请输入日期" in visible_text(response)
    assert 'value="季度"' in response.content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/agency/rectifications/").status_code == 200
    assert len(queries) <= 20


def test_the_violations_list_reads_a_bounded_number_of_queries(busy):
    side = busy.world.shanghai
    client = signed_in(side.main)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/agency/violations/").status_code == 200
        return len(queries)

    before = count()
    for n in range(4):
        om_order(side, f"整改单{n}")
    assert count() == before
    assert before <= 20


# --- Home, CSRF, language -------------------------------------------------------------------------
def test_the_home_links_overdue_plans_and_open_violations_here(busy):
    side = busy.world.shanghai
    order = om_order(side)
    html = signed_in(side.main).get("/agency/").content.decode()
    assert 'href="/om/manage/?view=overdue"' in html
    assert 'href="/agency/violations/?status=open"' in html
    assert f'href="/agency/violations/{order.pk}/"' in html
    nav = signed_in(side.reviewer).get("/agency/").content.decode()
    assert 'href="/om/tasks/"' in nav
    assert 'href="/om/manage/"' in nav


def test_the_writes_need_csrf(busy):
    side = busy.world.shanghai
    order = om_order(side)
    client = signed_in(side.main, csrf=True)
    newcomer = hire(side.agency, ["om_technician"])
    task = side.om_task.pk
    assert (
        client.post(f"/om/tasks/{task}/staff", {"employment": newcomer.pk, "role": "technician"}).status_code
        == 403
    )
    assert (
        client.post(
            f"/om/tasks/{task}/reports", {"name": "x", "category": "monthly", "file": pdf_file()}
        ).status_code
        == 403
    )
    assert client.post(f"/agency/violations/{order.pk}/", {"text": "已整改"}).status_code == 403
    assert not OmTaskStaff.objects.filter(employment=newcomer).exists()
    assert not OmReport.objects.exists()
    assert not Rectification.objects.filter(violation=order).exists()


def test_english_when_chosen(busy):
    side = busy.world.shanghai
    order = om_order(side)
    client = signed_in(side.main)
    client.post("/i18n/setlang/", {"language": "en", "next": "/om/tasks/"})
    text = visible_text(client.get("/om/tasks/"))
    assert "O&M tasks" in text
    assert "In progress" in text
    assert "Wastewater" in text
    text = visible_text(client.get(f"/om/tasks/{side.om_task.pk}/"))
    assert "Field O&M" in text
    assert "Daily" in text
    assert "Upload a report" in text
    text = visible_text(client.get("/om/manage/", {"task": side.om_task.pk, "view": "overdue"}))
    assert "Overdue" in text
    assert "This week" in text
    text = visible_text(client.get(f"/agency/violations/{order.pk}/"))
    assert "To rectify" in text
    assert "Submit the rectification" in text
