"""The field app's server side is small: the app runs on the phone (static/field_app/app/) and
talks to the API (/api/v1/) through the sync client. The server gives it the page, the manifest
that makes it installable, its icons and the service worker that keeps it on the phone."""

from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

STATIC = Path(__file__).resolve().parent / "static"
APP_NAME = "Fieldtrace 外业端"
THEME = "#0b6e4f"
ICON_SIZES = (192, 512)
# The app's files the phone keeps: the app and the sync client it loads (README and package.json
# are for people and Node, not the page).
CACHED_SUFFIXES = (".js", ".css")


def _static_base() -> str:
    return f"{settings.STATIC_URL}field_app/"


def app_files() -> list[Path]:
    """The static files the service worker pre-caches, in a stable order."""
    root = STATIC / "field_app"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in CACHED_SUFFIXES)


def precache() -> tuple[list[str], str]:
    """The URLs the service worker keeps and the cache's version: a digest of every kept file and
    of the shell, so that any change to the app installs a new cache (and drops the old one)."""
    root = STATIC / "field_app"
    base = _static_base()
    digest = hashlib.sha256()
    urls = [_app_root(), reverse("field_app:manifest")]
    urls += [reverse("field_app:icon", args=[size]) for size in ICON_SIZES]
    for path in app_files():
        relative = path.relative_to(root).as_posix()
        urls.append(base + relative)
        digest.update(relative.encode())
        digest.update(path.read_bytes())
    digest.update(_shell_html().encode())
    return urls, digest.hexdigest()[:16]


def _app_root() -> str:
    return reverse("field_app:shell")


def _shell_html() -> str:
    return render_to_string(
        "field_app/shell.html",
        {
            "app_root": _app_root(),
            "static_base": _static_base(),
            "manifest_url": reverse("field_app:manifest"),
            "sw_url": reverse("field_app:service-worker"),
            "icon_url": reverse("field_app:icon", args=[192]),
            "theme": THEME,
            "app_name": APP_NAME,
        },
    )


@require_safe
def shell(request: HttpRequest) -> HttpResponse:
    """The one page of the app, for /app/ and every route below it: the app reads the address."""
    response = HttpResponse(_shell_html())
    # The service worker keeps its own copy; the network copy must never be stale in between.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    root = _app_root()
    body = {
        "name": APP_NAME,
        "short_name": "外业端",
        "description": "监测外业：任务、拍照、离线同步",
        "lang": "zh-CN",
        "start_url": root,
        "scope": root,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {
                "src": reverse("field_app:icon", args=[size]),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in ICON_SIZES
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_safe
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, never cached by the browser (a stale one would keep a stale app), its
    pre-cache list and version written in."""
    urls, version = precache()
    body = render_to_string(
        "field_app/sw.js",
        {"precache_json": json.dumps(urls), "version_json": json.dumps(version), "app_root": _app_root()},
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = _app_root()
    response["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return response


@require_safe
def icon(request: HttpRequest, size: int) -> HttpResponse:
    if size not in ICON_SIZES:
        from django.http import Http404

        raise Http404
    response = HttpResponse(_icon_png(size), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@lru_cache(maxsize=len(ICON_SIZES))
def _icon_png(size: int) -> bytes:
    """A map pin on the theme's green, drawn with Pillow: no font needed, and the pin sits inside
    the centre 80 % that a maskable icon keeps."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), THEME)
    draw = ImageDraw.Draw(image)
    unit = size / 100
    # The pin: a circle on top of a triangle pointing down, a hole in the circle.
    draw.ellipse([30 * unit, 20 * unit, 70 * unit, 60 * unit], fill="white")
    draw.polygon([(33 * unit, 48 * unit), (67 * unit, 48 * unit), (50 * unit, 80 * unit)], fill="white")
    draw.ellipse([42 * unit, 32 * unit, 58 * unit, 48 * unit], fill=THEME)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
