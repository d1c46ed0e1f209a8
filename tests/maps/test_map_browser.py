"""The map page in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium):
signed in with the session, it draws what the services made, in the right colours, with the photo's
thumbnail in its popup, while every base-map tile fails to load. A screenshot is kept for CI.

Needs the browser: skipped with the reason outside CI when it is missing; on CI (``CI`` set) a
missing browser fails. ``scripts/system-deps.sh`` installs it as root.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.factories import PASSWORD, build_world
from tests.maps.helpers import INSIDE, OUTSIDE, field_day
from tests.support.browser import WAIT_S, artefact_dir

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads what the test wrote: committed data. serialized_rollback gives
    # the seeded rows (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def screenshot_path() -> Path:
    return artefact_dir() / "map.png"


def refused_port() -> int:
    """A loopback port nothing listens on: every tile request is refused, network or not."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_map_draws_the_field_day_without_its_tiles(browser, live_server, settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    tiles = f"http://127.0.0.1:{refused_port()}"
    settings.MAP_TILE_URL = tiles + "/{z}/{x}/{y}.png"
    world = build_world()
    shanghai = world.shanghai
    field_day(shanghai)
    field_day(world.jiangsu, name="南京的任务")  # another region: not the Shanghai regulator's
    wait = WebDriverWait(browser, WAIT_S)

    def css(selector: str) -> list:
        return browser.find_elements(By.CSS_SELECTOR, selector)

    # Anonymous: to the sign-in page, and back to the map after it.
    browser.get(f"{live_server.url}/map/")
    assert "/map/login/" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys(shanghai.regulator.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.current_url.rstrip("/").endswith("/map"))

    state = wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-state") != "loading" and d)
    assert state.find_element(By.ID, "map").get_attribute("data-state") == "ready", css("#map-status")[0].text
    wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-tiles") == "failed")

    # What is drawn: Shanghai's two outlets with their geofences, two check-ins (an accuracy circle
    # and a dot each), a track of two segments and the dashed gap between them, one flagged photo.
    assert len(css(".leaflet-marker-icon.ft-marker-outlet")) == 2
    assert len(css("path.ft-geofence")) == 2
    assert len(css("path.ft-checkin-accuracy")) == 2
    assert len(css("path.ft-checkin-dot")) == 2
    assert len(css("path.ft-track")) == 2
    gaps = css("path.ft-track-gap")
    assert len(gaps) == 1
    assert gaps[0].get_attribute("stroke-dasharray") == "2 8"
    photos = css(".leaflet-marker-icon.ft-marker-photo")
    assert len(photos) == 1
    assert "ft-photo-fail" in photos[0].get_attribute("class")

    # The check-ins' colours, as the SVG says them.
    for verdict, colour in (("inside", INSIDE), ("outside", OUTSIDE)):
        paths = css(f"path.ft-verdict-{verdict}")
        assert len(paths) == 2, verdict
        assert {(p.get_attribute("stroke"), p.get_attribute("fill")) for p in paths} == {(colour, colour)}

    # Every path really has a shape on screen after fitting the view to the data.
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('#map path')).map(function (p) {"
        "  var b = p.getBBox(); return [p.getAttribute('class'), b.width, b.height]; });"
    )
    assert sizes
    assert all(width > 0 or height > 0 for _, width, height in sizes), sizes
    status = css("#map-status")[0].text
    assert "签到 2" in status
    assert "问题照片 1" in status

    # The photo's popup shows its thumbnail, loaded through the API with the session.
    photos[0].click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content img.ft-thumb"))
    thumb = css(".leaflet-popup-content img.ft-thumb")[0]
    assert "/api/v1/photos/" in thumb.get_attribute("src")
    assert thumb.get_attribute("src").endswith("/thumbnail")
    wait.until(
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0;", thumb)
    )
    assert "超出电子围栏" in css(".leaflet-popup-content")[0].text
    # The popup panned into view and faded in (Leaflet animates both) before the picture is taken.
    wait.until(
        lambda d: d.execute_script(
            "var e = document.querySelector('.leaflet-popup'), p = e.getBoundingClientRect(),"
            "    m = document.getElementById('map').getBoundingClientRect();"
            "return getComputedStyle(e).opacity === '1' && p.top >= m.top && p.bottom <= m.bottom"
            "    && p.left >= m.left && p.right <= m.right;"
        )
    )

    path = screenshot_path()
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000

    # No script error; the only failures are the tiles'.
    log = browser.get_log("browser")
    severe = [entry for entry in log if entry["level"] == "SEVERE" and tiles not in entry["message"]]
    assert severe == [], severe
    assert any(tiles in entry["message"] for entry in log), "the tiles were expected to fail"
