"""F10 item 7: one convention for every time the server writes out. In JSON (REST answers, pull rows,
push results) every moment is RFC 3339 in Asia/Shanghai with its offset, ``+08:00`` (server/fields.py
``instant``); never ``+00:00`` nor ``Z``. The same photo's ``captured_at`` was ``+08:00`` in the POST
answer and ``+00:00`` in GET (a string written by ``isoformat()`` of whatever the value held)."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
from django.utils import timezone

from server.fields import instant
from tests.om.helpers import checkin_payload
from tests.shared_data import PHOTOS
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db

API = "/api/v1"
UTC = dt.UTC
# Anything that looks like an ISO 8601 moment, whatever its zone.
MOMENT = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")
CONVENTION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+08:00$")


def moments(value, path: str = "$"):
    """(path, text) of every string in an answer that reads as a moment."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from moments(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from moments(item, f"{path}[{index}]")
    elif isinstance(value, str) and MOMENT.match(value):
        yield path, value


def off_convention(answer) -> list[tuple[str, str]]:
    return [(path, text) for path, text in moments(answer) if not CONVENTION.match(text)]


def test_instant_is_beijing_time_with_its_offset():
    noon_utc = dt.datetime(2024, 5, 1, 4, 0, tzinfo=UTC)
    assert instant(noon_utc) == "2024-05-01T12:00:00+08:00"
    assert instant(noon_utc.astimezone(dt.timezone(dt.timedelta(hours=-5)))) == "2024-05-01T12:00:00+08:00"
    assert instant(None) is None


def test_every_answer_writes_moments_one_way(world):
    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    client = phone.client()
    answers: dict[str, object] = {}

    # A task, created offline and pushed (the push's per-operation results), then read.
    task_id = uuid.uuid4()
    phone.op("task.create", task_id, {"project": side.project.pk, "name": "进水口采样"})
    phone.op("task.transition", task_id, {"to": "running"})
    push = phone.push()
    assert push.status_code == 200, push.json()
    answers["push"] = push.json()
    assert {r["status"] for r in answers["push"]["results"]} == {"applied"}
    answers["task"] = client.get(f"{API}/tasks/{task_id}").json()
    answers["tasks"] = client.get(f"{API}/tasks").json()

    # A photo with a camera's capture time (EXIF), sent in UTC: POST and GET answer the same text.
    data = (PHOTOS / "Canon_40D.jpg").read_bytes()
    at = timezone.now().astimezone(UTC).replace(microsecond=0)
    form = {
        "id": str(uuid.uuid4()),
        "photo_type": "sampling_site",
        "task": str(task_id),
        "device_time": at.isoformat().replace("+00:00", "Z"),
        "file": _file(data),
    }
    posted = client.post(f"{API}/photos", form, format="multipart")
    assert posted.status_code == 201, posted.json()
    answers["photo POST"] = posted.json()
    answers["photo GET"] = client.get(f"{API}/photos/{form['id']}").json()
    assert answers["photo POST"]["captured_at"] == answers["photo GET"]["captured_at"]
    assert answers["photo GET"]["captured_at"].endswith("+08:00")

    # A check-in at the O&M point, online.
    om = Phone.enrol(side.technician_user).client()
    body = {"id": str(uuid.uuid4()), **checkin_payload(side, "start", at)}
    checked = om.post(f"{API}/checkins", body, format="json")
    assert checked.status_code == 201, checked.json()
    answers["check-in"] = checked.json()
    answers["check-ins"] = om.get(f"{API}/checkins").json()

    answers["pull"] = phone.pull().json()
    answers["device state"] = client.get(f"{API}/sync/devices/{phone.device_id}").json()

    found = {name: list(moments(answer)) for name, answer in answers.items()}
    assert all(found[name] for name in ("task", "photo GET", "check-in", "pull", "device state")), found
    wrong = {name: off_convention(answer) for name, answer in answers.items()}
    assert {name: bad for name, bad in wrong.items() if bad} == {}


def _file(data: bytes):
    file = io.BytesIO(data)
    file.name = "wxfile://tmp.jpg"
    return file


def test_the_openapi_schema_states_the_convention(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "`2026-05-04T08:00:00+08:00`" in schema["info"]["description"]
    task = schema["components"]["schemas"]["TaskOut"]["properties"]
    assert task["created_at"]["example"] == task["received_at"]["example"] == "2026-05-04T08:00:00+08:00"
    examples = [text for _, text in moments(schema)]
    assert examples
    assert off_convention(schema) == []
