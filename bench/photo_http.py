"""Photo submissions head to head: the workload ODK Central's backend was measured on, through
Fieldtrace's production server.

The workload: SUBMISSIONS submissions, each a photo record (the capture manifest: task, photo type,
site, the phone's fix and clock) plus a unique 4000x3000 JPEG of about 3.5-4.5 MB with EXIF GPS, sent
as one multipart ``POST /api/v1/photos`` (the way ``wx.uploadFile`` sends it), at concurrency 1 and
8. Every picture is made with its own pixels (bench/photo.py ``_make_photos``), and before each run the
EXIF capture times and ImageUniqueID are rewritten (same length), so every request carries bytes the
server has never seen. Bodies are encoded before the clock starts.

The server: gunicorn with sync workers (server/gunicorn_conf.py; GUNICORN_WORKERS or 2 x CPUs + 1),
DEBUG off, on the bench's own database and a temporary MEDIA_ROOT (files on local disk), with a
Celery broker: the machine's Redis when it answers (a queue of the bench's own, dropped afterwards),
else kombu's in-memory transport. No worker runs: the thumbnails and perceptual hashes are
background work, measured by bench/photo.py (photo-background). Each request hashes the photo
(SHA-256 while it streams in), checks the file is a whole image of an accepted kind, reads its EXIF,
stores it, records the photo, judges it (the verdict and findings are in the response and in the
database) and queues the background task.

The floor: the same bodies, at the same concurrency, ``POST``-ed to a bench-only view in the same
server (bench/_http_urls.py) that reads the body and hashes it: moving the bytes through gunicorn
and Django, nothing else.

Reported per concurrency: the median of RUNS runs in submissions/s, latencies p50/p95/p99 over all
runs, the ratio to the floor, and the figure against ODK Central's (9.4/s at concurrency 1, 15.7/s
at 8, on a 2-core machine, photos stored in PostgreSQL). After each run the database and storage are
checked: every submission is one Photo with a verdict, one Blob with its EXIF GPS, and its file in
storage with the right size; then the run's files are deleted (the disk would otherwise hold GBs).

With BENCH_PHOTO_CEILING=1, each run also sends fresh bodies to ``POST /bench/store-only``
(bench/_http_urls.py): the file taken in and stored and a photo row with a fixed verdict, without
validation, access checks or rules. Its rate is the ceiling of any path that judges photos before
answering, on this machine and with this storage; its rows are in the table and a note, not in the
summary line, and its submissions are checked in the database and storage like the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection

from bench import photo
from bench._common import Result, Row, three_digits
from media_rules.models import Blob, Photo
from server.accounts.services import DeviceInfo, token_issue
from server.fieldwork.services import task_create

NAME = "photo-submit"
SUBMISSIONS = int(os.environ.get("BENCH_PHOTO_SUBMISSIONS", "200"))
CONCURRENCY = (1, 8)
RUNS = int(os.environ.get("BENCH_PHOTO_HTTP_RUNS", "3"))
WARM_UP = 16
CEILING = os.environ.get("BENCH_PHOTO_CEILING") == "1"
ODK = {1: 9.4, 8: 15.7}  # ODK Central, submissions/s with one photo each (the issue's figures)
ROOT = Path(__file__).resolve().parent.parent
REDIS = ("127.0.0.1", 6379)
CONTENT_TYPE = f"multipart/form-data; boundary={photo.BOUNDARY}"


def run_benchmark(world) -> Result:
    side = world.shanghai
    user, outlet = side.field_user, side.wastewater
    task, _ = task_create(actor=user, task_id=uuid.uuid4(), project=side.project, name="对比基准照片任务")
    issued = token_issue(user=user, info=DeviceInfo(id=str(uuid.uuid4()), platform="wechat", app_version="b"))
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="photos-http-", dir=os.environ.get("VAR_DIR")) as tmp:
        started = time.perf_counter()
        originals = [path.read_bytes() for path in photo._make_photos(Path(tmp), outlet, SUBMISSIONS)]
        sizes = [len(data) for data in originals]
        notes.append(
            f"{NAME}: {SUBMISSIONS} distinct JPEGs {photo.SIZE[0]}x{photo.SIZE[1]} with EXIF GPS, "
            f"{min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} MB (mean {statistics.mean(sizes) / 1e6:.2f} MB), "
            f"made in {time.perf_counter() - started:.0f} s"
        )
    connection.close()  # the server's workers write to this database now
    measured = {c: Row(NAME, f"gunicorn POST /api/v1/photos, c={c}", SUBMISSIONS) for c in CONCURRENCY}
    floor = {c: Row(NAME, f"floor: same body to a read+hash view, c={c}", SUBMISSIONS) for c in CONCURRENCY}
    ceiling = {c: Row(NAME, f"ceiling: store-only view, no rules, c={c}", SUBMISSIONS) for c in CONCURRENCY}
    latencies: dict[int, list[float]] = {c: [] for c in CONCURRENCY}
    verdicts: Counter[str] = Counter()
    with _server(notes) as server:
        auth = f"Bearer {issued.token}"
        warm = photo._bodies(originals[:WARM_UP], task, outlet)
        _post_all(server, "/api/v1/photos", warm, 2, auth)
        _post_all(server, "/bench/sink", warm, 2, None)
        for _ in range(RUNS):
            for c in CONCURRENCY:
                bodies = photo._bodies(originals, task, outlet)
                seconds, times, answers = _post_all(server, "/api/v1/photos", bodies, c, auth)
                measured[c].rates.append(len(bodies) / seconds)
                latencies[c].extend(times)
                _check_stored(answers, verdicts)
                seconds, _, _ = _post_all(server, "/bench/sink", bodies, c, None)
                floor[c].rates.append(len(bodies) / seconds)
                if CEILING:
                    bodies = photo._bodies(originals, task, outlet)
                    seconds, _, answers = _post_all(server, "/bench/store-only", bodies, c, auth)
                    ceiling[c].rates.append(len(bodies) / seconds)
                    _check_stored(answers, Counter())
    rows = [row for c in CONCURRENCY for row in (measured[c], floor[c]) + ((ceiling[c],) if CEILING else ())]
    notes.append(
        f"{NAME}: {sum(verdicts.values())} submissions stored and checked (photo row with its verdict, "
        "blob with EXIF GPS, file in storage of the right size): "
        + ", ".join(f"{verdict} {count}" for verdict, count in verdicts.most_common())
    )
    for c in CONCURRENCY:
        q = _percentiles(latencies[c])
        notes.append(
            f"{NAME} c={c}: median {measured[c].median:.1f} submissions/s (runs "
            + ", ".join(f"{rate:.1f}" for rate in measured[c].rates)
            + f"); latency p50 {q[50]:.0f} ms, p95 {q[95]:.0f} ms, p99 {q[99]:.0f} ms over "
            f"{len(latencies[c])} requests; ODK Central {ODK[c]}/s: x{measured[c].median / ODK[c]:.2f}"
        )
        if CEILING:
            runs = ", ".join(f"{rate:.1f}" for rate in ceiling[c].rates)
            notes.append(
                f"{NAME} c={c}: ceiling (store-only, no rules) median {ceiling[c].median:.1f} submissions/s "
                f"(runs {runs}): x{ceiling[c].median / ODK[c]:.2f} ODK Central; the API reaches "
                f"{measured[c].median / ceiling[c].median:.0%} of it"
            )
    summary = "\n".join(
        f"bench {NAME}-c{c}: {measured[c].median:.1f} submissions/s; floor {floor[c].median:.1f} "
        f"submissions/s; ratio {three_digits(measured[c].median / floor[c].median)}"
        for c in CONCURRENCY
    )
    return Result(rows=rows, summary=summary, notes=notes)


def _percentiles(values: list[float]) -> dict[int, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {50: cuts[49], 95: cuts[94], 99: cuts[98]}


# --- The server ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class _Server:
    def __init__(self, port: int):
        self.port = port

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)


@contextlib.contextmanager
def _server(notes: list[str]) -> Iterator[_Server]:
    port = _free_port()
    queue = f"bench-{uuid.uuid4().hex[:12]}"
    broker = f"redis://{REDIS[0]}:{REDIS[1]}/0" if _redis_up() else "memory://"
    workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._http_settings",
        "BENCH_CELERY_QUEUE": queue,
        "CELERY_BROKER_URL": broker,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_ACCESSLOG": "",  # no access log line per request
        "PYTHONPATH": str(ROOT),
    }
    log = Path(os.environ.get("VAR_DIR", tempfile.gettempdir())) / "photo-http-gunicorn.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        "server/gunicorn_conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "server.wsgi",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    server = _Server(port)
    try:
        _wait_healthy(server, process, log)
        notes.append(
            f"{NAME}: gunicorn {workers} sync workers, DEBUG off, broker "
            f"{'Redis (queue ' + queue + ', dropped afterwards)' if broker != 'memory://' else 'memory://'}, "
            "files on local disk, no Celery worker running"
        )
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        if broker != "memory://":
            _drop_queue(queue)


def _wait_healthy(server: _Server, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError):
            conn = server.connect()
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{NAME}: the server did not start:\n{log.read_text()[-3000:]}")


def _drop_queue(queue: str) -> None:
    with socket.create_connection(REDIS, timeout=5) as sock:
        key = queue.encode()
        sock.sendall(b"*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n" % (len(key), key))
        sock.recv(64)


# --- The client ---------------------------------------------------------------------------------------


def _post_all(
    server: _Server, path: str, bodies: list[bytes], concurrency: int, auth: str | None
) -> tuple[float, list[float], list[tuple[int, bytes]]]:
    """POST every body, ``concurrency`` at a time (one thread and one connection per request in flight:
    gunicorn's sync workers close the connection after each answer). Returns the wall time, each
    request's latency in ms and the answers in body order."""
    answers: list[tuple[int, bytes] | None] = [None] * len(bodies)
    times: list[float] = []
    lock = threading.Lock()
    next_index = iter(range(len(bodies)))
    headers = {"Content-Type": CONTENT_TYPE}
    if auth:
        headers["Authorization"] = auth

    def worker() -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            start = time.perf_counter()
            conn = server.connect()
            try:
                conn.request("POST", path, body=bodies[i], headers=headers)
                response = conn.getresponse()
                answers[i] = (response.status, response.read())
            finally:
                conn.close()
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                times.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    for status, body in answers:
        if status != 201:
            raise RuntimeError(f"{NAME}: {path} answered {status}: {body[:500]!r}")
    return seconds, times, answers


def _check_stored(answers: list[tuple[int, bytes]], verdicts: Counter[str]) -> None:
    """Every submission is in the database and in storage; then the run's files are deleted."""
    import json

    bodies = [json.loads(body) for _, body in answers]
    ids = [body["id"] for body in bodies]
    photos = {str(p.pk): p for p in Photo.objects.filter(pk__in=ids).select_related("blob")}
    if len(photos) != len(ids) or len(set(ids)) != len(ids):
        raise RuntimeError(f"{NAME}: {len(photos)} photos stored for {len(ids)} submissions")
    for body in bodies:
        stored = photos[body["id"]]
        blob = stored.blob
        if stored.verdict != body["verdict"] or not stored.verdict or blob is None:
            raise RuntimeError(f"{NAME}: photo {body['id']} stored without its verdict or file")
        if blob.sha256 != body["sha256"] or (blob.exif or {}).get("gps_lat") is None:
            raise RuntimeError(f"{NAME}: blob {blob.sha256} without its EXIF GPS: {str(blob.exif)[:300]}")
        if default_storage.size(blob.name) != blob.size:
            raise RuntimeError(f"{NAME}: file {blob.name} missing or of the wrong size in storage")
        verdicts[stored.verdict] += 1
    sample = bodies[0]["sha256"]
    with default_storage.open(Blob.objects.get(pk=sample).name, "rb") as stream:
        if hashlib.sha256(stream.read()).hexdigest() != sample:
            raise RuntimeError(f"{NAME}: stored file {sample} does not hash to its name")
    for body in bodies:
        default_storage.delete(photos[body["id"]].blob.name)
    connection.close()
