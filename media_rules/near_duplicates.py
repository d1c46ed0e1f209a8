"""Near-duplicate search by perceptual hash, kept fast as photos pile up into the millions.

Each photo's 64-bit dHash is cut into ``BANDS`` bands stored in ``PhotoHashBand`` with an index on
(agency, band, value). Two hashes within Hamming distance d < BANDS share at least one whole band
(pigeonhole), so one indexed lookup per band finds every candidate within ``GUARANTEED_DISTANCE``;
the exact distance is computed on those candidates only. A new photo is looked up with the hash of
its mirror image too, so a flipped copy is found. Farther matches (up to the warn distance) are
found when they happen to share a band: best effort, never a false match.

The search is scoped to the photo's agency (reused photos are an agency passing one job off as
another) and to a window of capture times (``MEDIA_NEAR_DUPLICATE_WINDOW_DAYS``) either side.
With 13-bit bands an unrelated photo shares a given band 1 time in 8,192, so a million photos in
scope yield about 600 candidates to compare.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q

from media_rules.evidence import DuplicateUse
from media_rules.imaging import hamming, hash_bands, signed64_to_hash
from media_rules.models import Photo, PhotoHashBand

BANDS = 5
GUARANTEED_DISTANCE = BANDS - 1


def index_photo(photo: Photo) -> None:
    """(Re)write the photo's bands: after its file's hash is known, or its capture time moved."""
    blob = photo.blob
    if blob is None or blob.phash is None:
        return
    PhotoHashBand.objects.filter(photo=photo).delete()
    PhotoHashBand.objects.bulk_create(
        PhotoHashBand(
            photo=photo, agency_id=photo.agency_id, band=band, value=value, captured_at=photo.captured_at
        )
        for band, value in enumerate(hash_bands(signed64_to_hash(blob.phash), BANDS))
    )


def find(photo: Photo, *, max_distance: int) -> list[DuplicateUse]:
    """Photos of the same agency, on other tasks (or other sites), recorded no later than this one,
    whose picture is within ``max_distance`` bits of this one's or of its mirror image. The closest first."""
    blob = photo.blob
    if blob is None or blob.phash is None:
        return []
    own = signed64_to_hash(blob.phash)
    mirror = signed64_to_hash(blob.phash_mirror) if blob.phash_mirror is not None else None
    wanted = Q()
    for h in (own, mirror):
        if h is None:
            continue
        for band, value in enumerate(hash_bands(h, BANDS)):
            wanted |= Q(band=band, value=value)
    candidates = PhotoHashBand.objects.filter(wanted, agency_id=photo.agency_id).exclude(photo_id=photo.pk)
    if photo.captured_at is not None:
        window = dt.timedelta(days=settings.MEDIA_NEAR_DUPLICATE_WINDOW_DAYS)
        candidates = candidates.filter(
            Q(captured_at__isnull=True)
            | Q(captured_at__range=(photo.captured_at - window, photo.captured_at + window))
        )
    ids = set(candidates.values_list("photo_id", flat=True)[:5000])
    if not ids:
        return []
    others = (
        # Earlier records only, as for the same file: the later copy is the suspicious one, so the
        # original keeps its verdict when judged again.
        Photo.objects.filter(pk__in=ids, blob__phash__isnull=False, recorded_at__lte=photo.recorded_at)
        .exclude(sha256=photo.sha256)  # the same file is the same-file rule's business
        .select_related("blob", "outlet")
        .only("id", "task_id", "outlet__name", "blob__phash")
    )
    found = []
    for other in others:
        if photo.task_id is not None and other.task_id == photo.task_id:
            continue  # several shots of one scene on one task are expected
        if photo.task_id is None and other.task_id is None and other.outlet_id == photo.outlet_id:
            continue
        theirs = signed64_to_hash(other.blob.phash)
        distance, mirrored = hamming(own, theirs), False
        if mirror is not None and hamming(mirror, theirs) < distance:
            distance, mirrored = hamming(mirror, theirs), True
        if distance <= max_distance:
            found.append(
                DuplicateUse(
                    photo_id=str(other.pk),
                    task_id=str(other.task_id) if other.task_id else None,
                    site_name=other.outlet.name if other.outlet_id else "",
                    distance=distance,
                    mirrored=mirrored,
                )
            )
    return sorted(found, key=lambda use: (use.distance, use.photo_id))
