"""schemathesis against the OpenAPI schema, in-process, signed in: no 5xx, and every answer is what
the schema documents (status, content type, body). OPTIONS, which the schema does not list, is sent
to every path as well, and ids past 64 bits to every integer query and path parameter in turn (F9
item 9: both were 500s the schema-driven cases did not reach).

Paths with parameters (``/tasks/{id}``, ``/violations/{id}/reject``) would mostly be fuzzed as 404s:
a random id names nothing. So two cases in three name a real object instead (``real_objects``: the
test world with one of each object on each side), of the model the path's view serves, and
the body is fuzzed against it; the test checks most such paths reached one (an answer other than 404).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections import Counter

import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from media_rules.holders import tenant_of
from media_rules.intake import ingest, upload_start
from media_rules.operations import record_photo
from server.accounts.services import DeviceInfo, token_issue
from tests.shared_data import PHOTOS
from tests.support.side_objects import task_of, with_side_objects
from tests.support.storage import disk_storage
from tests.support.wechat_stub import wechat_fixture  # noqa: F401

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 10
EXCLUDED = {
    # Revokes the token the run signs in with: every later request would be a 401.
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/devices/{device_id}/revoke",  # the same, now that it is given the real device
}
# Path parameters whose view has no queryset to say what they name: (name, schema type) -> model.
PARAMETER_MODELS = {
    ("task_id", "integer"): "om.OmTask",
    ("task_id", "string"): "fieldwork.MonitoringTask",
    ("device_id", "string"): "accounts.Device",
    ("upload_id", "string"): "media_rules.Upload",
    ("report_id", "integer"): "om.OmReport",
    ("sha256", "string"): "media_rules.Blob",
    ("code", "string"): "om.FormTemplate",
    # The filing dossier's rows (an agency's /documents/{document_id}; a person's documents share the
    # name, and their ids the same small range).
    ("document_id", "integer"): "registry.AgencyDocument",
    ("qualification_id", "integer"): "registry.AgencyQualification",
    ("site_id", "integer"): "registry.AgencySite",
    ("facility_id", "integer"): "registry.AgencyFacility",
}
# Of every 3 cases for a path with parameters, how many name real objects.
REAL_OF_3 = 2
# Numbers no id can be (SQLite cannot even bind them), sent to every integer query parameter in turn
# and to every integer path parameter: a filter that forgot its bound was a 500 (F9 item 9).
PAST_64_BITS = [2**63, -(10**20)]
# Paths with parameters whose cases must reach a real object, signed in as the agency's main account
# (not all: some objects belong to the other province's side, and a state the fuzzed body cannot
# reach is fine). Seen: 66-67 of 71.
REACHED_AT_LEAST = 0.75


# Who the fuzzing signs in as: the agency's main account reaches the most; a sampler on a phone, an
# enterprise's confirmer and a regulator take other branches of the same views.
ROLES = ("main", "field_user", "enterprise_user", "regulator")


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


@pytest.fixture
def token(world, role):
    return token_issue(
        user=getattr(world.shanghai, role),
        info=DeviceInfo(
            id="6f1d6c1e-8a39-4f4e-9d55-2b8f3a0c0001",
            platform="android",
            app_version="1.0",
            model_name="fuzz",
            public_key="",
        ),
    ).token


@pytest.fixture
def real_objects(world, settings, tmp_path):
    """Objects the world lacks, for the paths that name them: on each side a violation with its
    rectification, a monitoring task, a submitted O&M record with its check-ins and work photo, an
    O&M report (tests/support/side_objects.py); and a photo with its file on the fuzzing agency's
    task, an unfinished upload."""
    disk_storage(settings, tmp_path)
    with_side_objects(world)
    side = world.shanghai
    blob, _ = ingest((PHOTOS / "DSCN0010.jpg").read_bytes(), holder=tenant_of(side.field_user))
    manifest = {"photo_type": "sampling_site", "task": task_of(side).pk, "sha256": blob.sha256}
    record_photo(user=side.field_user, device=None, photo_id=uuid.uuid4(), data=manifest, clock_offset=None)
    upload_start(user=side.main, sha256="0" * 64, size=1000)


def _pools(operation) -> dict[str, list]:
    """For each path parameter, the values that name real objects of the model the path serves."""
    params = [(p.name, p.definition.get("schema", {}).get("type")) for p in operation.path_parameters]
    if not params:
        return {}
    concrete = operation.path  # resolved with values of the right shape, to find the view
    for name, _ in params:
        concrete = concrete.replace(
            f"{{{name}}}", str(uuid.uuid4()) if _format_of(operation, name) == "uuid" else "1"
        )
    view = getattr(resolve(concrete).func, "cls", None)
    served = getattr(view, "queryset", None)
    pools: dict[str, list] = {}
    for name, kind in params:
        label = PARAMETER_MODELS.get((name, kind))
        if name in {"id", "pk"} and served is not None:
            model = served.model
        elif label is not None:
            model = apps.get_model(label)
        else:
            pools[name] = _special(name)
            continue
        field = "code" if label == "om.FormTemplate" else "pk"
        values = list(model._default_manager.order_by(field).values_list(field, flat=True)[:50])
        pools[name] = [str(v) if isinstance(v, uuid.UUID) else v for v in values]
    return {name: values for name, values in pools.items() if values}


def _format_of(operation, name: str) -> str | None:
    for p in operation.path_parameters:
        if p.name == name:
            return p.definition.get("schema", {}).get("format")
    return None


def _special(name: str) -> list:
    from server.audit.models import AuditEntry

    if name == "date":
        today = timezone.localdate()
        return [(today - dt.timedelta(days=n)).isoformat() for n in range(3)]
    if name == "number":
        return ["1", "2"]
    if name in {"subject_type", "subject_id"}:
        return list(AuditEntry.objects.order_by("pk").values_list("subject_type", "subject_id")[:50])
    return []


def _name_real_objects(case, pools: dict[str, list], rnd: random.Random) -> None:
    for name, values in pools.items():
        value = rnd.choice(values)
        if isinstance(value, tuple):  # an audit subject: its type and id go together
            case.path_parameters["subject_type"], case.path_parameters["subject_id"] = value
        else:
            case.path_parameters[name] = value


def _fuzzer(strategy, headers: dict, pools: dict[str, list], answers: Counter | None):
    """The hypothesis test of one operation: two cases in three name real objects when its path has
    parameters (the answers to those are counted in ``answers``)."""

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=strategy, pick=st.integers(0, 2), rnd=st.randoms(use_true_random=False))
    def run(case, pick, rnd):
        real = bool(pools) and pick < REAL_OF_3
        if real:
            _name_real_objects(case, pools, rnd)
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        if real:
            answers[response.status_code] += 1

    return run


def _concrete(operation, values: dict) -> str:
    path = operation.path
    for p in operation.path_parameters:
        path = path.replace(f"{{{p.name}}}", str(values[p.name]))
    return path


def _urls(operation, pools: dict[str, list]) -> tuple[str, list[str]]:
    """The path with its parameters naming a real object (when there is one), and variants naming
    nothing and with each integer parameter past 64 bits."""
    kinds = {
        p.name: (p.definition.get("schema", {}).get("type"), _format_of(operation, p.name))
        for p in operation.path_parameters
    }
    nothing = {
        name: uuid.uuid4() if fmt == "uuid" else 1 if kind == "integer" else "x"
        for name, (kind, fmt) in kinds.items()
    }
    real = dict(nothing)
    for name, values in pools.items():
        if isinstance(values[0], tuple):  # an audit subject: its type and id go together
            real["subject_type"], real["subject_id"] = values[0]
        else:
            real[name] = values[0]
    variants = [nothing] + [
        {**real, name: big} for name, (kind, _) in kinds.items() if kind == "integer" for big in PAST_64_BITS
    ]
    return _concrete(operation, real), [_concrete(operation, values) for values in variants]


def _odd_requests(operations: list[tuple], headers: dict) -> dict[str, str]:
    """What the schema-driven cases do not send: OPTIONS to every path, and GET with each integer
    query parameter past 64 bits. Never a 5xx, and an error is in the one error shape."""
    client = Client(headers=headers, raise_request_exception=False)  # a 500 is collected, not raised
    failures = {}
    options = {}
    for operation, pools in operations:
        real, others = _urls(operation, pools)
        options.setdefault(operation.path, [real, *others])
        if operation.method.upper() != "GET":
            continue
        for param in operation.query:
            if param.definition.get("schema", {}).get("type") == "integer":
                for big in PAST_64_BITS:
                    failures.update(
                        _check(f"GET {real}?{param.name}={big}", client.get(real, {param.name: big}))
                    )
    for urls in options.values():
        for url in dict.fromkeys(urls):
            failures.update(_check(f"OPTIONS {url}", client.options(url)))
    return failures


def _check(label: str, answer) -> dict[str, str]:
    json = answer.get("Content-Type", "").startswith("application/json")
    body = answer.json() if json and answer.status_code >= 400 else None
    shaped = isinstance(body, dict) and set(body) == {"code", "message", "details"}
    if answer.status_code >= 500 or (answer.status_code >= 400 and not shaped):
        return {label: f"{answer.status_code}: {answer.content[:500]!r}"}
    if label.startswith("OPTIONS") and answer.status_code == 200 and "OPTIONS" not in answer.get("Allow", ""):
        return {label: f"no OPTIONS in Allow: {answer.get('Allow')!r}"}
    return {}


@pytest.fixture
def api_schema(settings, real_objects):  # after them: making them puts back what this turns off
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    # Django's test client does the same: the request's end must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.slow  # about 30 s a role on SpatiaLite: 143 operations, a few hundred requests each way
def test_api(api_schema, token, role, wechat, caplog):
    caplog.set_level(logging.CRITICAL, logger="django.request")
    headers = {"Authorization": f"Bearer {token}"}
    failures = {}
    reached: dict[str, Counter] = {}
    odd: list[tuple] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )
        pools = _pools(operation)
        answers = reached.setdefault(operation.label, Counter()) if pools else None
        run = _fuzzer(strategy, headers, pools, answers)
        odd.append((operation, pools))
        started = time.monotonic()
        try:
            run()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            failures[operation.label] = str(exc)[:3000]
        print(f"{operation.label}: {time.monotonic() - started:.1f}s")
    started = time.monotonic()
    failures.update(_odd_requests(odd, headers))
    print(f"OPTIONS and ids past 64 bits: {time.monotonic() - started:.1f}s")
    for label, answers in sorted(reached.items()):
        print(f"{label} with real objects: {dict(sorted(answers.items()))}")
    for label, text in failures.items():
        print(f"==== {label}\n{text}\n")
    assert not failures, sorted(failures)
    missed = sorted(label for label, answers in reached.items() if not set(answers) - {404})
    print(f"{role}: parametrised paths that reached an object: {len(reached) - len(missed)}/{len(reached)}")
    assert len(reached) >= 40, sorted(reached)  # the pools found objects for the paths with parameters
    if role == "main":  # the others see less of the world by design (a 404 outside their scope)
        assert len(missed) <= (1 - REACHED_AT_LEAST) * len(reached), missed
