import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_en():
    return APIClient(headers={"Accept-Language": "en"})


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
