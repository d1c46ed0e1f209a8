"""The field app's server side (field_app/views.py): the one page for every route, the manifest,
the icons and the service worker with what it keeps."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from field_app.views import app_files


def test_every_route_of_the_app_is_the_one_page(client):
    for path in ("/app/", "/app/sign-in", "/app/tasks", "/app/tasks/new", "/app/tasks/0b1c-uuid"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        assert '<html lang="zh-CN">' in page
        assert 'href="/app/manifest.webmanifest"' in page
        assert 'src="/static/field_app/app/main.js"' in page
        assert response["Cache-Control"] == "no-cache"


def test_the_app_takes_no_post(client):
    assert client.post("/app/").status_code == 405


def test_the_manifest_makes_it_installable_in_chinese(client):
    response = client.get("/app/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    body = json.loads(response.content)
    assert body["name"] == "Fieldtrace 外业端"
    assert body["short_name"] == "外业端"
    assert body["start_url"] == body["scope"] == "/app/"
    assert body["display"] == "standalone"
    for icon in body["icons"]:
        image = client.get(icon["src"])
        assert image["Content-Type"] == "image/png"
        size = int(icon["sizes"].split("x")[0])
        assert Image.open(io.BytesIO(image.content)).size == (size, size)
    assert client.get("/app/icon-100.png").status_code == 404


def test_the_service_worker_keeps_the_shell_and_every_module_under_a_versioned_cache(client):
    response = client.get("/app/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/app/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    precache = json.loads(body.split("const PRECACHE = ", 1)[1].split(";\n", 1)[0])
    assert "/app/" in precache
    assert "/app/manifest.webmanifest" in precache
    for module in (
        "/static/field_app/app/main.js",
        "/static/field_app/app/router.js",
        "/static/field_app/app/model.js",
        "/static/field_app/app/app.css",
        "/static/field_app/sync/index.js",
        "/static/field_app/sync/client.js",
        "/static/field_app/sync/adapters/browser.js",
        "/static/field_app/sync/adapters/fetch-http.js",
    ):
        assert module in precache
    assert len([u for u in precache if u.startswith("/static/")]) == len(app_files())
    version = body.split("const VERSION = ", 1)[1].split(";", 1)[0]
    assert len(json.loads(version)) == 16


@pytest.mark.parametrize("path", ["/static/field_app/app/main.js", "/static/field_app/sync/client.js"])
def test_the_modules_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200
