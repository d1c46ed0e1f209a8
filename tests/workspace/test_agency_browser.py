"""The agency office journey clicked in a real headless Chromium (tests/support/browser.py): the main
account proposes a contract to an enterprise by its credit code, creates a reviewer sub-account for
a person on its staff, edits its filing (a change of the legal representative waits beside the
approved value), reads the regulator's return reason and submits the filing again; the enterprise's
confirmer then finds the proposed contract in 委托合同 and accepts it. What is stored is asserted in
the database; no page asks anything of another server. Screenshots in
``var/artifacts/workspace-agency/`` (``$ARTIFACTS_DIR/workspace-agency/`` on CI)."""

from __future__ import annotations

import pytest

from server.accounts.models import Role, User
from server.registry.models import Agency, AgencyFilingEvent, Contract, ContractAcceptanceEvent
from server.registry.services import agency_transition
from tests.factories import PASSWORD, build_world, hire
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
F = Agency.FilingStatus


def test_the_main_account_keeps_its_office_and_the_enterprise_accepts(browser, live_server, settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    world = build_world()
    side, other = world.shanghai, world.jiangsu
    staff = hire(side.agency, ["om_reviewer"], name="孙审核")
    wait = page_wait(browser)
    folder = artefact_dir("workspace-agency")
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
        # Read the page again on each try: a posted form's redirect replaces it.
        wait.until(lambda d: words in d.find_element(By.TAG_NAME, "body").text)

    def type_into(name: str, value: str) -> None:
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)

    def sign_in(username: str, lands_on: str) -> None:
        browser.get(f"{live_server.url}/")
        wait.until(lambda d: "/sign-in/" in d.current_url)
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        css("main button[type=submit]").click()
        wait.until(lambda d: d.current_url.endswith(lands_on))

    # The main account proposes a contract to the Jiangsu enterprise, named by its credit code.
    sign_in(side.main.username, "/agency/")
    browser.find_element(By.LINK_TEXT, "合同管理").click()
    wait.until(lambda d: d.current_url.endswith("/contracts/"))
    assert side.monitoring_contract.number in text()
    browser.find_element(By.LINK_TEXT, "新增合同").click()
    wait.until(lambda d: d.current_url.endswith("/contracts/new/"))
    type_into("credit_code", other.enterprise.credit_code)
    Select(browser.find_element(By.NAME, "nature")).select_by_visible_text("监测")
    type_into("number", "JC-2027-031")
    type_into("title", "2027 年废水委托监测协议")
    type_into("amount", "32000")
    # The date input takes what the keyboard types in the browser's locale; set it as the form sends it.
    for name, day in (("starts_on", "2027-01-01"), ("ends_on", "2027-12-31")):
        browser.execute_script("arguments[0].value = arguments[1];", browser.find_element(By.NAME, name), day)
    shot("contract-new")
    css("main form button.primary").click()
    says("合同已提交，等待委托企业确认")
    contract = Contract.objects.get(agency=side.agency, number="JC-2027-031")
    assert browser.current_url.endswith(f"/contracts/{contract.pk}/")
    assert css("#contract-acceptance").text == "待企业确认"
    assert "企业确认合同后才能看到其排口" in css("#outlets").text
    shot("contract-proposed")

    # A reviewer sub-account for a person on the staff.
    browser.find_element(By.LINK_TEXT, "账号管理").click()
    wait.until(lambda d: d.current_url.endswith("/agency/accounts/"))
    type_into("username", "sun.review")
    type_into("password", "Sun-review-2026!")
    Select(css("#account-new select[name=role]")).select_by_value(Role.AGENCY_REVIEWER)
    person = Select(browser.find_element(By.NAME, "employment"))
    person.select_by_visible_text(next(o.text for o in person.options if o.text.startswith("孙审核")))
    type_into("phone", "13900001111")
    shot("account-new")
    css("#account-new button.primary").click()
    says("账号 sun.review 已创建")
    account = User.objects.get(username="sun.review")
    assert "sun.review" in css("#account-results").text
    assert "孙审核" in css(f"#account-{account.pk}").text
    shot("accounts")

    # The filing: a change of the legal representative waits beside the approved value.
    browser.find_element(By.LINK_TEXT, "机构备案").click()
    wait.until(lambda d: d.current_url.endswith("/agency/filing/"))
    assert css("#filing-status").text == "审查通过"
    browser.find_element(By.LINK_TEXT, "修改备案信息").click()
    wait.until(lambda d: d.current_url.endswith("/agency/filing/edit/"))
    type_into("legal_representative", "周敏")
    type_into("contact_name", "吴联络")
    type_into("contact_phone", "021-64001234")
    css("main form button.primary").click()
    says("须经监管方审查通过后生效")
    pending = css("#filing-data tr.pending").text
    assert "王强" in pending
    assert "周敏" in pending
    assert css("#filing-status").text == "变更待审"
    shot("filing-pending")

    # The regulator returns the change (its own page is tested with the regulator's journey).
    agency_transition(
        agency=Agency.objects.get(pk=side.agency.pk),
        to=F.RETURNED,
        actor=side.regulator,
        reason="请附法定代表人身份证明",
    )
    browser.refresh()
    says("请附法定代表人身份证明")
    assert "退回原因" in css("#return-reason").text
    assert "变更待审 → 已退回" in css("#filing-history").text
    shot("filing-returned")
    css("form.submit-form button").click()
    says("备案已重新提交")
    assert css("#filing-status").text == "已提交"
    assert not browser.find_elements(By.LINK_TEXT, "修改备案信息")  # locked while under review
    shot("filing-submitted")
    agency = Agency.objects.get(pk=side.agency.pk)
    assert agency.filing_status == F.SUBMITTED
    assert agency.legal_representative == "王强"  # approved value until the regulator approves
    assert agency.pending_changes == {"legal_representative": "周敏"}
    assert (agency.contact_name, agency.contact_phone) == ("吴联络", "021-64001234")
    moves = list(
        AgencyFilingEvent.objects.filter(agency=agency).order_by("at", "id").values_list("to_status", "actor")
    )
    assert moves[-3:] == [
        (F.CHANGED, side.main.pk),
        (F.RETURNED, side.regulator.pk),
        (F.SUBMITTED, side.main.pk),
    ]
    assert (account.role, account.person, account.agency, account.is_active) == (
        Role.AGENCY_REVIEWER,
        staff.person,
        side.agency,
        True,
    )
    css(".topbar form[action='/sign-out/'] button").click()
    wait.until(lambda d: "/sign-in/" in d.current_url)

    # The enterprise's confirmer finds the proposal and accepts it.
    sign_in(other.enterprise_user.username, "/enterprise/")
    browser.find_element(By.LINK_TEXT, "委托合同").click()
    wait.until(lambda d: d.current_url.endswith("/contracts/"))
    Select(browser.find_element(By.NAME, "acceptance")).select_by_visible_text("待企业确认")
    css("form.filter button[type=submit]").click()
    wait.until(lambda d: "acceptance=proposed" in d.current_url)
    assert other.monitoring_contract.number not in css("#contract-results").text
    shot("enterprise-contracts")
    browser.find_element(By.LINK_TEXT, "2027 年废水委托监测协议").click()
    wait.until(lambda d: d.current_url.endswith(f"/contracts/{contract.pk}/"))
    assert side.agency.name in text()
    shot("enterprise-contract")
    css("form.accept-form button").click()
    says("合同已确认")
    assert css("#contract-acceptance").text == "已确认"
    assert "待企业确认 → 已确认" in css("#history").text
    shot("enterprise-accepted")
    contract.refresh_from_db()
    assert contract.acceptance == Contract.Acceptance.ACCEPTED
    assert (contract.enterprise, str(contract.amount)) == (other.enterprise, "32000.00")
    assert list(
        ContractAcceptanceEvent.objects.filter(contract=contract).values_list("to_status", "actor")
    ) == [(Contract.Acceptance.ACCEPTED, other.enterprise_user.pk)]

    seen.extend(requested_urls(browser))
    assert any(url.startswith(live_server.url) for url in seen)
    assert foreign_requests(seen, live_server.url) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
