"""Direct-to-bucket uploads on Django's S3 storage: presigned POSTs and object look-ups.

Phones upload big photos straight to the bucket with a presigned POST, then call the confirm
endpoint; the server reads the object back and checks its SHA-256 before it accepts the photo.

Every function takes the storage (``default_storage`` or ``storages["default"]``) and a storage
*name*, the one ``storage.open(name)`` takes. The bucket key is worked out the way django-storages
does it, so the ``location`` prefix (``S3_PREFIX``) is included and ``..`` cannot climb out of it.

The presigned POST's policy pins the key, the exact size (``content-length-range`` [size, size]) and
the Content-Type; real S3 refuses a form that breaks any of them. moto, the S3 server the tests run
against, does not: its POST handler (moto 5.2, ``S3Response._bucket_response_post``) checks neither
the policy's conditions nor its signature nor its expiry, and stores whatever arrives (tried: a byte
more, a byte less, another Content-Type, a forged signature, an expired policy all get 204). So the
tests cannot show the policy at work, and the policy is not what keeps a wrong file out anyway: the
confirm step re-reads the object and re-hashes it.

Signature version: the POST is signed by the storage's own boto3 client. With no
``signature_version`` in the storage's options botocore signs presigned requests with SigV2 in the
regions that still accept it (us-east-1 among them), SigV4 elsewhere; S3 buckets created since
2020 accept only SigV4, so production should set ``"signature_version": "s3v4"``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError
from django.core.files.storage import Storage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# SigV4 credentials are scoped to a day, but S3 accepts presigned requests for up to 7 days.
MAX_EXPIRES_S = 7 * 24 * 3600


def is_s3(storage: Storage) -> bool:
    """Whether ``storage`` keeps files in an S3(-compatible) bucket (``default_storage`` works too)."""
    # isinstance() sees through Django's LazyObject: default_storage reports its wrapped class.
    return isinstance(storage, S3Storage)


def _require_s3(storage: Storage) -> S3Storage:
    if not is_s3(storage):
        raise TypeError(f"{type(storage).__name__} is not an S3 storage")
    return storage  # type: ignore[return-value]


def object_key(storage: Storage, name: str) -> str:
    """The bucket key of the storage name ``name``, ``location`` prefix included."""
    # The same two steps S3Storage._save/_open/exists apply; _normalize_name raises
    # SuspiciousOperation for a name that would leave the location.
    return _require_s3(storage)._normalize_name(clean_name(name))


def presigned_post(storage: Storage, key: str, *, size: int, content_type: str, expires_s: int) -> dict:
    """A presigned POST that lets a phone upload exactly ``size`` bytes of ``content_type`` to ``key``.

    ``key`` is the storage name (what ``storage.open`` takes later). Returns ``{"url", "fields",
    "expires_at"}``: the phone POSTs ``multipart/form-data`` to ``url`` with every field of
    ``fields`` and then the file as ``file`` (the last part). ``url`` is on the storage's configured
    endpoint. ``expires_at`` is an aware UTC datetime, never later than the policy's own expiry.
    """
    s3 = _require_s3(storage)
    if size < 1:
        raise ValueError("size must be at least 1 byte")
    if not 1 <= expires_s <= MAX_EXPIRES_S:
        raise ValueError(f"expires_s must be between 1 and {MAX_EXPIRES_S}")
    if not content_type:
        raise ValueError("content_type is required")
    full_key = object_key(s3, key)
    # Taken before signing: botocore dates the policy a moment later, so ours is never the later one.
    expires_at = datetime.now(timezone.utc) + timedelta(seconds=expires_s)
    post = s3.connection.meta.client.generate_presigned_post(
        Bucket=s3.bucket_name,
        Key=full_key,
        Fields={"Content-Type": content_type},
        Conditions=[
            ["content-length-range", size, size],
            {"Content-Type": content_type},
        ],
        ExpiresIn=expires_s,
    )
    return {"url": post["url"], "fields": post["fields"], "expires_at": expires_at}


def object_size(storage: Storage, name: str) -> int | None:
    """Size in bytes of the object stored under ``name``, or None when there is none."""
    s3 = _require_s3(storage)
    try:
        head = s3.connection.meta.client.head_object(Bucket=s3.bucket_name, Key=object_key(s3, name))
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return None
        raise
    return int(head["ContentLength"])
