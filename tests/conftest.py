import base64
import hashlib
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from server.registry.identifiers import resident_id_check_char
from tests.support.browser import browser, browsers  # noqa: F401 (fixtures: a phone or a desk, in Chromium)
from tests.support.s3_server import s3_server_fixture, s3_storage_fixture  # noqa: F401

BASE_DIR = Path(__file__).resolve().parent.parent

# Personal-information keys for the tests (server/privacy/crypto.py), derived from fixed labels: the
# suite runs with DEBUG off and, like SECRET_KEY, these are never generated there. Two encryption keys,
# so rotation can be tried; child processes (live servers, run_django) get them from the environment.
TEST_PII_KEY_1 = base64.b64encode(hashlib.sha256(b"fieldtrace-tests-pii-key-1").digest()).decode()
TEST_PII_KEY_2 = base64.b64encode(hashlib.sha256(b"fieldtrace-tests-pii-key-2").digest()).decode()
TEST_PII_KEYS = f"test1:{TEST_PII_KEY_1}"
TEST_PII_INDEX_KEY = base64.b64encode(hashlib.sha256(b"fieldtrace-tests-pii-index").digest()).decode()
TEST_PII_ENV = {"PII_KEYS": TEST_PII_KEYS, "PII_INDEX_KEY": TEST_PII_INDEX_KEY}

# 17 digits and a check character, not inside a longer run of digits.
_ID_PATTERN = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx])(?![0-9])")


def full_resident_ids(text: str) -> list[str]:
    """Every valid resident ID number (check digit and all) written out whole in ``text``."""
    return [m for m in _ID_PATTERN.findall(text) if resident_id_check_char(m[:17]) == m[17].upper()]


def response_text(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    content = response.content
    if content[:2] == b"PK":  # xlsx exports: look inside the workbook's XML
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return content.decode("utf-8", "replace")


class CheckedAPIClient(APIClient):
    """Every response the suite receives is checked: a resident ID number never appears whole."""

    def request(self, **kwargs):
        response = super().request(**kwargs)
        leaked = full_resident_ids(response_text(response))
        assert not leaked, f"{kwargs.get('PATH_INFO')} returned whole resident ID numbers: {leaked}"
        return response


@pytest.fixture
def api():
    return CheckedAPIClient()


@pytest.fixture
def api_en():
    return CheckedAPIClient(headers={"Accept-Language": "en"})


@pytest.fixture
def client_for():
    """A client signed in as the given user (session auth, as the back office uses)."""

    def make(user, language: str | None = None):
        client = CheckedAPIClient(headers={"Accept-Language": language} if language else None)
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def world(db):
    from tests.factories import build_world

    return build_world()


def run_django(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python with Django set up from ``env`` (on top of a minimal base).

    Settings are read once per process, so configuration is tested in a new process each time.
    """
    base = {
        key: os.environ[key]
        for key in ("PATH", "HOME", "LANG", "SPATIALITE_LIBRARY_PATH")
        if key in os.environ
    }
    base["DJANGO_SETTINGS_MODULE"] = "server.settings"
    prelude = "import django; django.setup()\n" if "django.setup()" not in code else ""
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        env={**base, **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or ''} {db['NAME']}"


@pytest.fixture(autouse=True, scope="session")
def pii_keys():
    """The settings were read before this file (pytest-django loads them first): the keys go in here,
    unless the environment gave some."""
    from django.conf import settings
    from django.test import override_settings

    if settings.PII_KEYS and settings.PII_INDEX_KEY:
        yield
        return
    with override_settings(PII_KEYS=TEST_PII_KEYS, PII_INDEX_KEY=TEST_PII_INDEX_KEY):
        yield


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path_factory):
    """Files the tests store go to a temporary folder, never into var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The rate limits count in the cache, per process: one test's sign-ins must not throttle the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many accounts; full-strength PBKDF2 would spend most of the suite hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
