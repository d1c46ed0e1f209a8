"""A reviewed O&M record is closed (F10 items 3 and 4): editing it online is a 409
``om_record_closed`` (it was a 500: the error's ``status`` parameter collided with the response's own),
and reviewing it again says it is closed, not that it awaits the enterprise's confirmation."""

from __future__ import annotations

import json
import uuid

import pytest

from server.om.models import OmRecord
from tests.om.helpers import record_payload, signature_b64
from tests.om.test_records import checkin, submitted, work_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(world, client_for):
    side = world.shanghai
    tech = client_for(side.technician_user)
    record_id = submitted(side, tech)
    OmRecord.objects.filter(pk=record_id).update(status=OmRecord.Status.APPROVED)  # as if reviewed
    return side, tech, OmRecord.objects.get(pk=record_id)


def test_editing_an_approved_record_online_is_a_409_naming_its_state(approved, api_en, world):
    side, tech, record = approved
    body = {
        "id": str(record.pk),
        **record_payload(
            side,
            start=checkin(tech, side, "start"),
            end=checkin(tech, side, "end"),
            work_photo=work_photo(side.technician_user, side.wastewater),
            signature=signature_b64(),
            submit=True,
        ),
    }
    answer = tech.post("/api/v1/om/records", body, format="json")
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "om_record_closed"
    assert answer.json()["message"] == "运维记录已审核通过，不能再修改。"
    assert answer.json()["details"] == {"record": str(record.pk), "status": "approved"}
    stored = OmRecord.objects.get(pk=record.pk)
    assert (stored.status, stored.version, stored.answers) == ("approved", record.version, record.answers)

    api_en.force_authenticate(side.technician_user)
    answer = api_en.post("/api/v1/om/records", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_record_closed")
    assert answer.json()["message"].startswith("The record is ")


def test_reviewing_an_approved_record_says_it_is_closed(approved, client_for):
    side, _, record = approved
    body = {
        "id": str(uuid.uuid4()),
        "records": [str(record.pk)],
        "decision": "void",
        "reason": "重复审核",
        "work_photo": str(work_photo(side.reviewer, side.wastewater)),
        "signature": signature_b64(4),
    }
    answer = client_for(side.reviewer).post("/api/v1/om/reviews", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "om_record_closed")
    assert "须经排污单位确认" not in answer.json()["message"]
    assert OmRecord.objects.get(pk=record.pk).status == "approved"


def test_no_message_parameter_can_collide_with_the_response(rf):
    """Whatever a rule names its message's parameters (``status``, ``error``, ``request``), they
    reach the message and nothing else."""
    from server.errors import DomainError, api_exception_handler
    from server.om.errors import OM_RECORD_CLOSED

    exc = DomainError(OM_RECORD_CLOSED, status="关闭", error="e", request="r", params="p")
    response = api_exception_handler(exc, {"request": rf.get("/")})
    assert response.status_code == 409
    assert json.loads(response.content)["message"] == "运维记录已关闭，不能再修改。"
