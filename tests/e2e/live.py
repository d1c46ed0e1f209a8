"""A real Fieldtrace server in its own process, on its own fresh database, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from server.env import parse_database_url
from tests.conftest import BASE_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def fresh_database(tmp_path: Path):
    """A new database of the kind the suite runs on: a SpatiaLite file, or a new PostGIS database
    next to the one DATABASE_URL names (dropped afterwards)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgis", "postgres")):
        yield f"spatialite:///{tmp_path / 'e2e.sqlite3'}"
        return
    import psycopg

    db = parse_database_url(url)
    name = f"{db['NAME']}_e2e_{uuid.uuid4().hex[:8]}"
    params = {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"], "password": db["PASSWORD"]}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True, **params) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    from tests.conftest import TEST_PII_ENV

    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    env.update(
        {
            "DATABASE_URL": database_url,
            "VAR_DIR": str(tmp_path / "var"),
            "SECRET_KEY": "e2e-only",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "server.settings",
            **TEST_PII_ENV,  # DEBUG is off: a server without personal-information keys does not start
        }
    )
    return env


def manage(env: dict[str, str], *args: str, code: str | None = None) -> str:
    command = [sys.executable, "manage.py", *args] if code is None else [sys.executable, "-c", code]
    result = subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


class Server:
    """``manage.py runserver``, or with ``gunicorn_workers`` the production server
    (``gunicorn -c server/gunicorn_conf.py server.wsgi``) with that many sync workers."""

    def __init__(self, env: dict[str, str], log: Path, *, gunicorn_workers: int | None = None):
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.gunicorn_workers = gunicorn_workers
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.gunicorn_workers is None:
            return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        return [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "server/gunicorn_conf.py",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.gunicorn_workers),
            "--access-logfile",
            "-",
            "server.wsgi",
        ]

    def start(self) -> Server:
        log = self.log.open("a")
        self.process = subprocess.Popen(
            self.command(),
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def request(self, method: str, path: str, body=None, token: str | None = None, timeout: float = 60):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


def count_rows(database_url: str, table: str) -> int:
    """A quick count straight from the server's database, without starting Django."""
    if database_url.startswith("spatialite"):
        import sqlite3

        with contextlib.closing(
            sqlite3.connect(parse_database_url(database_url)["NAME"], timeout=30)
        ) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed table names)
    import psycopg

    db = parse_database_url(database_url)
    with psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"]
    ) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed table names)


# --- Production mode: PostGIS always, S3 over HTTP, a Celery worker --------------------------------
# Where a PostGIS database is made when the suite itself runs on SpatiaLite.
POSTGIS_FALLBACK_URL = "postgis://postgres@127.0.0.1:5432/fieldtrace"


def postgis_server_url() -> str:
    """The PostgreSQL to create production-mode databases on: the suite's own when DATABASE_URL is
    PostGIS, else FIELDTRACE_E2E_POSTGIS_URL, else the machine's (127.0.0.1:5432, user postgres)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgis", "postgres")):
        return url
    return os.environ.get("FIELDTRACE_E2E_POSTGIS_URL", POSTGIS_FALLBACK_URL)


def _pg_params(url: str) -> dict:
    db = parse_database_url(url)
    return {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"], "password": db["PASSWORD"]}


def postgres_unreachable(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used for a new PostGIS database, or None when it can."""
    import psycopg

    try:
        with psycopg.connect(
            dbname="postgres", autocommit=True, connect_timeout=3, **_pg_params(url)
        ) as conn:
            row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    except psycopg.Error as exc:
        return f"PostgreSQL at {url.rsplit('/', 1)[0]} is not reachable: {exc}"
    return (
        None if row else "the PostgreSQL server has no PostGIS extension (scripts/postgis-db.sh installs it)"
    )


@contextlib.contextmanager
def fresh_postgis_database(tmp_path: Path):
    """A new PostGIS database whatever the suite runs on (dropped afterwards); the test is skipped
    with the reason when PostgreSQL cannot be reached. ``tmp_path`` as for ``fresh_database``."""
    import psycopg
    import pytest

    url = postgis_server_url()
    reason = postgres_unreachable(url)
    if reason:
        pytest.skip(reason)
    params = _pg_params(url)
    name = f"{parse_database_url(url)['NAME']}_prod_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dbname=name, autocommit=True, **params) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_port(database_url: str, host: str, port: int) -> str:
    """``database_url`` pointing at another host and port (a proxy in front of the same server)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(database_url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}{host}:{port}"))


def s3_env(env: dict[str, str], endpoint: str, bucket: str) -> dict[str, str]:
    """``env`` with the production S3_* settings on ``bucket`` at ``endpoint`` (the test S3 server),
    and nothing that could lead boto3 anywhere else."""
    from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_ACCESS_KEY

    env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
    env.update(
        {
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "no_proxy": ",".join(filter(None, [no_proxy, "127.0.0.1"])),
        }
    )
    return env


def new_bucket(endpoint: str):
    """A fresh bucket on the test S3 server (``tests.support.s3_server.S3Bucket``)."""
    from tests.support.s3_server import S3Bucket, _client

    client = _client(endpoint)
    bucket = f"fieldtrace-e2e-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Bucket(endpoint=endpoint, bucket=bucket, client=client, storage_options={})


REDIS_URL = "redis://127.0.0.1:6379"


def redis_unreachable() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return None
    except OSError as exc:
        return f"Redis on 127.0.0.1:6379 is not reachable: {exc}"
    return "Redis on 127.0.0.1:6379 did not answer PING"


def celery_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the machine's Redis as broker and a queue of this run's own, so that no other
    run's worker takes these tasks (and this run's worker takes no one else's)."""
    database = 2 + int(uuid.uuid4().int % 14)
    return {
        **env,
        "CELERY_BROKER_URL": f"{REDIS_URL}/{database}",
        "CELERY_QUEUE": f"fieldtrace-e2e-{uuid.uuid4().hex[:12]}",
    }


class CeleryWorker:
    """``celery -A server worker`` on ``env``'s broker and queue, in its own process group."""

    def __init__(self, env: dict[str, str], log: Path, *, concurrency: int = 1):
        self.env = env
        self.log = log
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "server",
                    "worker",
                    "--pool=prefork",
                    f"--concurrency={self.concurrency}",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "info",
                ],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
