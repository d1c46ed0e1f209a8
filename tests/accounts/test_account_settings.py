"""Seed 001 §3.7.1 主账号管理 (issue 23): the user changes the password and the bound phone number,
through the API (``POST /auth/password``, ``POST /auth/phone``) and the same services the
workspace's 账号设置 page calls. A new password signs the account out everywhere else."""

import uuid

import pytest
from django.db import IntegrityError, transaction

from server.accounts.models import DeviceToken, User
from server.audit.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Huangpu-River-2026!"


def device():
    return {"id": str(uuid.uuid4()), "platform": "android", "app_version": "2.0.1", "model_name": "Mi 14"}


def phone_signed_in(api_factory, user, password=PASSWORD):
    api = api_factory()
    body = {"username": user.username, "password": password, "device": device()}
    answer = api.post("/api/v1/auth/login", body, format="json")
    assert answer.status_code == 200, answer.json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['token']}")
    return api, answer.json()["device_id"]


@pytest.fixture
def phones():
    from tests.conftest import CheckedAPIClient

    return CheckedAPIClient


def test_changing_the_password_signs_out_the_other_phones_and_keeps_this_one(world, phones):
    user = world.shanghai.field_user
    this, this_device = phone_signed_in(phones, user)
    other, other_device = phone_signed_in(phones, user)
    answer = this.post(
        "/api/v1/auth/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert DeviceToken.objects.filter(device_id=this_device, revoked_at__isnull=True).count() == 1
    assert not DeviceToken.objects.filter(device_id=other_device, revoked_at__isnull=True).exists()
    assert this.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401
    entry = AuditEntry.objects.get(action="account.password_changed")
    assert (entry.actor_id, entry.subject_id, entry.changes) == (user.pk, str(user.pk), {"tokens_revoked": 1})
    assert entry.agency_id == world.shanghai.agency.pk
    # The new password signs in; the old one no longer does.
    phone_signed_in(phones, user, NEW_PASSWORD)
    old = phones().post(
        "/api/v1/auth/login",
        {"username": user.username, "password": PASSWORD, "device": device()},
        format="json",
    )
    assert old.json()["code"] == "login_failed"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"current_password": "wrong-one", "new_password": NEW_PASSWORD}, "wrong_password"),
        ({"current_password": PASSWORD, "new_password": "12345678"}, "weak_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "password_unchanged"),
    ],
)
def test_a_refused_password_change_changes_nothing(world, phones, body, code):
    user = world.shanghai.field_user
    api, _ = phone_signed_in(phones, user)
    phone_signed_in(phones, user)  # a second phone, which a refusal leaves signed in
    answer = api.post("/api/v1/auth/password", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert DeviceToken.objects.filter(user=user, revoked_at__isnull=True).count() == 2
    assert not AuditEntry.objects.filter(action="account.password_changed").exists()


def test_changing_the_phone_number_needs_the_password_and_is_audited_masked(world, phones):
    user = world.shanghai.reviewer
    api, _ = phone_signed_in(phones, user)
    wrong = api.post("/api/v1/auth/phone", {"password": "nope", "phone": "13912345678"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "wrong_password"
    user.refresh_from_db()
    assert user.phone == ""
    answer = api.post(
        "/api/v1/auth/phone", {"password": PASSWORD, "phone": "+86 139-1234-5678"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["phone"] == "13912345678"
    user.refresh_from_db()
    assert user.phone == "13912345678"
    entry = AuditEntry.objects.get(action="account.phone_changed")
    assert entry.changes == {"phone": ["", "139****5678"]}
    assert "13912345678" not in entry.summary
    # The phone stays signed in: only the password ends other sign-ins.
    assert api.get("/api/v1/me").json()["phone"] == "13912345678"


@pytest.mark.parametrize(
    ("phone", "code", "status"),
    [
        ("1391234567", "phone_invalid", 400),  # ten digits
        ("12912345678", "phone_invalid", 400),  # no 12x block
        ("021-64187325", "phone_invalid", 400),  # a landline
        ("13900000000", "phone_taken", 409),  # bound to the manager's account
    ],
)
def test_a_refused_phone_number_changes_nothing(world, client_for, phone, code, status):
    manager = world.shanghai.manager
    User.objects.filter(pk=manager.pk).update(phone="13900000000")
    user = world.shanghai.reviewer
    answer = client_for(user).post(
        "/api/v1/auth/phone", {"password": PASSWORD, "phone": phone}, format="json"
    )
    assert answer.status_code == status
    assert answer.json()["code"] == code
    assert "phone" in answer.json()["details"]
    user.refresh_from_db()
    assert user.phone == ""
    assert not AuditEntry.objects.filter(action="account.phone_changed").exists()


def test_a_closed_accounts_phone_number_can_be_bound_again(world, client_for):
    closed = world.shanghai.manager
    User.objects.filter(pk=closed.pk).update(phone="13900000000", is_active=False)
    answer = client_for(world.shanghai.reviewer).post(
        "/api/v1/auth/phone", {"password": PASSWORD, "phone": "13900000000"}, format="json"
    )
    assert answer.status_code == 200, answer.json()


def test_the_database_refuses_one_phone_number_on_two_accounts_in_service(world):
    User.objects.filter(pk=world.shanghai.manager.pk).update(phone="13900000000")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=world.shanghai.reviewer.pk).update(phone="13900000000")


def test_an_account_cannot_be_created_with_a_phone_number_already_bound(world, client_for):
    side = world.shanghai
    User.objects.filter(pk=side.manager.pk).update(phone="13900000000")
    body = {
        "username": "second.manager",
        "password": PASSWORD,
        "role": "agency_manager",
        "phone": "139 0000 0000",
    }
    answer = client_for(side.main).post("/api/v1/accounts", body, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "phone_taken"
    assert not User.objects.filter(username="second.manager").exists()


def test_me_names_a_regulators_region(world, client_for):
    body = client_for(world.shanghai.regulator).get("/api/v1/me").json()
    assert body["region_code"] == "310000"
    assert body["region_name"] == "上海市"
