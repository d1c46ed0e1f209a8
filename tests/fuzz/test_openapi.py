"""schemathesis against the OpenAPI schema, in-process, signed in: no 5xx, and every answer is what
the schema documents (status, content type, body)."""

from __future__ import annotations

import logging
import time

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.accounts.services import DeviceInfo, token_issue
from tests.support.wechat_stub import wechat_fixture  # noqa: F401

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 10
EXCLUDED = {
    # Revokes the token the run signs in with: every later request would be a 401.
    "POST /api/v1/auth/logout",
}


@pytest.fixture
def token(world):
    return token_issue(
        user=world.shanghai.main,
        info=DeviceInfo(
            id="6f1d6c1e-8a39-4f4e-9d55-2b8f3a0c0001",
            platform="android",
            app_version="1.0",
            model_name="fuzz",
            public_key="",
        ),
    ).token


@pytest.fixture
def api_schema(settings):
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    # Django's test client does the same: the request's end must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.slow  # about 80 s on SpatiaLite: 145 operations, a few hundred requests each way
def test_api(api_schema, token, wechat, caplog):
    caplog.set_level(logging.CRITICAL, logger="django.request")
    headers = {"Authorization": f"Bearer {token}"}
    failures = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=strategy)
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        started = time.monotonic()
        try:
            run()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            failures[operation.label] = str(exc)[:3000]
        print(f"{operation.label}: {time.monotonic() - started:.1f}s")
    for label, text in failures.items():
        print(f"==== {label}\n{text}\n")
    assert not failures, sorted(failures)
