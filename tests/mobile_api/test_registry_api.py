"""The registry's rules through the API: stable error codes, nothing half-saved."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from server.accounts.models import User
from server.fieldwork.models import MonitoringProject
from server.geo import from_wgs84, geodesic_distance_m
from server.om import forms
from server.registry.models import Agency, AgencyFilingEvent, Employment, Outlet, Person
from tests.factories import PASSWORD, certificate, credit_code, resident_id
from tests.fieldwork.helpers import ended_task

TODAY = timezone.localdate()


def register_body(**overrides):
    return {
        "credit_code": credit_code(),
        "name": "上海测试检测有限公司",
        "kind": "monitoring",
        "legal_representative": "张三",
        "address": "上海市徐汇区漕溪北路 1 号",
        "region_code": "310104",
        "username": "newagency",
        "password": PASSWORD,
    } | overrides


# --- Agency registration and filing ---------------------------------------------------------------


@pytest.mark.django_db
def test_register_creates_a_draft_agency_with_its_main_account(api):
    response = api.post("/api/v1/agencies/register", register_body(), format="json")
    assert response.status_code == 201
    agency = Agency.objects.get(pk=response.json()["id"])
    assert agency.filing_status == "draft"
    assert User.objects.get(username="newagency").agency == agency


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        (
            {"credit_code": "91110108MA007J3P0U"},
            400,
            "invalid_credit_code",
        ),  # the seed's example: bad check char
        ({"credit_code": "9131010"}, 400, "invalid_credit_code"),
        ({"region_code": "31"}, 400, "invalid_region_code"),
        ({"password": "123"}, 400, "weak_password"),
        ({"kind": "both-and-more"}, 400, "validation_failed"),
        ({"username": "new agency"}, 400, "validation_failed"),  # a sign-in name has no spaces
        ({"username": "new\x12agency"}, 400, "validation_failed"),  # nor control characters
    ],
)
def test_register_refuses_bad_input_and_saves_nothing(api, overrides, status, code):
    response = api.post("/api/v1/agencies/register", register_body(**overrides), format="json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert not Agency.objects.exists()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("username", "status"),
    [("张三_01", 201), ("li.si@jc", 201), ("张\u0017三", 400), ("   ", 400), ("a/b", 400)],
)
def test_sub_accounts_take_the_sign_in_names_the_model_allows(world, client_for, username, status):
    """Letters of any script, digits and @ . + - _; not spaces, slashes or control characters (the
    fuzzer created an account whose name held a control character, which no one can type to sign in)."""
    body = {"username": username, "password": PASSWORD, "role": "agency_manager"}
    answer = client_for(world.shanghai.main).post("/api/v1/accounts", body, format="json")
    assert answer.status_code == status, answer.json()
    stored = User.objects.filter(username=username.strip())
    if status == 201:
        assert answer.json()["username"] == username
        assert stored.get().agency == world.shanghai.agency
    else:
        assert answer.json()["code"] == "validation_failed"
        assert "username" in answer.json()["details"]
        assert not stored.exists()


@pytest.mark.django_db
def test_register_twice_is_a_conflict(api):
    body = register_body()
    assert api.post("/api/v1/agencies/register", body, format="json").status_code == 201
    again = api.post("/api/v1/agencies/register", body | {"username": "other"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "agency_already_registered"
    assert Agency.objects.count() == 1


def test_filing_review_by_the_region_regulator_with_history(world, client_for):
    agency = world.shanghai.agency
    main, regulator = client_for(world.shanghai.main), client_for(world.shanghai.regulator)
    # A change of name after approval goes back for review (seed 001 §3.3).
    changed = main.patch(f"/api/v1/agencies/{agency.pk}", {"name": "上海新名称检测有限公司"}, format="json")
    assert changed.json()["filing_status"] == "changed"
    # The approved name stays until a regulator approves the new one, which waits beside it.
    assert changed.json()["name"] == agency.name
    assert changed.json()["pending_changes"] == {"name": "上海新名称检测有限公司"}
    # A regulator elsewhere cannot see it; a return needs a reason.
    assert client_for(world.jiangsu.regulator).post(f"/api/v1/agencies/{agency.pk}/return").status_code == 404
    no_reason = regulator.post(f"/api/v1/agencies/{agency.pk}/return", {}, format="json")
    assert no_reason.json()["code"] == "reason_required"
    returned = regulator.post(
        f"/api/v1/agencies/{agency.pk}/return", {"reason": "营业执照不清晰"}, format="json"
    )
    assert returned.json()["filing_status"] == "returned"
    assert returned.json()["return_reason"] == "营业执照不清晰"
    # The agency cannot approve itself.
    self_approve = main.post(f"/api/v1/agencies/{agency.pk}/approve")
    assert self_approve.status_code == 409  # returned -> approved is not a transition at all
    assert main.post(f"/api/v1/agencies/{agency.pk}/submit").json()["filing_status"] == "submitted"
    assert main.post(f"/api/v1/agencies/{agency.pk}/approve").json()["code"] == "filing_actor_not_allowed"
    approved = regulator.post(f"/api/v1/agencies/{agency.pk}/approve").json()
    assert (approved["filing_status"], approved["name"]) == ("approved", "上海新名称检测有限公司")
    assert approved["pending_changes"] == {}
    events = main.get(f"/api/v1/agencies/{agency.pk}/filing-events").json()
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("draft", "submitted"),
        ("submitted", "approved"),
        ("approved", "changed"),
        ("changed", "returned"),
        ("returned", "submitted"),
        ("submitted", "approved"),
    ]
    assert AgencyFilingEvent.objects.filter(agency=agency, reason="营业执照不清晰").count() == 1


# --- Staff: one person, one agency; certificates --------------------------------------------------


def staff_body(**overrides):
    return {
        "id_number": resident_id(),
        "name": "李华",
        "education": "bachelor",
        "hired_on": str(TODAY - dt.timedelta(days=3)),
        "posts": ["courier"],
    } | overrides


def test_hire_shows_the_id_masked_and_can_be_looked_up_by_it(world, client_for):
    main = client_for(world.shanghai.main)
    number = resident_id()
    response = main.post("/api/v1/staff", staff_body(id_number=number.lower()), format="json")
    assert response.status_code == 201
    assert response.json()["person"]["id_number"] == number[:4] + "*" * 10 + number[-4:]
    found = main.post("/api/v1/staff/search", {"id_number": number}, format="json").json()["results"]
    assert [row["id"] for row in found] == [response.json()["id"]]
    assert Person.objects.get(pk=response.json()["person"]["id"]).id_number == number


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"id_number": "310104199001011234"}, 400, "invalid_resident_id"),
        ({"id_number": "31010419900101123"}, 400, "invalid_resident_id"),
        ({"posts": ["astronaut"]}, 400, "unknown_post"),
        ({"posts": ["sampler"]}, 409, "certificate_required"),
        ({"education": "kindergarten"}, 400, "validation_failed"),
    ],
)
def test_hire_refuses_bad_input_and_saves_nothing(world, client_for, overrides, status, code):
    people, staff = Person.objects.count(), Employment.objects.count()
    response = client_for(world.shanghai.main).post("/api/v1/staff", staff_body(**overrides), format="json")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert (Person.objects.count(), Employment.objects.count()) == (people, staff)


def test_an_expired_certificate_cannot_take_its_post(world, client_for):
    expired = certificate(
        "sampler", valid_from=TODAY - dt.timedelta(days=800), valid_until=TODAY - dt.timedelta(1)
    )
    expired = {k: str(v) for k, v in expired.items()}
    response = client_for(world.shanghai.main, "en").post(
        "/api/v1/staff", staff_body(posts=["sampler"], certificates=[expired]), format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "certificate_not_valid"
    assert "valid until" in response.json()["message"]
    assert not Person.objects.filter(name="李华").exists()


def test_one_person_one_agency_and_the_transfer_report(world, client_for):
    person = world.jiangsu.sampler.person
    body = staff_body(id_number=person.id_number, name=person.name, posts=["courier"])
    shanghai = client_for(world.shanghai.main)
    refused = shanghai.post("/api/v1/staff", body, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "person_active_elsewhere"
    # Registered elsewhere, no more (F9 item 6): not where.
    assert world.jiangsu.agency.name not in refused.json()["message"]
    # 重复人员报备: the new agency files the departure with its proof; the old agency confirms it.
    transfer = body | {
        "departed_on": str(TODAY - dt.timedelta(days=1)),
        "proof": SimpleUploadedFile("离职证明.pdf", b"%PDF-1.4 signed"),
    }
    filed = shanghai.post("/api/v1/staff/transfers", transfer, format="multipart")
    assert filed.status_code == 201, filed.json()
    assert Employment.objects.get(pk=world.jiangsu.sampler.pk).status == "active"
    confirmed = client_for(world.jiangsu.main).post(f"/api/v1/staff/transfers/{filed.json()['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.json()
    old = Employment.objects.get(pk=world.jiangsu.sampler.pk)
    assert old.status == "departed"
    assert old.departed_on == TODAY - dt.timedelta(days=1)
    new = Employment.objects.filter(person=person, status="active").get()
    assert new.agency == world.shanghai.agency
    assert new.pk == confirmed.json()["new_employment_id"]


def test_a_name_that_does_not_match_the_id_number_is_refused(world, client_for):
    person = world.shanghai.sampler.person
    world.shanghai.sampler.status = "departed"
    world.shanghai.sampler.departed_on = TODAY
    world.shanghai.sampler.save()
    response = client_for(world.shanghai.main).post(
        "/api/v1/staff", staff_body(id_number=person.id_number, name="别人"), format="json"
    )
    assert response.json()["code"] == "person_name_mismatch"


# --- Outlets: coordinates with their system -------------------------------------------------------


@pytest.mark.parametrize("system", ["gcj02", "bd09", "wgs84"])
def test_outlet_position_is_stored_in_wgs84_and_kept_as_given(world, client_for, system):
    given = (121.4737, 31.2304)
    # The enterprise registers its outlets (seed 003; agencies no longer do, issue F9.2).
    response = client_for(world.shanghai.enterprise_user).post(
        "/api/v1/outlets?coords=gcj02",
        {
            "enterprise": world.shanghai.enterprise.pk,
            "kind": "wastewater",
            "name": f"DW-{system}",
            "longitude": given[0],
            "latitude": given[1],
            "coordinate_system": system,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    outlet = Outlet.objects.get(pk=response.json()["id"])
    assert (outlet.given_longitude, outlet.given_latitude, outlet.given_system) == (*given, system)
    back = from_wgs84(outlet.location.x, outlet.location.y, system)
    assert geodesic_distance_m(*back, *given) < 0.5
    offset = geodesic_distance_m(outlet.location.x, outlet.location.y, *given)
    assert (offset < 0.01) if system == "wgs84" else (300 < offset < 1500)
    assert response.json()["location"]["type"] == "Point"
    assert response.json()["display"]["system"] == "gcj02"


@pytest.mark.parametrize(
    ("position", "code"),
    [
        ({"longitude": 121.47, "latitude": 91, "coordinate_system": "wgs84"}, "invalid_coordinates"),
        ({"longitude": 181, "latitude": 31.2, "coordinate_system": "wgs84"}, "invalid_coordinates"),
        (
            {"longitude": 121.47, "latitude": 31.2, "coordinate_system": "mercator"},
            "unknown_coordinate_system",
        ),
        ({"longitude": "NaN", "latitude": 31.2, "coordinate_system": "wgs84"}, "validation_failed"),
    ],
)
def test_bad_positions_are_refused(world, client_for, position, code):
    before = Outlet.objects.count()
    response = client_for(world.shanghai.enterprise_user).post(
        "/api/v1/outlets",
        {"enterprise": world.shanghai.enterprise.pk, "kind": "wastewater", "name": "DW-bad", **position},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Outlet.objects.count() == before


def test_unknown_display_system_is_a_400(world, client_for):
    response = client_for(world.shanghai.main).get("/api/v1/outlets", {"coords": "utm"})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_coordinate_system"


def test_instruments_must_measure_what_the_outlet_emits(world, client_for):
    response = client_for(world.shanghai.enterprise_user).post(
        "/api/v1/instruments",
        {
            "outlet": world.shanghai.wastewater.pk,
            "kind": "cems",
            "analytes": ["so2", "nox"],
            "maker": "聚光",
            "model": "CEMS-2000",
            "serial_number": "X1",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "analyte_not_for_outlet"


def test_an_instrument_is_named_as_the_forms_name_it(world, client_for):
    response = client_for(world.shanghai.main).get("/api/v1/instruments")
    assert response.status_code == 200
    row = next(r for r in response.json()["results"] if r["id"] == world.shanghai.instrument.pk)
    instrument = world.shanghai.instrument
    assert row["name"] == instrument.display_name == forms.instrument_out(instrument)["name"]
    assert row["name"].startswith(row["kind_label"] + "（")  # 水质在线分析仪（化学需氧量 (COD)…）


# --- Contracts, projects and O&M tasks ------------------------------------------------------------


def test_a_monitoring_only_agency_cannot_sign_an_om_contract(world, client_for):
    agency = world.shanghai.agency
    agency.kind = "monitoring"
    agency.save()
    response = client_for(world.shanghai.main).post(
        "/api/v1/contracts",
        {
            "enterprise": world.shanghai.enterprise.pk,
            "nature": "om",
            "number": "YW-X",
            "title": "运维",
            "amount": "1000.00",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        format="json",
    )
    assert response.json()["code"] == "contract_nature_not_for_agency"


def test_project_lifecycle_needs_the_contract_attachment(world, client_for):
    side = world.shanghai
    main, regulator = client_for(side.main), client_for(side.regulator)
    created = main.post(
        "/api/v1/projects",
        {
            "number": "SH-2026-001",
            "name": "废水季度监测",
            "monitoring_type": "water",
            "contract": side.monitoring_contract.pk,
            "region_code": "310104",
        },
        format="json",
    )
    assert created.status_code == 201
    pid = created.json()["id"]
    assigned = main.post(
        f"/api/v1/projects/{pid}/assignments", {"employment": side.sampler.pk, "post": "sampler"}
    )
    assert [a["post"] for a in assigned.json()["assignments"]] == ["sampler"]
    wrong_post = main.post(
        f"/api/v1/projects/{pid}/assignments", {"employment": side.sampler.pk, "post": "lab_analyst"}
    )
    assert wrong_post.json()["code"] == "assignee_lacks_post"
    assert main.post(f"/api/v1/projects/{pid}/submit").json()["code"] == "contract_attachment_required"
    pdf = SimpleUploadedFile("合同.pdf", b"%PDF-1.4 contract", content_type="application/pdf")
    attached = main.post(
        f"/api/v1/projects/{pid}/attachments", {"kind": "contract", "file": pdf}, format="multipart"
    )
    assert attached.status_code == 201
    assert attached.json()["attachments"][0]["size"] == len(b"%PDF-1.4 contract")
    assert main.post(f"/api/v1/projects/{pid}/submit").json()["code"] == "project_no_task_done"
    ended_task(side, MonitoringProject.objects.get(pk=pid))
    assert main.post(f"/api/v1/projects/{pid}/submit").json()["status"] == "submitted"
    returned = regulator.post(f"/api/v1/projects/{pid}/return", {"reason": "缺少监测报告"}, format="json")
    assert returned.json()["status"] == "returned"
    assert main.post(f"/api/v1/projects/{pid}/submit").json()["status"] == "submitted"
    assert regulator.post(f"/api/v1/projects/{pid}/accept").json()["status"] == "done"


def test_om_task_binds_points_staff_instruments_and_plans(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    body = {
        "contract": side.om_contract.pk,
        "number": "YW-T-9",
        "name": "废水运维",
        "kind": "wastewater",
        "starts_on": str(TODAY),
        "ends_on": str(TODAY + dt.timedelta(days=90)),
        "points": [side.wastewater.pk],
        "instruments": [side.instrument.pk],
        "staff": [{"employment": side.technician.pk, "role": "technician"}],
        "plans": [
            {
                "title": "周检查",
                "frequency": "weekly",
                "window_start": str(TODAY),
                "window_end": str(TODAY),
                "template_codes": ["ww_daily_inspection"],
            },
        ],
    }
    created = main.post("/api/v1/om-tasks", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["points"] == [side.wastewater.pk]
    assert created.json()["plans"][0]["frequency"] == "weekly"
    # A gas outlet does not belong in a wastewater task; a plan outside the period is refused.
    assert (
        main.post("/api/v1/om-tasks", body | {"number": "Y2", "points": [side.gas.pk]}, format="json").json()[
            "code"
        ]
        == "om_point_not_in_contract"
    )
    late = body | {
        "number": "Y3",
        "plans": [body["plans"][0] | {"window_end": str(TODAY + dt.timedelta(days=400))}],
    }
    assert main.post("/api/v1/om-tasks", late, format="json").json()["code"] == "om_plan_outside_task"
    # A sampler is not an O&M technician.
    wrong = body | {"number": "Y4", "staff": [{"employment": side.sampler.pk, "role": "technician"}]}
    assert main.post("/api/v1/om-tasks", wrong, format="json").json()["code"] == "om_staff_not_eligible"


# --- Excel ----------------------------------------------------------------------------------------


def test_staff_template_import_and_export(world, client_for):
    main = client_for(world.shanghai.main)
    template = main.get("/api/v1/staff/template")
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    sheet = book.worksheets[0]
    good, bad = resident_id(), "310104199001011234"
    sheet.delete_rows(2, sheet.max_row)
    sheet.append(["王五", good, "", "本科", "", "初级", "", "正式员工", "送样人员", "2026-01-05"])
    sheet.append(["赵六", bad, "", "本科", "", "初级", "", "正式员工", "送样人员", "2026-01-05"])
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("staff.xlsx", out.getvalue())
    refused = main.post("/api/v1/staff/import", {"file": upload}, format="multipart")
    assert refused.status_code == 400
    assert refused.json()["code"] == "excel_rows_rejected"
    assert refused.json()["details"]["errors"][0]["row"] == 3
    assert not Person.objects.filter(name="王五").exists()
    upload = SimpleUploadedFile("staff.xlsx", out.getvalue())
    partial = main.post("/api/v1/staff/import", {"file": upload, "partial": "true"}, format="multipart")
    assert partial.status_code == 200
    assert partial.json()["imported"] == 1
    assert Person.objects.get(name="王五").id_number == good
    exported = main.get("/api/v1/staff/export")
    assert exported.status_code == 200
    assert "王五" in str(list(openpyxl.load_workbook(io.BytesIO(exported.content)).worksheets[0].values))


def test_enterprise_confirmers_are_created_by_the_platform_or_the_enterprise(world, client_for):
    enterprise = world.shanghai.enterprise
    body = {"username": "confirmer2", "password": PASSWORD, "name": "周敏", "phone": "13900000000"}
    agency = client_for(world.shanghai.main).post(f"/api/v1/enterprises/{enterprise.pk}/confirmers", body)
    assert agency.status_code == 403
    own = client_for(world.shanghai.enterprise_user).post(
        f"/api/v1/enterprises/{enterprise.pk}/confirmers", body
    )
    assert own.status_code == 201
    created = User.objects.get(username="confirmer2")
    assert (created.role, created.enterprise, created.first_name) == ("enterprise", enterprise, "周敏")
    other = client_for(world.jiangsu.enterprise_user).post(
        f"/api/v1/enterprises/{enterprise.pk}/confirmers", body
    )
    assert other.status_code == 404
    listed = client_for(world.platform).get(f"/api/v1/enterprises/{enterprise.pk}/confirmers").json()
    assert {u["username"] for u in listed} == {world.shanghai.enterprise_user.username, "confirmer2"}
