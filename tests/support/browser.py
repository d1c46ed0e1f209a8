"""A real headless Chromium for the browser tests (Debian's chromium and chromium-driver, driven by
Selenium): the map page's (tests/maps) and the workspace's (tests/workspace).

Skipped with the reason outside CI when the browser is missing; on CI (``CI`` set) a missing browser
fails. ``scripts/system-deps.sh`` installs it as root.

A browser journey runs once: on SpatiaLite, the database ``make test`` uses by default. CI runs the
suite on both databases; on PostGIS the journeys are skipped, since what they test (pages, clicks,
scripts) does not depend on the database and the pages' queries run on both in the page tests. A
journey whose database does matter is marked ``pytest.mark.every_database``.

The browser keeps its console log and its performance log (the DevTools network events), so that a
test can check what a page requested.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

WAIT_S = 30
NEEDS = "apt-get install chromium chromium-driver (scripts/system-deps.sh does it as root)"


def artefact_dir(name: str = "") -> Path:
    """Where browser tests leave their screenshots: ``$ARTIFACTS_DIR`` (CI) or ``var/artifacts``, and
    ``name`` below it. ``var/`` is git-ignored."""
    base = Path(os.environ["ARTIFACTS_DIR"]) if os.environ.get("ARTIFACTS_DIR") else None
    if base is None:
        base = Path(__file__).resolve().parents[2] / "var" / "artifacts"
    folder = base / name if name else base
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def requested_urls(driver) -> list[str]:
    """Every URL the browser asked for since the log was last read (Chrome's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign_requests(urls: list[str], origin: str) -> list[str]:
    """The requests to anywhere but ``origin`` (data: and blob: URLs stay in the page)."""
    host = urlsplit(origin).netloc
    return [
        url
        for url in urls
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != host
    ]


def page_wait(driver, timeout: float = WAIT_S):
    """A wait that reads a page while it changes: an element replaced under the read (stale), or the
    document itself replaced mid-read (a form posted: Chrome's "Node with given id does not belong
    to the document", a plain WebDriverException), is read again until the timeout."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=[WebDriverException])


@pytest.fixture
def browsers(request):
    """Start browsers, each its own phone (its own profile: storage, service worker, cache); all
    quit at the end. ``browsers()`` gives the next one."""
    from django.db import connection

    if connection.vendor != "sqlite" and not request.node.get_closest_marker("every_database"):
        pytest.skip("browser journeys run once, on SpatiaLite (tests/support/browser.py)")
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        missing = ", ".join(
            name for name, path in (("chromium", chromium), ("chromedriver", chromedriver)) if not path
        )
        reason = f"the browser tests need {missing}: {NEEDS}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. On CI a missing browser is a failure, not a skip.")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    started = []

    def start():
        options = webdriver.ChromeOptions()
        # Both paths given: Selenium Manager has nothing to look up or download.
        options.binary_location = chromium
        for argument in (
            "--headless=new",
            "--no-sandbox",  # root in a container
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,900",
            "--lang=zh-CN",
            "--no-first-run",
            "--disable-background-networking",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        driver.set_page_load_timeout(WAIT_S)
        started.append(driver)
        return driver

    try:
        yield start
    finally:
        for driver in started:
            driver.quit()


@pytest.fixture
def browser(browsers):
    return browsers()
