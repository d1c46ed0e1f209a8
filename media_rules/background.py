"""Work done after a file is stored, off the request: the thumbnail (upright, decoded at reduced
size), the perceptual hashes (for near-duplicate search) and, for photo types that show a person,
the face and sharpness measures. Then the file's photos are judged again with what was measured.
A file that shows a person is sealed here too, with its thumbnail (``media_rules.private_files``).

Runs as the Celery task ``media_rules.process_blob`` (inline when no broker is configured), queued
when the transaction that stored the file commits. Never raises for a bad file: what went wrong is
kept in ``Blob.process_error``.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from media_rules import private_files
from media_rules.imaging import hash_to_signed64, open_image, thumbnail_and_hashes, upright
from media_rules.models import Blob, Photo
from server.errors import DomainError

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = 320
PERSON_DECODE_SIZE = 1024  # the face check needs no more than this


def schedule(sha256: str) -> None:
    from media_rules.tasks import process_blob

    transaction.on_commit(partial(process_blob.delay, sha256), robust=True)


def schedule_site(outlet_id: int) -> None:
    """Judge a site's photos again once its correction commits (``reevaluate_site``)."""
    from media_rules.tasks import reevaluate_site

    transaction.on_commit(partial(reevaluate_site.delay, outlet_id), robust=True)


def thumbnail_name(sha256: str) -> str:
    return f"thumbs/{sha256[:2]}/{sha256[2:4]}/{sha256}.jpg"


def _needs_person_check(blob: Blob) -> bool:
    return any(
        (photo_type_thresholds or {}).get("face_required")
        for photo_type_thresholds in Photo.objects.filter(blob=blob).values_list(
            "photo_type__thresholds", flat=True
        )
    )


def measure(blob: Blob, data: bytes, *, person: bool) -> dict:
    """The background measures of one file, as Blob field values. A person's thumbnail is sealed."""
    values: dict = {"process_error": ""}
    try:
        thumb, own, mirror = thumbnail_and_hashes(data, THUMBNAIL_SIZE)
        values["thumbnail"] = private_files.store_thumbnail(blob.sha256, thumb, sealed=person)
        values["phash"], values["phash_mirror"] = hash_to_signed64(own), hash_to_signed64(mirror)
        if person:
            from media_rules.faces import measure_person

            image = open_image(data)
            image.thumbnail((PERSON_DECODE_SIZE, PERSON_DECODE_SIZE))
            found = measure_person(upright(image))
            values["face_count"], values["sharpness"] = found.face_count, found.sharpness
    except DomainError as exc:
        values["process_error"] = exc.error.code
    return values


def process_blob(sha256: str) -> bool:
    """Measure one file and judge its photos again. Returns False when there was nothing to do."""
    blob = Blob.objects.filter(pk=sha256).first()
    if blob is None or blob.purged_at is not None:
        return False
    person = _needs_person_check(blob)
    if blob.processed_at is not None and (not person or (blob.face_count is not None and blob.encrypted)):
        return False
    data = private_files.read_bytes(blob)
    values = measure(blob, data, person=person)
    values["processed_at"] = timezone.now()
    if person:
        private_files.seal_and_update(blob, data, values)
    else:
        Blob.objects.filter(pk=sha256).update(**values)
    from media_rules.services import rejudge

    for photo in Photo.objects.filter(blob_id=sha256).only("pk"):
        rejudge(photo)
    return True


PENDING_GRACE = dt.timedelta(minutes=10)
PENDING_BATCH = 500


def process_pending(*, now: dt.datetime | None = None, limit: int = PENDING_BATCH) -> int:
    """The background work of files that never got it: the task is queued after the commit that
    stored the file, so a broker down at that moment, or a worker killed in the middle, loses it.
    Files unprocessed for more than PENDING_GRACE are processed here, oldest first, at most ``limit``
    a run (hourly: CELERY_BEAT_SCHEDULE). Returns how many were processed."""
    cutoff = (now or timezone.now()) - PENDING_GRACE
    pending = Blob.objects.filter(processed_at__isnull=True, purged_at__isnull=True, received_at__lt=cutoff)
    hashes = list(pending.order_by("received_at").values_list("sha256", flat=True)[:limit])
    done = 0
    for sha256 in hashes:
        try:
            done += process_blob(sha256)
        except Exception:  # one file's storage trouble must not stop the sweep; the next run tries again
            logger.exception("background work of %s failed", sha256)
    return done
