"""An O&M day through the HTTP API (seed 003 §2.3-§3).

The technician works offline at the outlet all morning: a start check-in, the work photo, three
records filled and an end check-in, all queued on the phone and pushed when the network comes back.
In the evening the enterprise's confirmer opens the day (待确认日期), checks the records and confirms
them with a signature and a work photo. Next morning the agency's reviewer confirms one, voids one
(with a reason) and leaves the third. Then the technician, offline again, edits two records: the
approved one (refused: it is closed) and the confirmed one, which is stored as a new version and
surfaces as a conflict (the confirmation it invalidates), so the day comes back for confirming.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.utils import timezone

from server.notifications.models import Notification
from server.om.models import ConfirmedVersion, OmRecord, OmRecordVersion
from server.tracks.models import CheckIn
from tests.om.helpers import checkin_payload, face_jpeg, photo_payload, record_payload, signature_b64
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db


def send_file(phone: Phone, data: bytes, capture) -> None:
    with capture(execute=True):
        sent = phone.client().post("/api/v1/media", {"file": io.BytesIO(data)}, format="multipart")
    assert sent.status_code == 201, sent.json()


def results_by_type(response) -> dict[str, list[dict]]:
    assert response.status_code == 200, response.json()
    out: dict[str, list[dict]] = {}
    for op, result in zip(response.request_ops, response.json()["results"], strict=True):
        out.setdefault(op["type"], []).append(result)
    return out


def push(phone: Phone):
    ops = list(phone.queue)
    response = phone.push()
    response.request_ops = ops
    phone.queue.clear()
    return response


def signed_photo(phone: Phone, side, seed: int, when, capture) -> uuid.UUID:
    """A work photo taken on ``phone`` at the outlet, recorded online with its file."""
    photo_id = uuid.uuid4()
    data = face_jpeg(seed)
    phone.op("photo.record", photo_id, photo_payload(side.wastewater, data, when))
    assert {r["status"] for r in push(phone).json()["results"]} == {"applied"}
    send_file(phone, data, capture)
    return photo_id


def test_an_om_day_from_the_outlet_to_review(world, client_for, django_capture_on_commit_callbacks):
    side = world.shanghai
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=5)
    day = timezone.localdate(t0)
    tech = Phone.enrol(side.technician_user)

    # --- The morning, offline ---------------------------------------------------------------------
    start, end, photo = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tech.op("checkin.record", start, checkin_payload(side, "start", t0), device_time=t0)
    work = face_jpeg(1)
    tech.op("photo.record", photo, photo_payload(side.wastewater, work, t0), device_time=t0)
    ids = {name: uuid.uuid4() for name in ("inspection", "consumables", "calibration")}
    codes = {
        "inspection": "ww_daily_inspection",
        "consumables": "ww_consumables",
        "calibration": "ww_standard_check_calibration",
    }
    for name, record_id in ids.items():  # filled as drafts while working
        tech.op(
            "om_record.save",
            record_id,
            record_payload(side, template_code=codes[name], start=start),
            device_time=t0 + dt.timedelta(minutes=30),
        )
    t_end = t0 + dt.timedelta(hours=2)
    tech.op("checkin.record", end, checkin_payload(side, "end", t_end), device_time=t_end)
    for name, record_id in ids.items():  # 结束签到并上传
        tech.op(
            "om_record.save",
            record_id,
            record_payload(
                side,
                template_code=codes[name],
                start=start,
                end=end,
                work_photo=photo,
                signature=signature_b64(1),
                submit=True,
            ),
            device_time=t_end + dt.timedelta(minutes=1),
        )
    # Back in signal: the whole queue, sent twice (a retry after a timeout) - applied once.
    queue = list(tech.queue)
    first = push(tech)
    tech.queue[:] = queue
    again = push(tech)
    statuses = {r["status"] for r in first.json()["results"]}
    assert statuses == {"applied"}, first.json()
    assert {r["status"] for r in again.json()["results"]} == {"duplicate"}
    send_file(tech, work, django_capture_on_commit_callbacks)

    records = {name: OmRecord.objects.get(pk=record_id) for name, record_id in ids.items()}
    for record in records.values():
        assert (record.status, record.version, record.om_date) == ("submitted", 1, day)
        assert record.start_checkin_id == start
        assert record.end_checkin_id == end
        assert record.work_photo_id == photo
        assert record.signature_id
    assert OmRecordVersion.objects.filter(record__in=records.values()).count() == 3
    assert CheckIn.objects.get(pk=end).verdict == CheckIn.Verdict.INSIDE
    calibration = records["calibration"]
    assert calibration.judgements
    assert all(j["passed"] for j in calibration.judgements)

    # --- The evening: the enterprise confirms the day ---------------------------------------------
    confirmer = client_for(side.enterprise_user)
    days = confirmer.get("/api/v1/om/days").json()
    assert days == [{"date": day.isoformat(), "enterprise": side.enterprise.pk, "records": 3}]
    shown = confirmer.get(f"/api/v1/om/days/{day.isoformat()}").json()["records"]
    assert {r["id"] for r in shown} == {str(i) for i in ids.values()}
    detail = next(r for r in shown if r["id"] == str(ids["calibration"]))
    assert detail["end_checkin"]["verdict"] == "inside"
    assert detail["sections"]
    ent_phone = Phone.enrol(side.enterprise_user)
    ent_photo = signed_photo(
        ent_phone, side, 2, t0 + dt.timedelta(hours=10), django_capture_on_commit_callbacks
    )
    confirmation = {
        "id": str(uuid.uuid4()),
        "enterprise": side.enterprise.pk,
        "date": day.isoformat(),
        "records": [{"id": r["id"], "version": r["version"]} for r in shown],
        "work_photo": str(ent_photo),
        "signature": signature_b64(2),
    }
    answer = confirmer.post("/api/v1/om/days/confirm", confirmation, format="json")
    assert answer.status_code == 201, answer.json()
    assert sorted(answer.json()["confirmed"]) == sorted(str(i) for i in ids.values())
    assert confirmer.post("/api/v1/om/days/confirm", confirmation, format="json").status_code == 200
    assert set(OmRecord.objects.filter(pk__in=ids.values()).values_list("status", flat=True)) == {"confirmed"}
    assert confirmer.get("/api/v1/om/days").json() == []

    # --- The next morning: the agency reviews ------------------------------------------------------
    reviewer = client_for(side.reviewer)
    rev_phone = Phone.enrol(side.reviewer)
    rev_photo = signed_photo(
        rev_phone, side, 3, t0 + dt.timedelta(hours=20), django_capture_on_commit_callbacks
    )
    signed = {"work_photo": str(rev_photo), "signature": signature_b64(3)}
    approve = {"id": str(uuid.uuid4()), "records": [str(ids["inspection"])], "decision": "approve", **signed}
    assert reviewer.post("/api/v1/om/reviews", approve, format="json").status_code == 201
    void = {"id": str(uuid.uuid4()), "records": [str(ids["consumables"])], "decision": "void", **signed}
    refused = reviewer.post("/api/v1/om/reviews", void, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "om_void_reason_required")
    void["reason"] = "易耗品数量与库存记录不符"
    assert reviewer.post("/api/v1/om/reviews", void, format="json").status_code == 201
    status = dict(OmRecord.objects.filter(pk__in=ids.values()).values_list("id", "status"))
    assert status == {
        ids["inspection"]: "approved",
        ids["consumables"]: "voided",
        ids["calibration"]: "confirmed",
    }
    assert OmRecord.objects.get(pk=ids["consumables"]).void_reason == "易耗品数量与库存记录不符"
    assert Notification.objects.filter(recipient=side.technician_user, kind="om_record_voided").exists()

    # --- The technician edits offline ---------------------------------------------------------------
    t_edit = t0 + dt.timedelta(hours=22)
    for name in ("inspection", "calibration"):
        payload = record_payload(
            side, template_code=codes[name], start=start, end=end, work_photo=photo, submit=True
        )
        payload["note"] = "补充备注"
        payload["answers"]["closing"] = {
            **payload["answers"].get("closing", {}),
            "remark": "补充：更换了进样管",
        }
        tech.op("om_record.save", ids[name], payload, device_time=t_edit)
    edited = results_by_type(push(tech))["om_record.save"]
    closed, reconfirm = edited
    assert (closed["status"], closed["code"]) == ("rejected", "om_record_closed")
    assert reconfirm["status"] == "conflict", reconfirm
    assert reconfirm["conflict"]["reason"] == "confirmation_invalidated"
    (clash,) = reconfirm["conflict"]["fields"]
    assert (clash["pinned_version"], clash["new_version"]) == (1, 2)

    calibration.refresh_from_db()
    assert (calibration.status, calibration.version) == ("submitted", 2)
    assert ConfirmedVersion.objects.get(record=calibration).invalidated_by_version == 2
    approved = OmRecord.objects.get(pk=ids["inspection"])
    assert (approved.status, approved.version) == ("approved", 1)  # untouched
    # The enterprise is told, and the day is back on its list with the edited record only.
    assert Notification.objects.filter(recipient=side.enterprise_user, kind="om_record_reconfirm").exists()
    assert confirmer.get("/api/v1/om/days").json() == [
        {"date": day.isoformat(), "enterprise": side.enterprise.pk, "records": 1}
    ]
    history = client_for(side.technician_user).get(f"/api/v1/om/records/{ids['calibration']}").json()
    assert [v["number"] for v in history["versions"]] == [1, 2]
    assert [(c["version"], c["invalidated_by_version"]) for c in history["confirmations"]] == [(1, 2)]
    assert [e["to"] for e in history["events"]] == ["submitted", "confirmed", "submitted"]
