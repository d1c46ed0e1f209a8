"""The O&M journey clicked in a real headless Chromium (tests/support/browser.py): on a phone-sized
screen the enterprise's confirmer opens yesterday's records, reads one, draws a signature on the
canvas with the mouse, attaches a real phone photo as the work photo and confirms the day; then the
agency's reviewer ticks both records in the review queue, signs, attaches a photo and confirms them
as a batch. The database says what happened. Screenshots go to ``var/artifacts/workspace-om/``
(``$ARTIFACTS_DIR/workspace-om/`` on CI)."""

from __future__ import annotations

import pytest

from media_rules.signatures import ink
from mobile_api.photos import open_stored
from server.om.models import DayConfirmation, OmRecord, Review
from tests.factories import PASSWORD, build_world
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls
from tests.workspace.om_scene import PHONE_PHOTO, om_day

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_enterprise_confirms_a_day_and_the_reviewer_confirms_a_batch(browser, live_server, settings):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    world = build_world()
    side = world.shanghai
    day = om_day(side)
    # A wait may read the page while a posted form's redirect replaces it: read it again then.
    wait = page_wait(browser)
    folder = artefact_dir("workspace-om")
    seen: list[str] = []

    def shot(name: str) -> None:
        path = folder / f"{name}.png"
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 5_000
        seen.extend(requested_urls(browser))

    def text() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def fits_the_screen() -> bool:
        return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1;")

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

    def draw_signature() -> None:
        """A signature drawn with the mouse: press, a zigzag across the pad, release; a second stroke."""
        canvas = browser.find_element(By.CSS_SELECTOR, "[data-signature-pad] canvas")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
        width = canvas.size["width"]
        step = (width - 60) // 8
        strokes = (
            ActionChains(browser).move_to_element_with_offset(canvas, -width // 2 + 30, 0).click_and_hold()
        )
        for n in range(8):
            strokes.move_by_offset(step, -35 if n % 2 == 0 else 35)
        strokes.release()
        strokes.move_to_element_with_offset(canvas, -width // 4, 40).click_and_hold()
        strokes.move_by_offset(width // 2, -60).release()
        strokes.perform()
        wait.until(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, "[data-signature-pad]")
                .get_attribute("class")
                .endswith("signed")
            )
        )

    def attach_photo() -> None:
        photo = browser.find_element(By.CSS_SELECTOR, "input[type=file][name=work_photo]")
        assert photo.get_attribute("capture") == "user"
        photo.send_keys(str(PHONE_PHOTO))

    # --- The enterprise, on a phone ----------------------------------------------------------------
    # The phone's location, as its browser would give it (without the override Chromium asks a
    # network location service on the internet).
    outlet = side.wastewater.location
    browser.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": live_server.url, "permissions": ["geolocation"]}
    )
    browser.execute_cdp_cmd(
        "Emulation.setGeolocationOverride",
        {"longitude": outlet.x, "latitude": outlet.y + 0.0001, "accuracy": 12},
    )
    browser.set_window_size(390, 844)
    sign_in(side.enterprise_user.username, "/enterprise/")
    assert "待确认的运维记录" in text()
    browser.find_element(By.PARTIAL_LINK_TEXT, "查看并签字确认这一天").click()
    wait.until(lambda d: d.current_url.endswith(f"/enterprise/days/{day.day.isoformat()}/"))
    assert "2 条待确认" in text()
    assert fits_the_screen()
    shot("enterprise-day-phone")
    # A record read before signing: the value out of its limit is marked.
    browser.find_element(By.LINK_TEXT, "标样核查及校准").click()
    wait.until(lambda d: d.current_url.endswith(f"/om/records/{day.calibration.pk}/"))
    marked = browser.find_element(By.CSS_SELECTOR, "tr.out-of-limit")
    assert "超出限值" in marked.text
    assert "±10%" in marked.text
    assert fits_the_screen()
    shot("enterprise-record-phone")
    browser.back()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-signature-pad] canvas"))

    # Sending without a signature is stopped on the page, said beside the pad.
    attach_photo()
    browser.find_element(By.CSS_SELECTOR, "#confirm button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-pad-error]").is_displayed())
    assert "请在签名框内签名" in browser.find_element(By.CSS_SELECTOR, "[data-pad-error]").text
    draw_signature()
    # The location the browser gave when the photo was chosen goes with it, as a phone's fix.
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "input[name=longitude]").get_attribute("value"))
    assert fits_the_screen()
    shot("enterprise-signed-phone")
    browser.find_element(By.CSS_SELECTOR, "#confirm button[type=submit]").click()
    wait.until(lambda d: "已确认" in d.find_element(By.TAG_NAME, "main").text)
    assert f"已确认 {day.day} 的 2 条运维记录。" in text()
    shot("enterprise-confirmed-phone")
    for record in day.records:
        record.refresh_from_db()
        assert record.status == OmRecord.Status.CONFIRMED
    confirmation = DayConfirmation.objects.get(enterprise=side.enterprise, om_date=day.day)
    assert confirmation.work_photo.blob.size == PHONE_PHOTO.stat().st_size  # the file as attached
    assert confirmation.work_photo.taken_by == side.enterprise_user
    assert confirmation.work_photo.fix_system == "wgs84"
    assert confirmation.work_photo.fix_location.distance(outlet) < 0.0002  # degrees: some 11 m
    with open_stored(confirmation.signature) as png:  # the strokes drawn, as the PNG sent
        pixels, extent = ink(png.read())
    assert pixels > 300
    assert extent > 0.5
    # The history, with the signature as drawn.
    browser.find_element(By.LINK_TEXT, "确认记录").click()
    wait.until(lambda d: d.current_url.endswith("/enterprise/confirmations/"))
    image = browser.find_element(By.CSS_SELECTOR, "img.signature-img")
    wait.until(
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0;", image)
    )
    assert fits_the_screen()
    shot("enterprise-history-phone")
    sign_out()

    # --- The agency's reviewer, on a desktop -------------------------------------------------------
    browser.set_window_size(1280, 900)
    sign_in(side.reviewer.username, "/agency/")
    browser.find_element(By.LINK_TEXT, "运维记录审核").click()
    wait.until(lambda d: d.current_url.endswith("/agency/reviews/"))
    for record in day.records:
        browser.find_element(By.CSS_SELECTOR, f"input[name=records][value='{record.pk}']").click()
    draw_signature()
    attach_photo()
    shot("review-queue")
    browser.find_element(By.CSS_SELECTOR, "button[name=decision][value=approve]").click()
    wait.until(lambda d: "已审核通过" in d.find_element(By.TAG_NAME, "main").text)
    assert "已审核通过 2 条运维记录。" in text()
    shot("review-queue-done")
    for record in day.records:
        record.refresh_from_db()
        assert record.status == OmRecord.Status.APPROVED
    review = Review.objects.get()
    assert (review.decision, review.actor) == ("approve", side.reviewer)
    assert sorted(str(i.record_id) for i in review.items.all()) == sorted(str(r.pk) for r in day.records)
    browser.get(f"{live_server.url}/om/records/{day.calibration.pk}/")
    assert "审核通过" in browser.find_element(By.ID, "reviews").text
    shot("record-reviewed")
    # 打印 PDF: the link gives the signed form, with the reviewer's session (read as the viewer would).
    link = browser.find_element(By.ID, "print-pdf")
    assert link.text == "打印 PDF"
    status, kind, head = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async (r) => {
          const bytes = new Uint8Array(await r.arrayBuffer());
          done([r.status, r.headers.get('content-type'), String.fromCharCode(...bytes.slice(0, 5))]);
        });""",
        link.get_attribute("href"),
    )
    assert (status, kind, head) == (200, "application/pdf", "%PDF-")

    seen.extend(requested_urls(browser))
    assert foreign_requests(seen, live_server.url) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
