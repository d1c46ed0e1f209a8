"""How long personal data is kept. PIPL (个人信息保护法) art. 19: personal information is kept for the
shortest period necessary for its purpose, unless a law says otherwise; art. 47 then requires it to
be deleted. Two kinds of it here are collected in bulk and needed only for a while:

- **raw GPS track points** (``tracks.TrackPoint``): where a person was every few seconds of a working
  day. They serve to check a task while it can still be returned, reviewed or disputed; after
  ``TRACK_RETENTION_DAYS`` (default 365: a year covers the annual review and the quarterly and
  yearly O&M reports of seed 003) they are deleted. Check-ins, photos' locations and the task's own
  record are the evidence that stays; the track itself does not.
- **face photos** (work photos of fillers, confirmers and reviewers: biometric, PIPL art. 28): after
  ``FACE_PHOTO_RETENTION_DAYS`` (default 365, for the same reason) the file and its thumbnail are
  deleted from storage; the record that the photo existed stays (its SHA-256, size, the face and
  sharpness measures, the photos' verdicts) and says when it was purged (downloads answer 410).

Records that regulations require for longer (monitoring records: HJ 630 asks for six years) are not
personal data of this kind and are not touched. Each run writes a ``PurgeRun`` and an audit entry.
Runs daily (Celery beat ``privacy-daily``) or by hand: ``manage.py privacy_purge``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from media_rules import private_files
from server.audit import services as audit
from server.privacy.models import PurgeRun
from server.tracks.models import TrackPoint

logger = logging.getLogger(__name__)

BATCH = 5000  # rows per DELETE: millions of points must not hold one long lock


def purge_track_points(*, before: dt.datetime) -> int:
    deleted = 0
    while True:
        ids = list(TrackPoint.objects.filter(recorded_at__lt=before).values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        deleted += TrackPoint.objects.filter(pk__in=ids).delete()[0]


def purge_face_photos(*, before: dt.datetime, at: dt.datetime) -> int:
    """Delete the face photo files received before ``before`` (storage I/O: no transaction held)."""
    purged = 0
    expired = private_files.face_blobs().filter(purged_at__isnull=True, received_at__lt=before)
    for blob in expired.only("sha256", "name", "thumbnail").iterator():
        purged += private_files.purge(blob, at=at)
    return purged


def purge_expired(*, trigger: str = PurgeRun.Trigger.SCHEDULE, now: dt.datetime | None = None) -> PurgeRun:
    """Delete what is past its retention period and record the run (a ``PurgeRun`` and an audit entry)."""
    now = now or timezone.now()
    track_cutoff = now - dt.timedelta(days=settings.TRACK_RETENTION_DAYS)
    face_cutoff = now - dt.timedelta(days=settings.FACE_PHOTO_RETENTION_DAYS)
    points = purge_track_points(before=track_cutoff)
    photos = purge_face_photos(before=face_cutoff, at=now)
    with transaction.atomic():
        run = PurgeRun.objects.create(
            at=now,
            trigger=trigger,
            track_cutoff=track_cutoff,
            face_photo_cutoff=face_cutoff,
            track_points=points,
            face_photos=photos,
        )
        audit.record(
            "privacy.purged",
            subject=run,
            actor=None,
            summary=f"个人信息到期删除：航迹点 {points} 个，人脸照片文件 {photos} 个",
            changes={
                "track_points": points,
                "face_photos": photos,
                "track_cutoff": track_cutoff.isoformat(),
                "face_photo_cutoff": face_cutoff.isoformat(),
            },
        )
    logger.info("privacy: purged %d track points and %d face photo files", points, photos)
    return run
