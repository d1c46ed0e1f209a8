"""The database or the file storage failing is a clean 503 with a stable code, a Chinese message and
Retry-After, wherever it fails: in a DRF view, in a middleware or plain Django view, in /healthz, and
in a photo upload whose bucket cannot be reached (real botocore against a closed port)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from unittest import mock

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError
from django.test import Client, RequestFactory, override_settings

from media_rules import errors as media_errors
from media_rules.models import Blob, Photo
from server.errors import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_S,
    STORAGE_UNAVAILABLE,
    DomainError,
    server_error,
    unavailable_error,
)
from server.fieldwork.services import task_create
from tests.conftest import CheckedAPIClient
from tests.shared_data import PHOTOS


def assert_unavailable(response, code: str) -> dict:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["code"] == code
    assert "暂时无法访问" in body["message"]  # Chinese unless English is asked for
    return body


# --- What counts as "unavailable" ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OperationalError("connection to server failed: Connection refused"), DATABASE_UNAVAILABLE),
        (InterfaceError("connection already closed"), DATABASE_UNAVAILABLE),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1/b"), STORAGE_UNAVAILABLE),
        (ClientError({"Error": {"Code": "SlowDown"}}, "PutObject"), STORAGE_UNAVAILABLE),
        (IntegrityError("duplicate key"), None),
        (ValueError("a bug"), None),
        (DomainError(media_errors.MEDIA_UNAVAILABLE), None),  # already has its code
    ],
)
def test_which_errors_mean_a_backing_service_is_down(exc, expected):
    assert unavailable_error(exc) is expected


def test_the_cause_of_a_wrapped_error_is_looked_at():
    outer = RuntimeError("while saving")
    outer.__cause__ = OperationalError("server closed the connection unexpectedly")
    assert unavailable_error(outer) is DATABASE_UNAVAILABLE


# --- DRF views ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_database_error_in_an_api_view_is_a_503_database_unavailable(world):
    api = CheckedAPIClient()
    api.force_authenticate(world.shanghai.field_user)
    with mock.patch("mobile_api.sync.pull", side_effect=OperationalError("could not connect to server")):
        response = api.get("/api/v1/sync/pull?cursor=0")
    body = assert_unavailable(response, "database_unavailable")
    assert body["message"] == DATABASE_UNAVAILABLE.zh
    assert "could not connect" not in response.content.decode()  # the cause stays in the log


@pytest.mark.django_db
def test_english_when_asked(world):
    api = CheckedAPIClient(headers={"Accept-Language": "en"})
    api.force_authenticate(world.shanghai.field_user)
    with mock.patch("mobile_api.sync.pull", side_effect=InterfaceError("connection already closed")):
        response = api.get("/api/v1/sync/pull?cursor=0")
    assert response.status_code == 503
    assert response.json()["message"] == DATABASE_UNAVAILABLE.en


@pytest.mark.django_db
def test_other_503_domain_errors_say_when_to_retry(world):
    api = CheckedAPIClient()
    api.force_authenticate(world.shanghai.field_user)
    with mock.patch("mobile_api.sync.pull", side_effect=DomainError(media_errors.MEDIA_UNAVAILABLE)):
        response = api.get("/api/v1/sync/pull?cursor=0")
    assert response.status_code == 503
    assert response.json()["code"] == "media_unavailable"
    assert response["Retry-After"] == str(RETRY_AFTER_S)


# --- Outside DRF: middleware and Django's handler500 -----------------------------------------------
def test_handler500_answers_503_while_handling_a_database_error():
    request = RequestFactory().get("/api/v1/me")
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        response = server_error(request)
    assert_unavailable(response, "database_unavailable")


def test_handler500_stays_500_for_a_bug():
    request = RequestFactory().get("/api/v1/me")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.django_db
def test_a_database_error_in_a_middleware_is_a_503():
    client = Client(raise_request_exception=False)
    with mock.patch(
        "server.audit.context.AuditOriginMiddleware.__call__",
        side_effect=OperationalError("connection refused"),
        autospec=True,
    ):
        response = client.get("/api/v1/me")
    assert_unavailable(response, "database_unavailable")


# --- /healthz -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_healthz_names_the_database_and_its_code(api):
    with mock.patch("server.health.check_database", side_effect=OperationalError("refused")):
        response = api.get("/healthz")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    body = response.json()
    assert body["code"] == "unhealthy"
    assert body["details"]["failing"] == ["database"]
    assert body["details"]["checks"]["database"] == {
        "ok": False,
        "error": "OperationalError",
        "code": "database_unavailable",
        "ms": body["details"]["checks"]["database"]["ms"],
    }


# --- A photo upload whose bucket cannot be reached -------------------------------------------------
def dead_bucket_storages(settings) -> dict:
    options = {
        "bucket_name": "fieldtrace-unreachable",
        "endpoint_url": "http://127.0.0.1:1",  # nothing listens: connection refused at once
        "region_name": "us-east-1",
        "access_key": "testing",
        "secret_key": "testing",
        "addressing_style": "path",
        "file_overwrite": False,
        "default_acl": None,
        "client_config": Config(
            s3={"addressing_style": "path"},
            connect_timeout=1,
            read_timeout=2,
            retries={"mode": "standard", "max_attempts": 2},
        ),
    }
    return {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}


@pytest.mark.django_db
def test_an_upload_to_an_unreachable_bucket_is_a_503_and_stores_no_row(world, settings, client_for):
    side = world.shanghai
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="采样")
    data = (PHOTOS / "landscape_6.jpg").read_bytes()
    with override_settings(STORAGES=dead_bucket_storages(settings)):
        response = client_for(side.field_user).post(
            "/api/v1/photos",
            {
                "id": str(uuid.uuid4()),
                "photo_type": "sampling_site",
                "task": str(task.pk),
                "device_time": dt.datetime.now(dt.UTC).isoformat(),
                "file": SimpleUploadedFile("wx-tmp.jpg", data, content_type="image/jpeg"),
            },
            format="multipart",
        )
    assert_unavailable(response, "storage_unavailable")
    assert Blob.objects.count() == 0
    assert Photo.objects.count() == 0


@pytest.mark.django_db
def test_storage_failing_as_the_file_is_written_is_a_503_and_stores_no_row(
    world, client_for, tmp_path, settings
):
    # The bucket answered the existence check, then the PUT failed (after botocore's retries).
    settings.MEDIA_ROOT = tmp_path
    side = world.shanghai
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="采样")
    failure = EndpointConnectionError(endpoint_url="http://s3.example.cn/photos/ab/cd/abcd")
    with mock.patch("django.core.files.storage.FileSystemStorage.save", side_effect=failure):
        response = client_for(side.field_user).post(
            "/api/v1/photos",
            {
                "id": str(uuid.uuid4()),
                "photo_type": "sampling_site",
                "task": str(task.pk),
                "file": SimpleUploadedFile("wx-tmp.jpg", (PHOTOS / "DSCN0010.jpg").read_bytes()),
            },
            format="multipart",
        )
    body = assert_unavailable(response, "storage_unavailable")
    assert "s3.example.cn" not in json.dumps(body)
    assert Blob.objects.count() == 0
    assert Photo.objects.count() == 0


def test_production_settings_bound_storage_requests(tmp_path):
    from tests.conftest import run_django

    code = (
        "from django.conf import settings as s; c = s.STORAGES['default']['OPTIONS']['client_config'];"
        "print(c.connect_timeout, c.read_timeout, c.retries, c.s3, c.signature_version)"
    )
    result = run_django(
        code,
        {
            "SECRET_KEY": "k",
            "VAR_DIR": str(tmp_path),
            "S3_BUCKET": "photos",
            "S3_CONNECT_TIMEOUT": "2",
            "S3_MAX_ATTEMPTS": "3",
            "S3_ADDRESSING_STYLE": "virtual",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "2 20 {'mode': 'standard', 'max_attempts': 3} {'addressing_style': 'virtual'} s3v4"
    )
