"""The task's track (监测航迹) and a check-in (打卡签到) in the field app, in a real headless Chromium
(tests/support/browser.py): offline, a sampler starts a task and walks a path (the DevTools
protocol moves the position); the app records each fix, keeps it on the phone and shows what waits;
pausing stops the recording and queues the rest; a check-in at the outlet is made offline. Online
again, the batches are sent: the database holds each point once (and a batch sent again stores
nothing), and the check-in's verdict comes back to the task's page. Screenshots in
``var/artifacts/field-app/``."""

from __future__ import annotations

import time

import pytest

from server.accounts.models import Device
from server.fieldwork.models import MonitoringTask
from server.tracks import services
from server.tracks.models import CheckIn, TrackPoint
from server.tracks.operations import TrackAppendPayload, points_of
from sync.models import Operation
from tests.factories import build_world
from tests.field_app.test_field_app_browser import OFFLINE, ONLINE, Phone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_running_task_records_its_track_offline_and_it_reaches_the_server_once(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    side = build_world().shanghai
    user, project, outlet = side.field_user, side.project, side.wastewater
    start = (outlet.location.x + 0.0002, outlet.location.y + 0.0001)
    phone = Phone(browser, live_server.url, *start)

    def track() -> dict:
        card = browser.find_element(By.ID, "track")
        return {
            "recorded": int(card.get_attribute("data-recorded")),
            "waiting": int(card.get_attribute("data-waiting")),
            "text": card.text,
        }

    def move_to(lon: float, lat: float, accuracy: float) -> None:
        browser.execute_cdp_cmd(
            "Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": accuracy}
        )

    browser.get(phone.app)
    phone.sign_in(user.username)

    phone.network(OFFLINE)
    task_id = phone.create_task(project.pk, "航迹离线采样")
    assert "未在记录" in track()["text"]  # not started yet

    def recorded(n: int, lon: float, lat: float, accuracy: float) -> None:
        """Wait for the n-th point. The override gives a watch one position per setting, and the
        app stops and restarts its watch around a one-off fix (the home's position, taken while the
        task starts): a position that came while no watch ran is set again, until it is recorded.
        Each setting is more than the app's second apart, so a late one is not a second point."""
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        for _ in range(6):
            try:
                WebDriverWait(browser, 5, ignored_exceptions=[StaleElementReferenceException]).until(
                    lambda d: track()["recorded"] >= n
                )
                break
            except TimeoutException:
                move_to(lon, lat, accuracy)
        phone.until(lambda d: track()["recorded"] == n)

    phone.click("开始")
    phone.until(lambda d: "正在记录位置" in track()["text"])
    recorded(1, start[0], start[1], 8)

    # A walk along the outlet: a fix every second or so, about 5 m apart.
    path = [(start[0] + 0.00005 * i, start[1] + 0.00003 * i, 8 + i) for i in range(1, 5)]
    for n, (lon, lat, accuracy) in enumerate(path, start=2):
        time.sleep(1.1)  # the app keeps one point a second
        move_to(lon, lat, accuracy)
        recorded(n, lon, lat, accuracy)
    state = track()
    assert state["waiting"] == 5
    assert "已记录 5 个点 · 待发送 5 个点 · 最近定位精度 ±12 米" in state["text"]
    phone.shot("track-01-recording-offline")

    # A check-in at the outlet, offline: the fix now, kept until there is signal.
    Select(browser.find_element(By.ID, "checkin-outlet")).select_by_value(str(outlet.pk))
    phone.click("打卡签到")
    phone.until(lambda d: "待同步" in d.find_element(By.ID, "checkins").text)

    # Paused: the recording stops and what waits on the phone is queued.
    pause = browser.find_element(By.CSS_SELECTOR, "button[data-to=paused]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pause)  # not under the bar
    pause.click()
    phone.until(lambda d: "已暂停" in d.find_element(By.ID, "task-status").text)
    phone.until(lambda d: "未在记录" in track()["text"])
    time.sleep(1.1)
    move_to(start[0] + 0.001, start[1] + 0.001, 5)
    time.sleep(1.5)
    assert track()["recorded"] == 5
    assert track()["waiting"] == 5
    phone.shot("track-02-paused-offline")
    assert not TrackPoint.objects.exists()
    assert not CheckIn.objects.exists()

    phone.network(ONLINE)
    phone.until(lambda d: d.find_element(By.ID, "net").text == "在线")
    phone.until(lambda d: track()["waiting"] == 0 and "已全部发送" in track()["text"])
    phone.until(lambda d: "在电子围栏内" in d.find_element(By.ID, "checkins").text)
    phone.shot("track-03-sent-checkin-judged")

    task = MonitoringTask.objects.get(pk=task_id)
    assert task.status == "paused"
    points = list(TrackPoint.objects.filter(task=task).order_by("recorded_at"))
    assert len(points) == 5
    assert len({p.recorded_at for p in points}) == 5
    assert [p.coordinate_system for p in points] == ["wgs84"] * 5
    assert [p.accuracy_m for p in points] == [8, 9, 10, 11, 12]
    assert (round(points[0].longitude, 6), round(points[0].latitude, 6)) == (
        round(start[0], 6),
        round(start[1], 6),
    )
    assert (round(points[-1].longitude, 6), round(points[-1].latitude, 6)) == (
        round(path[-1][0], 6),
        round(path[-1][1], 6),
    )
    batches = Operation.objects.filter(user=user, op_type="track.append")
    assert {b.status for b in batches} == {"applied"}
    assert sum(len(b.payload["points"]) for b in batches) == 5

    # A batch sent again is not stored again.
    batch = batches.first()
    payload = TrackAppendPayload(data=batch.payload)
    assert payload.is_valid(), payload.errors
    device = Device.objects.get(pk=batch.device_id)
    replay = points_of(payload.validated_data)
    again = services.track_append(actor=user, task=task, device=device, points=replay)
    assert (again.stored, again.duplicates) == (0, len(batch.payload["points"]))
    assert TrackPoint.objects.filter(task=task).count() == 5

    checkin = CheckIn.objects.get()
    assert (checkin.user_id, checkin.task_id, checkin.outlet_id) == (user.pk, task.pk, outlet.pk)
    assert checkin.verdict == CheckIn.Verdict.INSIDE
    assert checkin.distance_m < outlet.geofence_radius_m
    assert f"距排口 {round(checkin.distance_m)} 米" in browser.find_element(By.ID, "checkins").text

    assert phone.foreign() == []
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
