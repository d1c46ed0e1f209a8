"""Input the API stores but that broke what it writes later, found by the fuzzer once it reached real
objects: a name with a control character made the staff and instrument exports fail (openpyxl cannot
write one); a day such as 0001-01-01, or a moment corrected by a phone clock centuries off, overflowed
once a time zone or the correction was added; an id past 64 bits could not be compared by SQLite.
All were 500s."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from server.fieldwork.models import MonitoringTask
from server.registry.models import Instrument, Person
from server.tracks.models import CheckIn

pytestmark = pytest.mark.django_db


def test_an_export_keeps_going_past_a_name_excel_cannot_hold(world, client_for):
    side = world.shanghai
    Person.objects.filter(pk=side.sampler.person_id).update(name="张\x12三")
    Instrument.objects.filter(pk=side.instrument.pk).update(maker='=HYPERLINK("http://x")')
    main = client_for(side.main)

    staff = main.get("/api/v1/staff/export")
    instruments = main.get("/api/v1/instruments/export")

    assert (staff.status_code, instruments.status_code) == (200, 200)
    names = [row[0].value for row in load_workbook(io.BytesIO(staff.content)).active.iter_rows(min_row=2)]
    assert "张\ufffd三" in names
    maker = next(load_workbook(io.BytesIO(instruments.content)).active.iter_rows(min_row=2))[3]
    assert (maker.value, maker.data_type) == ('=HYPERLINK("http://x")', "s")  # text, not a formula


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"])
def test_a_day_outside_1900_to_2999_is_refused_with_a_400(world, client_for, day):
    side = world.shanghai
    for user, url, params in [
        (side.main, "/api/v1/photos/export.zip", {"date": day}),
        (side.regulator, "/api/v1/evidence", {"since": day}),
        (side.main, "/api/v1/om/overdue", {"start": day}),
    ]:
        answer = client_for(user).get(url, params)
        assert answer.status_code == 400, (url, answer.status_code, answer.content[:300])
        assert answer.json()["code"] == "validation_failed", (url, answer.json())
    # In a path, a day no page can ask for names nothing.
    assert client_for(side.enterprise_user).get(f"/api/v1/om/days/{day}").status_code == 404


def test_the_first_and_last_days_taken_are_answered(world, client_for):
    main = client_for(world.shanghai.main)
    for day in ("1900-01-01", "2999-12-31"):
        assert main.get("/api/v1/photos/export.zip", {"date": day}).status_code == 200


@pytest.mark.parametrize("number", [-(3 * 10**22), 2**63, 0])
def test_an_id_no_row_can_have_is_a_400_not_a_500(world, client_for, number):
    """SQLite cannot compare a number past 64 bits (OverflowError); ids are 1 to 2**63 - 1
    (server/fields.py IdField), online and in pushes."""
    from tests.sync.helpers import Phone

    side = world.shanghai
    day = client_for(side.enterprise_user).get("/api/v1/om/days/2026-11-22", {"enterprise": number})
    assert (day.status_code, day.json()["code"]) == (400, "validation_failed")
    phone = Phone.enrol(side.field_user)
    phone.op("task.create", "6f1d6c1e-8a39-4f4e-9d55-2b8f3a0c0009", {"project": number, "name": "x"})
    result = phone.push().json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "validation_failed")
    assert not MonitoringTask.objects.filter(pk="6f1d6c1e-8a39-4f4e-9d55-2b8f3a0c0009").exists()


def test_the_sync_payloads_share_the_bounds(world):
    """Offline, the same bounds hold: the payloads are the API's (server/*/operations.py). A check-in
    for an O&M task with an id no row can have, and a day's confirmation of 0001-01-01, are rejected
    operations, not server errors that the phone would retry for ever."""
    from tests.om.helpers import checkin_payload
    from tests.sync.helpers import Phone

    side = world.shanghai
    phone = Phone.enrol(side.technician_user)
    checkin = checkin_payload(side, "start", timezone.now()) | {"om_task": 2**70}
    phone.op("checkin.record", "6f1d6c1e-8a39-4f4e-9d55-2b8f3a0c0011", checkin)
    confirmer = Phone.enrol(side.enterprise_user)
    day = {
        "enterprise": side.enterprise.pk,
        "date": "0001-01-01",
        "records": [],
        "work_photo": "6f1d6c1e-8a39-4f4e-9d55-2b8f3a0c0012",
        "signature": "x",
    }
    confirmer.op("om_day.confirm", f"{side.enterprise.pk}:0001-01-01", day)

    results = [phone.push().json()["results"][0], confirmer.push().json()["results"][0]]

    assert [(r["status"], r["code"]) for r in results] == [("rejected", "validation_failed")] * 2
    assert "om_task" in str(results[0]["details"])
    assert "date" in str(results[1]["details"])
    assert not CheckIn.objects.exists()


def test_a_moment_outside_1900_to_2999_is_refused_before_a_clock_correction_overflows(world, client_for):
    """A check-in at 9994-03-28 from a phone whose clock says 0270: correcting the time by the clock's
    offset went past year 9999 (OverflowError, a 500). Moments are bounded like days."""
    from tests.om.helpers import checkin_payload

    side = world.shanghai
    body = checkin_payload(side, "start", timezone.now())
    body |= {"id": "6f1d6c1e-8a39-4f4e-9d55-2b8f3a0c0010", "device_time": "9994-03-28T20:20:48Z"}
    body["device_clock"] = "0270-12-27T22:16:42Z"
    answer = client_for(side.technician_user).post("/api/v1/checkins", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_failed")
    assert set(answer.json()["details"]) == {"device_time", "device_clock"}
    assert not CheckIn.objects.exists()
