"""Seed 002 账号分配: a person is given one account (F10 item 9: a second could be assigned)."""

import pytest

from server.accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_person_is_given_one_account(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    employment = side.sampler
    held = User.objects.get(person=employment.person, is_active=True)
    body = {
        "username": "second_one",
        "password": PASSWORD,
        "role": "agency_field",
        "employment_id": employment.pk,
    }
    answer = main.post("/api/v1/accounts", body, format="json")
    assert answer.status_code == 409, answer.json()
    assert answer.json()["code"] == "person_has_account"
    assert held.username in answer.json()["message"]
    assert list(User.objects.filter(person=employment.person).values_list("username", flat=True)) == [
        held.username
    ]


def test_a_closed_account_can_be_replaced(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    employment = side.sampler
    held = User.objects.get(person=employment.person, is_active=True)
    assert main.post(f"/api/v1/accounts/{held.pk}/close").status_code in (200, 204)
    body = {
        "username": "replacement",
        "password": PASSWORD,
        "role": "agency_field",
        "employment_id": employment.pk,
    }
    answer = main.post("/api/v1/accounts", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert User.objects.get(person=employment.person, is_active=True).username == "replacement"
