"""The field app (外业端, /app/) in a real headless Chromium on a phone-sized screen
(tests/support/browser.py): a sampler signs in, the service worker keeps the app, the phone goes
offline (the DevTools protocol), the app is reopened from the cache, a task is created and started
and a real phone photo taken through the file input with the position set by the DevTools protocol;
all of it waits on the phone; online again, it is sent, and the database holds the task, its move
and the photo (its file byte for byte, its capture fix), each exactly once. Screenshots go to
``var/artifacts/field-app/`` (``$ARTIFACTS_DIR/field-app/`` on CI)."""

from __future__ import annotations

from contextlib import closing

import pytest

from media_rules.models import Blob, Photo
from mobile_api.photos import open_stored
from server.accounts.models import DeviceToken
from server.accounts.services import token_revoke
from server.fieldwork.models import MonitoringTask, TaskEvent
from sync.models import Operation
from tests.factories import PASSWORD, build_world
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls
from tests.workspace.om_scene import PHONE_PHOTO

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
ONLINE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


class Phone:
    """The browser as a phone: a 390x844 window, a position, geolocation granted, and the steps the
    tests take on it (wait with what the page showed on a timeout, click a label, a screenshot)."""

    def __init__(self, driver, origin: str, lon: float, lat: float):

        self.browser, self.origin, self.app = driver, origin, f"{origin}/app/"
        # The app re-renders as the sync moves: a wait may read an element just replaced.
        self.waiter = page_wait(driver)
        self.folder = artefact_dir("field-app")
        self.seen: list[str] = []
        driver.set_window_size(390, 844)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]})
        driver.execute_cdp_cmd(
            "Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": 8}
        )

    def until(self, condition):
        from selenium.common.exceptions import TimeoutException

        try:
            return self.waiter.until(condition)
        except TimeoutException:
            self.shot("timeout")
            raise AssertionError(
                f"at {self.browser.current_url}: {self.text()}\nconsole: {self.browser.get_log('browser')}"
            ) from None

    def shot(self, name: str) -> None:
        path = self.folder / f"{name}.png"
        assert self.browser.save_screenshot(str(path))
        assert path.stat().st_size > 5_000
        self.seen.extend(requested_urls(self.browser))

    def text(self) -> str:
        from selenium.webdriver.common.by import By

        return self.browser.find_element(By.TAG_NAME, "body").text

    def click(self, label: str) -> None:
        """Click the enabled link or button named ``label``, waiting for it: the app redraws as the
        sync moves, so an element found may be replaced before it is read (found again then)."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        def attempt(driver) -> bool:
            try:
                for element in driver.find_elements(By.CSS_SELECTOR, "main a, main button"):
                    if element.text.strip() == label and element.is_enabled():
                        # Centred: the app's bar stays on top of the page and would take a click at its edge.
                        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
                        element.click()
                        return True
            except StaleElementReferenceException:
                pass
            return False

        self.until(attempt)

    def all_sent(self) -> None:
        """Wait on the home screen for a sync that left nothing to send and no file to upload."""
        from selenium.webdriver.common.by import By

        self.until(
            lambda d: (
                d.find_element(By.ID, "sync-queued").text == "0 项"
                and d.find_element(By.ID, "sync-uploads").text == "0 张"
                and "空闲" in d.find_element(By.ID, "sync-phase").text
            )
        )

    def network(self, conditions: dict) -> None:
        self.browser.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)

    def sign_in(self, username: str) -> None:
        from selenium.webdriver.common.by import By

        self.until(lambda d: d.find_elements(By.ID, "sign-in"))
        self.browser.find_element(By.NAME, "username").send_keys(username)
        self.browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.browser.find_element(By.CSS_SELECTOR, "#sign-in button[type=submit]").click()
        # Home, after the first sync: the projects and photo types the phone needs offline are kept.
        self.until(lambda d: d.current_url == self.app and "从未同步" not in self.text())
        self.until(lambda d: "空闲" in d.find_element(By.ID, "sync-phase").text)

    def create_task(self, project_id: int, name: str, codes: str = "", shot: str = "") -> str:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        self.click("添加监测任务")
        self.until(lambda d: d.find_elements(By.ID, "task-new"))
        Select(self.browser.find_element(By.NAME, "project")).select_by_value(str(project_id))
        self.browser.find_element(By.NAME, "name").send_keys(name)
        if codes:
            self.browser.find_element(By.NAME, "sample_codes").send_keys(codes)
        if shot:
            self.shot(shot)
        self.browser.find_element(By.CSS_SELECTOR, "#task-new button[type=submit]").click()
        self.until(lambda d: "/app/tasks/" in d.current_url and name in self.text())
        return self.browser.current_url.rsplit("/", 1)[1]

    def foreign(self) -> list[str]:
        return foreign_requests(self.seen + requested_urls(self.browser), self.origin)


def test_a_sampler_works_offline_in_the_app_and_it_reaches_the_server_once(browser, live_server):
    from selenium.webdriver.common.by import By

    side = build_world().shanghai
    user, project, outlet = side.field_user, side.project, side.wastewater
    lon, lat = outlet.location.x + 0.0003, outlet.location.y + 0.0002
    phone = Phone(browser, live_server.url, lon, lat)
    app, text = phone.app, phone.text

    def fits_the_screen() -> bool:
        return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1;")

    # Signed out, the app asks for the account.
    browser.get(app)
    phone.until(lambda d: d.current_url.endswith("/app/sign-in"))
    phone.sign_in(user.username)
    assert user.agency.name in text()
    # Where the phone is (the client's captureFix, the position the DevTools protocol set).
    phone.until(lambda d: f"{lon:.5f}, {lat:.5f}（±8 米）" in d.find_element(By.ID, "fix").text)
    phone.until(lambda d: d.execute_script("return navigator.serviceWorker.controller !== null"))
    kept = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        caches.keys().then(async (names) => {
          const cache = await caches.open(names.find((n) => n.startsWith("fieldtrace-app-")));
          done((await cache.keys()).map((r) => new URL(r.url).pathname));
        });"""
    )
    assert "/app/" in kept
    assert "/static/field_app/app/main.js" in kept
    assert "/static/field_app/sync/client.js" in kept
    assert fits_the_screen()
    phone.shot("01-home-online")

    # No signal: the app opens from the service worker's cache.
    phone.network(OFFLINE)
    browser.refresh()
    phone.until(lambda d: d.find_element(By.ID, "net").text == "离线")
    assert "在行任务" in text()
    task_id = phone.create_task(project.pk, "1 号排口离线采样", "W-01, W-02", shot="02-new-task-offline")
    # The rule is shown, not only enforced: a sampler cannot end the task.
    phone.click("开始")
    phone.until(lambda d: "进行中" in d.find_element(By.ID, "task-status").text)
    assert "结束任务须由实验室分析人员操作" in text()
    assert not browser.find_element(By.CSS_SELECTOR, "button[data-to=ended]").is_enabled()

    shutter = browser.find_element(By.CSS_SELECTOR, "input[type=file][data-photo-type=sampling_site]")
    assert shutter.get_attribute("capture") == "environment"
    shutter.send_keys(str(PHONE_PHOTO))
    phone.until(lambda d: "照片已保存在本机" in text())
    thumbnail = "return document.querySelector('img[data-thumb]')?.naturalWidth > 0"
    phone.until(lambda d: d.execute_script(thumbnail))
    assert "待同步" in browser.find_element(By.CSS_SELECTOR, "figure.thumb").text
    assert fits_the_screen()
    phone.shot("03-task-offline")

    browser.find_element(By.CSS_SELECTOR, ".bar-title").click()
    phone.until(lambda d: d.find_elements(By.ID, "sync-queued"))
    assert browser.find_element(By.ID, "sync-queued").text == "3 项"
    assert browser.find_element(By.ID, "sync-uploads").text == "1 张"
    assert browser.find_element(By.ID, "count-running").text == "1"
    phone.shot("04-home-offline-queued")
    assert not MonitoringTask.objects.filter(pk=task_id).exists()

    # Signal again: the app syncs by itself on "online".
    phone.network(ONLINE)
    phone.until(lambda d: d.find_element(By.ID, "net").text == "在线")
    phone.all_sent()
    phone.shot("05-home-synced")

    task = MonitoringTask.objects.get(pk=task_id)
    assert (task.name, task.project_id, task.status) == ("1 号排口离线采样", project.pk, "running")
    assert task.sample_codes == ["W-01", "W-02"]
    assert list(TaskEvent.objects.filter(task=task).values_list("from_status", "to_status")) == [
        ("created", "running")
    ]
    # The running task's track (track.append, a batch a minute) is test_field_app_track_browser.py's.
    ops = Operation.objects.filter(user=user).exclude(op_type="track.append").order_by("seq")
    assert [(o.op_type, o.status) for o in ops] == [
        ("task.create", "applied"),
        ("task.transition", "applied"),
        ("photo.record", "applied"),
    ]
    photo = Photo.objects.select_related("blob").get(task=task)
    assert photo.photo_type_id == "sampling_site"
    assert photo.blob is not None
    with closing(open_stored(photo.blob)) as stored:
        assert stored.read() == PHONE_PHOTO.read_bytes()
    assert Blob.objects.count() == 1
    assert photo.fix_system == "wgs84"
    assert (round(photo.fix_raw_lon, 6), round(photo.fix_raw_lat, 6)) == (round(lon, 6), round(lat, 6))
    assert photo.fix_accuracy_m == 8

    # The task's page says the photo is on the server.
    browser.get(f"{app}tasks/{task_id}")
    phone.until(lambda d: "已上传" in d.find_element(By.CSS_SELECTOR, "figure.thumb").text)
    # Online, the task's own catalogue comes: its required photos are marked, the stage rule said.
    phone.until(lambda d: "必传" in text())
    phone.shot("06-task-synced")
    photo_types = [
        e.get_attribute("data-photo-type") for e in browser.find_elements(By.CSS_SELECTOR, "input.file")
    ]
    assert "sampling_site" in photo_types
    browser.execute_script("document.querySelector('figure.thumb').scrollIntoView({block: 'center'})")
    phone.until(lambda d: d.execute_script(thumbnail))
    # The server has judged it: the verdict is on the thumbnail.
    figure = browser.find_element(By.CSS_SELECTOR, "figure.thumb").text
    assert any(word in figure for word in ("合规", "存疑", "待判定"))
    phone.shot("07-task-photo-synced")
    assert phone.foreign() == []
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_a_revoked_token_signs_the_phone_out_and_its_queue_is_sent_after_signing_in_again(
    browser,
    live_server,
):
    from selenium.webdriver.common.by import By

    world = build_world()
    side = world.shanghai
    user, outlet = side.field_user, side.wastewater
    phone = Phone(browser, live_server.url, outlet.location.x, outlet.location.y)
    browser.get(phone.app)
    phone.sign_in(user.username)

    phone.network(OFFLINE)
    task_id = phone.create_task(side.project.pk, "撤销令牌后的任务")
    # Meanwhile the account's phones are signed out on the server (a lost phone, a password change).
    for record in DeviceToken.objects.filter(user=user, revoked_at__isnull=True):
        token_revoke(record=record, actor=world.platform)

    phone.network(ONLINE)
    phone.until(
        lambda d: d.current_url.endswith("/app/sign-in") and "本机尚有 1 项未同步的记录" in phone.text()
    )
    phone.shot("08-signed-out-queue-kept")
    assert not MonitoringTask.objects.filter(pk=task_id).exists()

    phone.sign_in(user.username)
    phone.until(lambda d: d.find_element(By.ID, "sync-queued").text == "0 项")
    task = MonitoringTask.objects.get(pk=task_id)
    assert task.name == "撤销令牌后的任务"
    assert [(o.op_type, o.status) for o in Operation.objects.filter(user=user)] == [
        ("task.create", "applied")
    ]
    assert phone.foreign() == []


def test_a_task_is_edited_and_another_deleted_offline_and_the_server_agrees(browser, live_server):
    from selenium.webdriver.common.by import By

    side = build_world().shanghai
    user, outlet = side.field_user, side.wastewater
    phone = Phone(browser, live_server.url, outlet.location.x, outlet.location.y)
    browser.get(phone.app)
    phone.sign_in(user.username)

    phone.network(OFFLINE)
    kept = phone.create_task(side.project.pk, "修改前的名称", "K-1")
    browser.find_element(By.CSS_SELECTOR, "details.edit summary").click()
    name = browser.find_element(By.CSS_SELECTOR, "#task-edit input[name=name]")
    name.clear()
    name.send_keys("修改后的名称")
    codes = browser.find_element(By.CSS_SELECTOR, "#task-edit input[name=sample_codes]")
    codes.clear()
    codes.send_keys("K-1，K-2")
    browser.find_element(By.CSS_SELECTOR, "#task-edit button[type=submit]").click()
    phone.until(lambda d: "已保存修改" in phone.text() and "修改后的名称" in phone.text())

    browser.find_element(By.CSS_SELECTOR, ".bar-title").click()
    dropped = phone.create_task(side.project.pk, "建错的任务")
    browser.find_element(By.CSS_SELECTOR, "details.edit summary").click()
    browser.find_element(By.CSS_SELECTOR, '[data-action="task-delete"]').click()
    browser.switch_to.alert.accept()
    phone.until(lambda d: d.current_url.endswith("/app/tasks") and "任务已删除" in phone.text())
    assert "建错的任务" not in phone.text()
    assert "修改后的名称" in phone.text()
    phone.shot("09-edited-and-deleted-offline")

    phone.network(ONLINE)
    phone.until(lambda d: MonitoringTask.objects.filter(pk=dropped, deleted_at__isnull=False).exists())
    phone.until(lambda d: MonitoringTask.objects.filter(pk=kept, version=2).exists())
    task = MonitoringTask.objects.get(pk=kept)
    assert (task.name, task.sample_codes) == ("修改后的名称", ["K-1", "K-2"])
    ops = Operation.objects.filter(user=user).order_by("seq")
    assert [(o.op_type, o.status) for o in ops] == [
        ("task.create", "applied"),
        ("task.update", "applied"),
        ("task.create", "applied"),
        ("task.delete", "applied"),
    ]
    # Pulled back, the phone's list shows the server's tasks: the kept one, edited; not the other.
    browser.get(f"{phone.app}tasks")
    phone.until(lambda d: "修改后的名称" in phone.text() and "待同步" not in phone.text())
    assert "建错的任务" not in phone.text()
