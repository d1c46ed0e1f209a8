"""File storage for tests: a fresh directory per test, so what a test stored can be listed."""

from __future__ import annotations

from pathlib import Path


def disk_storage(settings, tmp_path: Path) -> Path:
    """Default storage on ``tmp_path / "media"``. MEDIA_ROOT alone is not enough: STORAGES["default"]
    names its location explicitly (server/settings.py), so it is replaced too."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root
