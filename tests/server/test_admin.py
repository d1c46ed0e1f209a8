"""The back-office admin: every model registered and its pages render; list pages run a bounded
number of queries; a resident ID number never appears whole; actions go through the services."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from server.accounts.models import Device, DeviceToken, Role, User, WeChatBinding
from server.accounts.services import DeviceInfo, account_create, token_issue
from server.fieldwork.models import (
    MonitoringProject,
    MonitoringTask,
    ProjectAttachment,
    ProjectEvent,
    TaskEvent,
)
from server.fieldwork.services import project_assign, project_create, project_transition
from server.om import changes
from server.om.models import (
    ChangeRequest,
    ChangeRequestEvent,
    ConfirmedVersion,
    DayConfirmation,
    FormTemplate,
    LimitSet,
    OmRecord,
    OmRecordEvent,
    OmRecordVersion,
    OmReport,
    OmTaskEvent,
    Review,
    ReviewedVersion,
)
from server.om.services import om_task_create, om_task_move
from server.registry.dossier import person_document_add
from server.registry.identifiers import credit_code_check_char, mask_resident_id, resident_id_check_char
from server.registry.models import (
    Agency,
    AgencyDocument,
    AgencyFacility,
    AgencyFilingEvent,
    AgencyQualification,
    AgencySite,
    ContractAcceptanceEvent,
    Employment,
    Outlet,
    Person,
    PersonDocument,
    TransferFiling,
    TransferFilingEvent,
)
from server.registry.services import (
    agency_register,
    agency_transition,
    enterprise_create,
    instrument_create,
    outlet_create,
    staff_hire,
)
from tests.factories import accepted_contract, complete_dossier, pdf_upload

pytestmark = pytest.mark.django_db

APPS = ("registry", "fieldwork", "om", "accounts")
PASSWORD = "Fieldtrace-Test-2024!"
# Rows that only the services or the phones write (history, tokens, bindings, transfers, checksummed
# files, synced tasks): shown in the admin, never added there.
NOT_ADDABLE = {
    AgencyFilingEvent,
    ContractAcceptanceEvent,
    TransferFiling,
    TransferFilingEvent,
    ProjectAttachment,
    ProjectEvent,
    MonitoringTask,
    TaskEvent,
    Device,
    DeviceToken,
    WeChatBinding,
    # O&M records and what confirms and reviews them are written by the phones' services only.
    FormTemplate,
    LimitSet,
    OmRecord,
    OmRecordVersion,
    OmRecordEvent,
    DayConfirmation,
    ConfirmedVersion,
    Review,
    ReviewedVersion,
    OmReport,
    # A task's status moves and 信息变更申请: server/om/services.py and changes.py only.
    OmTaskEvent,
    ChangeRequest,
    ChangeRequestEvent,
    # The filing dossier and a person's files: uploaded through server/registry/dossier.py only.
    AgencyDocument,
    AgencyQualification,
    AgencySite,
    AgencyFacility,
    PersonDocument,
}
MAX_CHANGELIST_QUERIES = 10


def registered_models() -> list[type]:
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in APPS),
        key=lambda model: model._meta.label,
    )


def credit_code(seed: int) -> str:
    first17 = f"91310000{seed:09d}"
    return first17 + credit_code_check_char(first17)


def resident_id(seq: int) -> str:
    first17 = f"31010419900101{seq:03d}"
    return first17 + resident_id_check_char(first17)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_world(n: int, platform: User) -> dict:
    """One of everything, built with the services (n keeps numbers and names unique)."""
    today = timezone.localdate()
    agency, main = agency_register(
        credit_code=credit_code(n),
        name=f"检测机构{n}",
        kind=Agency.Kind.BOTH,
        legal_representative="王五",
        address="上海市徐汇区漕溪北路 1 号",
        region_code="310104",
        username=f"main{n}",
        password=PASSWORD,
    )
    complete_dossier(agency, main)
    agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=main)
    agency = agency_transition(agency=agency, to=Agency.FilingStatus.APPROVED, actor=platform)
    cert_period = {"valid_from": today - dt.timedelta(days=30), "valid_until": today + dt.timedelta(days=365)}
    employment = staff_hire(
        agency=agency,
        id_number=resident_id(n * 10 + 1),
        name=f"张三{n}",
        education=Employment.Education.BACHELOR,
        hired_on=today - dt.timedelta(days=10),
        posts=["sampler", "om_technician"],
        certificates=[
            {"post_code": "sampler", "number": f"S-{n}", **cert_period},
            {"post_code": "om_technician", "number": f"OM-{n}", **cert_period},
        ],
    )
    other = staff_hire(
        agency=agency,
        id_number=resident_id(n * 10 + 2),
        name=f"李四{n}",
        education=Employment.Education.COLLEGE,
        hired_on=today - dt.timedelta(days=10),
        posts=["courier"],
    )
    # A person's file (人员材料): the admin lists it without the ID number.
    person_document_add(
        person=employment.person, kind="diploma", upload=pdf_upload("学历证书.pdf"), actor=main
    )
    field_user = account_create(
        username=f"field{n}",
        password=PASSWORD,
        role=Role.AGENCY_FIELD,
        agency=agency,
        person=employment.person,
        created_by=main,
    )
    enterprise = enterprise_create(
        credit_code=credit_code(1000 + n),
        name=f"排污企业{n}",
        address="上海市徐汇区龙华路 2 号",
        region_code="310104",
    )
    outlet = outlet_create(
        enterprise=enterprise,
        kind="wastewater",
        name="1号排口",
        longitude=121.47,
        latitude=31.23,
        coordinate_system="wgs84",
    )
    instrument = instrument_create(
        outlet=outlet,
        kind="water_analyzer",
        analytes=["cod", "nh3n"],
        maker="厂家",
        model="X-1",
        serial_number=f"SN-{n}",
    )
    contract = accepted_contract(
        agency=agency,
        enterprise=enterprise,
        nature="monitoring",
        number=f"C-{n}",
        title=f"监测合同{n}",
        amount=Decimal("10000.00"),
        starts_on=today - dt.timedelta(days=5),
        ends_on=today + dt.timedelta(days=360),
    )
    om_contract = accepted_contract(
        agency=agency,
        enterprise=enterprise,
        nature="om",
        number=f"OM-C-{n}",
        title=f"运维合同{n}",
        amount=Decimal("20000.00"),
        starts_on=today - dt.timedelta(days=5),
        ends_on=today + dt.timedelta(days=360),
    )
    project = project_create(
        agency=agency,
        actor=main,
        number=f"P-{n}",
        name=f"监测项目{n}",
        monitoring_type="water",
        enterprise=enterprise,
        contract=contract,
        region_code="310104",
    )
    project_assign(project=project, employment=employment, post_code="sampler")
    ProjectAttachment.objects.create(
        project=project,
        kind=ProjectAttachment.Kind.CONTRACT,
        file=f"project-attachments/contract-{n}.pdf",
        name=f"contract-{n}.pdf",
        sha256=f"{n:064d}",
        size=1234,
        uploaded_by=main,
        uploaded_at=timezone.now(),
    )
    monitoring_task = MonitoringTask.objects.create(
        id=uuid.uuid4(), project=project, name=f"采样任务{n}", created_by=field_user
    )
    TaskEvent.objects.create(
        task=monitoring_task, from_status="created", to_status="running", actor=field_user, at=timezone.now()
    )
    # A project is submitted with at least one task ended (project_no_task_done).
    MonitoringTask.objects.create(
        id=uuid.uuid4(),
        project=project,
        name=f"已结束任务{n}",
        created_by=field_user,
        status=MonitoringTask.Status.ENDED,
    )
    project_transition(project=project, to=MonitoringProject.Status.SUBMITTED, actor=main)
    task = om_task_create(
        agency=agency,
        contract=om_contract,
        number=f"T-{n}",
        name=f"运维任务{n}",
        kind="wastewater",
        starts_on=today,
        ends_on=today + dt.timedelta(days=300),
        points=[outlet],
        instruments=[instrument],
        staff=[(employment, "technician")],
        plans=[
            {
                "title": "每周巡检",
                "frequency": "weekly",
                "template_codes": ["ww_daily_inspection"],
                "window_start": today,
                "window_end": today + dt.timedelta(days=30),
            }
        ],
    )
    om_records_of_one_day(n, task, outlet, agency, main, field_user)
    om_task_move(task=task, to="finished", actor=main)
    om_task_move(task=task, to="active", actor=main, reason="误点完结")
    changes.contract_update(contract=om_contract, actor=main, title=f"运维合同{n}（变更）")
    filing = TransferFiling.objects.create(
        person=other.person,
        from_agency=agency,
        to_agency=agency,
        departed_on=today,
        filed_by=main,
        filed_at=timezone.now(),
    )
    TransferFilingEvent.objects.create(
        filing=filing,
        from_status="pending",
        to_status="refused",
        actor=main,
        reason="无签字",
        at=timezone.now(),
    )
    issued = token_issue(
        user=field_user,
        info=DeviceInfo(id=str(uuid.uuid4()), platform="android", app_version="1.0", model_name=f"Phone {n}"),
    )
    WeChatBinding.objects.create(
        appid="wx-test", openid=f"openid-{n}", user=field_user, bound_at=timezone.now()
    )
    return {
        "agency": agency,
        "main": main,
        "employment": employment,
        "person": employment.person,
        "project": project,
        "task": task,
        "token": issued.record,
        "token_plain": issued.token,
    }


def om_records_of_one_day(n, task, outlet, agency, main, field_user) -> None:
    """A record, its version and history, the enterprise's confirmation, a review and a report (made
    directly: the admin shows them, the services are tested in tests/om)."""
    from media_rules.models import Blob, Photo

    now, today = timezone.now(), timezone.localdate()
    blob = Blob.objects.create(sha256=f"{n:064x}", size=10, format="png", name="x.png", received_at=now)
    photo = Photo.objects.create(
        id=uuid.uuid4(),
        sha256=blob.sha256,
        blob=blob,
        photo_type_id="work_photo",
        outlet=outlet,
        agency=agency,
        taken_by=field_user,
        recorded_at=now,
    )
    record = OmRecord.objects.create(
        id=uuid.uuid4(),
        task=task,
        outlet=outlet,
        template=FormTemplate.objects.get(code="ww_daily_inspection"),
        agency=agency,
        enterprise=outlet.enterprise,
        filled_by=field_user,
        status="approved",
        om_date=today,
    )
    OmRecordVersion.objects.create(record=record, number=1, saved_by=field_user, saved_at=now)
    OmRecordEvent.objects.create(
        record=record, from_status="draft", to_status="submitted", actor=field_user, at=now
    )
    signed = {"actor": main, "work_photo": photo, "signature": blob, "at": now}
    confirmation = DayConfirmation.objects.create(
        id=uuid.uuid4(), enterprise=outlet.enterprise, om_date=today, **signed
    )
    ConfirmedVersion.objects.create(confirmation=confirmation, record=record, version=1)
    review = Review.objects.create(id=uuid.uuid4(), agency=agency, decision="approve", **signed)
    ReviewedVersion.objects.create(review=review, record=record, version=1)
    OmReport.objects.create(
        task=task,
        name="十一月运维月报",
        category="monthly",
        file="om_reports/x.pdf",
        file_name="x.pdf",
        file_sha256="0" * 64,
        file_size=1,
        uploaded_by=main,
        uploaded_at=now,
    )


@pytest.fixture
def world(admin_user):
    return make_world(1, admin_user)


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_every_model_of_the_four_apps_is_registered():
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            assert admin.site.is_registered(model), model._meta.label


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_and_add_pages(admin_client, world, model):
    response = admin_client.get(changelist_url(model))
    assert response.status_code == 200
    add = admin_client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add"))
    assert add.status_code == (403 if model in NOT_ADDABLE else 200)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_change_pages_render_without_the_full_resident_id(admin_client, world, model):
    obj = model._default_manager.first()
    assert obj is not None, "the world has one of everything"
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    for number in Person.objects.values_list("id_number", flat=True):
        assert number not in content
    # And the list pages too.
    listing = admin_client.get(changelist_url(model)).content.decode()
    for number in Person.objects.values_list("id_number", flat=True):
        assert number not in listing


def test_changelists_run_a_bounded_number_of_queries(admin_client, admin_user, django_assert_max_num_queries):
    def count_queries() -> dict[str, int]:
        counts = {}
        for model in registered_models():
            with CaptureQueriesContext(connection) as ctx:
                response = admin_client.get(changelist_url(model))
            assert response.status_code == 200
            counts[model._meta.label] = len(ctx.captured_queries)
        return counts

    make_world(1, admin_user)
    make_world(2, admin_user)
    admin_client.get(changelist_url(Agency))  # the session's first request
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES * len(registered_models())):
        few = count_queries()
    make_world(3, admin_user)
    make_world(4, admin_user)
    make_world(5, admin_user)
    more = count_queries()
    assert more == few, "a list page's query count grows with its rows"
    assert max(few.values()) <= MAX_CHANGELIST_QUERIES, few


def test_person_pages_mask_the_id_number(admin_client, world):
    person = world["person"]
    listing = admin_client.get(changelist_url(Person)).content.decode()
    assert person.name in listing
    assert person.id_number not in listing
    assert mask_resident_id(person.id_number) in listing

    change = admin_client.get(reverse("admin:registry_person_change", args=[person.pk]))
    assert change.status_code == 200
    assert person.id_number not in change.content.decode()
    assert "id_number" not in change.context["adminform"].form.fields
    assert mask_resident_id(person.id_number) in change.content.decode()


def test_a_person_is_found_by_the_full_id_number_only(admin_client, world):
    person = world["person"]
    found = admin_client.get(changelist_url(Person), {"q": person.id_number.lower()})
    assert list(found.context["cl"].result_list) == [person]

    partial = admin_client.get(changelist_url(Person), {"q": person.id_number[:10]})
    assert list(partial.context["cl"].result_list) == []

    # The same lookup serves the staff list and the autocomplete widgets.
    staff = admin_client.get(changelist_url(Employment), {"q": person.id_number})
    assert [e.person_id for e in staff.context["cl"].result_list] == [person.pk]
    autocomplete = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": person.id_number,
            "app_label": "registry",
            "model_name": "employment",
            "field_name": "person",
        },
    )
    assert autocomplete.status_code == 200
    assert [r["id"] for r in autocomplete.json()["results"]] == [str(person.pk)]


def inline_management(*prefixes: str) -> dict[str, int]:
    data = {}
    for prefix in prefixes:
        data[f"{prefix}-TOTAL_FORMS"] = 0
        data[f"{prefix}-INITIAL_FORMS"] = 0
    return data


def test_adding_a_person_validates_the_id_and_reads_gender_and_birth_date(admin_client):
    number = resident_id(991)  # sequence 991: odd, a man
    management = inline_management("certificates", "employments")
    response = admin_client.post(
        reverse("admin:registry_person_add"),
        {"id_number": number.lower(), "name": "赵六", "phone": "", **management},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = Person.objects.get(id_number=number)
    assert person.gender == Person.Gender.MALE
    assert person.birth_date == dt.date(1990, 1, 1)

    bad = admin_client.post(
        reverse("admin:registry_person_add"),
        {"id_number": number[:17] + "0", "name": "钱七", "phone": "", **management},
    )
    assert bad.status_code == 200
    assert "校验位不正确" in bad.content.decode()
    assert not Person.objects.filter(name="钱七").exists()


def test_status_fields_are_not_editable(admin_client, world):
    agency = admin_client.get(reverse("admin:registry_agency_change", args=[world["agency"].pk]))
    assert "filing_status" not in agency.context["adminform"].form.fields
    project = admin_client.get(
        reverse("admin:fieldwork_monitoringproject_change", args=[world["project"].pk])
    )
    assert "status" not in project.context["adminform"].form.fields
    staff = admin_client.get(reverse("admin:registry_employment_change", args=[world["employment"].pk]))
    assert "status" not in staff.context["adminform"].form.fields


def _submitted_agency(n: int) -> Agency:
    agency, main = agency_register(
        credit_code=credit_code(5000 + n),
        name=f"待审机构{n}",
        kind=Agency.Kind.MONITORING,
        legal_representative="孙八",
        address="上海市黄浦区",
        region_code="310101",
        username=f"pending{n}",
        password=PASSWORD,
    )
    complete_dossier(agency, main)
    return agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=main)


def test_the_approve_action_approves_through_the_service(admin_client, admin_user):
    agency = _submitted_agency(1)
    response = admin_client.post(
        changelist_url(Agency),
        {"action": "approve_filings", "_selected_action": [agency.pk]},
        follow=True,
    )
    assert response.status_code == 200
    agency.refresh_from_db()
    assert agency.filing_status == Agency.FilingStatus.APPROVED
    event = AgencyFilingEvent.objects.filter(agency=agency).latest("at", "id")
    assert (event.from_status, event.to_status, event.actor) == ("submitted", "approved", admin_user)
    assert "已审查通过 1 个机构的备案" in response.content.decode()


def test_a_refused_transition_is_reported_not_raised(admin_client):
    draft, _ = agency_register(
        credit_code=credit_code(6001),
        name="草稿机构",
        kind=Agency.Kind.OM,
        legal_representative="周九",
        address="上海市",
        region_code="310101",
        username="draft-main",
        password=PASSWORD,
    )
    response = admin_client.post(
        changelist_url(Agency), {"action": "approve_filings", "_selected_action": [draft.pk]}, follow=True
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.filing_status == Agency.FilingStatus.DRAFT
    assert not AgencyFilingEvent.objects.filter(agency=draft).exists()
    errors = [m for m in response.context["messages"] if m.level_tag == "error"]
    assert [str(m) for m in errors] == ["草稿机构：备案状态不能从“草稿”变为“审查通过”。"]


def test_the_accept_action_finishes_a_submitted_project(admin_client, admin_user, world):
    project = world["project"]
    admin_client.post(
        changelist_url(MonitoringProject), {"action": "accept_done", "_selected_action": [project.pk]}
    )
    project.refresh_from_db()
    assert project.status == MonitoringProject.Status.DONE
    assert ProjectEvent.objects.filter(project=project, to_status="done", actor=admin_user).exists()


def test_the_revoke_action_revokes_tokens(admin_client, admin_user, world):
    token = world["token"]
    listing = admin_client.get(changelist_url(DeviceToken)).content.decode()
    assert token.prefix in listing
    assert token.key_hash not in listing
    change = admin_client.get(reverse("admin:accounts_devicetoken_change", args=[token.pk])).content.decode()
    assert token.key_hash not in change
    assert world["token_plain"] not in change

    admin_client.post(
        changelist_url(DeviceToken), {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == admin_user


def test_the_outlet_map_opens_on_shanghai_and_records_wgs84(admin_client, world):
    add = admin_client.get(reverse("admin:registry_outlet_add"))
    content = add.content.decode()
    assert "121.47" in content
    assert "31.23" in content

    enterprise = Outlet.objects.first().enterprise
    response = admin_client.post(
        reverse("admin:registry_outlet_add"),
        {
            "enterprise": enterprise.pk,
            "kind": "waste_gas",
            "name": "2号排口",
            "code": "DA002",
            "location": "SRID=4326;POINT(121.5 31.2)",
            "geofence_radius_m": 150,
            **inline_management("instruments"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    outlet = Outlet.objects.get(name="2号排口")
    assert outlet.location.equals_exact(Point(121.5, 31.2, srid=4326), tolerance=1e-9)
    assert (outlet.given_longitude, outlet.given_latitude, outlet.given_system) == (121.5, 31.2, "wgs84")


def test_user_admin_shows_and_checks_the_scope(admin_client, world):
    listing = admin_client.get(changelist_url(User), {"role__exact": Role.AGENCY_FIELD})
    assert [u.username for u in listing.context["cl"].result_list] == ["field1"]

    change = admin_client.get(reverse("admin:accounts_user_change", args=[world["main"].pk]))
    fields = change.context["adminform"].form.fields
    assert {"role", "agency", "person", "enterprise", "region_code", "phone"} <= set(fields)

    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "regulator-x",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": Role.REGULATOR,
            "region_code": "31",
        },
    )
    assert response.status_code == 200
    assert "region_code" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="regulator-x").exists()


def test_adding_staff_keeps_one_person_one_agency(admin_client, admin_user, world):
    other = make_world(2, admin_user)["agency"]
    data = {
        "person": world["person"].pk,
        "agency": other.pk,
        "education": Employment.Education.BACHELOR,
        "title": Employment.Title.NONE,
        "relation": Employment.Relation.EMPLOYEE,
        "posts": [],
        "hired_on": timezone.localdate().isoformat(),
    }
    response = admin_client.post(reverse("admin:registry_employment_add"), data)
    assert response.status_code == 200
    assert "已在其他机构备案在职" in response.content.decode()

    newcomer = Person.objects.create(
        id_number=resident_id(995), name="吴十", gender="male", birth_date=dt.date(1990, 1, 1)
    )
    sampler = world["employment"].posts.get(code="sampler")
    refused = admin_client.post(
        reverse("admin:registry_employment_add"), {**data, "person": newcomer.pk, "posts": [sampler.pk]}
    )
    assert refused.status_code == 200
    assert "须持有效能力证书" in refused.content.decode()

    hired = admin_client.post(reverse("admin:registry_employment_add"), {**data, "person": newcomer.pk})
    assert hired.status_code == 302
    assert Employment.objects.get(person=newcomer).status == Employment.Status.ACTIVE


def test_the_depart_action_closes_the_staff_record(admin_client, world):
    employment = world["employment"]
    admin_client.post(
        changelist_url(Employment), {"action": "depart_today", "_selected_action": [employment.pk]}
    )
    employment.refresh_from_db()
    assert employment.status == Employment.Status.DEPARTED
    assert employment.departed_on == timezone.localdate()


def test_a_contract_needs_an_approved_agency(admin_client, world):
    pending = _submitted_agency(2)
    today = timezone.localdate()
    response = admin_client.post(
        reverse("admin:registry_contract_add"),
        {
            "agency": pending.pk,
            "enterprise": Outlet.objects.first().enterprise_id,
            "nature": "monitoring",
            "number": "C-X",
            "title": "合同",
            "amount": "1",
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
            "status": "active",
        },
    )
    assert response.status_code == 200
    assert "机构备案尚未审查通过" in response.content.decode()


def test_instrument_analytes_must_suit_the_outlet(admin_client, world):
    outlet = Outlet.objects.first()  # wastewater
    data = {
        "outlet": outlet.pk,
        "kind": "cems",
        "analytes": ["so2"],
        "maker": "厂家",
        "model": "G-1",
        "serial_number": "SN-G",
        "unit": "",
    }
    refused = admin_client.post(reverse("admin:registry_instrument_add"), data)
    assert refused.status_code == 200
    assert "不适用于废水排口" in refused.content.decode()

    added = admin_client.post(reverse("admin:registry_instrument_add"), {**data, "analytes": ["tp", "cod"]})
    assert added.status_code == 302
    assert outlet.instruments.get(serial_number="SN-G").analytes == ["tp", "cod"]


def test_adding_a_regulator_account(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "regulator-xh",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "徐汇监管",
            "role": Role.REGULATOR,
            "region_code": "310104",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="regulator-xh")
    assert (user.role, user.region_code, user.created_by) == (Role.REGULATOR, "310104", admin_user)
    assert user.check_password(PASSWORD)


def test_bulk_delete_works_on_annotated_lists(admin_client):
    lonely = enterprise_create(
        credit_code=credit_code(7001), name="无排口企业", address="上海市", region_code="310101"
    )
    response = admin_client.post(
        reverse("admin:registry_enterprise_changelist"),
        {"action": "delete_selected", "_selected_action": [lonely.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not type(lonely).objects.filter(pk=lonely.pk).exists()


def test_a_project_number_stays_unique_when_edited(admin_client, admin_user, world):
    project = world["project"]
    project_transition(
        project=project, to=MonitoringProject.Status.RETURNED, actor=admin_user, reason="补材料"
    )
    second = project_create(
        agency=project.agency,
        actor=world["main"],
        number="P-2nd",
        name="第二个项目",
        monitoring_type="water",
        enterprise=project.enterprise,
        contract=project.contract,
        region_code="310104",
    )
    management = inline_management("assignments", "attachments", "events")
    response = admin_client.post(
        reverse("admin:fieldwork_monitoringproject_change", args=[second.pk]),
        {
            "number": project.number,
            "name": second.name,
            "monitoring_type": "water",
            "region_code": "310104",
            "enterprise": second.enterprise_id,
            "contract": second.contract_id,
            **management,
        },
    )
    assert response.status_code == 200
    assert f"项目编号 {project.number} 已存在" in response.content.decode()


def test_moving_an_outlet_on_the_admin_map_judges_its_photos_again(admin_client, world, monkeypatch):
    import media_rules.background

    scheduled = []
    monkeypatch.setattr(media_rules.background, "schedule_site", scheduled.append)
    outlet = Outlet.objects.filter(kind="wastewater").first()
    url = reverse("admin:registry_outlet_change", args=[outlet.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {
        "enterprise": outlet.enterprise_id,
        "kind": outlet.kind,
        "name": outlet.name,
        "code": outlet.code,
        "location": "SRID=4326;POINT(121.5 31.2)",
        "geofence_radius_m": form.initial["geofence_radius_m"],
        **inline_management("instruments"),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    outlet.refresh_from_db()
    assert outlet.location.equals_exact(Point(121.5, 31.2, srid=4326), tolerance=1e-9)
    assert (outlet.given_longitude, outlet.given_latitude, outlet.given_system) == (121.5, 31.2, "wgs84")
    assert scheduled == [outlet.pk]
