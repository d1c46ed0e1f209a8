"""Face photos at rest. A work photo shows the filler's, confirmer's or reviewer's face (seed 003):
biometric data, sensitive personal information under PIPL art. 28, so its file is kept encrypted in
storage (disk or S3) under the personal-information keys (``server.privacy.crypto``, outside the
database), and deleted at the end of its retention period (``server.privacy.retention``).

Design, and why:

- **Sealed after classification, off the request.** A file is stored by content before anyone may
  know what it shows (phones send records and files in any order, and one file can serve several
  photos), and intake must stay fast for the many ordinary photos. So ``ingest`` is unchanged; the
  background job (``media_rules.background.process_blob``) that measures the face of a photo whose
  type has ``face_required`` also writes the thumbnail sealed and re-writes the file sealed under
  ``sealed/``, marks the Blob ``encrypted`` (compare-and-set on its name) and deletes the plain copy.
  The plain file exists only between its arrival and that job (the same request without a broker,
  seconds with a worker); the daily privacy job seals any face file left plain (``seal_pending``).
- **Read through here.** The file and thumbnail downloads, the photo ZIP export and the background job
  read with ``open_stored`` / ``read_bytes``, which decrypt sealed files (in memory: photos are at
  most MEDIA_MAX_BYTES) and hand plain ones over as storage opened them (streamed, nothing added).
- **Sealed value**: AES-256-GCM with the Blob's SHA-256 and the part (file, thumbnail) as associated
  data, so a sealed object copied under another photo's name does not open.
- **Purged**: the file and thumbnail are deleted; the Blob keeps its hash, size, measures and
  ``purged_at``, the photos their verdicts, and a download answers 410 ``media_purged``.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from media_rules import errors
from media_rules.models import Blob, PhotoType
from server.errors import DomainError
from server.privacy import crypto

logger = logging.getLogger(__name__)

SEALED_PREFIX = "sealed/"


def face_photo_types() -> list[str]:
    """The photo types that show a person's face (``face_required`` in their thresholds)."""
    return [
        code
        for code, thresholds in PhotoType.objects.values_list("code", "thresholds")
        if (thresholds or {}).get("face_required")
    ]


def face_blobs() -> QuerySet[Blob]:
    return Blob.objects.filter(photos__photo_type__in=face_photo_types()).distinct()


def _sealed_name(sha256: str, part: str) -> str:
    suffix = ".thumb" if part == "thumbnail" else ""
    return f"{SEALED_PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"


def _purpose(sha256: str, part: str) -> str:
    return f"media_rules.Blob:{sha256}:{part}"


def _store_sealed(sha256: str, part: str, data: bytes) -> str:
    return default_storage.save(
        _sealed_name(sha256, part), ContentFile(crypto.seal(data, purpose=_purpose(sha256, part)))
    )


def ensure_available(blob: Blob) -> None:
    if blob.purged_at is not None:
        raise DomainError(errors.MEDIA_PURGED, purged_on=timezone.localdate(blob.purged_at).isoformat())


def open_stored(blob: Blob, *, thumbnail: bool = False) -> File:
    """The file (or its thumbnail) for reading, decrypted when sealed. 410 when purged; storage errors
    are the caller's to report; ``crypto.UnreadableError`` (503) when the key is missing."""
    ensure_available(blob)
    stored = default_storage.open(blob.thumbnail if thumbnail else blob.name, "rb")
    return opened(blob, stored, thumbnail=thumbnail)


def opened(blob: Blob, stored: File, *, thumbnail: bool = False) -> File:
    """What a reader gets of a stored object it opened: a plain file as it is (streamed), a sealed
    one read, closed and decrypted."""
    if not blob.encrypted:
        return stored
    with stored:
        sealed = stored.read()
    part = "thumbnail" if thumbnail else "file"
    plain = crypto.unseal(sealed, purpose=_purpose(blob.sha256, part))
    return ContentFile(plain, name=f"{blob.sha256}.jpg" if thumbnail else blob.sha256)


def read_bytes(blob: Blob) -> bytes:
    with open_stored(blob) as stream:
        return stream.read()


def store_thumbnail(sha256: str, data: bytes, *, sealed: bool) -> str:
    """Where a thumbnail is stored: sealed for a face photo, else by name once (as ``thumbs/...``)."""
    if sealed:
        return _store_sealed(sha256, "thumbnail", data)
    from media_rules.background import thumbnail_name

    name = thumbnail_name(sha256)
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name


def seal_and_update(blob: Blob, data: bytes, values: dict) -> None:
    """Save ``values`` (the background measures) on the Blob and, for a face photo not sealed yet,
    seal its file in the same update; then delete the plain copies it replaced. Compare-and-set on
    the stored name: of two jobs sealing the same file at once, one wins and the other drops its copy."""
    if not blob.encrypted:
        values = {**values, "name": _store_sealed(blob.sha256, "file", data), "encrypted": True}
    won = Blob.objects.filter(pk=blob.pk, name=blob.name, purged_at__isnull=True).update(**values)
    current = Blob.objects.filter(pk=blob.pk).values("name", "thumbnail").first() or {}
    if not won:
        for part in ("name", "thumbnail"):
            if values.get(part) and values[part] != current.get(part):
                default_storage.delete(values[part])
        return
    for part in ("name", "thumbnail"):
        old = getattr(blob, part)
        if old and old != values.get(part, old):
            default_storage.delete(old)


def seal_pending() -> int:
    """Seal the face files still plain (arrived before sealing existed, or their job failed)."""
    from media_rules.background import process_blob

    count = 0
    for sha256 in face_blobs().filter(encrypted=False, purged_at__isnull=True).values_list("pk", flat=True):
        try:
            count += process_blob(sha256)
        except Exception:  # one unreadable file must not stop the rest; the next run tries again
            logger.exception("privacy: the face photo file %s could not be sealed", sha256)
    return count


def purge(blob: Blob, *, at) -> bool:
    """Delete a face photo's file and thumbnail from storage; the record stays, marked purged. Files
    first: a run that stops in between leaves a record the next run marks, never a file kept."""
    from media_rules import services

    for name in (blob.name, blob.thumbnail):
        if name:
            default_storage.delete(name)  # absent already: nothing to do (disk and S3 both)
    with transaction.atomic():
        if not Blob.objects.filter(pk=blob.pk, purged_at__isnull=True).update(purged_at=at, thumbnail=""):
            return False
        services.media_purged(Blob.objects.get(pk=blob.pk))  # its photos say so, for pulls too
    return True


def reseal(blob: Blob) -> bool:
    """Re-encrypt a sealed file and thumbnail under the current key (after a key rotation)."""
    if not blob.encrypted or blob.purged_at is not None:
        return False
    values = {}
    for part, field in (("file", "name"), ("thumbnail", "thumbnail")):
        name = getattr(blob, field)
        if not name:
            continue
        with default_storage.open(name, "rb") as stream:
            sealed = stream.read()
        if not crypto.needs_rekey(sealed):
            continue
        plain = crypto.unseal(sealed, purpose=_purpose(blob.sha256, part))
        values[field] = _store_sealed(blob.sha256, part, plain)
    if not values:
        return False
    won = Blob.objects.filter(pk=blob.pk, name=blob.name, thumbnail=blob.thumbnail).update(**values)
    for field, name in values.items():
        default_storage.delete(getattr(blob, field) if won else name)
    return bool(won)
