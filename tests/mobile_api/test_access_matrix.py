"""Each role × each object endpoint × own side vs the other side: what can be read.

The Shanghai side's users read the Shanghai side's objects ("own") and the Jiangsu side's ("other").
Outside a user's scope an object is 404, never 403, so that its existence does not leak.
"""

import datetime as dt

import pytest
from django.utils import timezone

OWN, OTHER = "own", "other"


def _violation(side):
    """The side's violation (违规待整改), opened by its regulator, with one rectification."""
    from server.violations.models import Violation
    from server.violations.services import rectification_submit, violation_open

    existing = Violation.objects.filter(project=side.project).first()
    if existing is not None:
        return existing
    violation = violation_open(
        project=side.project,
        actor=side.regulator,
        description="采样记录缺少采样人签字",
        deadline=timezone.localdate() + dt.timedelta(days=7),
    )
    rectification_submit(violation=violation, actor=side.main, text="已补签")
    return violation


def _task(side):
    """The side's monitoring task, created by its sampler."""
    import uuid

    from server.fieldwork.models import MonitoringTask
    from server.fieldwork.services import task_create

    existing = MonitoringTask.objects.filter(project=side.project).first()
    if existing is not None:
        return existing
    task, _ = task_create(
        actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="进水口采样"
    )
    return task


@pytest.fixture
def world(world):
    """The shared world, with a violation and its rectification, and a monitoring task, on each side."""
    for side in (world.shanghai, world.jiangsu):
        _violation(side)
        _task(side)
    return world


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
    "violations": lambda side: _violation(side).pk,
    "rectifications": lambda side: _violation(side).rectifications.get().pk,
    "tasks": lambda side: str(_task(side).pk),
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
    },
    "agency_main": dict.fromkeys(OBJECTS, (200, 404)),
    "agency_manager": dict.fromkeys(OBJECTS, (200, 404)),
    # The sampler is on the project, not on the O&M task; field accounts do not manage accounts.
    "agency_field": dict.fromkeys(OBJECTS, (200, 404)) | {"om-tasks": (404, 404), "accounts": (403, 403)},
    "agency_reviewer": dict.fromkeys(OBJECTS, (200, 404)) | {"accounts": (403, 403)},
    # Enterprises see no violations, not even those of their own projects.
    "enterprise": dict.fromkeys(OBJECTS, (200, 404))
    | {"staff": (404, 404), "accounts": (403, 403), "violations": (404, 404), "rectifications": (404, 404)},
}

CASES = [(role, endpoint) for role in EXPECTED for endpoint in OBJECTS]


def _user(world, role):
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


def test_anonymous_reads_nothing(world, api):
    for endpoint, find in OBJECTS.items():
        response = api.get(f"/api/v1/{endpoint}/{find(world.shanghai)}")
        assert response.status_code == 401, endpoint
        assert response.json()["code"] == "not_authenticated"


def test_a_regulator_sees_an_out_of_province_agency_once_it_works_in_the_region(world, client_for):
    import datetime as dt

    from server.registry.services import contract_create

    regulator = client_for(world.shanghai.regulator)
    jiangsu_agency = world.jiangsu.agency.pk
    assert regulator.get(f"/api/v1/agencies/{jiangsu_agency}").status_code == 404
    contract_create(
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
    "agency_main": dict.fromkeys(WRITES, 200),
    "agency_manager": dict.fromkeys(WRITES, 200),
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
