import pytest
from django.test import override_settings

from tests.conftest import run_django


@pytest.mark.django_db
def test_healthy_names_each_check(api):
    response = api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage"}  # no broker configured in tests
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_storage_that_cannot_be_written_is_named(api_en, tmp_path):
    blocker = tmp_path / "a-file-where-the-media-directory-should-be"
    blocker.write_text("x")
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocker},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        response = api_en.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "unhealthy"
    assert body["message"] == "Service unavailable: storage not reachable."
    assert body["details"]["failing"] == ["storage"]
    assert body["details"]["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_broker_is_checked_when_configured(api):
    # The machine's Redis (127.0.0.1:6379) answers; nothing listens on port 1.
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/15"):
        ok = api.get("/healthz")
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_CONNECTION_TIMEOUT=1):
        down = api.get("/healthz")
    assert ok.status_code == 200
    assert ok.json()["checks"]["broker"]["ok"] is True
    assert down.status_code == 503
    assert down.json()["details"]["failing"] == ["broker"]


HEALTH = """
from django.test import Client
import json
r = Client().get("/healthz", HTTP_ACCEPT_LANGUAGE="en")
print(r.status_code, json.dumps(r.json()))
"""


@pytest.mark.parametrize(
    "database_url",
    [
        "postgis://postgres@127.0.0.1:1/fieldtrace",  # nothing listens there
        "spatialite:///nonexistent-directory/fieldtrace.sqlite3",  # cannot be opened
    ],
)
def test_unreachable_database_is_a_503_naming_it(database_url, tmp_path):
    result = run_django(
        HEALTH,
        {
            "SECRET_KEY": "k",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(tmp_path),
            "DATABASE_CONNECT_TIMEOUT": "2",
        },
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert '"failing": ["database"]' in body
    assert '"code": "unhealthy"' in body
    assert "127.0.0.1:1" not in body  # connection details stay in the log
