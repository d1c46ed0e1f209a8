"""Signing on the web (签字确认): the enterprise confirms a day, the agency's reviewer confirms or
voids records, each with a signature drawn on the page and a work photo, as the phone does.

The phone sends its work photo first (``POST /photos``: the file through ``media_rules.intake``, the
record through ``record_photo``) and then the act naming it (``POST /om/days/confirm``,
``POST /om/reviews``). The page sends both in one form; here they go the same way, through the same
functions, in one transaction: an act the service refuses leaves no photo behind. The service decides
everything (``server.om.records``: the reviewer is never the filler, a void needs a reason, a blank
signature is refused); a refusal comes back as its message, with the form field it is about.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from media_rules import errors as media_errors
from media_rules import holders, intake
from media_rules.models import Photo
from media_rules.operations import record_photo
from server import access
from server.accounts.models import User
from server.errors import VALIDATION_FAILED, DomainError
from server.om import errors as om_errors
from server.om import operations
from server.om.models import Review
from server.om.records import DayConfirmed
from server.registry.models import Outlet
from workspace.i18n import message_language

# A refusal about the signature or the reason is said beside that field; the rest above the form.
FIELD_OF = {
    media_errors.SIGNATURE_BLANK.code: "signature",
    media_errors.SIGNATURE_IMAGE_INVALID.code: "signature",
    om_errors.OM_SIGNATURE_REQUIRED.code: "signature",
    om_errors.OM_WORK_PHOTO_REQUIRED.code: "work_photo",
    om_errors.OM_WORK_PHOTO_INVALID.code: "work_photo",
    om_errors.OM_VOID_REASON_REQUIRED.code: "reason",
}


@dataclass
class Signing:
    """What the form gave: the drawn signature (a PNG as a data URL, what the API takes), the work
    photo's file, the ids the page made for the photo and the act (a form sent twice acts once), and
    the browser's location fix when it gave one (WGS-84, as the Geolocation API reports)."""

    act_id: uuid.UUID
    photo_id: uuid.UUID
    signature: str
    photo: UploadedFile
    fix: dict = field(default_factory=dict)


class SigningError(Exception):
    """The service said no: its message, and the form field it is about ("" for the whole form)."""

    def __init__(self, error: DomainError, field: str = ""):
        self.error = error
        self.field = field or FIELD_OF.get(error.error.code, "")
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.error.error.message(message_language(), **self.error.params)
        details = self.error.details
        if self.error.error is VALIDATION_FAILED and isinstance(details, dict):
            said = [
                str(m)
                for messages in details.values()
                for m in (messages if isinstance(messages, list) else [messages])
            ]
            text = " ".join([text, *said])
        return text


def _work_photo(user: User, signing: Signing, outlet: Outlet) -> Photo:
    """The signer's work photo, recorded as ``POST /photos`` records one with its file."""
    signing.photo.seek(0)
    try:
        blob, _ = intake.ingest(signing.photo.read(), holder=holders.tenant_of(user))
        data = {"sha256": blob.sha256, "photo_type": "work_photo", "outlet": outlet.pk, **signing.fix}
        return record_photo(
            user=user, device=None, photo_id=signing.photo_id, data=data, clock_offset=None, blob=blob
        ).photo
    except DomainError as exc:
        raise SigningError(exc, "work_photo") from exc


def confirm_day(user: User, *, day: dt.date, seen: dict[str, int], signing: Signing) -> DayConfirmed:
    """The enterprise confirms the day's records at the versions it was shown (``seen``: record id ->
    version, in the order shown), as ``POST /om/days/confirm``. The work photo is taken at the first
    record's outlet."""
    try:
        with transaction.atomic(), intake.stores_overlapped():
            first = access.access_om_record(user, next(iter(seen)), field="records")
            photo = _work_photo(user, signing, first.outlet)
            return operations.confirm_day(
                user=user,
                device=None,
                confirmation_id=signing.act_id,
                data={
                    "enterprise": user.enterprise_id,
                    "date": day,
                    "records": [{"id": rid, "version": v} for rid, v in seen.items()],
                    "work_photo": photo.pk,
                    "signature": signing.signature,
                },
            )
    except DomainError as exc:
        raise SigningError(exc) from exc


def review(
    user: User, *, record_ids: list[uuid.UUID], decision: str, reason: str, signing: Signing
) -> tuple[Review, bool]:
    """The reviewer confirms or voids the records (all or none), as ``POST /om/reviews``. The work
    photo is taken at the first record's outlet."""
    try:
        with transaction.atomic(), intake.stores_overlapped():
            first = access.access_om_record(user, record_ids[0], field="records")
            photo = _work_photo(user, signing, first.outlet)
            return operations.review_records(
                user=user,
                device=None,
                review_id=signing.act_id,
                data={
                    "records": record_ids,
                    "decision": decision,
                    "reason": reason,
                    "work_photo": photo.pk,
                    "signature": signing.signature,
                },
            )
    except DomainError as exc:
        raise SigningError(exc) from exc
