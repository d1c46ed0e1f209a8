"""S3 over real HTTP for tests: moto's server on 127.0.0.1, Django's default storage pointed at it.

One moto server (``ThreadedMotoServer``, a free port on 127.0.0.1) serves the whole test session; each
test that asks for ``s3_storage`` gets a bucket of its own, and ``settings.STORAGES["default"]`` is
an ``S3Storage`` on that bucket for the test (path-style addressing, region us-east-1, keys
"testing"), exactly the backend production uses with ``S3_BUCKET`` set. Every request, boto3's and
the test's own (``requests``), goes over HTTP to that server.

The fixtures are imported in tests/conftest.py, so any test can ask for them::

    def test_upload(s3_storage: S3Bucket):
        default_storage.save("photos/a.jpg", ContentFile(b"..."))
        s3_storage.client.head_object(Bucket=s3_storage.bucket, Key="photos/a.jpg")

No real AWS endpoint can be reached from a test using the fixture: the AWS_* environment points
every boto3 client without an endpoint of its own at the moto server (``AWS_ENDPOINT_URL``), the
credentials are dummies, no profile or config file is read and the EC2 metadata service is off.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

ACCESS_KEY = "testing"
SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Bucket:
    """A fresh bucket on the test S3 server, and the storage options that point at it."""

    endpoint: str  # http://127.0.0.1:PORT
    bucket: str
    client: Any  # a boto3 S3 client on the server, for arranging and inspecting objects directly
    storage_options: dict[str, Any] = field(repr=False)  # S3Storage(**storage_options) is this bucket

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return [entry["Key"] for entry in listing.get("Contents", ())]


@functools.cache  # one client per server: building one loads botocore's models (~0.1 s)
def _client(endpoint: str) -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_ACCESS_KEY, region_name=REGION
    ).client("s3", endpoint_url=endpoint, config=_config())


def _config() -> Any:
    from botocore.config import Config

    return Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})


@pytest.fixture(name="s3_server", scope="session")
def s3_server_fixture() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 for the whole session; the value is its endpoint URL."""
    # Imported here, not at the top: conftest imports this module, and most runs never start it.
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # port 0: a free one
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(name="s3_storage")
def s3_storage_fixture(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    """A new bucket, and ``STORAGES["default"]`` an S3Storage on it for the duration of the test."""
    # Anything boto3 might fall back on outside the storage's own options leads to moto or nowhere.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # An HTTP(S)_PROXY in the environment must not swallow requests meant for the local server.
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    monkeypatch.setenv("no_proxy", ",".join(filter(None, [no_proxy, "127.0.0.1"])))

    bucket = f"fieldtrace-test-{uuid.uuid4().hex[:12]}"
    client = _client(s3_server)
    client.create_bucket(Bucket=bucket)
    options = {
        # What server/settings.py builds from the S3_* variables, on the test bucket.
        "bucket_name": bucket,
        "endpoint_url": s3_server,
        "region_name": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_ACCESS_KEY,
        "addressing_style": "path",
        "location": "",
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
    }
    # override_settings sends setting_changed on entry and exit; Django's own receiver
    # (django.test.signals.storages_changed) then drops the cached `storages` backends and
    # instances and empties the `default_storage` LazyObject, so both build the S3Storage on first
    # use and the previous storage again afterwards.
    storages_setting = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    try:
        with override_settings(STORAGES=storages_setting):
            yield S3Bucket(endpoint=s3_server, bucket=bucket, client=client, storage_options=options)
    finally:
        _delete_bucket(client, bucket)


def _delete_bucket(client: Any, bucket: str) -> None:
    # The server lives for the session and keeps objects in memory: leave nothing behind.
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": entry["Key"]} for entry in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    client.delete_bucket(Bucket=bucket)
