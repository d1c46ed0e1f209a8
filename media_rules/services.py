"""Photo records and their verdicts: the one place that records a photo (online and offline alike)
and the one place that judges it.

- ``photo_record`` stores a photo the phone took: its id (the phone's UUID), the file it names (by
  SHA-256, which may not have arrived yet: *awaiting media*), its type, its task or site, and the
  capture manifest (the phone's location fix, its clock, an optional device signature).
- ``evaluate_photo`` gathers the evidence (``PhotoContext``) from what is stored and runs the rules
  (``media_rules.rules.evaluate``); the verdict and every finding are stored on the photo, which is
  never deleted for its verdict. Verdicts are judged again when the context changes: the file or
  its background measures arrive, a missing manifest arrives, a site is moved
  (``reevaluate_site``), or by ``manage.py photos_reevaluate``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from media_rules import errors, holders, near_duplicates
from media_rules.evidence import CaptureFix, DuplicateUse, ExifData, PhotoContext, Site
from media_rules.exif import exif_from_json
from media_rules.models import Blob, Photo, PhotoType
from media_rules.rules import Thresholds, capture_time, evaluate, thresholds_for
from server.audit import services as audit
from server.errors import NOT_FOUND, DomainError
from server.fields import instant
from server.fieldwork.stages import STAGE_ORDER, ensure_photo_allowed, stage_wait_key
from server.geo import to_wgs84, validate_point
from server.lookups import unique_or_none
from sync.changes import record_change
from sync.waits import WaitKey


@dataclass(frozen=True)
class Manifest:
    """What the phone says about the capture. Every part may be missing (an old app, a lost fix)."""

    lon: float | None = None  # as measured, in ``system``
    lat: float | None = None
    system: str = ""
    accuracy_m: float | None = None
    fix_time: dt.datetime | None = None
    mock: bool = False
    device_time: dt.datetime | None = None  # the phone's clock when the photo was taken
    signature: str = ""

    @property
    def has_fix(self) -> bool:
        return self.lon is not None and self.lat is not None


@dataclass
class Recorded:
    photo: Photo
    created: bool
    change_seq: int | None
    # Sync wait keys this record may release (work held for the task's earlier stages).
    releases: tuple[WaitKey, ...] = ()


def base_thresholds() -> Thresholds:
    return thresholds_for(Thresholds(), settings.PHOTO_RULE_THRESHOLDS)


def photo_record(
    *,
    actor,
    photo_id,
    sha256: str,
    photo_type: PhotoType,
    manifest: Manifest,
    task=None,
    outlet=None,
    device=None,
    clock_offset: dt.timedelta | None = None,
    blob: Blob | None = None,
) -> Recorded:
    """Record a photo (idempotent by its id). The caller has checked the actor may see the task and
    the site. The same id with the same file again fills in what the first record lacked (a manifest
    sent later) and changes nothing else; with another file it is refused (409 ``photo_conflict``):
    the stored file stays, it is never silently replaced. ``blob``: the file, when the caller has just
    stored it with ``actor``'s tenant as its holder (saves reading it again). Otherwise the photo links
    to a stored file only if one of its tenants holds it (F9 item 1: knowing a hash is not having the
    file); else it awaits its own upload."""
    if task is None and outlet is None:
        raise DomainError(errors.PHOTO_SUBJECT_REQUIRED)
    agency_id = _photo_agency(actor, task, outlet)
    if agency_id is None:  # agency staff, or an enterprise's confirmer at its own outlet
        raise DomainError(errors.PHOTO_NO_AGENCY)
    if task is not None:  # and of the agency's staff, those on the task's project
        from server.fieldwork.services import ensure_on_task

        ensure_on_task(task, actor)
    fix = _fix_fields(manifest)
    corrected = manifest.device_time + clock_offset if manifest.device_time and clock_offset else None
    with transaction.atomic():
        photo = unique_or_none(Photo.objects.select_for_update(), pk=photo_id)
        if photo is not None:
            from server.access import photos_for

            if not photos_for(actor).filter(pk=photo.pk).exists():  # another agency's photo id
                raise DomainError(NOT_FOUND)
            if photo.sha256 != sha256:
                raise DomainError(
                    errors.PHOTO_CONFLICT,
                    details={"stored": photo.sha256, "sent": sha256},
                    stored=photo.sha256,
                )
            return _fill_in(photo, manifest, fix, corrected)
        if task is not None:
            ensure_photo_allowed(task, photo_type)
        if blob is None or blob.sha256 != sha256:
            blob = holders.linkable(sha256, holders.photo_tenants(agency_id=agency_id, taker=actor))
        # Judged before it is stored: one INSERT with its verdict.
        photo = Photo(
            id=photo_id,
            sha256=sha256,
            blob=blob,
            photo_type=photo_type,
            task=task,
            outlet=outlet,
            agency_id=agency_id,
            taken_by=actor,
            device=device,
            device_time=manifest.device_time,
            device_time_corrected=corrected or manifest.device_time,
            signature=manifest.signature,
            recorded_at=timezone.now(),
            **fix,
        )
        seq = judge(photo, force_change=True, created=True)
        audit.record(
            "photo.created",
            subject=photo,
            actor=actor,
            summary=f"拍照：{photo_type.name}",
            changes={"photo_type": photo_type.pk, "sha256": sha256},
        )
        face_required = (photo_type.thresholds or {}).get("face_required")
        if face_required and photo.blob is not None and photo.blob.face_count is None:
            from media_rules.background import schedule

            schedule(sha256)  # the file came for another photo type: measure the person now
    return Recorded(photo, True, seq, (stage_wait_key(task.pk),) if task is not None else ())


def _photo_agency(actor, task, outlet) -> int | None:
    """Whose photo it is. Agency staff take photos for their agency. An enterprise's confirmer takes
    a work photo when confirming a day's O&M records (seed 003): it belongs with the agency that runs
    O&M at that outlet (the latest such task), so that the agency's reviewers and the regulator see it
    with the records."""
    if task is not None:
        return task.project.agency_id if actor.agency_id is not None else None
    if actor.agency_id is not None:
        return actor.agency_id
    if outlet is not None and actor.enterprise_id is not None and outlet.enterprise_id == actor.enterprise_id:
        from server.om.models import OmTask

        return (
            OmTask.objects.filter(points=outlet)
            .order_by("-ends_on", "-id")
            .values_list("agency_id", flat=True)
            .first()
        )
    return None


def _fix_fields(manifest: Manifest) -> dict[str, Any]:
    if not manifest.has_fix:
        return {}
    lon, lat = validate_point(manifest.lon, manifest.lat)
    wgs_lon, wgs_lat = to_wgs84(lon, lat, manifest.system)
    return {
        "fix_location": Point(wgs_lon, wgs_lat, srid=4326),
        "fix_raw_lon": lon,
        "fix_raw_lat": lat,
        "fix_system": manifest.system,
        "fix_accuracy_m": manifest.accuracy_m,
        "fix_time": manifest.fix_time,
        "mock_location": manifest.mock,
    }


def _fill_in(photo: Photo, manifest: Manifest, fix: dict, corrected: dt.datetime | None) -> Recorded:
    changed = []
    if photo.fix_location is None and fix:
        for name, value in fix.items():
            setattr(photo, name, value)
        changed += list(fix)
    if photo.device_time is None and manifest.device_time is not None:
        photo.device_time = manifest.device_time
        photo.device_time_corrected = corrected or manifest.device_time
        changed += ["device_time", "device_time_corrected"]
    if not photo.signature and manifest.signature:
        photo.signature = manifest.signature
        changed.append("signature")
    if not changed:
        return Recorded(photo, False, None)
    photo.save(update_fields=changed)
    return Recorded(photo, False, judge(photo, force_change=True))


# --- Judging --------------------------------------------------------------------------------------
def _site(photo: Photo) -> tuple[Site | None, dict]:
    outlet = photo.outlet
    if outlet is None:
        return None, {}
    site = Site(
        lon=outlet.location.x, lat=outlet.location.y, geofence_m=outlet.geofence_radius_m, name=outlet.name
    )
    return site, outlet.photo_thresholds or {}


def _capture_fix(photo: Photo) -> CaptureFix | None:
    if photo.fix_location is None:
        return None
    return CaptureFix(
        lon=photo.fix_location.x,
        lat=photo.fix_location.y,
        accuracy_m=photo.fix_accuracy_m,
        fix_time=photo.fix_time,
        declared_system=photo.fix_system,
        raw_lon=photo.fix_raw_lon,
        raw_lat=photo.fix_raw_lat,
        mock=photo.mock_location,
    )


def _task_window(photo: Photo, receive: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """From the task's creation (``created_at``: on the phone, its clock corrected, when created
    offline) to the photo's receipt (nothing is captured after the server has it; a fixed end keeps
    the verdict the same when judged again). The task lifecycle of [F5] narrows it to started..ended."""
    task = photo.task
    if task is None:
        return None
    return task.created_at, max(task.created_at, receive)


def _stage_neighbours(photo: Photo) -> tuple[dt.datetime | None, dt.datetime | None]:
    rank = STAGE_ORDER.get(photo.photo_type.stage)
    if photo.task_id is None or rank is None:
        return None, None
    earlier, later = None, None
    others = (
        Photo.objects.filter(task_id=photo.task_id, captured_at__isnull=False)
        .exclude(pk=photo.pk)
        .order_by()  # the latest and earliest are taken below, in any order
        .values_list("photo_type__stage", "captured_at")
    )
    for stage, at in others:
        other = STAGE_ORDER.get(stage)
        if other is None or other == rank:
            continue
        if other < rank:
            earlier = at if earlier is None else max(earlier, at)
        else:
            later = at if later is None else min(later, at)
    return earlier, later


def _same_file_uses(photo: Photo) -> tuple[tuple[DuplicateUse, ...], bool]:
    """Earlier records of the same file on another task (or another site): the later use is the
    suspicious one, so the original keeps its verdict. The photo's agency's uses are named; another
    agency's only counted (F9 item 4: the finding goes to this agency's pages, pulls and evidence
    queues, which must not name another tenant's photo or site). Returns (named uses, whether
    another agency used the file)."""
    uses = (
        Photo.objects.filter(sha256=photo.sha256, recorded_at__lte=photo.recorded_at)
        .exclude(pk=photo.pk)
        .select_related("outlet")
    )
    out, other_agency = [], False
    for other in uses:
        if other.agency_id != photo.agency_id:
            other_agency = True
            continue
        if photo.task_id is not None and other.task_id == photo.task_id:
            continue
        if photo.task_id is None and other.task_id is None and other.outlet_id == photo.outlet_id:
            continue
        out.append(
            DuplicateUse(
                photo_id=str(other.pk),
                task_id=str(other.task_id) if other.task_id else None,
                site_name=other.outlet.name if other.outlet_id else "",
            )
        )
    return tuple(out), other_agency


def _signature_valid(photo: Photo) -> bool | None:
    if not photo.signature:
        return None
    from media_rules.signing import capture_message, verify

    key = photo.device.public_key if photo.device_id else ""
    if not key or photo.fix_raw_lon is None or photo.device_time is None:
        return False  # a signature nothing can check proves nothing
    try:
        message = capture_message(
            sha256=photo.sha256,
            lon=photo.fix_raw_lon,
            lat=photo.fix_raw_lat,
            system=photo.fix_system,
            capture_time=photo.device_time,
            task_id=str(photo.task_id) if photo.task_id else "",
        )
    except ValueError:  # values no phone could have signed (signing.capture_message says which)
        return False
    return verify(key, message, photo.signature)


def context_for(photo: Photo) -> tuple[PhotoContext, Thresholds]:
    """The evidence about a stored photo, and the thresholds for its type and site."""
    blob = photo.blob
    site, site_thresholds = _site(photo)
    th = thresholds_for(base_thresholds(), photo.photo_type.thresholds, site_thresholds)
    receive = photo.recorded_at if blob is None else min(photo.recorded_at, blob.received_at)
    same_file_uses, same_file_other_agency = _same_file_uses(photo)
    ctx = PhotoContext(
        exif=exif_from_json(blob.exif) if blob is not None else ExifData(),
        fix=_capture_fix(photo),
        site=site,
        device_time=photo.device_time_corrected,
        receive_time=receive,
        task_window=_task_window(photo, receive),
        photo_type=photo.photo_type_id,
        stage=photo.photo_type.stage,
        same_file_uses=same_file_uses,
        same_file_other_agency=same_file_other_agency,
        signature_valid=_signature_valid(photo),
        face_count=blob.face_count if blob is not None else None,
        sharpness=blob.sharpness if blob is not None else None,
        file_error=blob.process_error if blob is not None else "",
    )
    found = capture_time(ctx)
    photo.captured_from, photo.captured_at = found if found else ("", None)
    earlier, later = _stage_neighbours(photo)
    near = near_duplicates.find(photo, max_distance=th.near_duplicate_warn_distance)
    ctx = dataclasses.replace(
        ctx, earlier_stage_latest=earlier, later_stage_earliest=later, near_duplicates=tuple(near)
    )
    return ctx, th


def judge(photo: Photo, *, force_change: bool = False, created: bool = False) -> int | None:
    """Judge a photo and store the verdict; a photo awaiting its file stays pending. Records a change
    (for pulls) when the verdict or findings changed, or when ``force_change``. ``created``: a new
    photo, not yet stored (it is inserted with its verdict). Call in a transaction."""
    before = (photo.verdict, photo.findings)
    if photo.blob_id is None:
        photo.verdict, photo.findings = "", []
        ctx = None
    else:
        ctx, th = context_for(photo)
        verdict = evaluate(ctx, th)
        photo.verdict = verdict.severity.value
        photo.findings = [finding.as_dict() for finding in verdict.findings]
    photo.evaluated_at = timezone.now()
    changed = (photo.verdict, photo.findings) != before
    if (changed or force_change) and not created:
        photo.version += 1
    photo.save(force_insert=created)
    if ctx is not None:
        near_duplicates.index_photo(photo)
    if not (changed or force_change):
        return None
    return _photo_change(photo, created=created)


def _photo_change(photo: Photo, *, created: bool = False) -> int:
    """The photo as it is now, in the change log (what pulls send)."""
    return record_change(
        entity_type="photo",
        entity_id=str(photo.pk),
        version=photo.version,
        data=photo_data(photo),
        agency_id=photo.agency_id,
        project_id=photo.task.project_id if photo.task_id else None,
        enterprise_id=photo.outlet.enterprise_id if photo.outlet_id else None,
        created=created,
    )


def photo_data(photo: Photo) -> dict[str, Any]:
    """What phones and pages see of a photo (the API's and the pull's shape)."""
    return {
        "id": str(photo.pk),
        "sha256": photo.sha256,
        "photo_type": photo.photo_type_id,
        "stage": photo.photo_type.stage,
        "task": str(photo.task_id) if photo.task_id else None,
        "outlet": photo.outlet_id,
        "awaiting_media": photo.awaiting_media,
        "media_purged": photo.media_purged,
        "captured_at": instant(photo.captured_at),  # also stored in the change log: F10 item 7
        "captured_from": photo.captured_from,
        "verdict": photo.verdict or "pending",
        "findings": photo.findings,
        "version": photo.version,
    }


def media_arrived(blob: Blob, *, holder: holders.Tenant | None) -> None:
    """A file arrived from ``holder``'s tenant: that tenant's photos that named it are no longer
    awaiting media; judge them. Other tenants' photos naming the same hash wait for their own
    upload (F9 item 1); with no holder (a file the server made), none links."""
    if holder is None:
        return
    awaiting = Photo.objects.select_for_update().filter(holders.photos_of(holder), sha256=blob.sha256)
    for photo in awaiting.filter(blob__isnull=True):
        photo.blob = blob
        judge(photo, force_change=True)


def media_purged(blob: Blob) -> int:
    """A file was deleted at the end of its retention period: its photos say so, in a new version
    and in the change log, so that phones and pages stop offering a file that is gone. The verdict
    stays (it was judged on the file). Call in a transaction. Returns how many photos."""
    photos = (
        Photo.objects.select_for_update(of=("self",))
        .select_related("blob", "photo_type", "task", "outlet")
        .filter(blob=blob)
    )
    count = 0
    for photo in photos:
        photo.version += 1
        photo.save(update_fields=["version"])
        _photo_change(photo)
        count += 1
    return count


def rejudge(photo: Photo) -> int | None:
    with transaction.atomic():
        photo = (
            Photo.objects.select_for_update(of=("self",))  # PostgreSQL: no FOR UPDATE on outer joins
            .select_related("blob", "photo_type", "outlet", "task", "device")
            .get(pk=photo.pk)
        )
        return judge(photo)


def reevaluate_site(outlet) -> int:
    """A site's position or geofence was corrected: judge its photos again. Returns how many."""
    count = 0
    for photo in Photo.objects.filter(outlet=outlet).only("pk").iterator():
        rejudge(photo)
        count += 1
    return count


def completeness(photos) -> dict[str, int]:
    """How many of these photos the server holds the file of, and how many it still waits for."""
    total = photos.count()
    awaiting = photos.filter(blob__isnull=True).count()
    return {"photos": total, "with_media": total - awaiting, "awaiting_media": awaiting}
