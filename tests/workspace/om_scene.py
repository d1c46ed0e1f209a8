"""An O&M day made by the services, as the phones make it (tests/om test those services): the
technician checks in at the outlet, fills a calibration record (one computed value out of its limit,
an item marked abnormal) and a daily inspection, checks out and submits both with a work photo and a
signature. ``confirmed_by_enterprise`` then confirms them as the enterprise's phone would."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass

from django.utils import timezone

from media_rules import intake
from media_rules.holders import tenant_of
from media_rules.models import Photo, PhotoType
from media_rules.services import Manifest, photo_record
from media_rules.signatures import store_signature
from server.om import records
from server.om.models import FormTemplate, OmRecord
from server.tracks.checkins import Position, checkin_record
from server.tracks.models import CheckIn
from tests.om.fill import groups_of, valid_answers
from tests.om.helpers import face_jpeg, near, signature_b64
from tests.shared_data import PHOTOS

# A real phone photo (EXIF and all) for the browser to attach as a work photo.
PHONE_PHOTO = PHOTOS / "HMD_Nokia_8.3_5G.jpg"


@dataclass
class OmDay:
    day: dt.date
    calibration: OmRecord  # one judgement out of its limit
    inspection: OmRecord  # an item marked abnormal

    @property
    def records(self) -> list[OmRecord]:
        return [self.calibration, self.inspection]


def work_photo(user, outlet, seed: int) -> Photo:
    blob, _ = intake.ingest(face_jpeg(seed), holder=tenant_of(user))
    lon, lat = near(outlet)
    return photo_record(
        actor=user,
        photo_id=uuid.uuid4(),
        sha256=blob.sha256,
        photo_type=PhotoType.objects.get(pk="work_photo"),
        outlet=outlet,
        manifest=Manifest(lon=lon, lat=lat, system="gcj02", accuracy_m=8.0, fix_time=timezone.now()),
        blob=blob,
    ).photo


def _checkin(user, side, kind: str, at: dt.datetime) -> CheckIn:
    lon, lat = near(side.wastewater, 20)
    return checkin_record(
        actor=user,
        checkin_id=uuid.uuid4(),
        position=Position(lon=lon, lat=lat, system="gcj02", accuracy_m=8.0),
        at=at,
        kind=kind,
        om_task=side.om_task,
        outlet=side.wastewater,
    )[0]


def _template(code: str) -> FormTemplate:
    return FormTemplate.objects.filter(code=code).order_by("-version").first()


def om_day(side, *, days_ago: int = 1, seed: int = 1, technician=None) -> OmDay:
    user = technician or side.technician_user
    start_at = timezone.localtime().replace(hour=9, minute=10, second=0, microsecond=0) - dt.timedelta(
        days=days_ago
    )
    start = _checkin(user, side, CheckIn.Kind.START, start_at)
    end = _checkin(user, side, CheckIn.Kind.END, start_at + dt.timedelta(minutes=50))
    photo = work_photo(user, side.wastewater, seed)
    signature = store_signature(signature_b64(seed))
    instruments = [side.instrument]

    def submit(code: str, change) -> OmRecord:
        template = _template(code)
        groups = groups_of(template)
        answers = copy.deepcopy(valid_answers(template, instruments, groups))
        change(answers)
        return records.record_save(
            actor=user,
            record_id=uuid.uuid4(),
            task=side.om_task,
            outlet=side.wastewater,
            template=template,
            instruments=instruments,
            groups=groups,
            answers=answers,
            start_checkin=start,
            end_checkin=end,
            work_photo=photo,
            signature=signature,
            submit=True,
        ).record

    def std_off(answers: dict) -> None:
        # The COD standard sample read 12 against 10: a relative error of 20 %, over its limit.
        block = answers["check_cod"][str(side.instrument.pk)]
        block["std_reference"], block["std_measured"] = 10.0, 12.0

    def abnormal(answers: dict) -> None:
        answers["station_daily"]["station_environment"] = {"status": "abnormal", "note": "站房漏雨"}

    calibration = submit("ww_standard_check_calibration", std_off)
    inspection = submit("ww_daily_inspection", abnormal)
    return OmDay(day=timezone.localdate(start_at), calibration=calibration, inspection=inspection)


def confirmed_by_enterprise(side, day: OmDay, *, seed: int = 5) -> None:
    user = side.enterprise_user
    records.day_confirm(
        actor=user,
        confirmation_id=uuid.uuid4(),
        enterprise=side.enterprise,
        om_date=day.day,
        versions={str(r.pk): r.version for r in day.records},
        work_photo=work_photo(user, side.wastewater, seed),
        signature=store_signature(signature_b64(seed)),
    )
    for record in day.records:
        record.refresh_from_db()


def upload(data: bytes, name: str = "work.jpg"):
    """A file as a browser sends it in a form."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def face_file(seed: int = 9):
    return upload(face_jpeg(seed), f"face-{seed}.jpg")
