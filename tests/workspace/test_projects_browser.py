"""The agency's projects journey clicked in a real headless Chromium (tests/support/browser.py): the
main account opens 监测项目, registers a project by typing and choosing in the form, uploads its
contract, submits it; the database then holds the project as submitted with its attachment, and the
regional regulator finds it in its list (项目审核) and opens its attachments. The agency also searches
its projects (htmx, no reload) and opens a monitoring task's page: photos by stage, and the task's
track and check-ins drawn on the Leaflet map while every base-map tile fails. Screenshots in
``var/artifacts/workspace/`` (``$ARTIFACTS_DIR/workspace/`` on CI)."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket

import pytest
from django.utils import timezone

from server.fieldwork.models import MonitoringProject, ProjectAttachment, ProjectEvent
from server.fieldwork.services import task_transition
from tests.factories import PASSWORD, build_world
from tests.fieldwork.helpers import ended_task
from tests.maps.helpers import field_day
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def refused_port() -> int:
    """A loopback port nothing listens on: every tile request is refused, network or not."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_agency_registers_a_project_and_submits_it(browser, live_server, settings, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    tiles = f"http://127.0.0.1:{refused_port()}"
    settings.MAP_TILE_URL = tiles + "/{z}/{x}/{y}.png"
    world = build_world()
    side = world.shanghai
    scene = field_day(side, name="进水口采样")  # a task of the side's existing project, for its page
    for minutes, to in ((36, "running"), (27, "paused"), (24, "running")):
        task_transition(
            actor=side.field_user, task=scene.task, to=to, at=timezone.now() - dt.timedelta(minutes=minutes)
        )
    contract_file = tmp_path / "委托监测合同.pdf"
    contract_file.write_bytes(b"%PDF-1.4\n% the signed monitoring contract\n" + bytes(range(256)) * 8)
    wait = page_wait(browser)
    folder = artefact_dir("workspace")
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

    def sign_in(username: str, lands_on: str) -> None:
        browser.get(f"{live_server.url}/")
        wait.until(lambda d: "/sign-in/" in d.current_url)
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        css("main button[type=submit]").click()
        wait.until(lambda d: d.current_url.endswith(lands_on))

    # The main account opens 监测项目 and registers a project.
    sign_in(side.main.username, "/agency/")
    browser.find_element(By.LINK_TEXT, "监测项目").click()
    wait.until(lambda d: d.current_url.endswith("/projects/"))
    assert side.project.number in text()
    browser.find_element(By.LINK_TEXT, "登记项目").click()
    wait.until(lambda d: d.current_url.endswith("/projects/new/"))
    contract = Select(browser.find_element(By.NAME, "contract"))
    assert side.monitoring_contract.number in contract.options[1].text
    assert side.enterprise.name in contract.options[1].text
    contract.select_by_value(str(side.monitoring_contract.pk))
    browser.find_element(By.NAME, "number").send_keys("JC-2026-018")
    browser.find_element(By.NAME, "name").send_keys("2026 年二季度废水委托监测")
    Select(browser.find_element(By.NAME, "monitoring_type")).select_by_visible_text("水和废水")
    shot("project-new")
    css("main form button.primary").click()
    wait.until(lambda d: "项目已登记" in d.find_element(By.TAG_NAME, "body").text)
    project = MonitoringProject.objects.get(agency=side.agency, number="JC-2026-018")
    ended_task(side, project)  # submitted only with an ended task (project_no_task_done)
    assert browser.current_url.endswith(f"/projects/{project.pk}/")
    assert "提交前须上传合同附件" in text()

    # The contract, uploaded (the first kind offered is 合同).
    assert Select(browser.find_element(By.NAME, "kind")).first_selected_option.text == "合同"
    browser.find_element(By.NAME, "file").send_keys(str(contract_file))
    css("#attachments form button[type=submit]").click()
    wait.until(lambda d: "附件已上传" in d.find_element(By.TAG_NAME, "body").text)
    assert "委托监测合同.pdf" in css("#attachments table").text
    shot("project-attached")

    # Submitted for review.
    css("form.submit-form button").click()
    wait.until(lambda d: "项目已提交审核" in d.find_element(By.TAG_NAME, "body").text)
    assert css("#project-status").text == "已提交"
    assert "未完成 → 已提交" in css("#history").text
    shot("project-submitted")

    # What is stored: the project as registered and submitted, its attachment as uploaded.
    project.refresh_from_db()
    assert project.status == MonitoringProject.Status.SUBMITTED
    assert (project.name, project.monitoring_type) == ("2026 年二季度废水委托监测", "water")
    assert (project.enterprise, project.contract) == (side.enterprise, side.monitoring_contract)
    assert project.region_code == side.enterprise.region_code
    attachment = ProjectAttachment.objects.get(project=project)
    data = contract_file.read_bytes()
    assert (attachment.kind, attachment.name, attachment.size) == ("contract", "委托监测合同.pdf", len(data))
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    with attachment.file.open("rb") as stored:
        assert stored.read() == data
    assert list(ProjectEvent.objects.filter(project=project).values_list("to_status", "actor")) == [
        ("submitted", side.main.pk)
    ]

    # The list, searched with htmx (no page load): the submitted project, and the older one's task.
    browser.find_element(By.LINK_TEXT, "监测项目").click()
    wait.until(lambda d: d.current_url.endswith("/projects/"))
    browser.execute_script("window.notReloaded = true;")
    search = browser.find_element(By.NAME, "q")
    search.send_keys(side.project.number)
    css("form.filter button[type=submit]").click()
    wait.until(lambda d: "JC-2026-018" not in d.find_element(By.ID, "project-results").text)
    assert browser.find_element(By.NAME, "q").get_attribute("value") == side.project.number
    assert side.project.number in css("#project-results").text
    assert browser.execute_script("return window.notReloaded === true;")
    assert f"q={side.project.number}" in browser.current_url  # the search is in the address
    browser.find_element(By.LINK_TEXT, side.project.name).click()
    wait.until(lambda d: d.current_url.endswith(f"/projects/{side.project.pk}/"))
    browser.find_element(By.LINK_TEXT, "进水口采样").click()
    wait.until(lambda d: d.current_url.endswith(f"/tasks/{scene.task.pk}/"))
    thumb = css(f"#stage-sampling a[href='/photos/{scene.photo.pk}/'] img")
    wait.until(
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0;", thumb)
    )
    assert "不通过" in css("#stage-sampling").text
    moves = [
        item.find_element(By.TAG_NAME, "strong").text
        for item in browser.find_elements(By.CSS_SELECTOR, "#events li")
    ]
    assert moves == ["开始", "暂停", "继续"]
    task_map = wait.until(
        lambda d: d.find_element(By.ID, "task-map").get_attribute("data-state") != "loading" and d
    ).find_element(By.ID, "task-map")
    assert task_map.get_attribute("data-state") == "ready", css("#map-status").text
    assert task_map.size["height"] >= 250  # leaflet.extras.css's height 100% does not fold it away
    wait.until(lambda d: d.find_element(By.ID, "task-map").get_attribute("data-tiles") == "failed")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#task-map path.ft-track")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#task-map path.ft-checkin-dot")) == 2
    assert "签到 2" in css("#map-status").text
    shot("task")
    browser.execute_script("document.getElementById('map-card').scrollIntoView();")
    shot("task-map")
    css(".topbar form[action='/sign-out/'] button").click()
    wait.until(lambda d: "/sign-in/" in d.current_url)

    # The regulator of the region finds it in its list of projects to review, with its attachment.
    sign_in(side.regulator.username, "/regulator/")
    browser.find_element(By.LINK_TEXT, "项目审核").click()
    wait.until(lambda d: "/regulator/projects/" in d.current_url)
    assert "JC-2026-018" in text()
    browser.find_element(By.LINK_TEXT, "2026 年二季度废水委托监测").click()
    wait.until(lambda d: d.current_url.endswith(f"/regulator/projects/{project.pk}/"))
    css("#project-full").click()
    wait.until(lambda d: d.current_url.endswith(f"/projects/{project.pk}/"))
    assert "委托监测合同.pdf" in css("#attachments").text
    assert not browser.find_elements(By.CSS_SELECTOR, "form.submit-form, #attachments form")  # read-only
    shot("project-regulator")

    seen.extend(requested_urls(browser))
    assert any(url.startswith(live_server.url) for url in seen)
    assert [url for url in foreign_requests(seen, live_server.url) if not url.startswith(tiles)] == []
    severe = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and not entry["message"].startswith(tiles)  # the refused tiles
    ]
    assert severe == [], severe
