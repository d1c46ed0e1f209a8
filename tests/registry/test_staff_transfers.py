"""重复人员报备 (issue F9 item 6): an ID number alone no longer tells a stranger who the person is or
where they work, and no longer ends their employment elsewhere. A transfer request needs the
departure proof; only the old agency's main account or a regulator of its region can confirm it, and
only the confirmation ends the old record and starts the new one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from server.accounts.models import Role
from server.accounts.services import sub_account_create
from server.audit.models import AuditEntry
from server.notifications.models import Notification
from server.registry.models import Employment, TransferFiling, TransferFilingEvent
from tests.factories import PASSWORD, approved_agency, hire, regulator_user, resident_id

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LEFT_ON = TODAY - dt.timedelta(days=2)
PROOF = b"%PDF-1.4 departure statement signed by the person"


@pytest.fixture
def sides():
    """Jiangsu employs the person; a Shanghai agency wants to hire them; a third agency looks on."""
    old_agency, old_main = approved_agency(region_code="320102", name="苏南环境监测有限公司")
    new_agency, new_main = approved_agency(region_code="310104", name="沪东检测有限公司")
    _, third_main = approved_agency(region_code="310104", name="第三方检测有限公司")
    employment = hire(old_agency, ["courier"], name="周明", region="320102")
    return {
        "old": employment,
        "old_agency": old_agency,
        "old_main": old_main,
        "new_agency": new_agency,
        "new_main": new_main,
        "third_main": third_main,
        "number": employment.person.id_number,
    }


def staff_body(number: str, **overrides) -> dict:
    return {
        "id_number": number,
        "name": "周明",
        "education": "bachelor",
        "hired_on": str(TODAY),
        "posts": ["courier"],
    } | overrides


def transfer_body(number: str, **overrides) -> dict:
    proof = SimpleUploadedFile("离职证明.pdf", PROOF, content_type="application/pdf")
    return staff_body(number, departed_on=str(LEFT_ON), proof=proof, position="采样员") | overrides


def file_request(client, number: str, **overrides):
    return client.post("/api/v1/staff/transfers", transfer_body(number, **overrides), format="multipart")


def assert_tells_nothing(response, sides) -> None:
    text = response.content.decode()
    assert sides["old_agency"].name not in text
    assert str(sides["old"].hired_on) not in text
    assert f'"employment_id": {sides["old"].pk}' not in text


# --- The refusal says "registered elsewhere", nothing more ------------------------------------------


@pytest.mark.parametrize("language", [None, "en"])
def test_hiring_someone_active_elsewhere_names_no_agency(sides, client_for, language):
    client = client_for(sides["new_main"], language)
    response = client.post("/api/v1/staff", staff_body(sides["number"]), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "person_active_elsewhere"
    assert not body.get("details")
    assert ("重复人员报备" if language is None else "transfer report") in body["message"]
    assert_tells_nothing(response, sides)
    assert Employment.objects.get(pk=sides["old"].pk).status == "active"


# --- Filing a request changes nothing -------------------------------------------------------------


def test_a_request_needs_the_departure_proof(sides, client_for):
    body = transfer_body(sides["number"])
    del body["proof"]
    response = client_for(sides["new_main"]).post("/api/v1/staff/transfers", body, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert "proof" in response.json()["details"]
    assert not TransferFiling.objects.exists()


def test_a_request_leaves_the_old_record_alone_and_tells_the_requester_nothing(sides, client_for):
    new = client_for(sides["new_main"])
    filed = file_request(new, sides["number"])
    assert filed.status_code == 201, filed.json()
    body = filed.json()
    assert (body["status"], body["from_agency"], body["to_agency"]) == ("pending", None, "沪东检测有限公司")
    assert_tells_nothing(filed, sides)

    old = Employment.objects.get(pk=sides["old"].pk)
    assert (old.status, old.departed_on) == ("active", None)
    filing = TransferFiling.objects.get()
    assert (filing.from_agency, filing.to_agency, filing.status) == (
        sides["old_agency"],
        sides["new_agency"],
        "pending",
    )
    assert filing.proof.read() == PROOF
    assert filing.hire["hired_on"] == str(TODAY)
    assert filing.hire["position"] == "采样员"
    # The requester's own views of it name no old agency either.
    assert_tells_nothing(new.get("/api/v1/staff/transfers"), sides)
    assert_tells_nothing(new.get(f"/api/v1/staff/transfers/{filing.pk}"), sides)
    # Still one person, one agency until someone confirms.
    assert new.post("/api/v1/staff", staff_body(sides["number"]), format="json").status_code == 409

    notice = Notification.objects.get(recipient=sides["old_main"])
    assert (notice.kind, notice.subject_type, notice.subject_id) == (
        "staff_transfer_requested",
        "staff_transfer",
        str(filing.pk),
    )
    assert "沪东检测有限公司" in notice.body
    assert sides["number"] not in notice.body


def test_the_same_request_twice_is_refused(sides, client_for):
    new = client_for(sides["new_main"])
    assert file_request(new, sides["number"]).status_code == 201
    again = file_request(new, sides["number"])
    assert again.status_code == 409
    assert again.json()["code"] == "transfer_already_pending"
    assert TransferFiling.objects.count() == 1


def test_no_request_for_someone_not_active_elsewhere(sides, client_for):
    response = file_request(client_for(sides["new_main"]), resident_id("310104"))
    assert response.status_code == 409
    assert response.json()["code"] == "no_transfer_needed"
    assert not TransferFiling.objects.exists()


# --- Who sees it, who decides ----------------------------------------------------------------------


def test_the_old_agency_and_both_regions_regulators_see_it_a_third_agency_does_not(sides, client_for):
    filing_id = file_request(client_for(sides["new_main"]), sides["number"]).json()["id"]
    for user in (sides["old_main"], regulator_user("320000"), regulator_user("310000")):
        seen = client_for(user).get(f"/api/v1/staff/transfers/{filing_id}")
        assert seen.status_code == 200
        assert seen.json()["from_agency"] == "苏南环境监测有限公司"
    listed = client_for(sides["old_main"]).get("/api/v1/staff/transfers", {"status": "pending"})
    assert [row["id"] for row in listed.json()["results"]] == [filing_id]
    confirmed = client_for(sides["old_main"]).get("/api/v1/staff/transfers", {"status": "confirmed"})
    assert confirmed.json()["results"] == []
    proof = client_for(sides["old_main"]).get(f"/api/v1/staff/transfers/{filing_id}/proof")
    assert b"".join(proof.streaming_content) == PROOF

    third = client_for(sides["third_main"])
    assert third.get(f"/api/v1/staff/transfers/{filing_id}").status_code == 404
    assert third.get("/api/v1/staff/transfers").json()["results"] == []
    assert third.post(f"/api/v1/staff/transfers/{filing_id}/confirm").status_code == 404


def test_confirmation_ends_the_old_record_and_starts_the_new_one(sides, client_for):
    filing_id = file_request(client_for(sides["new_main"]), sides["number"]).json()["id"]
    confirmed = client_for(sides["old_main"]).post(f"/api/v1/staff/transfers/{filing_id}/confirm")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "confirmed"

    old = Employment.objects.get(pk=sides["old"].pk)
    assert (old.status, old.departed_on) == ("departed", LEFT_ON)
    new = Employment.objects.get(person=old.person, status="active")
    assert (new.agency, new.hired_on, new.position) == (sides["new_agency"], TODAY, "采样员")
    assert [p.code for p in new.posts.all()] == ["courier"]
    filing = TransferFiling.objects.get(pk=filing_id)
    assert (filing.status, filing.decided_by, filing.new_employment) == ("confirmed", sides["old_main"], new)
    assert filing.decided_at is not None
    assert list(TransferFilingEvent.objects.values_list("from_status", "to_status", "actor")) == [
        ("pending", "confirmed", sides["old_main"].pk)
    ]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"staff.departed", "staff.hired", "staff.transfer_confirmed"} <= actions
    assert Notification.objects.filter(recipient=sides["new_main"], kind="staff_transfer_confirmed").exists()
    # Decided once: a second decision is refused by the table.
    again = client_for(sides["old_main"]).post(f"/api/v1/staff/transfers/{filing_id}/refuse", {"reason": "x"})
    assert again.json()["code"] == "transfer_transition_not_allowed"


@pytest.mark.parametrize("decider", ["requester", "old_manager", "new_regulator"])
def test_only_the_old_side_decides(sides, client_for, decider):
    filing_id = file_request(client_for(sides["new_main"]), sides["number"]).json()["id"]
    user = {
        "requester": lambda: sides["new_main"],
        "old_manager": lambda: sub_account_create(
            main=sides["old_main"], username="mgr-old", password=PASSWORD, role=Role.AGENCY_MANAGER
        ),
        "new_regulator": lambda: regulator_user("310000"),
    }[decider]()
    response = client_for(user).post(f"/api/v1/staff/transfers/{filing_id}/confirm")
    assert response.status_code == 403
    assert response.json()["code"] == "transfer_actor_not_allowed"
    assert Employment.objects.get(pk=sides["old"].pk).status == "active"
    assert TransferFiling.objects.get(pk=filing_id).status == "pending"


def test_the_old_regions_regulator_refuses_with_a_reason_and_nothing_changes(sides, client_for):
    filing_id = file_request(client_for(sides["new_main"]), sides["number"]).json()["id"]
    regulator = client_for(regulator_user("320000"))
    without = regulator.post(f"/api/v1/staff/transfers/{filing_id}/refuse", {"reason": " "}, format="json")
    assert without.json()["code"] == "transfer_reason_required"
    refused = regulator.post(
        f"/api/v1/staff/transfers/{filing_id}/refuse", {"reason": "离职证明无本人签字"}, format="json"
    )
    assert refused.status_code == 200
    assert (refused.json()["status"], refused.json()["decision_reason"]) == ("refused", "离职证明无本人签字")
    assert Employment.objects.get(pk=sides["old"].pk).status == "active"
    assert not Employment.objects.filter(agency=sides["new_agency"]).exists()
    assert Notification.objects.get(recipient=sides["new_main"], kind="staff_transfer_refused").body.endswith(
        "离职证明无本人签字"
    )


def test_a_request_whose_old_record_ended_meanwhile_cannot_be_confirmed(sides, client_for):
    filing_id = file_request(client_for(sides["new_main"]), sides["number"]).json()["id"]
    client_for(sides["old_main"]).post(
        f"/api/v1/staff/{sides['old'].pk}/depart", {"departed_on": str(TODAY)}, format="json"
    )
    response = client_for(sides["old_main"]).post(f"/api/v1/staff/transfers/{filing_id}/confirm")
    assert response.status_code == 409
    assert response.json()["code"] == "transfer_stale"
    assert TransferFiling.objects.get(pk=filing_id).status == "pending"
    assert not Employment.objects.filter(agency=sides["new_agency"]).exists()


# --- Finding staff by ID number: in the body, never in the URL (item 11) ---------------------------


def test_staff_are_found_by_id_number_in_a_post_body_only(sides, client_for):
    old = client_for(sides["old_main"])
    found = old.post("/api/v1/staff/search", {"id_number": sides["number"].lower()}, format="json")
    assert found.status_code == 200
    assert [row["id"] for row in found.json()["results"]] == [sides["old"].pk]
    # Another agency's search finds nothing, as if the person did not exist.
    elsewhere = client_for(sides["new_main"]).post(
        "/api/v1/staff/search", {"id_number": sides["number"]}, format="json"
    )
    assert elsewhere.json()["results"] == []

    in_url = old.get("/api/v1/staff", {"id_number": sides["number"]})
    assert in_url.status_code == 400
    assert in_url.json()["code"] == "id_number_in_query"
    assert "/api/v1/staff/search" in in_url.json()["message"]
    assert old.get("/api/v1/staff/export", {"id_number": sides["number"]}).status_code == 400
