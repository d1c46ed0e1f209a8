"""Filling, confirming and reviewing O&M records over HTTP: what is refused, with which code, and
that a refusal leaves the stored data as it was."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from media_rules.models import Photo, PhotoType
from server.accounts.models import Role
from server.om.models import OmRecord, OmRecordVersion, OmTaskStaff
from server.om.services import om_task_add_staff
from server.tracks.models import CheckIn
from tests.factories import hire, staff_account
from tests.om.helpers import checkin_payload, record_payload, signature_b64, signature_png

pytestmark = pytest.mark.django_db


def checkin(client, side, kind: str, *, metres_away: float = 0.0, when=None) -> uuid.UUID:
    checkin_id = uuid.uuid4()
    when = when or timezone.now() - dt.timedelta(hours=1)
    body = {"id": str(checkin_id), **checkin_payload(side, kind, when, metres_away=metres_away)}
    answer = client.post("/api/v1/checkins", body, format="json")
    assert answer.status_code == 201, answer.json()
    return checkin_id


def work_photo(user, outlet) -> uuid.UUID:
    """A work photo record of ``user`` (its file is not needed by the record rules)."""
    photo = Photo.objects.create(
        id=uuid.uuid4(),
        sha256=uuid.uuid4().hex * 2,
        photo_type=PhotoType.objects.get(pk="work_photo"),
        outlet=outlet,
        agency_id=outlet.om_tasks.first().agency_id,
        taken_by=user,
        recorded_at=timezone.now(),
    )
    return photo.pk


@pytest.fixture
def tech(world, client_for):
    return client_for(world.shanghai.technician_user)


def submitted(side, client, user=None, **kw) -> uuid.UUID:
    start, end = checkin(client, side, "start"), checkin(client, side, "end")
    record_id = uuid.uuid4()
    body = {
        "id": str(record_id),
        **record_payload(
            side,
            start=start,
            end=end,
            work_photo=work_photo(user or side.technician_user, side.wastewater),
            signature=signature_b64(),
            submit=True,
            **kw,
        ),
    }
    answer = client.post("/api/v1/om/records", body, format="json")
    assert answer.status_code == 201, answer.json()
    return record_id


def test_submitting_needs_the_end_checkin_the_photo_and_the_signature(world, tech):
    side = world.shanghai
    start = checkin(tech, side, "start")
    record_id = uuid.uuid4()
    body = {"id": str(record_id), **record_payload(side, start=start, submit=True)}
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_checkin_required")
    assert answer.json()["details"] == {"missing": ["end"]}
    body["end_checkin"] = str(checkin(tech, side, "end"))
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_work_photo_required")
    body["work_photo"] = str(work_photo(side.technician_user, side.wastewater))
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_signature_required")
    body["signature"] = signature_b64(blank=True)
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "signature_blank")
    assert not OmRecord.objects.filter(pk=record_id).exists()  # nothing stored by a refusal
    body["signature"] = signature_b64()
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "submitted"
    again = tech.post("/api/v1/om/records", body, format="json")  # a retry changes nothing
    assert (again.status_code, again.json()["version"]) == (200, 1)
    assert OmRecordVersion.objects.filter(record_id=record_id).count() == 1


def test_a_draft_needs_the_start_checkin_only(world, tech):
    side = world.shanghai
    body = {"id": str(uuid.uuid4()), **record_payload(side, start=checkin(tech, side, "start"), answers={})}
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["status"], answer.json()["version"]) == ("draft", 1)
    # The enterprise does not see drafts.
    ent = world.shanghai.enterprise_user
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(ent)
    assert client.get(f"/api/v1/om/records/{body['id']}").status_code == 404


def test_a_checkin_far_from_the_outlet_is_flagged_and_the_task_policy_decides(world, tech):
    side = world.shanghai
    far = checkin(tech, side, "end", metres_away=3000)
    stored = CheckIn.objects.get(pk=far)
    assert stored.verdict == CheckIn.Verdict.OUTSIDE
    assert 2900 < stored.distance_m < 3100
    body = {
        "id": str(uuid.uuid4()),
        **record_payload(
            side,
            start=checkin(tech, side, "start"),
            end=far,
            work_photo=work_photo(side.technician_user, side.wastewater),
            signature=signature_b64(),
            submit=True,
        ),
    }
    side.om_task.geofence_policy = "block"
    side.om_task.save(update_fields=["geofence_policy"])
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_checkin_outside")
    assert answer.json()["details"]["distance_m"] > 2900
    side.om_task.geofence_policy = "flag"
    side.om_task.save(update_fields=["geofence_policy"])
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["end_checkin"]["verdict"] == "outside"


def test_a_checkin_of_another_kind_or_person_does_not_count(world, tech, client_for):
    side = world.shanghai
    start = checkin(tech, side, "start")
    record_id = uuid.uuid4()
    body = {"id": str(record_id), **record_payload(side, start=start, end=start, submit=True)}
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "om_checkin_mismatch")
    assert answer.json()["details"]["kind"] == "end"
    # The reviewer's own start check-in at the same outlet is not the technician's.
    theirs = checkin(client_for(side.reviewer), side, "start")
    body = {"id": str(record_id), **record_payload(side, start=theirs)}
    answer = tech.post("/api/v1/om/records", body, format="json")
    # Another user's check-in is not among the technician's own: the field is named (F10 item 6).
    assert (answer.status_code, set(answer.json()["details"])) == (400, {"start_checkin"})
    body = {"id": str(record_id), **record_payload(side, start=start)}
    assert tech.post("/api/v1/om/records", body, format="json").status_code == 201
    assert OmRecord.objects.get(pk=record_id).start_checkin_id == start


def test_another_agencys_record_id_is_not_found_and_a_review_id_is_the_reviewers(world, tech, client_for):
    side, other = world.shanghai, world.jiangsu
    record_id = submitted(side, tech)
    theirs = client_for(other.technician_user)
    body = {"id": str(record_id), **record_payload(other, start=checkin(theirs, other, "start"))}
    answer = theirs.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert OmRecord.objects.get(pk=record_id).task_id == side.om_task.pk  # untouched

    OmRecord.objects.filter(pk=record_id).update(status="confirmed")  # as if the enterprise had confirmed
    review = {
        "id": str(uuid.uuid4()),
        "records": [str(record_id)],
        "decision": "approve",
        "work_photo": str(work_photo(side.reviewer, side.wastewater)),
        "signature": signature_b64(7),
    }
    assert client_for(side.reviewer).post("/api/v1/om/reviews", review, format="json").status_code == 201
    both = hire(side.agency, ["om_reviewer"])
    second = staff_account(side.main, both, Role.AGENCY_REVIEWER)
    om_task_add_staff(task=side.om_task, employment=both, role=OmTaskStaff.Role.REVIEWER)
    review["work_photo"] = str(work_photo(second, side.wastewater))
    answer = client_for(second).post("/api/v1/om/reviews", review, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_id_taken")
    assert OmRecord.objects.get(pk=record_id).status == "approved"


def test_wrong_units_and_out_of_range_numbers_are_refused_with_their_paths(world, tech):
    side = world.shanghai
    payload = record_payload(
        side, template_code="ww_standard_check_calibration", start=checkin(tech, side, "start")
    )
    block = payload["answers"]["check_cod"][str(side.instrument.pk)]
    block["std_reference"] = {"value": 50, "unit": "μg/L"}
    block["range_upper"] = -5
    answer = tech.post("/api/v1/om/records", {"id": str(uuid.uuid4()), **payload}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "om_answers_invalid")
    found = {(e["path"], e["code"]) for e in answer.json()["details"]["errors"]}
    cod = f"check_cod[{side.instrument.pk}]"
    assert (f"{cod}.std_reference", "unit_mismatch") in found
    assert (f"{cod}.range_upper", "out_of_range") in found


def test_another_agency_cannot_fill_on_the_task(world, client_for):
    other = client_for(world.jiangsu.technician_user)
    side = world.shanghai
    body = {"id": str(uuid.uuid4()), **record_payload(side, start=uuid.uuid4())}
    answer = other.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_failed")  # F10 item 6
    assert set(answer.json()["details"]) == {"task"}


def test_reviewing_needs_the_enterprise_confirmation(world, tech, client_for):
    side = world.shanghai
    record_id = submitted(side, tech)
    reviewer = client_for(side.reviewer)
    body = {
        "id": str(uuid.uuid4()),
        "records": [str(record_id)],
        "decision": "approve",
        "work_photo": str(work_photo(side.reviewer, side.wastewater)),
        "signature": signature_b64(4),
    }
    answer = reviewer.post("/api/v1/om/reviews", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_record_not_confirmed")
    assert OmRecord.objects.get(pk=record_id).status == "submitted"


def test_the_filler_never_reviews_their_own_record(world, client_for):
    side = world.shanghai
    both = hire(side.agency, ["om_technician", "om_reviewer"])
    user = staff_account(side.main, both, Role.AGENCY_REVIEWER)
    om_task_add_staff(task=side.om_task, employment=both, role=OmTaskStaff.Role.TECHNICIAN)
    om_task_add_staff(task=side.om_task, employment=both, role=OmTaskStaff.Role.REVIEWER)
    client = client_for(user)
    record_id = submitted(side, client, user)
    OmRecord.objects.filter(pk=record_id).update(status="confirmed")  # as if the enterprise had confirmed
    body = {
        "id": str(uuid.uuid4()),
        "records": [str(record_id)],
        "decision": "approve",
        "work_photo": str(work_photo(user, side.wastewater)),
        "signature": signature_b64(5),
    }
    answer = client.post("/api/v1/om/reviews", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (403, "om_reviewer_is_filler")
    assert OmRecord.objects.get(pk=record_id).status == "confirmed"


def test_an_enterprise_confirms_only_its_own_records(world, tech, client_for):
    side = world.shanghai
    record_id = submitted(side, tech)
    other = world.jiangsu
    client = client_for(other.enterprise_user)
    body = {
        "id": str(uuid.uuid4()),
        "enterprise": other.enterprise.pk,
        "date": timezone.localdate().isoformat(),
        "records": [{"id": str(record_id), "version": 1}],
        "work_photo": str(work_photo(other.enterprise_user, other.wastewater)),
        "signature": signature_b64(6),
    }
    answer = client.post("/api/v1/om/days/confirm", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (403, "om_not_enterprise_record")
    assert OmRecord.objects.get(pk=record_id).status == "submitted"


def test_a_signature_must_be_an_image_with_ink():
    from media_rules.signatures import ink

    assert ink(signature_png(blank=True))[0] == 0
    count, extent = ink(signature_png())
    assert count > 500
    assert extent > 0.5


def test_phones_pull_the_records_they_may_see(world, tech):
    from tests.sync.helpers import Phone

    side = world.shanghai
    draft_id = uuid.uuid4()
    body = {"id": str(draft_id), **record_payload(side, start=checkin(tech, side, "start"), answers={})}
    assert tech.post("/api/v1/om/records", body, format="json").status_code == 201
    record_id = submitted(side, tech)

    def pulled(user) -> dict[str, dict]:
        changes = Phone.enrol(user).pull().json()["changes"]
        return {c["id"]: c["data"] for c in changes if c["entity"] == "om_record"}

    mine = pulled(side.technician_user)
    assert set(mine) == {str(draft_id), str(record_id)}
    assert mine[str(record_id)]["status"] == "submitted"
    assert set(pulled(side.enterprise_user)) == {str(record_id)}  # not the draft
    assert set(pulled(side.reviewer)) == {str(draft_id), str(record_id)}
    assert pulled(world.jiangsu.technician_user) == {}
    assert pulled(world.jiangsu.enterprise_user) == {}


def test_a_days_records_filtered_by_an_enterprise_that_is_not_a_number_is_a_400(world, client_for):
    answer = client_for(world.shanghai.enterprise_user).get("/api/v1/om/days/2026-01-01?enterprise=abc")
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_failed")
    assert "enterprise" in answer.json()["details"]
