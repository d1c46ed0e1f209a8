"""F9 item 7: departed staff keep no access. Departure and closing an account revoke the person's
device tokens and sessions; an account whose person is no longer on its agency's active staff is
not authenticated at all (tokens, sessions, password sign-in), whatever recorded the departure."""

import datetime as dt

from django.contrib.sessions.models import Session
from django.utils import timezone

from server.accounts.models import DeviceToken
from server.registry.models import Employment
from tests.conftest import CheckedAPIClient
from tests.factories import PASSWORD
from tests.sync.helpers import Phone

API = "/api/v1"


def session_client(user) -> CheckedAPIClient:
    client = CheckedAPIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def reads(client, side) -> list[int]:
    return [
        client.get(f"{API}/projects").status_code,
        client.get(f"{API}/projects/{side.project.pk}").status_code,
        client.get(f"{API}/sync/pull").status_code,
    ]


def test_departure_revokes_tokens_and_sessions_and_refuses_sign_in(world, api, client_for):
    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    session = session_client(side.field_user)
    assert reads(phone.client(), side) == [200, 200, 200]
    assert reads(session, side) == [200, 200, 200]

    departed = client_for(side.main).post(
        f"{API}/staff/{side.sampler.pk}/depart",
        {"departed_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert departed.status_code == 200, departed.json()

    token = DeviceToken.objects.get(user=side.field_user)
    assert token.revoked_at is not None
    sessions = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(side.field_user.pk) not in sessions
    assert reads(phone.client(), side) == [401, 401, 401]
    assert reads(session, side)[0] in (401, 403)
    login = api.post(
        f"{API}/auth/login",
        {
            "username": side.field_user.username,
            "password": PASSWORD,
            "device": {"id": phone.device_id, "platform": "wechat", "app_version": "2.0.0"},
        },
        format="json",
    )
    assert (login.status_code, login.json()["code"]) == (401, "login_failed")
    assert not CheckedAPIClient().login(username=side.field_user.username, password=PASSWORD)
    # The colleagues and the agency's main account (no person) go on.
    assert reads(Phone.enrol(side.reviewer).client(), side) == [200, 200, 200]
    assert reads(session_client(side.main), side) == [200, 200, 200]


def test_a_departure_recorded_without_the_service_still_locks_the_account_out(world):
    """The check is where a request becomes a user: a departure written by an import, the admin's bulk
    edit or a transfer filed by another agency leaves no live token and no session usable."""
    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    session = session_client(side.field_user)
    Employment.objects.filter(pk=side.sampler.pk).update(
        status=Employment.Status.DEPARTED, departed_on=timezone.localdate() - dt.timedelta(days=1)
    )
    assert DeviceToken.objects.get(user=side.field_user).revoked_at is None  # not revoked: refused anyway
    assert reads(phone.client(), side) == [401, 401, 401]
    assert reads(session, side)[0] in (401, 403)


def test_closing_an_account_ends_its_sessions_too(world, client_for):
    side = world.shanghai
    phone = Phone.enrol(side.reviewer)
    session = session_client(side.reviewer)
    closed = client_for(side.main).post(f"{API}/accounts/{side.reviewer.pk}/close")
    assert closed.status_code == 200, closed.json()
    sessions = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(side.reviewer.pk) not in sessions
    assert DeviceToken.objects.get(user=side.reviewer).revoked_at is not None
    assert reads(phone.client(), side)[0] == 401
    assert reads(session, side)[0] in (401, 403)
