"""Typed readers for settings that come from the environment.

Each reader takes the variable's name, an optional default and the environment to read (the
process environment unless given), and raises ImproperlyConfigured naming the variable when
its value cannot be what it claims to be. A setting that silently falls back on a typo is how a
production server ends up with DEBUG on, so nothing here guesses.

Secrets can also be given as ``NAME_FILE`` (a path whose contents are the value), the way
container orchestrators mount them.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

REQUIRED: Any = object()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, default: Any, environ: Mapping[str, str] | None) -> Any:
    environ = os.environ if environ is None else environ
    if name in environ:
        return environ[name]
    if default is REQUIRED:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return default


def env_str(name: str, default: Any = REQUIRED, *, environ: Mapping[str, str] | None = None) -> str:
    return _raw(name, default, environ)


def env_bool(name: str, default: Any = REQUIRED, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, default, environ)
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(
    name: str,
    default: Any = REQUIRED,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, default, environ)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum of {maximum}.")
    return value


def env_list(name: str, default: Any = REQUIRED, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks around items and empty items are dropped."""
    value = _raw(name, default, environ)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(
    name: str, default: Any = REQUIRED, *, environ: Mapping[str, str] | None = None
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of addresses (``10.0.0.5``) or networks (``10.0.0.0/24``, ``fd00::/8``);
    an address is a network of one. A typo is an error, not a proxy silently left untrusted (or
    worse, a network trusted wider than meant: ``10.0.0.5/8`` has host bits set and is refused)."""
    networks = []
    for item in env_list(name, default, environ=environ):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an address or a network ({exc}).") from None
    return networks


def env_choice(
    name: str, choices: list[str], default: Any = REQUIRED, *, environ: Mapping[str, str] | None = None
) -> str:
    value = _raw(name, default, environ)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return value


def env_secret(name: str, default: Any = REQUIRED, *, environ: Mapping[str, str] | None = None) -> str:
    """``NAME`` or the contents of the file named by ``NAME_FILE``; setting both is an error."""
    environ = os.environ if environ is None else environ
    file_var = f"{name}_FILE"
    if name in environ and file_var in environ:
        raise ImproperlyConfigured(f"Set {name} or {file_var}, not both.")
    if file_var in environ:
        path = Path(environ[file_var])
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{file_var}={path}: cannot read it ({exc.strerror}).") from None
        if not value:
            raise ImproperlyConfigured(f"{file_var}={path} is empty.")
        return value
    return _raw(name, default, environ)


_GIS_ENGINES = {
    "postgis": "django.contrib.gis.db.backends.postgis",
    "postgres": "django.contrib.gis.db.backends.postgis",
    "postgresql": "django.contrib.gis.db.backends.postgis",
    "spatialite": "django.contrib.gis.db.backends.spatialite",
    "sqlite": "django.contrib.gis.db.backends.spatialite",
}


def parse_database_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Turn a database URL into a Django DATABASES entry, always with a spatial backend.

    ``postgis://user:password@host:5432/dbname?sslmode=require`` (``postgres://`` and
    ``postgresql://`` mean the same: Fieldtrace always needs PostGIS), or
    ``spatialite:///absolute/path.sqlite3``. Query parameters become connection OPTIONS.
    """
    parts = urlsplit(url)
    engine = _GIS_ENGINES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"{name} has the scheme {parts.scheme!r}; use postgis://, postgres:// or spatialite://."
        )
    if "spatialite" in engine:
        path = unquote(parts.path)
        if not path or path == "/":
            raise ImproperlyConfigured(
                f"{name} names no database file; use spatialite:///path/to/db.sqlite3."
            )
        return {"ENGINE": engine, "NAME": path}
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ImproperlyConfigured(f"{name} names no database; use postgis://user@host:5432/dbname.")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port.") from None
    return {
        "ENGINE": engine,
        "NAME": dbname,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
    }
