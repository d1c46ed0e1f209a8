"""Errors that no workspace view answers itself reach a person as a page in their language, not as
the API's JSON: a form whose CSRF token is missing, a method a page does not take, a mistyped
address, a server error. The API, the phones and the map's data keep the one JSON error shape."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}


def is_page(response) -> bool:
    return response["Content-Type"].startswith("text/html")


def test_a_form_posted_without_its_csrf_token_is_answered_with_a_page(busy):
    client = signed_in(busy.world.shanghai.main, csrf=True)
    response = client.post("/account/password/", {"old_password": "x"}, **HTML)
    assert response.status_code == 403
    assert is_page(response)
    assert "安全校验失败" in visible_text(response)
    assert "csrf_failed" not in response.content.decode()  # no code, no JSON


def test_the_csrf_page_follows_the_language_chosen(busy):
    client = signed_in(busy.world.shanghai.main, csrf=True)
    client.cookies["django_language"] = "en"
    response = client.post("/account/password/", {}, **HTML)
    assert response.status_code == 403
    assert "The CSRF check failed" in visible_text(response)


def test_a_method_the_page_does_not_take_is_a_page_that_names_it(busy):
    client = signed_in(busy.world.shanghai.main)
    response = client.get("/sign-out/")
    assert response.status_code == 405
    assert is_page(response)
    assert "不支持 GET 请求方法" in visible_text(response)
    assert response["Allow"] == "POST"


def test_a_mistyped_address_in_a_browser_is_the_not_found_page(busy):
    response = Client().get("/projekts/", **HTML)
    assert response.status_code == 404
    assert is_page(response)
    assert "未找到" in visible_text(response)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/projekts/", {}),  # a script or a phone asking for no HTML
        ("/api/v1/nothing-here", HTML),  # the API, whatever it accepts
    ],
)
def test_the_api_and_scripts_keep_the_json_error(db, path, headers):
    response = Client().get(path, **headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_maps_data_fetched_by_its_script_keeps_its_json_error(busy):
    client = signed_in(busy.world.shanghai.main)
    response = client.get("/map/data", {"start": "yesterday", "end": "today"}, HTTP_ACCEPT="*/*")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"


def test_a_server_error_on_a_page_is_a_page_without_the_traceback(busy, monkeypatch):
    from workspace.views import home

    def broken(user):
        raise RuntimeError("a bug")

    monkeypatch.setattr(home, "agency_attention", broken, raising=False)
    monkeypatch.setattr("workspace.views.home.render_page", lambda *a, **k: broken(None))
    client = signed_in(busy.world.shanghai.main)
    client.raise_request_exception = False
    response = client.get("/agency/", **HTML)
    assert response.status_code == 500
    assert is_page(response)
    text = visible_text(response)
    assert "服务器内部错误" in text
    assert "a bug" not in text
    assert "RuntimeError" not in response.content.decode()
