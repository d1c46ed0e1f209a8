"""Every error, whoever raises it, leaves as {"code", "message", "details"}: Chinese by default,
English on Accept-Language: en, never an HTML page, never a 500 for bad input."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from server.errors import DomainError, ErrorCode, registered_codes
from tests.server.probe_urls import PROBE_RULE

pytestmark = pytest.mark.urls("tests.server.probe_urls")


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_unknown_route_in_chinese(api):
    body = assert_error(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert body["message"] == "请求的资源不存在。"


def test_unknown_route_in_english(api_en):
    response = api_en.get("/api/v1/no-such-thing")
    body = assert_error(response, 404, "not_found")
    assert body["message"] == "The requested resource does not exist."
    assert response["Content-Language"] == "en"


@override_settings(DEBUG=True)
def test_debug_404_page_is_json_too(api):
    # With DEBUG on Django renders its technical 404 page itself; the middleware replaces it.
    assert_error(api.get("/nothing-here/"), 404, "not_found")


def test_wrong_method_names_the_method_and_the_allowed_ones(api, api_en):
    response = api.delete("/api/v1/meta")
    body = assert_error(response, 405, "method_not_allowed")
    assert body["message"] == "不支持 DELETE 请求方法。"
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    body = assert_error(api_en.put("/probe", {}, format="json"), 405, "method_not_allowed")
    assert body["message"] == "The method PUT is not allowed here."


def test_wrong_method_on_a_plain_django_view(api):
    response = api.post("/healthz")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


def test_malformed_json(api, api_en):
    body = assert_error(
        api.post("/probe", data='{"outcome": "ok",', content_type="application/json"),
        400,
        "malformed_request",
    )
    assert body["message"] == "请求内容无法解析，请检查 JSON 格式。"
    assert body["details"]["reason"]
    body = assert_error(
        api_en.post("/probe", data="{not json", content_type="application/json"), 400, "malformed_request"
    )
    assert "JSON parse error" in body["details"]["reason"]


def test_wrong_content_type(api_en):
    response = api_en.post("/probe", data="<x/>", content_type="application/xml")
    body = assert_error(response, 415, "unsupported_media_type")
    assert body["message"] == "Unsupported content type: application/xml."
    assert body["details"] == {"content_type": "application/xml"}


def test_field_errors_are_in_details_in_the_asked_language(api, api_en):
    zh = assert_error(api.post("/probe", {"outcome": "maybe"}, format="json"), 400, "validation_failed")
    assert set(zh["details"]) == {"outcome", "count"}
    assert zh["details"]["count"] == ["该字段是必填项。"]
    en = assert_error(api_en.post("/probe", {"outcome": "maybe"}, format="json"), 400, "validation_failed")
    assert en["details"]["count"] == ["This field is required."]
    assert en["message"] == "Some submitted values are invalid; see details."


def test_domain_errors_carry_their_code_status_and_parameters(api, api_en):
    zh = assert_error(
        api.post("/probe", {"outcome": "domain", "count": 1}, format="json"), 409, PROBE_RULE.code
    )
    assert zh == {"code": "probe_rule_broken", "message": "规则 R7 不允许此操作。", "details": {"rule": "R7"}}
    en = assert_error(
        api_en.post("/probe", {"outcome": "domain", "count": 1}, format="json"), 409, PROBE_RULE.code
    )
    assert en["message"] == "Rule R7 does not allow this."


def test_a_bug_is_a_json_500_without_internals():
    client = APIClient(raise_request_exception=False)
    body = assert_error(
        client.post("/probe", {"outcome": "crash", "count": 1}, format="json"), 500, "server_error"
    )
    assert "unexpected bug" not in str(body)


@override_settings(DEBUG=True)
def test_a_bug_under_debug_is_still_json():
    client = APIClient(raise_request_exception=False, headers={"Accept-Language": "en"})
    body = assert_error(
        client.post("/probe", {"outcome": "crash", "count": 1}, format="json"), 500, "server_error"
    )
    assert body["message"] == "Internal server error; please try again later."


def test_bad_host_header_is_a_json_400():
    client = APIClient(raise_request_exception=False, SERVER_NAME="evil.example")
    assert_error(client.get("/api/v1/meta"), 400, "bad_request")


def test_good_input_passes(api):
    response = api.post("/probe", {"outcome": "ok", "count": 2}, format="json")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_every_code_has_both_languages_and_a_client_error_or_server_status():
    for code, error in registered_codes().items():
        assert error.zh, code
        assert error.en, code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error.zh), (
            f"{code}: the Chinese message is not Chinese"
        )
        assert 400 <= error.status < 600, code


def test_a_code_cannot_be_declared_twice_with_another_meaning():
    with pytest.raises(ValueError, match="declared twice"):
        ErrorCode("not_found", 404, "别的意思", "Something else")
    # Declaring the very same code again (a module reloaded) is harmless.
    assert ErrorCode("not_found", 404, "请求的资源不存在。", "The requested resource does not exist.")


def test_domain_error_str_names_the_code():
    assert str(DomainError(PROBE_RULE, rule="R1")) == "probe_rule_broken: Rule R1 does not allow this."
