"""Photo files in: the size limit, SHA-256 while streaming, one stored copy per content, resumable
uploads for flaky networks and, when storage is S3, a presigned POST straight to the bucket.

Bytes live in storage (``settings.STORAGES["default"]``: disk or S3), never in the database. A file is
stored only when it is an image we can read (JPEG, PNG, HEIC/HEIF; 415 otherwise; decompression bombs
and undecodable files 422), under ``photos/<aa>/<bb>/<sha256>``; the same bytes sent twice are stored
once. When a file arrives, the photo records that named it (awaiting media) are judged
(``media_rules.services.media_arrived``): those of the sender's tenant only (F9 item 1,
``media_rules.holders``). Another tenant's photos naming the same hash link when their own tenant sends
the bytes: they are stored once, but knowing a hash is not having the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import IntegrityError, transaction
from django.utils import timezone

from media_rules import errors, holders, s3
from media_rules.exif import exif_to_json, read_exif
from media_rules.imaging import MAX_PIXELS, SNIFF_BYTES, UNSUPPORTED_IMAGE, describe, sniff_format
from media_rules.models import Blob, Upload
from server.errors import VALIDATION_FAILED, DomainError, registered_codes
from server.lookups import unique_or_none

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
READ_CHUNK = 1024 * 1024
# What a multipart body carries besides the file (boundaries, the manifest's form fields).
MULTIPART_OVERHEAD = 64 * 1024
DIRECT_UPLOAD_TYPES = ("image/jpeg", "image/png", "image/heic", "image/heif")


def limits() -> dict:
    """What the phone needs to know before sending a file (also in GET /api/v1/media/limits)."""
    return {
        "max_bytes": settings.MEDIA_MAX_BYTES,
        "chunk_max_bytes": settings.MEDIA_CHUNK_MAX_BYTES,
        "formats": ["jpeg", "png", "heic", "heif"],
        "upload_ttl_hours": settings.MEDIA_UPLOAD_TTL_HOURS,
        "direct_upload": s3.is_s3(default_storage),
    }


def check_sha256(value: object, field: str = "sha256") -> str:
    text = str(value or "").strip().lower()
    if not SHA256_RE.match(text):
        raise DomainError(VALIDATION_FAILED, details={field: ["须为 64 位十六进制 SHA-256。"]})
    return text


def check_declared_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise DomainError(VALIDATION_FAILED, details={"size": ["须为正整数（字节）。"]})
    if size > settings.MEDIA_MAX_BYTES:
        raise DomainError(errors.MEDIA_TOO_LARGE, max_bytes=settings.MEDIA_MAX_BYTES)
    return size


def refuse_oversized_body(content_length: object, *, overhead: int = MULTIPART_OVERHEAD) -> None:
    """Before the body is read: a request announcing more than the limit is refused with a 413."""
    try:
        length = int(content_length or 0)
    except (TypeError, ValueError):
        return
    if length > settings.MEDIA_MAX_BYTES + overhead:
        raise DomainError(errors.MEDIA_TOO_LARGE, max_bytes=settings.MEDIA_MAX_BYTES)


# The media thread: hashes uploads as they stream in and writes files while the request goes on.
# One per process (a gunicorn sync worker serves one request at a time), made after the fork; its
# work runs in the order it was given. S3 storage keeps its connection per thread, so the same thread
# keeps reusing it.
_overlapped = threading.local()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _media_thread() -> ThreadPoolExecutor:
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="media-io"))
    return _pool[1]


class HashingUploadHandler(FileUploadHandler):
    """Django upload handler: keeps the file, computing its SHA-256 and counting its bytes as they
    stream in, and stops at the size limit (a body sent without Content-Length, or one that lied
    about it). The uploaded file gets ``sha256`` and ``size`` attributes.

    The file is held in memory up to ``MEDIA_MEMORY_BYTES`` (a phone photo, 3-8 MB, fits) and spills
    to an anonymous temporary file past that, so a worker's memory stays bounded. Keeping it in
    memory saves writing every upload to disk, reading it back and deleting it. In memory it is the
    pieces as they came, joined once at the end into the bytes that reading the file returns (no
    copy): a growing buffer would copy the photo several times over, and every copy of 4 MB costs
    milliseconds of fresh pages. Pieces of 256 KB instead of Django's 64 KB: a quarter of the
    Python calls per file in the multipart parser.

    Hashing runs on the media thread (``_media_thread``), piece after piece in order, while the parser
    reads the next piece from the socket: SHA-256 releases the GIL, so on a second core a 4 MB
    photo's hash (about 3 ms) is done by the time its last piece arrives.
    """

    chunk_size = 256 * 1024

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._sha = hashlib.sha256()
        self._hashed: Future | None = None  # the last piece's hashing, on the media thread
        self._size = 0
        self._pieces: list[bytes] = []
        # Past MEDIA_MEMORY_BYTES; closed with the request's other files (HttpRequest.close), or in
        # upload_interrupted.
        self._spilled: BinaryIO | None = None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._size += len(raw_data)
        if self._size > settings.MEDIA_MAX_BYTES:
            raise DomainError(errors.MEDIA_TOO_LARGE, max_bytes=settings.MEDIA_MAX_BYTES)
        self._hashed = _media_thread().submit(self._sha.update, raw_data)
        if self._spilled is None and self._size > settings.MEDIA_MEMORY_BYTES:
            self._spilled = tempfile.TemporaryFile()  # noqa: SIM115
            self._spilled.writelines(self._pieces)
            self._pieces = []
        if self._spilled is not None:
            self._spilled.write(raw_data)
        else:
            self._pieces.append(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        if self._spilled is not None:
            kept = self._spilled
            kept.seek(0)
        else:
            kept = io.BytesIO(b"".join(self._pieces))  # read() whole gives these bytes back, uncopied
            self._pieces = []
        file = InMemoryUploadedFile(
            file=kept,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        file.sha256 = self._digest()
        return file

    def _digest(self) -> str:
        if self._hashed is not None:
            self._hashed.result()  # the pieces hash in the order they came; this was the last
        return self._sha.hexdigest()

    def upload_interrupted(self) -> None:
        if getattr(self, "_hashed", None) is not None:
            self._hashed.exception()  # nothing left running on this upload's hash
        self._pieces = []
        if getattr(self, "_spilled", None) is not None:
            self._spilled.close()


def read_hashed(stream: BinaryIO, *, limit: int) -> tuple[bytes, str]:
    """All of ``stream`` (at most ``limit`` bytes, else 413) and its SHA-256, hashed as it is read."""
    sha, parts, size = hashlib.sha256(), [], 0
    while chunk := stream.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise DomainError(errors.MEDIA_TOO_LARGE, max_bytes=settings.MEDIA_MAX_BYTES)
        sha.update(chunk)
        parts.append(chunk)
    return b"".join(parts), sha.hexdigest()


def media_status(hashes: list[str], *, tenant: holders.Tenant | None) -> dict[str, list[str]]:
    """Which of these files the server holds for this tenant (reconcile by photo hash): a file only
    another tenant sent is missing (F9 item 1: an answer must not say another tenant has it)."""
    wanted = list(dict.fromkeys(h.lower() for h in hashes))
    held = holders.held(wanted, tenant)
    return {"missing": [h for h in wanted if h not in held], "present": [h for h in wanted if h in held]}


def blob_name(sha256: str) -> str:
    return f"photos/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _refusal(code: str | None) -> DomainError:
    error = registered_codes().get(code or "")
    return DomainError(error or UNSUPPORTED_IMAGE, max_pixels=MAX_PIXELS)


def ingest(
    data: bytes,
    *,
    holder: holders.Tenant | None,
    sha256: str | None = None,
    declared_sha256: str | None = None,
) -> tuple[Blob, bool]:
    """Store a file once by its content. Returns (blob, created). ``sha256`` is the hash already
    computed while the bytes streamed in; ``declared_sha256`` what the phone said it sent.
    ``holder``: the sender's tenant (``holders.tenant_of``), who now holds the bytes and whose photos
    awaiting them link to them; None for a file the server makes (a signature pad's image). With a
    holder, ``created`` says whether the holder is new to the bytes (their first send), so that the
    answer never tells whether another tenant sent them first.

    Refuses (and stores nothing): a file over the limit (413), not an image we accept (415), a
    decompression bomb or an undecodable image (422), a hash other than the one declared (422).
    """
    actual = sha256 or hashlib.sha256(data).hexdigest()
    if declared_sha256 and declared_sha256 != actual:
        raise DomainError(errors.MEDIA_HASH_MISMATCH, received=actual)
    if len(data) > settings.MEDIA_MAX_BYTES:
        raise DomainError(errors.MEDIA_TOO_LARGE, max_bytes=settings.MEDIA_MAX_BYTES)
    existing = _existing(actual, holder)
    if existing is not None:
        return existing, _earned(existing, holder)
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        raise DomainError(UNSUPPORTED_IMAGE)
    description = describe(data, full=False)  # a JPEG's scan is decoded in the background
    if not description["decoded"]:
        raise _refusal(description["error"])
    exif = read_exif(data)
    name = _store(actual, data)
    try:
        with transaction.atomic():
            blob = Blob.objects.create(
                sha256=actual,
                size=len(data),
                format=fmt,
                name=name,
                width=description["width"],
                height=description["height"],
                exif=exif_to_json(exif),
                received_at=timezone.now(),
            )
            if holder is not None:
                holders.hold(blob, holder, first=True)
            from media_rules import services

            # In this transaction: requests run in autocommit, and PostgreSQL locks the photos
            # awaiting this file (select_for_update) only inside one.
            services.media_arrived(blob, holder=holder)
    except IntegrityError:  # the same file arriving twice at once: the first one stays
        existing = _existing(actual, holder)
        return existing, _earned(existing, holder)
    from media_rules import background

    background.schedule(blob.sha256)  # after media_arrived: the file's photos now name it
    return blob, True


def _existing(sha256: str, holder: holders.Tenant | None) -> Blob | None:
    """The stored file, with ``held``: whether the holder holds it already (the same statement)."""
    held = holders.held_by([holder])
    blobs = Blob.objects if held is None else Blob.objects.annotate(held=held)
    return unique_or_none(blobs, pk=sha256)


def _earned(blob: Blob, holder: holders.Tenant | None) -> bool:
    """Stored already, maybe by another tenant: the holder sent the same bytes, so it holds them now
    and its photos awaiting them link (F9 item 1). Whether that is new."""
    if holder is None or blob.held:
        return False
    from media_rules import services

    with transaction.atomic():
        if not holders.hold(blob, holder):
            return False
        services.media_arrived(blob, holder=holder)
    return True


def _store(sha256: str, data: bytes) -> str:
    """Put the bytes under their content address: now, or on the media thread when the caller is in
    ``stores_overlapped`` (then the name is returned at once and the block waits for the write)."""
    futures = getattr(_overlapped, "futures", None)
    if futures is None:
        return _write(sha256, data)
    futures.append(_media_thread().submit(_write, sha256, data))
    return blob_name(sha256)


def _write(sha256: str, data: bytes) -> str:
    """Two uploads of the same file racing both find the name free; storage then gives the second a
    suffixed name (``<sha>_AbC12xY``), an extra copy no row would use. The content is the same, so that
    copy is removed and the canonical name kept. A file of another size under the name is what a
    write cut short left (a worker killed mid-write on disk storage): it is replaced, never trusted."""
    name = blob_name(sha256)
    if default_storage.exists(name):
        if default_storage.size(name) == len(data):
            return name
        default_storage.delete(name)
    content = ContentFile(data)
    # One write of the whole file, not 64 KB pieces: on the media thread each piece would wait for
    # the GIL while the request runs Python; a write holds it only to start.
    content.DEFAULT_CHUNK_SIZE = max(len(data), 1)
    saved = default_storage.save(name, content)
    if saved != name:
        default_storage.delete(saved)
    return name


@contextlib.contextmanager
def stores_overlapped() -> Iterator[None]:
    """Files ingested inside this block are written to storage on the media thread while the request
    goes on with the database (recording and judging the photo); leaving the block waits for every
    write, so that it ends inside the caller's transaction: a write that failed raises here (the
    transaction rolls back, the error is the storage's, a clean 503) and no row commits naming a file
    that is not stored. Leaving by an exception still waits, so no write outlives its request. The
    write takes about as long as the database work (a 4 MB file on disk, a PUT to S3), so the request
    takes the longer of the two instead of their sum. Nested blocks join the outer one."""
    if getattr(_overlapped, "futures", None) is not None:
        yield
        return
    futures: list[Future] = []
    _overlapped.futures = futures
    try:
        yield
    finally:
        _overlapped.futures = None
        failed = _wait(futures)
    if failed is not None:
        raise failed


def _wait(futures: list[Future]) -> BaseException | None:
    """Wait for every write; the first failure, if any."""
    failed = None
    for future in futures:
        failed = failed or future.exception()
    return failed


# --- Resumable uploads ---------------------------------------------------------------------------
def _part_name(upload: Upload, index: int) -> str:
    return f"uploads/{upload.pk}/{index:06d}"


def _incoming_name(upload: Upload) -> str:
    return f"incoming/{upload.pk}"


def upload_start(*, user, sha256: str, size: int) -> Upload | None:
    """A resumable upload of the file with this hash, or None when the user's tenant already holds
    the file (another tenant's copy does not count: F9 item 1). Starting again for the same file
    continues the unfinished upload (after an app restart)."""
    sha256 = check_sha256(sha256)
    size = check_declared_size(size)
    if holders.held([sha256], holders.tenant_of(user)):
        return None
    now = timezone.now()
    current = (
        Upload.objects.filter(
            created_by=user, sha256=sha256, size=size, completed_at__isnull=True, expires_at__gt=now
        )
        .order_by("-updated_at")
        .first()
    )
    if current is not None:
        return current
    return Upload.objects.create(
        sha256=sha256,
        size=size,
        created_by=user,
        created_at=now,
        updated_at=now,
        expires_at=now + dt.timedelta(hours=settings.MEDIA_UPLOAD_TTL_HOURS),
    )


def _live(upload: Upload) -> None:
    if upload.completed_at is None and upload.expires_at <= timezone.now():
        raise DomainError(errors.UPLOAD_EXPIRED)


def upload_chunk(*, upload: Upload, offset: int, stream: BinaryIO) -> tuple[Upload, Blob | None]:
    """Append a chunk at ``offset``, which must be what the server holds (409 with the right offset
    otherwise, so the phone can continue from it). The last chunk completes the file; sending the
    last chunk again after a lost answer completes it again (the same file is stored once).
    ``upload``: with its ``created_by`` (whose tenant the file is held for)."""
    holder = holders.tenant_of(upload.created_by)
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload.pk)
        if upload.completed_at is not None:
            return upload, Blob.objects.filter(pk=upload.sha256).first()
        _live(upload)
        if upload.received < upload.size:
            _append(upload, offset, stream)
        if upload.received < upload.size:
            return upload, None
    return upload, _complete(upload, holder)


def _append(upload: Upload, offset: int, stream: BinaryIO) -> None:
    if offset != upload.received:
        raise DomainError(
            errors.UPLOAD_OFFSET_MISMATCH, details={"received": upload.received}, received=upload.received
        )
    chunk_limit = min(settings.MEDIA_CHUNK_MAX_BYTES, upload.size - upload.received)
    data = stream.read(chunk_limit + 1)
    if len(data) > chunk_limit:
        if chunk_limit < settings.MEDIA_CHUNK_MAX_BYTES:
            raise DomainError(
                errors.MEDIA_SIZE_MISMATCH, declared=upload.size, received=upload.received + len(data)
            )
        raise DomainError(errors.UPLOAD_CHUNK_TOO_LARGE, max_bytes=settings.MEDIA_CHUNK_MAX_BYTES)
    if not data:
        return
    default_storage.save(_part_name(upload, upload.parts), ContentFile(data))
    upload.parts += 1
    upload.received += len(data)
    upload.updated_at = timezone.now()
    upload.save(update_fields=["parts", "received", "updated_at"])


def _assemble(upload: Upload) -> tuple[bytes, str]:
    sha, parts = hashlib.sha256(), []
    for index in range(upload.parts):
        with default_storage.open(_part_name(upload, index), "rb") as part:
            chunk = part.read()
        sha.update(chunk)
        parts.append(chunk)
    return b"".join(parts), sha.hexdigest()


def _discard_parts(upload: Upload, parts: int) -> None:
    for index in range(parts):
        default_storage.delete(_part_name(upload, index))


def _complete(upload: Upload, holder: holders.Tenant | None) -> Blob:
    """Hash and store what the upload gathered. A file other than the one declared (or one we refuse)
    starts the upload over: its parts are dropped and the error says why."""
    data, sha = _assemble(upload)
    try:
        with transaction.atomic():
            blob, _ = ingest(data, holder=holder, sha256=sha, declared_sha256=upload.sha256)
            Upload.objects.filter(pk=upload.pk).update(completed_at=timezone.now())
    except DomainError:
        Upload.objects.filter(pk=upload.pk).update(received=0, parts=0, updated_at=timezone.now())
        _discard_parts(upload, upload.parts)
        raise
    _discard_parts(upload, upload.parts)
    upload.completed_at = timezone.now()
    return blob


def expire_uploads(*, now: dt.datetime | None = None) -> int:
    """Drop unfinished uploads past their lifetime, with their chunks. Returns how many."""
    now = now or timezone.now()
    count = 0
    for upload in Upload.objects.filter(completed_at__isnull=True, expires_at__lte=now).iterator():
        _discard_parts(upload, upload.parts)
        default_storage.delete(_incoming_name(upload))
        upload.delete()
        count += 1
    return count


# --- Direct upload to S3 -------------------------------------------------------------------------
def presign(*, upload: Upload, content_type: str) -> dict:
    """A presigned POST for the phone to send the file straight to the bucket, then confirm."""
    if not s3.is_s3(default_storage):
        raise DomainError(errors.PRESIGN_UNAVAILABLE)
    if content_type not in DIRECT_UPLOAD_TYPES:
        raise DomainError(UNSUPPORTED_IMAGE)
    _live(upload)
    return s3.presigned_post(
        default_storage,
        _incoming_name(upload),
        size=upload.size,
        content_type=content_type,
        expires_s=settings.MEDIA_PRESIGN_TTL_S,
    )


def confirm(*, upload: Upload) -> Blob:
    """The phone says the file is in the bucket: read it back, check its size and hash, store it
    (held for the tenant of the upload's creator)."""
    if upload.completed_at is not None:
        blob = Blob.objects.filter(pk=upload.sha256).first()
        if blob is not None:
            return blob
    _live(upload)
    name = _incoming_name(upload)
    size = s3.object_size(default_storage, name) if s3.is_s3(default_storage) else None
    if size is None:
        raise DomainError(errors.MEDIA_NOT_RECEIVED)
    try:
        if size != upload.size:
            raise DomainError(errors.MEDIA_SIZE_MISMATCH, declared=upload.size, received=size)
        with default_storage.open(name, "rb") as stream:
            data, sha = read_hashed(stream, limit=settings.MEDIA_MAX_BYTES)
        with transaction.atomic():
            blob, _ = ingest(
                data, holder=holders.tenant_of(upload.created_by), sha256=sha, declared_sha256=upload.sha256
            )
            Upload.objects.filter(pk=upload.pk).update(completed_at=timezone.now())
    finally:
        default_storage.delete(name)  # verified and stored, or refused: the phone sends it again
    return blob
