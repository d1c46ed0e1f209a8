"""Each role × each object endpoint × own side vs the other side: what can be read.

The Shanghai side's users read the Shanghai side's objects ("own") and the Jiangsu side's ("other").
Outside a user's scope an object is 404, never 403, so that its existence does not leak.
"""

import pytest

from tests.support.side_objects import om_record_of, report_of, task_of, violation_of, with_side_objects

OWN, OTHER = "own", "other"


@pytest.fixture
def world(world):
    """The shared world, with a violation and its rectification, a monitoring task, a submitted O&M
    record and an O&M report, on each side."""
    return with_side_objects(world)


# endpoint -> how to find the object on a side
OBJECTS = {
    "agencies": lambda side: side.agency.pk,
    "enterprises": lambda side: side.enterprise.pk,
    "outlets": lambda side: side.wastewater.pk,
    "instruments": lambda side: side.instrument.pk,
    "contracts": lambda side: side.om_contract.pk,
    "staff": lambda side: side.sampler.pk,
    "projects": lambda side: side.project.pk,
    "om-tasks": lambda side: side.om_task.pk,
    "accounts": lambda side: side.field_user.pk,
    "violations": lambda side: violation_of(side).pk,
    "rectifications": lambda side: violation_of(side).rectifications.get().pk,
    "tasks": lambda side: str(task_of(side).pk),
    "om/records": lambda side: str(om_record_of(side).pk),
    "checkins": lambda side: str(om_record_of(side).start_checkin_id),
    # The record's work photo: a site photo (no monitoring task) at the side's wastewater outlet.
    "photos": lambda side: str(om_record_of(side).work_photo_id),
}

# role -> endpoint -> (status for own, status for other)
EXPECTED = {
    # Platform administrators see everything; accounts are managed by each agency's main account.
    "platform": dict.fromkeys(OBJECTS, (200, 200)) | {"accounts": (403, 403)},
    "regulator": {
        "agencies": (200, 404),
        "enterprises": (200, 404),
        "outlets": (200, 404),
        "instruments": (200, 404),
        "contracts": (200, 404),
        "staff": (200, 404),
        "projects": (200, 404),
        "om-tasks": (200, 404),
        "accounts": (403, 403),
        "violations": (200, 404),
        "rectifications": (200, 404),
        "tasks": (200, 404),
        # Submitted records of the region's enterprises, and what they hang on.
        "om/records": (200, 404),
        "checkins": (200, 404),
        "photos": (200, 404),
    },
    "agency_main": dict.fromkeys(OBJECTS, (200, 404)),
    "agency_manager": dict.fromkeys(OBJECTS, (200, 404)),
    # The sampler is on the project, not on the O&M task; field accounts do not manage accounts.
    # O&M records and check-ins follow the O&M task; a site photo (no monitoring task) is seen by
    # every account of the agency that took it (access.photos_for).
    "agency_field": dict.fromkeys(OBJECTS, (200, 404))
    | {"om-tasks": (404, 404), "accounts": (403, 403), "om/records": (404, 404), "checkins": (404, 404)},
    # The reviewer is on the O&M task's staff.
    "agency_reviewer": dict.fromkeys(OBJECTS, (200, 404)) | {"accounts": (403, 403)},
    # The technician (a field account) is on the O&M task, not on the project: no monitoring task,
    # and so none of the project's violations.
    "technician": dict.fromkeys(OBJECTS, (200, 404))
    | {
        "projects": (404, 404),
        "tasks": (404, 404),
        "accounts": (403, 403),
        "violations": (404, 404),
        "rectifications": (404, 404),
    },
    # Enterprises see no violations, not even those of their own projects; they see their O&M
    # records once submitted, and the photos taken at their outlets.
    "enterprise": dict.fromkeys(OBJECTS, (200, 404))
    | {"staff": (404, 404), "accounts": (403, 403), "violations": (404, 404), "rectifications": (404, 404)},
}

CASES = [(role, endpoint) for role in EXPECTED for endpoint in OBJECTS]


def _user(world, role):
    if role == "technician":
        return world.shanghai.technician_user
    return world.platform if role == "platform" else world.shanghai.users[role]


@pytest.mark.parametrize(("role", "endpoint"), CASES)
def test_read_own_and_other(world, client_for, role, endpoint):
    client = client_for(_user(world, role))
    own_status, other_status = EXPECTED[role][endpoint]
    for side, expected in ((world.shanghai, own_status), (world.jiangsu, other_status)):
        pk = OBJECTS[endpoint](side)
        response = client.get(f"/api/v1/{endpoint}/{pk}")
        assert response.status_code == expected, (role, endpoint, side.agency.region_code, response.json())
        if expected == 200:
            assert response.json()["id"] == pk
        if expected == 404:
            assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("role", "endpoint"), CASES)
def test_lists_hold_exactly_the_readable_objects(world, client_for, role, endpoint):
    client = client_for(_user(world, role))
    response = client.get(f"/api/v1/{endpoint}", {"page_size": 200})
    own_status, other_status = EXPECTED[role][endpoint]
    if own_status == 403:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert (OBJECTS[endpoint](world.shanghai) in ids) == (own_status == 200)
    assert (OBJECTS[endpoint](world.jiangsu) in ids) == (other_status == 200)


# --- Reads below an object: readable exactly when the object is ------------------------------------
# name -> (the object's endpoint in OBJECTS, how to find the path on a side)
BELOW = {
    "om-record-version": ("om/records", lambda side: f"om/records/{om_record_of(side).pk}/versions/1"),
    "om-record-history": ("om/records", lambda side: f"audit/om_record/{om_record_of(side).pk}"),
    "task-history": ("tasks", lambda side: f"audit/task/{task_of(side).pk}"),
    "task-track": ("tasks", lambda side: f"tasks/{task_of(side).pk}/track"),
    "task-track-geojson": ("tasks", lambda side: f"tasks/{task_of(side).pk}/track.geojson"),
    "om-report-file": ("om-tasks", lambda side: f"om/reports/{report_of(side).pk}/file"),
}


@pytest.mark.parametrize(("role", "name"), [(role, name) for role in EXPECTED for name in BELOW])
def test_read_below_own_and_other(world, client_for, role, name):
    client = client_for(_user(world, role))
    endpoint, find = BELOW[name]
    own_status, other_status = EXPECTED[role][endpoint]
    for side, expected in ((world.shanghai, own_status), (world.jiangsu, other_status)):
        response = client.get(f"/api/v1/{find(side)}")
        assert response.status_code == expected, (role, name, side.agency.region_code)
        if expected == 404:
            assert response.json()["code"] == "not_found"


def test_drafts_stay_with_the_agency(world, client_for):
    """A draft O&M record: the agency's accounts on the task see it; the enterprise and the regulator
    do not, though they see the task's submitted records."""
    from tests.om.test_reports import record

    draft = record(world.shanghai, "draft")
    for role in ("platform", "agency_main", "agency_manager", "agency_reviewer", "technician"):
        response = client_for(_user(world, role)).get(f"/api/v1/om/records/{draft.pk}")
        assert response.status_code == 200, role
    for role in ("enterprise", "regulator", "agency_field"):
        client = client_for(_user(world, role))
        assert client.get(f"/api/v1/om/records/{draft.pk}").status_code == 404, role
        assert client.get(f"/api/v1/om/records/{draft.pk}/versions/1").status_code == 404, role
        assert client.get(f"/api/v1/audit/om_record/{draft.pk}").status_code == 404, role


def test_anonymous_reads_nothing(world, api):
    for endpoint, find in OBJECTS.items():
        response = api.get(f"/api/v1/{endpoint}/{find(world.shanghai)}")
        assert response.status_code == 401, endpoint
        assert response.json()["code"] == "not_authenticated"
    for name, (_, find) in BELOW.items():
        response = api.get(f"/api/v1/{find(world.shanghai)}")
        assert response.status_code == 401, name


def test_a_regulator_sees_an_out_of_province_agency_once_it_works_in_the_region(world, client_for):
    import datetime as dt

    from tests.factories import accepted_contract

    regulator = client_for(world.shanghai.regulator)
    jiangsu_agency = world.jiangsu.agency.pk
    assert regulator.get(f"/api/v1/agencies/{jiangsu_agency}").status_code == 404
    accepted_contract(
        agency=world.jiangsu.agency,
        enterprise=world.shanghai.enterprise,
        nature="monitoring",
        number="SH-WORK-1",
        title="跨省委托监测",
        amount=1000,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    assert regulator.get(f"/api/v1/agencies/{jiangsu_agency}").status_code == 200
    assert regulator.get(f"/api/v1/staff/{world.jiangsu.sampler.pk}").status_code == 200


# --- Writes: a visible object the user may not change is 403; an invisible one stays 404 ----------
WRITES = {
    "outlets": (lambda side: side.wastewater.pk, {"geofence_radius_m": 120}),
    "instruments": (lambda side: side.instrument.pk, {"unit": "μg/L"}),
    "enterprises": (lambda side: side.enterprise.pk, {"contact_name": "李工"}),
    "staff": (lambda side: side.sampler.pk, {"major": "环境工程"}),
    "agencies": (lambda side: side.agency.pk, {"contact_phone": "021-64000000"}),
}

WRITE_EXPECTED = {
    "platform": dict.fromkeys(WRITES, 200),
    "regulator": dict.fromkeys(WRITES, 403),
    # An agency keeps its own staff and filing; the enterprise's record, outlets and instruments are
    # the enterprise's, even under an accepted contract (issue F9.2).
    "agency_main": {"outlets": 403, "instruments": 403, "enterprises": 403, "staff": 200, "agencies": 200},
    "agency_manager": {"outlets": 403, "instruments": 403, "enterprises": 403, "staff": 200, "agencies": 200},
    "agency_field": dict.fromkeys(WRITES, 403),
    "agency_reviewer": dict.fromkeys(WRITES, 403),
    "enterprise": {"outlets": 200, "instruments": 200, "enterprises": 200, "staff": 404, "agencies": 403},
}


@pytest.mark.parametrize(("role", "endpoint"), [(r, e) for r in WRITE_EXPECTED for e in WRITES])
def test_write_own_and_other(world, client_for, role, endpoint):
    client = client_for(_user(world, role))
    find, body = WRITES[endpoint]
    field, value = next(iter(body.items()))
    own, other_pk = find(world.shanghai), find(world.jiangsu)
    response = client.patch(f"/api/v1/{endpoint}/{own}", body, format="json")
    assert response.status_code == WRITE_EXPECTED[role][endpoint], (role, endpoint, response.json())
    # What is stored: changed only when the write was allowed.
    assert (stored(endpoint, own, field) == value) == (response.status_code == 200), (role, endpoint)
    if role != "platform":
        other = client.patch(f"/api/v1/{endpoint}/{other_pk}", body, format="json")
        assert other.status_code == 404, (role, endpoint, other.json())
        assert stored(endpoint, other_pk, field) != value


def stored(endpoint: str, pk: int, field: str):
    from server.registry.models import Agency, Employment, Enterprise, Instrument, Outlet

    model = {
        "outlets": Outlet,
        "instruments": Instrument,
        "enterprises": Enterprise,
        "staff": Employment,
        "agencies": Agency,
    }[endpoint]
    return model.objects.values_list(field, flat=True).get(pk=pk)


# --- Notifications: a user's own, whatever the role; anyone else's is 404 -------------------------
@pytest.mark.parametrize("role", list(EXPECTED))
def test_notifications_are_their_recipients_own(world, client_for, role):
    from server.notifications.models import Notification
    from server.notifications.services import notify

    user = _user(world, role)
    colleague = world.shanghai.main if user != world.shanghai.main else world.shanghai.manager
    for recipient in (user, colleague, world.jiangsu.main):
        notify(recipients=[recipient], kind="task_reminder", title="采样提醒", body="")
    own = Notification.objects.get(recipient=user, kind="task_reminder")
    client = client_for(user)
    assert client.get(f"/api/v1/notifications/{own.pk}").json()["id"] == own.pk
    for other in Notification.objects.exclude(recipient=user):
        for response in (
            client.get(f"/api/v1/notifications/{other.pk}"),
            client.post(f"/api/v1/notifications/{other.pk}/read"),
        ):
            assert response.status_code == 404, (role, response.json())
            assert response.json()["code"] == "not_found"
    listed = [row["id"] for row in client.get("/api/v1/notifications").json()["results"]]
    # The world's violations already told the agencies' admins and the regulators (their own too).
    assert own.pk in listed
    assert set(listed) == set(Notification.objects.filter(recipient=user).values_list("pk", flat=True))
    assert not Notification.objects.exclude(recipient=user).filter(read_at__isnull=False).exists()


# --- The attacker's side, over time: former employees and signed-out phones (issue F9.3, F9.7) ----
def _departed_phone(world):
    """A sampler's phone whose person has left the agency (departure recorded by the main account)."""
    from django.utils import timezone

    from tests.sync.helpers import Phone

    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    departed = client_for_main(side).post(
        f"/api/v1/staff/{side.sampler.pk}/depart",
        {"departed_on": timezone.localdate().isoformat()},
        format="json",
    )
    assert departed.status_code == 200, departed.json()
    return phone


def _signed_out_phone(world):
    from tests.sync.helpers import Phone

    phone = Phone.enrol(world.shanghai.field_user)
    assert phone.client().post("/api/v1/auth/logout").status_code in (200, 204)
    return phone


def client_for_main(side):
    from tests.conftest import CheckedAPIClient

    client = CheckedAPIClient()
    client.force_authenticate(side.main)
    return client


@pytest.mark.parametrize("make_phone", [_departed_phone, _signed_out_phone], ids=["departed", "signed_out"])
def test_former_staff_and_signed_out_phones_read_nothing(world, make_phone):
    """With its real token, not a forced sign-in: every object, every read below one, the pull, the
    device's own sync state: 401, on both sides."""
    phone = make_phone(world)
    client = phone.client()
    paths = [
        f"{endpoint}/{find(side)}"
        for endpoint, find in OBJECTS.items()
        for side in (world.shanghai, world.jiangsu)
    ]
    paths += [find(side) for _, find in BELOW.values() for side in (world.shanghai, world.jiangsu)]
    paths += ["sync/pull", f"sync/devices/{phone.device_id}", "projects", "photos", "staff"]
    for path in paths:
        response = client.get(f"/api/v1/{path}")
        assert response.status_code == 401, (path, response.status_code)
        assert response.json()["code"] in ("not_authenticated", "authentication_failed")
