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
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    env.update(
        {
            "DATABASE_URL": database_url,
            "VAR_DIR": str(tmp_path / "var"),
            "SECRET_KEY": "e2e-only",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "server.settings",
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
