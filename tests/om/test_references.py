"""F10 item 6: an object a request body names that is not there is the request's mistake, a 400
``validation_failed`` naming the field, never a bare 404 ``not_found`` with no details (which reads
as a wrong URL). Whether it does not exist or belongs to another tenant, the answer is the same."""

from __future__ import annotations

import uuid

import pytest

from server.om.models import OmRecord, Review
from tests.om.helpers import signature_b64
from tests.om.test_records import submitted, tech, work_photo  # noqa: F401 (tech: a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(world, tech):  # noqa: F811
    record_id = submitted(world.shanghai, tech)
    OmRecord.objects.filter(pk=record_id).update(status="confirmed")  # as if the enterprise had confirmed
    return record_id


def review(record_id, photo_id) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "records": [str(record_id)],
        "decision": "approve",
        "work_photo": str(photo_id),
        "signature": signature_b64(8),
    }


def refused_field(answer, field: str) -> str:
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_failed"), answer.json()
    assert set(answer.json()["details"]) == {field}
    return answer.json()["details"][field][0]


def test_a_review_naming_a_missing_or_foreign_work_photo_is_a_400_naming_it(world, confirmed, client_for):
    side, other = world.shanghai, world.jiangsu
    reviewer = client_for(side.reviewer)
    missing, foreign = uuid.uuid4(), work_photo(other.technician_user, other.wastewater)
    said = {
        photo: refused_field(
            reviewer.post("/api/v1/om/reviews", review(confirmed, photo), format="json"), "work_photo"
        )
        for photo in (missing, foreign)
    }
    # The same sentence but for the id sent: nothing says the other agency's photo exists.
    assert said[missing].replace(str(missing), "?") == said[foreign].replace(str(foreign), "?")
    assert str(missing) in said[missing]
    assert OmRecord.objects.get(pk=confirmed).status == "confirmed"
    assert not Review.objects.exists()


def test_a_review_naming_a_record_not_there_names_records_in_english_too(world, confirmed, client_for):
    side = world.shanghai
    reviewer = client_for(side.reviewer, "en")
    body = review(confirmed, work_photo(side.reviewer, side.wastewater))
    body["records"].append(str(uuid.uuid4()))
    said = refused_field(reviewer.post("/api/v1/om/reviews", body, format="json"), "records")
    assert said == f"“{body['records'][1]}” does not exist or you may not use it."
    assert OmRecord.objects.get(pk=confirmed).status == "confirmed"


def test_latest_check_in_before_any_is_200_null(world, client_for):
    answer = client_for(world.shanghai.field_user).get("/api/v1/checkins/latest")
    assert (answer.status_code, answer.json()) == (200, None)
