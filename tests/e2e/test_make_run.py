"""`make run`, as a new user types it: set-up, migrations, demo data, then a server that answers."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import BASE_DIR

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, headers: dict | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback URL built here)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_make_run_serves_health_and_docs(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SECRET_KEY"}}
    env.update({"PORT": str(port), "VAR_DIR": str(tmp_path / "var")})
    log = (tmp_path / "make-run.log").open("w")
    started = time.monotonic()
    server = subprocess.Popen(
        ["make", "run"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        status = None
        while time.monotonic() - started < 180 and server.poll() is None:
            try:
                status, content_type, body = fetch(f"{base}/healthz")
            except OSError:
                time.sleep(0.5)
                continue
            if status == 200:
                break
        served_after = time.monotonic() - started
        output = (tmp_path / "make-run.log").read_text()
        assert status == 200, output
        print(f"make run: /healthz answered 200 {served_after:.1f} s after the command started")
        assert json.loads(body)["status"] == "ok"
        # The five links the README says make run prints (F10 item 9: it printed two).
        for path in ("/api/docs/", "/api/schema/", "/api/redoc/", "/healthz", "/admin/"):
            assert f"{base}{path}" in output, path
        assert "demo data: administrator demo" in output  # loaded on this first run

        status, content_type, body = fetch(f"{base}/api/docs/")
        assert status == 200
        assert content_type.startswith("text/html")
        assert b"swagger-ui-bundle.js" in body

        status, content_type, body = fetch(
            f"{base}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        )
        assert status == 200
        assert "javascript" in content_type
        assert len(body) > 100_000

        status, content_type, body = fetch(
            f"{base}/api/schema/", {"Accept": "application/vnd.oai.openapi+json"}
        )
        assert status == 200
        assert json.loads(body)["openapi"].startswith("3.")

        # make run is DEBUG: Django would show its HTML debug page here; the API still answers JSON.
        status, content_type, body = fetch(f"{base}/no/such/page", {"Accept-Language": "en"})
        assert status == 404
        assert json.loads(body) == {
            "code": "not_found",
            "message": "The requested resource does not exist.",
            "details": None,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
