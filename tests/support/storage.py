"""File storage for tests: a fresh directory per test, so what a test stored can be listed."""

from __future__ import annotations

import shutil
from pathlib import Path


def disk_storage(settings, tmp_path: Path) -> Path:
    """Default storage on ``tmp_path / "media"``. MEDIA_ROOT alone is not enough: STORAGES["default"]
    names its location explicitly (server/settings.py), so it is replaced too."""
    from django.core.files.storage import default_storage

    before = Path(default_storage.location)
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    # The world's filing (its dossier and diploma, stored while it was built) comes along, so that
    # its rows still name files (the fuzzer downloads them: tests/fuzz/test_openapi.py).
    for folder in WORLD_FOLDERS:
        if (before / folder).is_dir() and before != root:
            shutil.copytree(before / folder, root / folder, dirs_exist_ok=True)
    return root


# What the test world stores while it is set up (tests/factories.py complete_dossier and the sampler's
# diploma): every agency's filing carries its documents (issue F13), under these folders.
WORLD_FOLDERS = ("dossier", "people")


def stored_files(root: Path | str) -> list[str]:
    """The files under ``root`` (relative, sorted) that the test stored, the world's filing excepted."""
    root = Path(root)
    if not root.exists():
        return []
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in WORLD_FOLDERS
    )
