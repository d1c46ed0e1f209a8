"""运维 in the field app, in real headless Chromium phones (tests/support/browser.py): a technician at
the outlet, offline, checks in, fills a calibration form (the computed judgement shown as the numbers
are typed), signs with a finger, takes the work photo, checks out and submits; nothing reaches the
server until the signal comes back, then the record arrives once with its check-ins, photo, signature
and the server's own judgement. The enterprise's confirmer, on its own phone, sees the day, signs,
takes its work photo and confirms: the record is confirmed at the version it saw. Screenshots in
``var/artifacts/field-app/``."""

from __future__ import annotations

import datetime as dt

import pytest

from media_rules.models import Photo
from server.notifications import reminders
from server.om.models import DayConfirmation, OmRecord
from server.tracks.models import CheckIn
from sync.models import Operation
from tests.factories import build_world
from tests.field_app.test_field_app_browser import OFFLINE, ONLINE, Phone
from tests.om.helpers import face_jpeg

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def sign(phone: Phone, seed: int) -> None:
    """A finger's signature on the pad (pointer events from the mouse)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    pad = phone.browser.find_element(By.ID, "signature")
    phone.browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)
    chain = ActionChains(phone.browser).move_to_element_with_offset(pad, -120, 10).click_and_hold()
    for step in range(8):
        chain.move_by_offset(30, (-1) ** step * (12 + seed))
    chain.release().perform()
    phone.until(lambda d: d.find_element(By.ID, "signature-state").text == "已签字")


def test_a_technician_fills_a_form_offline_and_the_enterprise_confirms_it_from_its_phone(
    browsers,
    live_server,
    tmp_path,
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    side = build_world().shanghai
    outlet, instrument, task = side.wastewater, side.instrument, side.om_task
    tech = Phone(browsers(), live_server.url, outlet.location.x, outlet.location.y)
    browser = tech.browser
    face = tmp_path / "work.jpg"
    face.write_bytes(face_jpeg(4))

    browser.get(tech.app)
    tech.sign_in(side.technician_user.username)
    tech.click("运维任务")
    tech.until(lambda d: task.name in tech.text())

    # At the outlet, no signal.
    tech.network(OFFLINE)
    browser.find_element(By.CSS_SELECTOR, f'a[href$="/app/om/{task.pk}"]').click()
    tech.until(lambda d: outlet.name in tech.text())
    browser.find_element(By.CSS_SELECTOR, f'[data-action="om-start"][data-outlet="{outlet.pk}"]').click()
    tech.until(lambda d: "/app/om/records/" in d.current_url and "开始签到：" in tech.text())
    record_id = browser.current_url.rsplit("/", 1)[1]

    Select(browser.find_element(By.CSS_SELECTOR, 'select[data-om="template"]')).select_by_value(
        "ww_standard_check_calibration"
    )
    tech.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'input[data-om="instrument"]'))
    browser.find_element(By.CSS_SELECTOR, f'input[data-om="instrument"][value="{instrument.pk}"]').click()
    block = f"check_cod@{instrument.pk}"
    tech.until(lambda d: d.find_elements(By.NAME, f"a|{block}|range_upper"))
    assert instrument.model in tech.text()

    def field(item: str):
        return browser.find_element(By.NAME, f"a|{block}|{item}")

    def judgement() -> str:
        return browser.find_element(By.CSS_SELECTOR, f'[data-judgement="std_error_cod@{block}"]').text

    field("range_upper").send_keys("1000")
    field("std_reference").send_keys("100")
    field("std_measured").send_keys("108")
    tech.until(lambda d: "合格" in judgement() and "不合格" not in judgement())
    field("std_measured").clear()
    field("std_measured").send_keys("115")  # 15 % against ±10 %: shown as typed
    tech.until(lambda d: "不合格" in judgement())
    Select(field("calibrated")).select_by_value("yes")
    tech.shot("om-01-form-offline")

    sign(tech, 0)
    shutter = browser.find_element(By.CSS_SELECTOR, 'input[type=file][data-om-photo="record"]')
    assert shutter.get_attribute("capture") == "user"
    shutter.send_keys(str(face))
    tech.until(lambda d: "工作照已保存在本机" in tech.text())
    tech.click("结束签到")
    tech.until(lambda d: "结束签到：" in tech.text() and "可以提交" in tech.text())
    tech.click("提交")
    tech.until(lambda d: "已提交 · 待同步" in d.find_element(By.ID, "om-state").text)
    tech.shot("om-02-submitted-offline")
    assert not OmRecord.objects.filter(pk=record_id).exists()

    # The app closed and reopened, still offline: the record is on the phone as it was left.
    browser.refresh()
    tech.until(lambda d: "已提交 · 待同步" in d.find_element(By.ID, "om-state").text)

    tech.network(ONLINE)
    tech.until(lambda d: d.find_element(By.ID, "om-state").text in ("待企业确认", "已提交"))
    tech.until(lambda d: OmRecord.objects.filter(pk=record_id).exists())
    record = OmRecord.objects.get(pk=record_id)
    assert (record.status, record.version, record.template.code) == (
        "submitted",
        1,
        "ww_standard_check_calibration",
    )
    assert list(record.instruments.values_list("pk", flat=True)) == [instrument.pk]
    answers = record.answers[block.split("@")[0]][str(instrument.pk)]
    assert (answers["range_upper"], answers["std_reference"], answers["std_measured"]) == (1000, 100, 115)
    failing = [j for j in record.judgements if j["key"] == "std_error_cod"]
    assert [(j["value"], j["passed"]) for j in failing] == [(0.15, False)]
    assert record.start_checkin.kind == CheckIn.Kind.START
    assert record.end_checkin.kind == CheckIn.Kind.END
    assert record.start_checkin.verdict == CheckIn.Verdict.INSIDE
    assert record.work_photo.photo_type_id == "work_photo"
    assert record.signature_id
    ops = Operation.objects.filter(user=side.technician_user).order_by("seq")
    assert [o.op_type for o in ops] == ["checkin.record", "photo.record", "checkin.record", "om_record.save"]
    assert {o.status for o in ops} == {"applied"}
    tech.until(lambda d: d.find_element(By.ID, "om-state").text == "待企业确认")
    tech.shot("om-03-synced")

    # The next morning's reminder (Celery beat's job), then the enterprise's confirmer on its own phone:
    # the home shows the notification, and it leads to the day.
    assert reminders.remind_unconfirmed_days(today=record.om_date + dt.timedelta(days=1)) == 1
    firm = Phone(browsers(), live_server.url, outlet.location.x, outlet.location.y)
    firm.browser.get(firm.app)
    firm.sign_in(side.enterprise_user.username)
    assert "在行任务" not in firm.text()  # no field work on an enterprise's phone
    day = record.om_date.isoformat()
    firm.until(lambda d: "1 条未读" in firm.text() and f"运维记录待确认：{day}" in firm.text())
    firm.click("待确认运维记录")
    firm.until(lambda d: day in firm.text() and "1 条运维记录待确认" in firm.text())
    firm.browser.back()
    firm.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#notices a[href$="/confirm/{day}"]'))
    firm.browser.find_element(By.CSS_SELECTOR, f'#notices a[href$="/confirm/{day}"]').click()
    # Online, the day's detail: the failing judgement is in front of the confirmer.
    firm.until(lambda d: "标样核查相对误差" in firm.text() and "不合格" in firm.text())
    firm.shot("om-04-enterprise-day")
    sign(firm, 1)
    face2 = tmp_path / "confirmer.jpg"
    face2.write_bytes(face_jpeg(5))
    firm.browser.find_element(By.CSS_SELECTOR, 'input[type=file][data-om-photo="confirm"]').send_keys(
        str(face2)
    )
    firm.until(lambda d: "工作照已保存在本机" in firm.text())
    firm.click("确认这 1 条记录")
    firm.until(lambda d: d.find_element(By.ID, "confirm-state").text == "已确认")
    firm.shot("om-05-enterprise-confirmed")
    record.refresh_from_db()
    assert record.status == "confirmed"
    confirmation = DayConfirmation.objects.get()
    assert confirmation.actor_id == side.enterprise_user.pk
    assert Photo.objects.filter(photo_type_id="work_photo").count() == 2
    assert tech.foreign() == []
    assert firm.foreign() == []
    for phone in (tech, firm):
        errors = [e for e in phone.browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
