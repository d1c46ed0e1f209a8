"""Issue F13 clicked in a real headless Chromium (tests/support/browser.py): the agency's main account
edits its accepted O&M contract (the change becomes a 信息变更申请 and the accepted amount stays in
force), the enterprise opens the request from its navigation and accepts it, the agency names a
second form for its daily plan (编辑计划) and finishes the task (完结任务). The database says what
happened at each step. Screenshots go to ``var/artifacts/workspace-om-lifecycle/``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.om.models import ChangeRequest, OmTask, OmTaskEvent
from tests.factories import PASSWORD, build_world
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_contract_change_is_accepted_a_plan_names_its_forms_and_the_task_is_finished(
    browser, live_server, settings
):
    from selenium.webdriver.common.by import By

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    world = build_world()
    side = world.shanghai
    contract, task = side.om_contract, side.om_task
    accepted_amount = contract.amount
    plan = task.plans.get()
    wait = page_wait(browser)
    folder = artefact_dir("workspace-om-lifecycle")
    seen: list[str] = []

    def shot(name: str) -> None:
        path = folder / f"{name}.png"
        assert browser.save_screenshot(str(path))
        seen.extend(requested_urls(browser))

    def css(selector: str):
        return browser.find_element(By.CSS_SELECTOR, selector)

    def says(words: str):
        return lambda d: words in d.find_element(By.TAG_NAME, "body").text

    def sign_in(username: str, lands_on: str) -> None:
        browser.get(f"{live_server.url}/")
        wait.until(lambda d: "/sign-in/" in d.current_url)
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        css("main button[type=submit]").click()
        wait.until(lambda d: d.current_url.endswith(lands_on))

    def sign_out() -> None:
        css(".topbar form[action='/sign-out/'] button").click()
        wait.until(lambda d: "/sign-in/" in d.current_url)

    # The agency edits its accepted contract: a change request, the accepted amount kept.
    sign_in(side.main.username, "/agency/")
    browser.get(f"{live_server.url}/contracts/{contract.pk}/")
    css("#contract-edit").click()
    wait.until(lambda d: d.current_url.endswith(f"/om/contracts/{contract.pk}/edit"))
    amount = browser.find_element(By.NAME, "amount")
    amount.clear()
    amount.send_keys("188000.00")
    browser.find_element(By.NAME, "explanation").send_keys("增加一套氨氮分析仪的运维")
    css("main form button.primary").click()
    wait.until(says("已提交信息变更申请"))
    change = ChangeRequest.objects.get(contract=contract)
    assert (change.status, change.changes) == ("pending", {"amount": "188000.00"})
    contract.refresh_from_db()
    assert contract.amount == accepted_amount
    assert "188000.00" in css("#change-fields").text
    shot("change-asked")
    browser.get(f"{live_server.url}/contracts/{contract.pk}/")
    assert "信息变更申请待确认" in css("#contract-change-pending").text
    sign_out()

    # The enterprise finds it in its navigation and accepts it.
    sign_in(side.enterprise_user.username, "/enterprise/")
    browser.find_element(By.LINK_TEXT, "信息变更申请").click()
    wait.until(lambda d: "/om/changes/" in d.current_url)
    css(f"#change-{change.pk} a").click()
    wait.until(lambda d: d.current_url.endswith(f"/om/changes/{change.pk}/"))
    css("#change-accept").click()
    wait.until(says("已同意变更"))
    assert "已同意" in css("#change-status").text
    shot("change-accepted")
    contract.refresh_from_db()
    assert contract.amount == Decimal("188000.00")
    change.refresh_from_db()
    assert (change.status, list(change.events.values_list("to_status", flat=True))) == (
        "accepted",
        ["pending", "accepted"],
    )
    sign_out()

    # The agency names a second form for its daily plan, then finishes the task.
    sign_in(side.main.username, "/agency/")
    browser.get(f"{live_server.url}/om/tasks/{task.pk}/")
    css(f"#plan-{plan.pk} a[href='/om/plans/{plan.pk}/edit']").click()
    wait.until(lambda d: d.current_url.endswith(f"/om/plans/{plan.pk}/edit"))
    css("#plan-form input[name='template_codes'][value='ww_maintenance_repair']").click()
    shot("plan-edit")
    css("#plan-form button.primary").click()
    wait.until(says("运维计划已保存"))
    plan.refresh_from_db()
    assert sorted(plan.template_codes) == ["ww_daily_inspection", "ww_maintenance_repair"]
    assert "仪器维修维保" in css(f"#plan-{plan.pk}").text
    css("#task-finish").click()
    wait.until(says("任务已完结"))
    assert "已完结" in css("h1").text
    shot("task-finished")
    task.refresh_from_db()
    assert task.status == OmTask.Status.FINISHED
    assert list(OmTaskEvent.objects.filter(task=task).values_list("to_status", "actor")) == [
        ("finished", side.main.pk)
    ]
    # 已完结的任务 lists it.
    browser.get(f"{live_server.url}/om/tasks/?status=finished")
    assert task.number in css("#om-task-results").text

    seen.extend(requested_urls(browser))
    assert foreign_requests(seen, live_server.url) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
