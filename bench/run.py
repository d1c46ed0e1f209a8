"""The benchmark driver (``make bench``): a fresh throwaway database, migrated, with the test world
built in it; then every benchmark module in bench/ that has a ``run_benchmark(world)``, one table,
and each benchmark's summary line. BENCH_ONLY=photo,push runs only the modules named (bench/photo.py,
bench/push.py); every module in bench/ runs without it.

The database is never the developer's: SpatiaLite in a temporary file unless DATABASE_URL names a
PostgreSQL server, in which case a separate database ``<name>_bench`` is created on that server (with
the PostGIS extension), used, and dropped at the end. The database named in DATABASE_URL is not touched.
"""

from __future__ import annotations

import base64
import importlib
import os
import pkgutil
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
BENCH_SECRET_KEY = "fieldtrace-bench-only-not-a-secret"  # noqa: S105 - a throwaway database's key
POSTGRES_SCHEMES = {"postgis", "postgres", "postgresql"}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    # Personal-information keys for the throwaway database (fixed, like its secret key): DEBUG is off.
    pii_key, index_key = b"fieldtrace-bench-pii-key-32bytes", b"fieldtrace-bench-pii-index-32byte"
    os.environ.setdefault("PII_KEYS", "bench:" + base64.b64encode(pii_key).decode())
    os.environ.setdefault("PII_INDEX_KEY", base64.b64encode(index_key).decode())
    os.environ["DEBUG"] = "0"  # as in production; with DEBUG on Django would also keep every query
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    source = os.environ.get("DATABASE_URL", "")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fieldtrace-bench-") as tmp:
        os.environ["VAR_DIR"] = tmp
        os.environ["MEDIA_ROOT"] = str(Path(tmp) / "media")
        if urlsplit(source).scheme in POSTGRES_SCHEMES:
            with _postgres_database(source) as url:
                _bench(url)
        else:
            _bench(f"spatialite://{Path(tmp) / 'bench.sqlite3'}")  # spatialite:///abs/path
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


def _bench(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from tests.factories import build_world

    override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # the world's accounts, fast
        ALLOWED_HOSTS=["testserver"],  # DRF's APIClient
    ).enable()
    print(f"database: {connection.vendor} {_server_version(connection)} ({_where(url)})")
    print(f"python {platform.python_version()}, django {django.get_version()}, {os.cpu_count()} CPUs")
    call_command("migrate", verbosity=0, interactive=False)
    world = build_world()
    results = []
    for module in _benchmarks():
        print(f"running {module.__name__} …", flush=True)
        results.append(module.run_benchmark(world))
    connection.close()
    print()
    print(_table([row for result in results for row in result.rows]))
    for result in results:
        for note in result.notes:
            print(note)
    print()
    for result in results:
        print(result.summary)


def _benchmarks() -> list:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(BENCH_DIR)])
        if info.name != "run" and not info.name.startswith("_")
    )
    only = {name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()}
    if only - set(names):
        raise SystemExit(f"BENCH_ONLY names no benchmark module: {', '.join(sorted(only - set(names)))}")
    names = [name for name in names if not only or name in only]
    modules = [importlib.import_module(f"bench.{name}") for name in names]
    # bench/load.py and the like drive a separate server and have their own command line.
    return [module for module in modules if hasattr(module, "run_benchmark")]


def _table(rows: list) -> str:
    header = ("benchmark", "path", "ops/run", "runs", "median ops/s", "min", "max", "ms/op")
    lines = [
        (
            row.benchmark,
            row.path,
            str(row.ops_per_run),
            str(len(row.rates)),
            f"{row.median:.1f}",
            f"{min(row.rates):.1f}",
            f"{max(row.rates):.1f}",
            f"{row.ms_per_op:.3f}",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def render(cells) -> str:
        return "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([render(header), "  ".join("-" * w for w in widths), *map(render, lines)])


def _server_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('server_version'), postgis_lib_version()")
            pg, postgis = cursor.fetchone()
            return f"{pg}, PostGIS {postgis}"
        cursor.execute("SELECT sqlite_version(), spatialite_version()")
        sqlite, spatialite = cursor.fetchone()
        return f"{sqlite}, SpatiaLite {spatialite}"


def _where(url: str) -> str:
    parts = urlsplit(url)
    return (
        parts.path if parts.scheme == "spatialite" else f"{parts.hostname}:{parts.port or 5432}{parts.path}"
    )


@contextmanager
def _postgres_database(url: str) -> Iterator[str]:
    """A new, empty database ``<name>_bench`` beside the one ``url`` names, with PostGIS; dropped after."""
    import psycopg
    from psycopg import sql

    from server.env import parse_database_url

    db = parse_database_url(url)
    name = f"{db['NAME']}_bench"
    params = {
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
        **db["OPTIONS"],
    }
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(drop)  # left over from an interrupted run
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(dbname=name, autocommit=True, **params) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield urlunsplit(urlsplit(url)._replace(path=f"/{quote(name)}"))
    finally:
        from django.apps import apps
        from django.db import connections

        if apps.ready:
            connections.close_all()  # a database in use cannot be dropped
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(drop)


if __name__ == "__main__":
    sys.exit(main())
