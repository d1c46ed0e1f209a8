"""The agency's O&M management journey clicked in a real headless Chromium (tests/support/browser.py):
the main account opens 运维任务, its O&M task's page (contract, points, staff, plans, records),
运维管理 and its 超期 tab (htmx, no reload), uploads a monthly report linked to a record, then opens
the rectification order its regulator issued from the home page's count and submits the
rectification with a file. The database says what happened: the report with its bytes and record,
the rectification with its file, the violation waiting for the regulator. Screenshots go to
``var/artifacts/workspace-om-manage/`` (``$ARTIFACTS_DIR/workspace-om-manage/`` on CI)."""

from __future__ import annotations

import hashlib

import pytest

from server.om.models import OmRecord, OmReport
from server.violations.models import Rectification, Violation
from tests.factories import PASSWORD, build_world
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls
from tests.workspace.conftest import om_record
from tests.workspace.om_manage_scene import PDF, om_order

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_agency_manages_its_om_task_and_rectifies_a_violation(browser, live_server, settings, tmp_path):
    import datetime as dt

    from django.utils import timezone
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    world = build_world()
    side = world.shanghai
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    record = om_record(side, OmRecord.Status.CONFIRMED, yesterday)
    order = om_order(side, "运维记录缺少比对数据")
    report_file = tmp_path / "11月运维月报.pdf"
    report_file.write_bytes(PDF)
    proof = tmp_path / "整改说明.pdf"
    proof.write_bytes(b"%PDF-1.4\n% the comparison monitoring was done again\n")
    # A wait may read the page while a posted form's redirect replaces it: read it again then.
    wait = page_wait(browser)
    folder = artefact_dir("workspace-om-manage")
    seen: list[str] = []

    def shot(name: str) -> None:
        path = folder / f"{name}.png"
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 5_000
        seen.extend(requested_urls(browser))

    def css(selector: str):
        return browser.find_element(By.CSS_SELECTOR, selector)

    def text() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def says(words: str):
        return lambda d: words in d.find_element(By.TAG_NAME, "body").text

    browser.get(f"{live_server.url}/")
    wait.until(lambda d: "/sign-in/" in d.current_url)
    browser.find_element(By.NAME, "username").send_keys(side.main.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    css("main button[type=submit]").click()
    wait.until(lambda d: d.current_url.endswith("/agency/"))

    # 运维任务 → the task's page.
    browser.find_element(By.LINK_TEXT, "运维任务").click()
    wait.until(lambda d: d.current_url.endswith("/om/tasks/"))
    assert side.om_task.number in css("#om-task-results").text
    shot("om-tasks")
    css(f"#om-task-{side.om_task.pk} a[href='/om/tasks/{side.om_task.pk}/']").click()
    wait.until(lambda d: d.current_url.endswith(f"/om/tasks/{side.om_task.pk}/"))
    assert side.om_contract.number in css("#contract").text
    assert side.technician.person.name in css("#staff").text
    assert "日常巡检" in css("#plans").text
    assert css(f"#records a[href='/om/records/{record.pk}/']")
    shot("om-task")

    # 运维管理: this week first, then the overdue tab, swapped in without a reload.
    css("a.button[href^='/om/manage/']").click()
    wait.until(lambda d: "/om/manage/" in d.current_url)
    assert css("nav.tabs a[aria-current='page']").text == "本周"
    browser.execute_script("window.notReloaded = true;")
    css("nav.tabs a[data-view='overdue']").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "nav.tabs a[aria-current='page']").text == "超期")
    assert browser.execute_script("return window.notReloaded === true;")
    assert "view=overdue" in browser.current_url
    results = css("#om-manage-results").text
    assert "日常巡检" in results
    assert "超期 2 天" in results  # the day before yesterday: no record
    shot("om-manage-overdue")

    # 上传报告 on the task's page, linked to yesterday's record.
    browser.get(f"{live_server.url}/om/tasks/{side.om_task.pk}/")
    browser.find_element(By.NAME, "name").send_keys("11月运维月报")
    Select(browser.find_element(By.NAME, "category")).select_by_visible_text("月度运维报告")
    browser.find_element(By.NAME, "file").send_keys(str(report_file))
    browser.find_element(By.NAME, "description").send_keys("本月设备运行正常")
    css(f"#reports input[name='records'][value='{record.pk}']").click()
    css("#reports form button.primary").click()
    wait.until(says("报告已上传"))
    assert "11月运维月报.pdf" in css("#reports table").text
    shot("om-report-uploaded")
    report = OmReport.objects.get(task=side.om_task)
    assert (report.name, report.category, report.description) == (
        "11月运维月报",
        "monthly",
        "本月设备运行正常",
    )
    assert report.file_sha256 == hashlib.sha256(PDF).hexdigest()
    assert list(report.records.all()) == [record]
    with report.file.open("rb") as stored:
        assert stored.read() == PDF

    # From the home page's count of open violations to the order, rectified with a file.
    browser.find_element(By.LINK_TEXT, "首页").click()
    wait.until(lambda d: d.current_url.endswith("/agency/"))
    css("a.tile[href='/agency/violations/?status=open']").click()
    wait.until(lambda d: "/agency/violations/" in d.current_url)
    assert "运维记录缺少比对数据" in css("#violation-results").text
    shot("violations-open")
    browser.find_element(By.PARTIAL_LINK_TEXT, "运维记录缺少比对数据").click()
    wait.until(lambda d: d.current_url.endswith(f"/agency/violations/{order.pk}/"))
    # An empty text is said beside the field; nothing is sent.
    css("#rectify button.primary").click()
    wait.until(says("该字段不能为空"))
    assert Violation.objects.get(pk=order.pk).status == Violation.Status.OPEN
    browser.find_element(By.NAME, "text").send_keys("已补做比对监测，结果附后")
    browser.find_element(By.NAME, "file").send_keys(str(proof))
    css("#rectify button.primary").click()
    wait.until(says("整改已提交"))
    assert "整改说明.pdf" in css("#rectifications").text
    assert "已整改" in css("#violation-status").text
    shot("violation-rectified")

    order.refresh_from_db()
    assert order.status == Violation.Status.RECTIFIED
    rectification = Rectification.objects.get(violation=order)
    assert (rectification.text, rectification.file_name, rectification.submitted_by) == (
        "已补做比对监测，结果附后",
        "整改说明.pdf",
        side.main,
    )
    with rectification.file.open("rb") as stored:
        assert stored.read() == proof.read_bytes()

    seen.extend(requested_urls(browser))
    assert any(url.startswith(live_server.url) for url in seen)
    assert foreign_requests(seen, live_server.url) == []
    # The empty rectification above was answered 400 on purpose (the form said why); nothing else.
    refused = (
        f"/agency/violations/{order.pk}/ - Failed to load resource: the server responded with a status of 400"
    )
    severe = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and refused not in entry["message"]
    ]
    assert severe == [], severe
