"""JSON bodies with text no database can store (server/parsers.py): NUL and lone UTF-16 surrogates
are replaced by U+FFFD, on every endpoint and in pushes, so that a write never fails on them. Before,
PostgreSQL refused them: a 500, and in a push a server_error that the phone retried for ever while
its later operations waited behind it."""

from __future__ import annotations

import json
import uuid

import pytest

from server.fieldwork.models import MonitoringTask
from server.parsers import storable
from tests.sync.helpers import Phone

HALF_EMOJI = "\ud83d"  # what JavaScript's note.slice(0, n) leaves of 😀 when n cuts the pair


def test_nul_and_lone_surrogates_are_replaced_in_keys_and_values_and_nothing_else_changes():
    sent = {
        "note": f"水样浑浊{HALF_EMOJI}",
        "list": ["a\x00b", 1, 2.5, None, True, {"\udc00key": "😀 ok"}],
        "path": "C:\\u0000",  # a backslash, then the letters u0000: text, not a NUL
    }
    assert storable(sent) == {
        "note": "水样浑浊\ufffd",
        "list": ["a\ufffdb", 1, 2.5, None, True, {"\ufffdkey": "😀 ok"}],
        "path": "C:\\u0000",
    }


def _push(phone: Phone, ops: list[dict]):
    # json.dumps escapes the surrogate as "\ud83d", the way JSON.stringify in a phone's JavaScript does.
    body = json.dumps({"device_id": phone.device_id, "device_time": phone.now().isoformat(), "ops": ops})
    return phone.client().post("/api/v1/sync/push", body, content_type="application/json")


@pytest.mark.django_db
def test_a_push_with_half_an_emoji_applies_once_and_the_phones_next_operations_go_on(world):
    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    first, second = uuid.uuid4(), uuid.uuid4()
    cut = phone.op("task.create", first, {"project": side.project.pk, "name": f"采样{HALF_EMOJI}"})
    after = phone.op("task.create", second, {"project": side.project.pk, "name": "下一个"})

    answer = _push(phone, [cut, after])

    assert answer.status_code == 200, answer.content
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "applied"]
    assert MonitoringTask.objects.get(pk=first).name == "采样\ufffd"
    assert MonitoringTask.objects.get(pk=second).name == "下一个"
    again = _push(phone, [cut])  # the answer was lost: the phone sends the same operation again
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"]
    assert MonitoringTask.objects.filter(pk__in=[first, second]).count() == 2


@pytest.mark.django_db
def test_an_endpoint_keyed_by_what_the_phone_sent_answers_instead_of_failing(client_for, world):
    body = json.dumps({"results": {"tmpl\x00": "accept", f"tmpl{HALF_EMOJI}": "reject"}})
    answer = client_for(world.shanghai.field_user).post(
        "/api/v1/notifications/subscriptions", body, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["ignored"] == ["tmpl\ufffd"]  # both keys repaired to the same unknown template
