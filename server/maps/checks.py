"""A base-map address without {z}, {x} and {y} loads nothing and draws the data on a blank base: said
at start, not discovered on the page."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

PLACEHOLDERS = ("{z}", "{x}", "{y}")


@register()
def check_tile_url(app_configs=None, **kwargs) -> list[Error]:
    url = settings.MAP_TILE_URL
    missing = [p for p in PLACEHOLDERS if p not in url]
    if not url.startswith(("https://", "http://", "//", "/")) or missing:
        return [
            Error(
                f"MAP_TILE_URL={url!r} is not a tile URL template.",
                hint="Give an http(s) address with {z}, {x} and {y}, e.g. "
                "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png (see README, Map page).",
                id="maps.E001",
            )
        ]
    return []
