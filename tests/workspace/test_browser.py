"""The workspace clicked in a real headless Chromium (tests/support/browser.py): an agency's main
account signs in by typing, finds its flagged photo on its home page and opens it to read the
finding; an enterprise's confirmer signs in and sees the day's record to confirm, on a desktop and on
a phone-sized screen; the regulator and the platform see their overviews. No page asks anything of a
host other than the server (the browser's performance log). Screenshots of each page are kept in
``var/artifacts/workspace/`` (``$ARTIFACTS_DIR/workspace/`` on CI)."""

from __future__ import annotations

import pytest

from server.accounts.models import DeviceToken
from tests.factories import PASSWORD
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls
from tests.workspace.conftest import busy_world
from tests.workspace.test_pages import a_phone

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_each_role_signs_in_and_reads_its_home(browser, live_server, settings):
    from selenium.webdriver.common.by import By

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    busy = busy_world()
    shanghai = busy.world.shanghai
    photo = busy.scenes["shanghai"].photo
    phone = a_phone(shanghai.field_user)  # a colleague's phone: the main account may sign it out
    # htmx replaces a row while a wait reads it: a stale element is read again, not a failure.
    wait = page_wait(browser)
    folder = artefact_dir("workspace")
    seen: list[str] = []

    def shot(name: str) -> None:
        path = folder / f"{name}.png"
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 5_000
        seen.extend(requested_urls(browser))

    def text() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def sign_in(username: str, lands_on: str) -> None:
        browser.get(f"{live_server.url}/")
        wait.until(lambda d: "/sign-in/" in d.current_url)
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
        wait.until(lambda d: d.current_url.endswith(lands_on))

    def sign_out() -> None:
        browser.find_element(By.CSS_SELECTOR, ".topbar form[action='/sign-out/'] button").click()
        wait.until(lambda d: "/sign-in/" in d.current_url)

    # Signed out, / is the sign-in page.
    browser.get(f"{live_server.url}/")
    wait.until(lambda d: "/sign-in/" in d.current_url)
    assert "登录工作台" in text()
    shot("sign-in")

    # The agency's main account: its home lists the flagged photo; the photo's page says why.
    sign_in(shanghai.main.username, "/agency/")
    assert "今日待关注" in text()
    assert shanghai.agency.name in browser.find_element(By.CSS_SELECTOR, ".topbar").text
    assert "机构主账号" in browser.find_element(By.CSS_SELECTOR, ".topbar").text
    shot("agency-home")
    browser.find_element(By.CSS_SELECTOR, f"#photos a[href='/photos/{photo.pk}/']").click()
    wait.until(lambda d: d.current_url.endswith(f"/photos/{photo.pk}/"))
    image = browser.find_element(By.CSS_SELECTOR, "figure.photo img")
    wait.until(
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0;", image)
    )
    body = text()
    assert "不通过" in body
    assert "超出电子围栏" in body
    assert "电子围栏半径（米）" in body  # the evidence, as a table with Chinese labels
    shot("photo")
    browser.find_element(By.LINK_TEXT, "本机构手机").click()
    wait.until(lambda d: d.current_url.endswith("/account/phones/"))
    assert "已登录" in browser.find_element(By.ID, f"device-{phone}").text
    shot("phones")
    # Signed out with htmx: the confirmation asked, the row replaced in place, no page load.
    browser.execute_script("window.notReloaded = true;")
    browser.find_element(By.CSS_SELECTOR, f"#device-{phone} button.danger").click()
    wait.until(lambda d: d.switch_to.alert).accept()
    wait.until(lambda d: "已退出" in d.find_element(By.ID, f"device-{phone}").text)
    assert browser.execute_script("return window.notReloaded === true;")
    assert not DeviceToken.objects.filter(device_id=phone, revoked_at__isnull=True).exists()
    browser.find_element(By.LINK_TEXT, "账号设置").click()
    wait.until(lambda d: d.current_url.endswith("/account/password/"))
    shot("password")
    sign_out()

    # The enterprise's confirmer: yesterday's record awaits its confirmation; on a phone too.
    sign_in(shanghai.enterprise_user.username, "/enterprise/")
    assert "待确认的运维记录" in text()
    assert shanghai.wastewater.name in text()
    shot("enterprise-home")
    browser.set_window_size(390, 844)
    browser.refresh()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.list"))
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1;")
    shot("enterprise-home-phone")
    browser.set_window_size(1280, 900)
    sign_out()

    # The regulator and the platform: counts and the evidence queue.
    sign_in(shanghai.regulator.username, "/regulator/")
    assert "证据队列" in text()
    assert browser.find_elements(By.CSS_SELECTOR, f"a[href='/photos/{photo.pk}/']")
    shot("regulator-home")
    sign_out()
    sign_in(busy.world.platform.username, "/platform/")
    assert "管理后台" in text()
    shot("platform-home")

    seen.extend(requested_urls(browser))
    assert any(url.startswith(live_server.url) for url in seen)
    assert foreign_requests(seen, live_server.url) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
