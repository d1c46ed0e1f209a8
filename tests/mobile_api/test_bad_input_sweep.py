"""Every write endpoint, every malformed body: a 4xx in the one error shape, never a 500.

The endpoints come from the OpenAPI schema, so a new endpoint is swept without being listed here.
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.conftest import CheckedAPIClient

BODIES = [
    ("a list", []),
    ("a string", "x"),
    ("a number", 7),
    ("null", None),
    ("nested junk", {"device": [], "ops": {"a": 1}, "project": {"x": None}, "points": "1,2", "id": []}),
    (
        "wrong types",
        {"name": 123, "kind": [], "longitude": "east", "hired_on": "yesterday", "posts": "sampler"},
    ),
    ("huge numbers", {"project": 10**30, "employment": -1, "contract": 2**63, "enterprise": 1e308}),
]


def write_routes():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in operations:
            if method in ("post", "put", "patch", "delete"):
                yield method, path


ROUTES = sorted(set(write_routes()))


def concrete(path: str, world) -> str:
    ids = {"id": world.shanghai.project.pk, "device_id": "00000000-0000-0000-0000-000000000000"}
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


@pytest.mark.parametrize("role", ["platform", "agency_main", "agency_field", "enterprise", "regulator"])
def test_malformed_bodies_never_cause_a_500(world, role):
    user = world.platform if role == "platform" else world.shanghai.users[role]
    client = CheckedAPIClient(raise_request_exception=False)
    client.force_authenticate(user)
    failures = []
    for method, path in ROUTES:
        url = concrete(path, world)
        for label, body in BODIES:
            response = getattr(client, method)(url, body, format="json")
            if response.status_code >= 500 or not response.get("Content-Type", "").startswith(
                "application/json"
            ):
                if response.status_code != 204:
                    failures.append((method, url, label, response.status_code))
            elif response.status_code >= 400:
                assert set(response.json()) == {"code", "message", "details"}, (method, url, label)
    assert not failures, failures


def test_garbage_content_types_and_encodings(world):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(world.shanghai.main)
    for method, path in ROUTES:
        url = concrete(path, world)
        for data, content_type in [
            (b"\xff\xfe\x00garbage", "application/json"),
            (b"--x\r\nContent-Disposition: form-data\r\n\r\n", "multipart/form-data; boundary=x"),
            (b"a=1&a=2&%%%", "application/x-www-form-urlencoded"),
        ]:
            response = client.generic(method.upper(), url, data, content_type=content_type)
            assert response.status_code < 500, (method, url, content_type, response.content[:300])


def read_routes():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(path for path, operations in schema["paths"].items() if "get" in operations)


def test_junk_query_parameters_never_cause_a_500(world):
    client = CheckedAPIClient(raise_request_exception=False)
    client.force_authenticate(world.shanghai.main)
    junk = {
        "page": "abc",
        "page_size": "-5",
        "cursor": "x",
        "limit": "1e9",
        "coords": "utm",
        "enterprise": "abc",
        "project": "[]",
        "status": "nope",
        "region": "%00",
        "id_number": "1" * 500,
    }
    for path in read_routes():
        response = client.get(concrete(path, world), junk)
        assert response.status_code < 500, (path, response.content[:300])
