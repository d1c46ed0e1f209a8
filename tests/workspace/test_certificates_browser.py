"""Issue 23, clicked in a real headless Chromium: a regulator searches its region's certificate
holders by post (持证查询), reads masked ID numbers and the agency's region by name, and exports what
it found; a reviewer changes the bound phone number and the password on 账号设置 and signs in again
with the new password. What is stored afterwards is read from the database."""

from __future__ import annotations

import csv
import io

import pytest

from server.accounts.models import User
from server.registry.identifiers import mask_resident_id
from server.registry.models import Certificate
from tests.factories import PASSWORD, build_world
from tests.support.browser import artefact_dir, page_wait

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
NEW_PASSWORD = "Xuhui-Riverside-2026!"


def test_certificate_search_and_account_settings(browser, live_server, settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    world = build_world()
    side = world.shanghai
    wait = page_wait(browser)
    folder = artefact_dir("workspace")

    def shot(name: str) -> None:
        path = folder / f"certificates-{name}.png"
        assert browser.save_screenshot(str(path))

    def text() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def sign_in(username: str, password: str, lands_on: str) -> None:
        browser.get(f"{live_server.url}/sign-in/")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
        wait.until(lambda d: d.current_url.endswith(lands_on))

    def sign_out() -> None:
        browser.find_element(By.CSS_SELECTOR, ".topbar form[action='/sign-out/'] button").click()
        wait.until(lambda d: "/sign-in/" in d.current_url)

    # The regulator: 持证查询 by post category.
    sign_in(side.regulator.username, PASSWORD, "/regulator/")
    browser.find_element(By.LINK_TEXT, "持证查询").click()
    wait.until(lambda d: d.current_url.endswith("/certificates/"))
    Select(browser.find_element(By.NAME, "post")).select_by_value("sampler")
    browser.find_element(By.CSS_SELECTOR, "form.filter:not(.id-search) button[type=submit]").click()
    wait.until(lambda d: "post=sampler" in d.current_url)
    person = side.sampler.person
    body = text()
    assert person.name in body
    assert mask_resident_id(person.id_number) in body
    assert person.id_number not in browser.page_source
    assert "上海市徐汇区" in body
    assert "共 1 张" in body
    shot("search")
    # The export the page links to, fetched with the page's own session.
    href = browser.find_element(By.CSS_SELECTOR, "a.certificates-export-csv").get_attribute("href")
    exported = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text()).then(done, e => done('failed: ' + e));",
        href,
    )
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[1][1] == mask_resident_id(person.id_number)
    assert rows[1][3] == Certificate.objects.get(person=person).number
    sign_out()

    # The reviewer: a new phone number, then a new password, then signing in with it.
    reviewer = side.reviewer
    sign_in(reviewer.username, PASSWORD, "/agency/")
    browser.find_element(By.LINK_TEXT, "账号设置").click()
    wait.until(lambda d: d.current_url.endswith("/account/password/"))
    browser.find_element(By.NAME, "phone").send_keys("139 1234 5678")
    browser.find_element(By.CSS_SELECTOR, "#phone-settings input[name=password]").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#phone-settings button[type=submit]").click()
    wait.until(lambda d: "绑定手机号已更换" in d.find_element(By.TAG_NAME, "body").text)
    assert browser.find_element(By.ID, "current-phone").text == "13912345678"
    browser.find_element(By.NAME, "old_password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "new_password1").send_keys(NEW_PASSWORD)
    browser.find_element(By.NAME, "new_password2").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#password-settings button[type=submit]").click()
    wait.until(lambda d: "密码已修改" in d.find_element(By.TAG_NAME, "body").text)
    shot("account-settings")
    sign_out()
    sign_in(reviewer.username, NEW_PASSWORD, "/agency/")
    stored = User.objects.get(pk=reviewer.pk)
    assert stored.phone == "13912345678"
    assert stored.check_password(NEW_PASSWORD)
