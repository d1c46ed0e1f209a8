"""The sync client's browser adapter in a real Chromium (tests/support/browser.py): its IndexedDB
storage, a photo Blob kept in IndexedDB and hashed with crypto.subtle, and the queue read back by a
second adapter on the same database (the page reopened). Node cannot run IndexedDB; the rest of the
adapter is tested in tests/js/sync/browser.test.mjs."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from tests.support.browser import WAIT_S

pytestmark = pytest.mark.slow

CLIENT = Path(__file__).resolve().parents[2] / "field_app" / "static" / "field_app" / "sync"
PAGE = Path(__file__).with_name("browser_adapter.html")
PHOTO = bytes([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5])


@pytest.fixture
def site(tmp_path):
    """The page and the client's modules, served over http://127.0.0.1 (a secure context, as
    crypto.subtle and crypto.randomUUID need), by a server of its own."""
    (tmp_path / "index.html").write_text(PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "sync").symlink_to(CLIENT)
    handler = partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def test_the_browser_adapter_keeps_the_queue_and_photos_in_indexeddb(browser, site):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site}/index.html")
    result = WebDriverWait(browser, WAIT_S).until(lambda d: d.execute_script("return window.result"))
    assert "error" not in result, result.get("error")
    assert result["keys"] == ["op:000000000001", "op:000000000002"]
    assert result["missing"] is True
    assert result["removed"] is True
    assert result["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert result["deviceKept"] is True
    assert result["seqs"] == [
        [1, "task.create", "t1"],
        [2, "task.create", "t2"],
        [3, "task.create", "t3"],
        [4, "photo.record", "p1"],
    ]
    assert result["fileRef"] == "idb-file:"
    assert bytes(result["fileBytes"]) == PHOTO
    assert result["next"] == 5
