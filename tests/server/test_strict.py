"""Writes read strictly (server/strict.py, F10 items 5 and 6): a key no field reads is a 400 naming
it, through the API and in a sync push, nested or in a list, as JSON or as a form; an invalid choice
lists the values allowed, in Chinese and in English."""

from __future__ import annotations

import uuid

import pytest
from django.http import QueryDict
from rest_framework import serializers

from media_rules.models import Photo
from server.strict import unknown_fields, validation_errors
from server.tracks.models import CheckIn
from sync.models import Operation
from tests.mobile_api.test_photo_intake import error, image, post_photo, storage_root  # noqa: F401
from tests.sync.helpers import Phone
from tests.tracks.test_checkins import API, check_in


class Item(serializers.Serializer):
    name = serializers.CharField()


class Body(serializers.Serializer):
    title = serializers.CharField()
    item = Item(required=False)
    items = Item(many=True, required=False)
    listed = serializers.ListField(child=Item(), required=False)
    free = serializers.DictField(required=False)
    renamed_fields = {"old": "title"}


def test_unknown_keys_are_named_at_any_depth_and_free_form_fields_are_not_searched():
    data = {
        "title": "t",
        "old": 1,
        "item": {"name": "a", "nom": "b"},
        "items": [{"name": "a"}, {"name": "b", "x": 1}],
        "listed": [{"y": 2, "name": "c"}],
        "free": {"anything": 1},
    }
    found = unknown_fields(Body(data=data), data)
    assert set(found) == {"old", "item", "items", "listed"}
    assert "title" in found["old"][0]  # the new name of a renamed field
    assert set(found["item"]) == {"nom"}
    assert set(found["items"]) == {1}
    assert set(found["items"][1]) == {"x"}
    assert set(found["listed"][0]) == {"y"}


def test_unknown_keys_come_with_the_other_errors():
    errors = validation_errors(Body(data={"item": {"nom": "b"}}))
    assert set(errors) == {"title", "item"}
    assert set(errors["item"]) == {"name", "nom"}
    assert validation_errors(Body(data={"title": "t", "items": [{"name": "a"}]})) == {}


def test_a_form_is_read_by_its_field_names():
    form = QueryDict("title=t&items[0]name=a&csrfmiddlewaretoken=x&extra=1")
    assert set(unknown_fields(Body(data=form), form)) == {"extra"}


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def task_id(side, client_for):
    response = client_for(side.field_user).post(
        f"{API}/tasks", {"project": side.project.pk, "name": "总排口采样"}, format="json"
    )
    return response.json()["id"]


def test_a_multipart_photo_with_an_unknown_field_is_refused_and_with_its_own_fields_stored(
    side, client_for, task_id
):
    client = client_for(side.field_user)
    task = type("Task", (), {"pk": task_id})
    refused = error(post_photo(client, task=task, file=image(), mock="true"), 400, "validation_failed")
    assert set(refused["details"]) == {"mock"}
    assert "mock_location" in refused["details"]["mock"][0]
    assert not Photo.objects.exists()
    fix = {"longitude": 121.44, "latitude": 31.19, "coordinate_system": "gcj02"}
    stored = post_photo(client, task=task, file=image(), mock_location="true", **fix)
    assert stored.status_code == 201, stored.json()
    assert Photo.objects.get(pk=stored.json()["id"]).mock_location is True


def test_a_push_envelope_with_an_unknown_key_is_refused_and_applies_nothing(side, task_id):
    phone = Phone.enrol(side.field_user)
    op = phone.op("task.create", uuid.uuid4(), {"project": side.project.pk, "name": "离线"})
    op["priority"] = "high"
    answer = phone.push()
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_failed")
    assert set(answer.json()["details"]["ops"]["0"]) == {"priority"}
    assert not Operation.objects.exists()


def test_an_unknown_key_in_an_operation_is_a_rejected_operation(side, task_id):
    phone = Phone.enrol(side.field_user)
    phone.op("task.create", uuid.uuid4(), {"project": side.project.pk, "name": "离线", "colour": "red"})
    result = phone.push().json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "validation_failed")
    assert set(result["details"]) == {"colour"}


def test_an_invalid_choice_lists_the_values_allowed_in_the_asked_language(side, task_id, client_for):
    client = client_for(side.field_user)
    zh = check_in(client, lon=121.44, lat=31.19, system="wgs-84", task=task_id).json()
    assert zh["code"] == "validation_failed"
    assert zh["details"]["coordinate_system"] == ["「wgs-84」不是有效的选项；可选值：wgs84、gcj02、bd09。"]
    body = {"id": str(uuid.uuid4()), "longitude": 121.44, "latitude": 31.19, "coordinate_system": "wgs-84"}
    en = client.post(
        f"{API}/checkins", body | {"task": task_id}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert en["details"]["coordinate_system"] == [
        "“wgs-84” is not a valid choice; allowed: wgs84, gcj02, bd09."
    ]
    assert not CheckIn.objects.exists()
