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


def test_the_database_refuses_a_second_account_in_service_for_a_person(world):
    """Issue 23: whatever path writes it (a script, a bulk update), the constraint holds."""
    from django.db import IntegrityError, transaction

    side = world.shanghai
    person = side.sampler.person
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            username="sneaked.in", role="agency_field", agency=side.agency, person=person, password="!"
        )
    # A closed account beside the one in service is allowed (history is kept).
    User.objects.create(
        username="closed.before", role="agency_field", agency=side.agency, person=person, is_active=False
    )
    assert User.objects.filter(person=person, is_active=True).count() == 1


def test_the_admin_refuses_a_second_account_for_a_person(world, admin_client):
    from django.urls import reverse

    side = world.shanghai
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "admin.made",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": "agency_field",
            "agency": side.agency.pk,
            "person": side.sampler.person.pk,
        },
    )
    assert response.status_code == 200
    assert "已分配账号" in str(response.context["adminform"].form.errors["person"])
    assert not User.objects.filter(username="admin.made").exists()


def test_the_admin_cannot_reopen_a_closed_account_beside_the_one_in_service(world, admin_client):
    from django.urls import reverse

    side = world.shanghai
    closed = User.objects.create(
        username="closed.before",
        role="agency_field",
        agency=side.agency,
        person=side.sampler.person,
        is_active=False,
    )
    change = admin_client.get(reverse("admin:accounts_user_change", args=[closed.pk]))
    form = change.context["adminform"].form
    data = {
        k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions")
    }
    data |= {"is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00"}
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    response = admin_client.post(reverse("admin:accounts_user_change", args=[closed.pk]), data)
    assert response.status_code == 200
    assert "已分配账号" in str(response.context["adminform"].form.errors.get("person"))
    closed.refresh_from_db()
    assert closed.is_active is False
