"""Where the team's real test data lives: ``shared/data`` beside the checkout (CI clones main with
``shared/`` beside it), or wherever ``FIELDTRACE_SHARED_DIR`` points."""

from __future__ import annotations

import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    configured = os.environ.get("FIELDTRACE_SHARED_DIR")
    path = Path(configured) if configured else CHECKOUT.parent / "shared"
    if not (path / "data" / "photos").is_dir():
        raise FileNotFoundError(
            f"The shared test data is not at {path}/data. Put the team's shared/ folder beside the "
            "checkout, or set FIELDTRACE_SHARED_DIR."
        )
    return path


PHOTOS = shared_dir() / "data" / "photos"
TRACKS = shared_dir() / "data" / "tracks"
