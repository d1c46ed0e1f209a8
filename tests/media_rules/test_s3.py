"""media_rules.s3 and the S3 storage, spoken over real HTTP to moto's server (tests/support/s3_server.py).

moto does not enforce a presigned POST's policy (see media_rules/s3.py), so the policy is checked by
reading it, and no test here pretends the server refuses a wrong size.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
import requests
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from storages.backends.s3 import S3Storage

from media_rules.s3 import is_s3, object_key, object_size, presigned_post
from tests.shared_data import PHOTOS
from tests.support.s3_server import S3Bucket

PHOTO = (PHOTOS / "DSCN0010.jpg").read_bytes()


def upload(post: dict, data: bytes, filename: str = "photo.jpg") -> requests.Response:
    """What the phone does: a multipart/form-data POST, the policy's fields first, the file last."""
    content_type = post["fields"]["Content-Type"]
    return requests.post(
        post["url"], data=post["fields"], files={"file": (filename, data, content_type)}, timeout=10
    )


def test_default_storage_round_trips_over_http(s3_storage: S3Bucket):
    assert is_s3(default_storage)
    assert storages["default"].bucket_name == s3_storage.bucket

    name = default_storage.save("photos/2026/a.jpg", ContentFile(PHOTO))

    assert name == "photos/2026/a.jpg"
    with default_storage.open(name) as stored:
        assert stored.read() == PHOTO
    assert s3_storage.keys() == [name]
    # The storage's own (presigned GET) URL is on the test server and serves the same bytes.
    url = default_storage.url(name)
    assert url.startswith(f"{s3_storage.endpoint}/{s3_storage.bucket}/")
    assert requests.get(url, timeout=10).content == PHOTO


def test_a_saved_name_is_never_overwritten(s3_storage: S3Bucket):
    first = default_storage.save("photos/a.jpg", ContentFile(b"first"))
    second = default_storage.save("photos/a.jpg", ContentFile(b"second"))

    assert first != second  # file_overwrite=False, as in production
    assert default_storage.open(first).read() == b"first"


def test_presigned_post_uploads_the_photo(s3_storage: S3Bucket):
    name = "uploads/sample-1/stage-2.jpg"
    post = presigned_post(default_storage, name, size=len(PHOTO), content_type="image/jpeg", expires_s=600)

    # The phone uploads to the configured endpoint, not to AWS.
    assert post["url"] == f"{s3_storage.endpoint}/{s3_storage.bucket}"
    assert post["fields"]["key"] == name
    response = upload(post, PHOTO)

    assert response.status_code == 204, response.text
    with default_storage.open(name) as stored:
        assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(PHOTO).digest()
    assert object_size(default_storage, name) == len(PHOTO)
    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=name)
    assert head["ContentType"] == "image/jpeg"


def test_presigned_post_policy_pins_key_size_and_type(s3_storage: S3Bucket):
    before = datetime.now(timezone.utc)
    post = presigned_post(
        default_storage, "uploads/x.jpg", size=1234, content_type="image/jpeg", expires_s=900
    )

    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1234, 1234] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"key": "uploads/x.jpg"} in conditions
    assert {"bucket": s3_storage.bucket} in conditions
    # expires_at is aware, never later than the policy's own expiry, and not much earlier.
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert post["expires_at"].tzinfo is not None
    assert before + timedelta(seconds=900) <= post["expires_at"]
    assert post["expires_at"].replace(microsecond=0) <= expiration
    assert expiration - post["expires_at"] < timedelta(seconds=5)


def test_presigned_post_and_lookups_follow_the_location_prefix(s3_storage: S3Bucket):
    storage = S3Storage(**{**s3_storage.storage_options, "location": "tenant-a"})
    name = "photos/b.jpg"
    post = presigned_post(storage, name, size=len(PHOTO), content_type="image/jpeg", expires_s=60)

    assert post["fields"]["key"] == "tenant-a/photos/b.jpg" == object_key(storage, name)
    assert upload(post, PHOTO).status_code == 204
    assert s3_storage.keys() == ["tenant-a/photos/b.jpg"]
    assert storage.open(name).read() == PHOTO
    assert object_size(storage, name) == len(PHOTO)
    assert object_size(default_storage, name) is None  # no prefix there: another key


def test_a_name_cannot_leave_the_location(s3_storage: S3Bucket):
    storage = S3Storage(**{**s3_storage.storage_options, "location": "tenant-a"})

    with pytest.raises(SuspiciousOperation):
        presigned_post(storage, "../tenant-b/x.jpg", size=1, content_type="image/jpeg", expires_s=60)
    with pytest.raises(SuspiciousOperation):
        object_size(storage, "../tenant-b/x.jpg")


def test_object_size_of_a_missing_object_is_none(s3_storage: S3Bucket):
    default_storage.save("photos/here.jpg", ContentFile(b"12345"))

    assert object_size(default_storage, "photos/here.jpg") == 5
    assert object_size(default_storage, "photos/not-here.jpg") is None


def test_boto3_without_an_endpoint_reaches_the_test_server_not_aws(s3_storage: S3Bucket):
    # A client built the default way (no endpoint, no credentials) still lands on moto.
    names = [bucket["Name"] for bucket in boto3.client("s3").list_buckets()["Buckets"]]

    assert s3_storage.bucket in names


def test_presigned_post_refuses_bad_arguments(s3_storage: S3Bucket):
    with pytest.raises(ValueError, match="size"):
        presigned_post(default_storage, "a.jpg", size=0, content_type="image/jpeg", expires_s=60)
    with pytest.raises(ValueError, match="expires_s"):
        presigned_post(default_storage, "a.jpg", size=1, content_type="image/jpeg", expires_s=0)
    with pytest.raises(ValueError, match="content_type"):
        presigned_post(default_storage, "a.jpg", size=1, content_type="", expires_s=60)


def test_a_local_disk_storage_is_not_s3(tmp_path):
    storage = FileSystemStorage(location=tmp_path)

    assert not is_s3(storage)
    with pytest.raises(TypeError):
        presigned_post(storage, "a.jpg", size=1, content_type="image/jpeg", expires_s=60)
    with pytest.raises(TypeError):
        object_size(storage, "a.jpg")
