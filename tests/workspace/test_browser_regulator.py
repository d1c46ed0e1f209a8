"""The regulator's journey clicked in a real headless Chromium (tests/support/browser.py): it signs
in by typing, sees its home's charts drawn, opens a flagged photo from the evidence queue and reads
the finding's evidence, goes to a submitted project and returns it with a reason, then opens a
violation on it. What is stored afterwards is read from the database. Screenshots of each page are
kept in ``var/artifacts/workspace/`` (``$ARTIFACTS_DIR/workspace/`` on CI)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from server.fieldwork.models import MonitoringProject, ProjectEvent
from server.violations.models import Violation
from tests.factories import PASSWORD
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls
from tests.workspace.conftest import busy_world
from tests.workspace.test_regulator_pages import filed_agency, submitted

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_regulator_returns_a_project_and_opens_a_violation(browser, live_server, settings):
    from selenium.webdriver.common.by import By

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    busy = busy_world()
    shanghai = busy.world.shanghai
    photo = busy.scenes["shanghai"].photo
    project = submitted(shanghai)
    agency = filed_agency()  # a filing awaiting review, to see its page
    # A wait may read the page while a posted form's redirect replaces it: read it again then.
    wait = page_wait(browser)
    folder = artefact_dir("workspace")
    seen: list[str] = []

    def shot(name: str) -> None:
        path = folder / f"regulator-{name}.png"
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 5_000
        seen.extend(requested_urls(browser))

    def text() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def go(link_text: str, lands_on: str) -> None:
        browser.find_element(By.LINK_TEXT, link_text).click()
        wait.until(lambda d: d.current_url.split("?")[0].endswith(lands_on))

    # Signs in by typing; the home's three charts are drawn (ECharts paints a canvas in each).
    browser.get(f"{live_server.url}/")
    wait.until(lambda d: "/sign-in/" in d.current_url)
    browser.find_element(By.NAME, "username").send_keys(shanghai.regulator.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    wait.until(lambda d: d.current_url.endswith("/regulator/"))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "figure.chart canvas")) >= 3)
    assert "统计图表" in text()
    shot("home")

    # The flagged photo, from the evidence queue: the finding and its evidence in Chinese.
    browser.find_element(By.CSS_SELECTOR, f"main a[href='/photos/{photo.pk}/']").click()
    wait.until(lambda d: d.current_url.endswith(f"/photos/{photo.pk}/"))
    body = text()
    assert "不通过" in body
    assert "超出电子围栏" in body
    assert "电子围栏半径（米）" in body
    shot("photo")

    # The submitted project, returned with a reason.
    go("项目审核", "/regulator/projects/")
    assert project.name in text()
    shot("projects")
    go(project.name, f"/regulator/projects/{project.pk}/")
    assert "未完成 → 已提交" in text()
    browser.find_element(By.NAME, "reason").send_keys("采样记录缺少现场照片")
    browser.find_element(By.CSS_SELECTOR, "#decide button[value=return]").click()
    wait.until(lambda d: "项目已退回" in d.find_element(By.TAG_NAME, "body").text)
    assert browser.find_element(By.ID, "project-status").text == "已退回"
    shot("project-returned")

    # A violation on it: a description and a deadline, typed into the date field.
    go("开具违规", "/regulator/violations/new/")
    deadline = timezone.localdate() + dt.timedelta(days=14)
    browser.find_element(By.NAME, "description").send_keys("现场采样照片与点位不符")
    field = browser.find_element(By.NAME, "deadline")
    # The date field's parts are in the browser's locale order (year first in Chinese).
    year_first = browser.execute_script("return navigator.language;").lower().startswith("zh")
    parts = ("%Y", "%m", "%d") if year_first else ("%m", "%d", "%Y")
    field.send_keys(*(deadline.strftime(part) for part in parts))
    assert field.get_attribute("value") == deadline.isoformat()
    shot("violation-new")
    browser.find_element(By.CSS_SELECTOR, "main form button.primary").click()
    wait.until(lambda d: "/regulator/violations/" in d.current_url and "/new/" not in d.current_url)
    assert "违规已开具" in text()
    shot("violation")
    go("违规整改", "/regulator/violations/")
    assert "现场采样照片与点位不符" in text()
    shot("violations")
    go("备案审查", "/regulator/filings/")
    shot("filings")
    go(agency.name, f"/regulator/filings/{agency.pk}/")
    assert "草稿 → 已提交" in text()
    shot("filing")

    # What is stored.
    project.refresh_from_db()
    assert project.status == MonitoringProject.Status.RETURNED
    assert project.return_reason == "采样记录缺少现场照片"
    event = ProjectEvent.objects.filter(project=project).latest("at", "id")
    assert (event.to_status, event.actor_id) == (MonitoringProject.Status.RETURNED, shanghai.regulator.pk)
    violation = Violation.objects.get(description="现场采样照片与点位不符")
    assert violation.project_id == project.pk
    assert violation.deadline == deadline
    assert violation.opened_by_id == shanghai.regulator.pk
    assert violation.status == Violation.Status.OPEN

    seen.extend(requested_urls(browser))
    assert foreign_requests(seen, live_server.url) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
