"""[F13] 项目登记 clicked in a real headless Chromium (tests/support/browser.py): the agency's main
account deletes a project registered by mistake (confirmed; gone from the list, its history kept),
registers a hazardous-waste identification project with the seed's fields, attaches its contract
and 鉴别方案, is refused at submission for the missing 鉴别报告 (named on the page), attaches it
(the checklist complete) and submits; returned by the regulator, the project is edited and its
deletion is not offered (its task holds field records). The database is read after each step.
Screenshots in ``var/artifacts/workspace/``."""

from __future__ import annotations

import pytest

from server.fieldwork.models import MonitoringProject, ProjectAttachment, ProjectEvent
from server.fieldwork.services import project_create, project_transition
from tests.factories import PASSWORD, build_world
from tests.fieldwork.helpers import ended_task
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
S = MonitoringProject.Status


def test_a_hazardous_waste_project_is_registered_checked_submitted_edited(
    browser, live_server, settings, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    side = build_world().shanghai
    mistaken = project_create(
        agency=side.agency,
        actor=side.main,
        number="ERR-001",
        name="登记错了的项目",
        monitoring_type="noise",
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
    )
    files = {}
    for kind, name in (
        ("contract", "委托监测合同.pdf"),
        ("identification_plan", "危废鉴别方案.pdf"),
        ("identification_report", "危废鉴别报告.pdf"),
    ):
        files[kind] = tmp_path / name
        files[kind].write_bytes(f"%PDF-1.4\n% {name}\n".encode() + bytes(range(256)) * 4)
    wait = page_wait(browser)
    folder = artefact_dir("workspace")
    seen: list[str] = []

    def shot(name: str) -> None:
        assert browser.save_screenshot(str(folder / f"{name}.png"))
        seen.extend(requested_urls(browser))

    def css(selector: str):
        return browser.find_element(By.CSS_SELECTOR, selector)

    def text() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def says(words: str) -> None:
        wait.until(lambda d: words in d.find_element(By.TAG_NAME, "body").text)

    def attach(kind: str) -> None:
        Select(browser.find_element(By.NAME, "kind")).select_by_value(kind)
        browser.find_element(By.NAME, "file").send_keys(str(files[kind]))
        css("#attachments form.inline-form button[type=submit]").click()
        says("附件已上传")

    browser.get(f"{live_server.url}/")
    wait.until(lambda d: "/sign-in/" in d.current_url)
    browser.find_element(By.NAME, "username").send_keys(side.main.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    css("main button[type=submit]").click()
    wait.until(lambda d: d.current_url.endswith("/agency/"))

    # The project registered by mistake: 删除项目, confirmed; the list no longer holds it.
    browser.get(f"{live_server.url}/projects/{mistaken.pk}/")
    css("#project-delete summary").click()
    browser.find_element(By.ID, "delete-reason").send_keys("重复登记")
    css("#project-delete button.danger").click()
    says("已删除，其记录仍保留")
    assert browser.current_url.endswith("/projects/")
    assert "ERR-001" not in css("#project-results").text
    mistaken.refresh_from_db()
    assert mistaken.status == S.DELETED
    assert list(ProjectEvent.objects.filter(project=mistaken).values_list("to_status", "reason")) == [
        ("deleted", "重复登记")
    ]

    # 登记项目 with the seed's fields.
    browser.find_element(By.LINK_TEXT, "登记项目").click()
    wait.until(lambda d: d.current_url.endswith("/projects/new/"))
    Select(browser.find_element(By.NAME, "contract")).select_by_value(str(side.monitoring_contract.pk))
    browser.find_element(By.NAME, "number").send_keys("HW-2026-007")
    browser.find_element(By.NAME, "name").send_keys("污泥危险特性鉴别")
    Select(browser.find_element(By.NAME, "monitoring_type")).select_by_visible_text("危险废物鉴别")
    browser.find_element(By.NAME, "monitoring_items").send_keys("浸出毒性、腐蚀性")
    Select(browser.find_element(By.NAME, "commission_category")).select_by_visible_text("危险废物鉴别")
    browser.find_element(By.NAME, "client_contact").send_keys("王经理")
    browser.find_element(By.NAME, "client_phone").send_keys("028-86123456")
    browser.find_element(By.NAME, "training_content").send_keys("鉴别采样规范培训")
    shot("project-rules-new")
    css("main form button.primary").click()
    says("项目已登记")
    project = MonitoringProject.objects.get(agency=side.agency, number="HW-2026-007")
    assert (project.monitoring_type, project.monitoring_items) == ("hazardous_waste", ["浸出毒性", "腐蚀性"])
    assert (project.commission_category, project.client_phone) == ("hazardous_identification", "028-86123456")
    checklist = css("#required-attachments").text
    assert "危险废物鉴别方案" in checklist
    assert "危险废物鉴别报告" in checklist
    assert len(browser.find_elements(By.CSS_SELECTOR, "#required-attachments li.missing")) == 3

    # The contract and the plan; the sampler's task ended on the phone (set up, not clicked here).
    attach("contract")
    attach("identification_plan")
    ended_task(side, project)
    css("form.submit-form button").click()
    says("提交前须上传以下附件：危险废物鉴别报告")
    project.refresh_from_db()
    assert project.status == S.UNFINISHED
    assert [
        li.get_attribute("data-kind")
        for li in browser.find_elements(By.CSS_SELECTOR, "#required-attachments li.missing")
    ] == ["identification_report"]
    shot("project-rules-refused")

    # The report, then 提交审核.
    browser.get(f"{live_server.url}/projects/{project.pk}/")
    attach("identification_report")
    assert not browser.find_elements(By.CSS_SELECTOR, "#required-attachments li.missing")
    css("form.submit-form button").click()
    says("项目已提交审核")
    project.refresh_from_db()
    assert project.status == S.SUBMITTED
    assert sorted(
        ProjectAttachment.objects.filter(project=project, deleted_at__isnull=True).values_list(
            "kind", flat=True
        )
    ) == ["contract", "identification_plan", "identification_report"]

    # Returned: 编辑 changes it; its deletion is not offered, and why is said.
    project_transition(project=project, to=S.RETURNED, actor=side.regulator, reason="鉴别报告缺少签章页")
    browser.get(f"{live_server.url}/projects/{project.pk}/")
    assert "鉴别报告缺少签章页" in css("#return-reason").text
    assert "现场记录须留存，不能删除" in css("#not-deletable").text
    assert not browser.find_elements(By.ID, "project-delete")
    browser.find_element(By.ID, "project-edit").click()
    wait.until(lambda d: d.current_url.endswith(f"/projects/{project.pk}/edit/"))
    name = browser.find_element(By.NAME, "name")
    assert name.get_attribute("value") == "污泥危险特性鉴别"
    name.clear()
    name.send_keys("污泥危险特性鉴别（补充签章）")
    css("main form button.primary").click()
    says("项目信息已保存")
    project.refresh_from_db()
    assert (project.name, project.status) == ("污泥危险特性鉴别（补充签章）", S.RETURNED)
    assert project.monitoring_items == ["浸出毒性", "腐蚀性"]  # what was not changed stays
    shot("project-rules-edited")

    seen.extend(requested_urls(browser))
    assert foreign_requests(seen, live_server.url) == []
    refused = (
        f"/projects/{project.pk}/submit - Failed to load resource: the server responded with a status of 409"
    )
    severe = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and refused not in entry["message"]  # the refusal, as meant
    ]
    assert severe == [], severe
