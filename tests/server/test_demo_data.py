import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from server.accounts.models import Role, User
from server.fieldwork.models import MonitoringProject, ProjectAssignment
from server.geo import from_wgs84, geodesic_distance_m
from server.management.commands.demo_data import DEMO_PASSWORD, OUTLETS
from server.om.models import OmPlan, OmTask, OmTaskStaff
from server.registry.identifiers import validate_credit_code, validate_resident_id
from server.registry.models import (
    Agency,
    AgencyFilingEvent,
    Certificate,
    Contract,
    Employment,
    Enterprise,
    Instrument,
    Outlet,
    OutletKind,
    Person,
    Post,
)
from server.registry.services import valid_certificate

MODELS = (
    User,
    Agency,
    AgencyFilingEvent,
    Person,
    Employment,
    Certificate,
    Enterprise,
    Outlet,
    Instrument,
    Contract,
    MonitoringProject,
    ProjectAssignment,
    OmTask,
    OmTaskStaff,
    OmPlan,
)


def run_demo_data() -> list[str]:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue().splitlines()


def snapshot() -> dict[str, list]:
    """Every row of every demo model, so that 'changes nothing' covers edits as well as creations."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # 18 accounts at PBKDF2's full cost take seconds per build; the checks here do not need that cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db) -> list[str]:
    return run_demo_data()


def test_first_run_names_the_administrator_first_and_lists_the_accounts(demo):
    assert demo[0] == "demo data: administrator demo / fieldtrace-demo created"
    assert any(line.startswith("demo data: 2 agencies") for line in demo)
    for username in User.objects.values_list("username", flat=True):
        assert any(line.split()[:1] == [username] for line in demo), username


def test_running_again_changes_nothing(demo):
    before = snapshot()
    assert all(before.values())  # every model has rows

    assert run_demo_data() == ["demo data: already present"]
    assert snapshot() == before


def test_a_failed_build_leaves_nothing_behind(db):
    # A username the demo wants is taken: the whole build is rolled back, the administrator included.
    User.objects.create_user(username="fenshaochang", password=DEMO_PASSWORD, role=Role.PLATFORM)

    with pytest.raises(CommandError, match="username"):
        run_demo_data()

    assert not Agency.objects.exists()
    assert not Person.objects.exists()
    assert list(User.objects.values_list("username", flat=True)) == ["fenshaochang"]


def test_every_account_signs_in_with_the_demo_password(demo):
    users = list(User.objects.all())
    assert {u.role for u in users} == set(Role.values)
    for user in users:
        assert authenticate(username=user.username, password=DEMO_PASSWORD) == user, user.username
    assert User.objects.get(username="demo").is_superuser
    assert User.objects.get(role=Role.REGULATOR).region_code == "310000"
    assert set(User.objects.filter(role=Role.AGENCY_MAIN).values_list("username", flat=True)) == {
        "jiance",
        "yunwei",
    }
    assert User.objects.filter(role=Role.ENTERPRISE).count() == Enterprise.objects.count() == 2


def test_agencies_are_approved_by_the_regulator_with_history(demo):
    regulator = User.objects.get(role=Role.REGULATOR)
    agencies = list(Agency.objects.all())
    assert {a.kind for a in agencies} == {Agency.Kind.MONITORING, Agency.Kind.OM}
    for agency in agencies:
        assert validate_credit_code(agency.credit_code) == agency.credit_code
        assert agency.credit_code[2:8] == agency.region_code
        assert agency.region_code.startswith("31")
        assert agency.filing_status == Agency.FilingStatus.APPROVED
        main = agency.accounts.get(role=Role.AGENCY_MAIN)
        events = [(e.from_status, e.to_status, e.actor) for e in agency.filing_events.all()]
        assert events == [("draft", "submitted", main), ("submitted", "approved", regulator)]
        assert agency.accounts.filter(role=Role.AGENCY_MANAGER).exists()
    for enterprise in Enterprise.objects.all():
        assert validate_credit_code(enterprise.credit_code) == enterprise.credit_code


def test_every_post_is_staffed_and_certified_where_required(demo):
    today = timezone.localdate()
    for post in Post.objects.all():
        holders = Employment.objects.filter(posts=post, status=Employment.Status.ACTIVE)
        assert holders.exists(), post.code
        if post.requires_certificate:
            for employment in holders:
                assert valid_certificate(employment.person, post, today), (post.code, employment.person.name)
    for person in Person.objects.all():
        assert validate_resident_id(person.id_number) == person.id_number
        assert person.id_number.startswith("310")
        assert 1975 <= person.birth_date.year <= 2000
        assert person.employments.filter(status=Employment.Status.ACTIVE).count() == 1


def test_field_staff_have_phone_accounts(demo):
    field = Employment.objects.filter(posts__field_work=True, status=Employment.Status.ACTIVE).distinct()
    assert field.count() >= 9
    for employment in field:
        account = User.objects.get(person=employment.person)
        assert account.agency_id == employment.agency_id
        assert account.role in (Role.AGENCY_FIELD, Role.AGENCY_REVIEWER)
        if employment.posts.filter(code="om_reviewer").exists():
            assert account.role == Role.AGENCY_REVIEWER


def test_outlets_are_stored_in_wgs84_from_the_gcj02_input(demo):
    assert Outlet.objects.count() == len(OUTLETS)
    for _enterprise, code, name, kind, lon, lat, radius in OUTLETS:
        outlet = Outlet.objects.get(name=name, code=code)
        assert outlet.kind == kind
        assert (outlet.given_longitude, outlet.given_latitude, outlet.given_system) == (lon, lat, "gcj02")
        assert 100 <= outlet.geofence_radius_m == radius <= 300
        stored = (outlet.location.x, outlet.location.y)
        assert stored != (lon, lat)
        # The GCJ-02 offset in Shanghai is about 480 m; the stored point is the true (WGS-84) one.
        assert 300 < geodesic_distance_m(*stored, lon, lat) < 700
        assert geodesic_distance_m(*from_wgs84(*stored, "gcj02"), lon, lat) < 1
        # Inside Shanghai (roughly 120.85-122.2 E, 30.65-31.9 N).
        assert 120.85 < stored[0] < 122.2
        assert 30.65 < stored[1] < 31.9


def test_om_tasks_have_points_instruments_staff_and_plans(demo):
    tasks = list(OmTask.objects.all())
    assert {t.kind for t in tasks} == {OutletKind.WASTEWATER, OutletKind.WASTE_GAS}
    for task in tasks:
        assert task.contract.nature == Contract.Nature.OM
        assert task.starts_on <= timezone.localdate() <= task.ends_on
        points = list(task.points.all())
        assert points
        assert all(p.kind == task.kind and p.enterprise_id == task.contract.enterprise_id for p in points)
        instruments = list(task.instruments.all())
        assert instruments
        assert all(i.outlet in points for i in instruments)
        roles = set(task.staff.values_list("role", flat=True))
        assert roles == {OmTaskStaff.Role.TECHNICIAN, OmTaskStaff.Role.REVIEWER}
        plans = list(task.plans.all())
        assert {p.frequency for p in plans} >= {"daily", "weekly", "monthly", "quarterly"}
        assert all(task.starts_on <= p.window_start <= p.window_end <= task.ends_on for p in plans)
    analytes = {a for i in Instrument.objects.all() for a in i.analytes}
    assert analytes >= {"cod", "nh3n", "toc", "water_flow", "so2", "nox", "o2", "particulates", "nmhc"}


def test_the_monitoring_project_has_its_field_staff(demo):
    project = MonitoringProject.objects.get()
    assert project.contract.nature == Contract.Nature.MONITORING
    assert project.agency.kind == Agency.Kind.MONITORING
    posts = set(project.assignments.values_list("post__code", flat=True))
    assert posts == {"sampler", "courier", "lab_analyst"}


def test_the_demo_field_day_has_photos_judged_by_the_rules(demo):
    from media_rules.models import Photo

    photos = {
        str(p.pk.int - 202611230): p for p in Photo.objects.filter(task__isnull=False).select_related("blob")
    }
    codes = {key: {f["code"] for f in p.findings if f["severity"] != "pass"} for key, p in photos.items()}
    assert len(photos) == 5
    assert all(p.blob.thumbnail and p.blob.phash is not None for p in photos.values())
    verdicts = [p.verdict for _, p in sorted(photos.items())]
    assert verdicts == ["pass", "fail", "pass", "fail", "fail"]
    assert "outside_geofence" in codes["1"]
    assert "near_duplicate" in codes["3"]
    mirrored = next(f for f in photos["3"].findings if f["code"] == "near_duplicate")
    assert mirrored["evidence"]["matches"][0]["mirrored"] is True
    assert "editing_software" in codes["4"]


def test_the_regulator_has_opened_a_violation_from_the_photo_taken_6_km_away(demo):
    from server.violations.models import Violation

    violation = Violation.objects.select_related("photo", "opened_by").get()
    assert violation.status == "open"
    assert violation.opened_by.username == "jianguan"
    assert violation.photo.pk.int == 202611231
    assert violation.photo.verdict == "fail"
    assert violation.deadline > timezone.localdate()


def test_the_demo_om_day_awaits_the_enterprise(demo):
    from server.om.models import OmRecord
    from server.om.records import day_pending

    record = OmRecord.objects.select_related("end_checkin", "work_photo", "enterprise").get()
    assert (record.status, record.version, record.template.code) == ("submitted", 1, "ww_daily_inspection")
    assert record.end_checkin.verdict == "inside"
    assert record.work_photo.photo_type_id == "work_photo"
    # A phone's photo, with the EXIF its camera writes (F10 item 8: without it, exif_missing warns).
    assert record.work_photo.verdict == "pass", record.work_photo.findings
    assert "exif_missing" not in {f["code"] for f in record.work_photo.findings}
    assert record.om_date == timezone.localdate() - dt.timedelta(days=1)
    assert list(day_pending(record.enterprise, record.om_date)) == [record]
