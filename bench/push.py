"""Push throughput: operations per second through the real sync engine, and through the HTTP endpoint,
next to the floor: a bare bulk insert of the same number of equivalent rows into the same table.

A run is one phone (a freshly enrolled device) pushing BATCHES batches of BATCH operations: in each
batch, BATCH / 2 new tasks, each ``task.create`` followed by a ``task.update`` of it. Every path runs
once untimed (the warm-up); then RUNS timed runs of the engine and of the floor, interleaved so that
the journal growing under them weighs on both alike (each figure is the median of its runs), and one
timed run through the HTTP endpoint, in the middle, for comparison (it costs as much as an engine run,
and the time budget allows one).

BENCH_PROFILE=1 profiles one extra engine batch with cProfile and prints where its time went.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import pstats
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from rest_framework.test import APIClient

from bench._common import Result, Row, three_digits, timed
from server.accounts.models import Device, User
from server.accounts.services import DeviceInfo, token_issue
from sync import engine
from sync.engine import IncomingOp
from sync.models import Operation, Push

NAME = "push"
BATCH = 200
BATCHES = 3
RUNS = 5
URL = "/api/v1/sync/push"


def run_benchmark(world) -> Result:
    user = world.shanghai.field_user  # a sampler assigned to the Shanghai project
    project_id = world.shanghai.project.pk
    ops_per_run = BATCH * BATCHES
    engine_row = Row(NAME, "sync.engine.push", ops_per_run)
    http_row = Row(NAME, f"HTTP POST {URL} (once)", ops_per_run)
    floor_row = Row(NAME, "floor: Operation.bulk_create", ops_per_run)
    notes: list[str] = []

    # Warm-up, untimed: the engine and the floor one batch each; the endpoint, whose own code is all
    # the engine's warm-up leaves cold, a small one. Then one more engine batch, taken apart.
    _engine_run(user, project_id, batches=1)
    _http_run(user, project_id, batches=1, size=10)
    _floor_run(user, project_id)
    census = _Census()
    _engine_run(user, project_id, batches=1, census=census)
    notes.append(census.describe(BATCH))

    for run in range(RUNS):
        engine_row.rates.append(_engine_run(user, project_id))
        if run == RUNS // 2:
            http_row.rates.append(_http_run(user, project_id))
        floor_row.rates.append(_floor_run(user, project_id))
    if os.environ.get("BENCH_PROFILE"):
        notes.append(_profile(user, project_id))
    ratio = engine_row.median / floor_row.median
    notes.append(f"push: HTTP ÷ engine {three_digits(http_row.median / engine_row.median)}")
    summary = (
        f"bench push: {engine_row.median:.1f} ops/s; floor {floor_row.median:.1f} ops/s; "
        f"ratio {three_digits(ratio)}"
    )
    return Result(rows=[engine_row, http_row, floor_row], summary=summary, notes=notes)


# --- What a phone sends -------------------------------------------------------------------------------


def _enrol(user: User) -> tuple[Device, str]:
    issued = token_issue(
        user=user, info=DeviceInfo(id=str(uuid.uuid4()), platform="wechat", app_version="bench")
    )
    return issued.record.device, issued.token


def _batches(project_id: int, batches: int = BATCHES, size: int = BATCH) -> list[list[dict]]:
    """JSON-ready operations, as a phone queues them (create a task, then edit it), in batches."""
    start = timezone.now() - dt.timedelta(hours=1)
    seq = 0
    out = []
    for b in range(batches):
        batch = []
        for t in range(size // 2):
            task_id = str(uuid.uuid4())
            name = f"基准任务 {b}-{t}"
            for op_type, base_version, payload in (
                ("task.create", None, {"project": project_id, "name": name, "sample_codes": [f"S{b}-{t}"]}),
                ("task.update", 1, {"note": f"现场备注 {b}-{t}", "sample_codes": [f"S{b}-{t}", "P1"]}),
            ):
                seq += 1
                batch.append(
                    {
                        "op_id": str(uuid.uuid4()),
                        "seq": seq,
                        "type": op_type,
                        "entity_id": task_id,
                        "base_version": base_version,
                        "device_time": (start + dt.timedelta(milliseconds=seq)).isoformat(),
                        "payload": payload,
                    }
                )
        out.append(batch)
    return out


def _incoming(op: dict) -> IncomingOp:
    """An operation as the push view hands it to the engine."""
    return IncomingOp(
        op_id=op["op_id"],
        seq=op["seq"],
        type=op["type"],
        entity_id=op["entity_id"],
        base_version=op["base_version"],
        device_time=dt.datetime.fromisoformat(op["device_time"]),
        payload=op["payload"],
    )


def _check(results: list[list[dict]], expected: int) -> None:
    """Every operation applied: a benchmark of rejections would measure nothing useful."""
    statuses = {r["status"] for batch in results for r in batch}
    count = sum(len(batch) for batch in results)
    if statuses != {"applied"} or count != expected:
        raise RuntimeError(f"push bench: expected {expected} applied, got {count} {statuses}")


# --- The three paths ----------------------------------------------------------------------------------


def _engine_run(user: User, project_id: int, batches: int = BATCHES, census: _Census | None = None) -> float:
    """One phone's pushes straight into the engine, as the push view makes them."""
    device, _ = _enrol(user)
    prepared = [[_incoming(op) for op in batch] for batch in _batches(project_id, batches)]
    results: list[list[dict]] = []

    def push_all() -> None:
        with census.watching() if census is not None else nullcontext():
            for batch in prepared:
                results.append(engine.push(user=user, device=device, device_clock=timezone.now(), ops=batch))

    seconds = timed(push_all)
    _check(results, batches * BATCH)
    if census is not None:
        census.seconds = seconds
    return batches * BATCH / seconds


class _Census:
    """Where an engine run's time goes: its statements by first word (SELECT, INSERT, SAVEPOINT…),
    the time spent inside them (database and driver), and the commits and the time spent in them."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.in_statements = 0.0
        self.commits = 0
        self.in_commits = 0.0
        self.seconds = 0.0

    @contextmanager
    def watching(self) -> Iterator[None]:
        wrapper = connections[DEFAULT_DB_ALIAS]
        commit = wrapper._commit

        def timed_commit():
            start = time.perf_counter()
            try:
                return commit()
            finally:
                self.commits += 1
                self.in_commits += time.perf_counter() - start

        wrapper._commit = timed_commit
        try:
            with wrapper.execute_wrapper(self._execute):
                yield
        finally:
            del wrapper._commit  # back to the class's method

    def _execute(self, execute, sql, params, many, context):
        self.statements[sql.split(None, 1)[0].upper()] += 1
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.in_statements += time.perf_counter() - start

    def describe(self, ops: int) -> str:
        kinds = ", ".join(f"{kind} {count / ops:.1f}" for kind, count in self.statements.most_common())
        rest = self.seconds - self.in_statements - self.in_commits
        return (
            f"engine, per operation (one untimed batch of {ops}): {self.seconds / ops * 1000:.1f} ms; "
            f"{self.statements.total() / ops:.1f} statements ({kinds}) taking "
            f"{self.in_statements / ops * 1000:.1f} ms; {self.commits / ops:.2f} commits taking "
            f"{self.in_commits / ops * 1000:.1f} ms; the other {rest / ops * 1000:.1f} ms in Python "
            "(ORM query building, model instances, payload validation, the domain service)"
        )


def _http_run(user: User, project_id: int, batches: int = BATCHES, size: int = BATCH) -> float:
    """One phone's pushes through the endpoint (DRF's test client, a device token, JSON bodies)."""
    device, token = _enrol(user)
    bodies = _batches(project_id, batches, size)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    responses = []

    def push_all() -> None:
        for ops in bodies:
            body = {"device_id": str(device.pk), "device_time": timezone.now().isoformat(), "ops": ops}
            responses.append(client.post(URL, body, format="json"))

    seconds = timed(push_all)
    for response in responses:
        if response.status_code != 200:
            raise RuntimeError(f"push bench: HTTP {response.status_code}: {response.content[:500]!r}")
    _check([response.json()["results"] for response in responses], batches * size)
    return batches * size / seconds


def _floor_run(user: User, project_id: int) -> float:
    """The same number of rows, as the engine leaves them (applied, with their result), inserted bare:
    one bulk_create per batch (so one INSERT statement and one transaction each), rows built beforehand."""
    device, _ = _enrol(user)
    now = timezone.now()
    push = Push.objects.create(
        device=device, user=user, device_clock=now, server_clock=now, offset_ms=0, op_count=BATCH
    )
    batches = []
    for batch in _batches(project_id):
        rows = []
        for op in batch:
            incoming = _incoming(op)
            rows.append(
                Operation(
                    device=device,
                    user=user,
                    op_id=incoming.op_id,
                    seq=incoming.seq,
                    op_type=incoming.type,
                    entity_id=incoming.entity_id,
                    base_version=incoming.base_version,
                    device_time=incoming.device_time,
                    corrected_time=incoming.device_time,
                    payload=incoming.payload,
                    content_hash=incoming.content_hash(),
                    push=push,
                    status=Operation.Status.APPLIED,
                    result={
                        "op_id": incoming.op_id,
                        "status": "applied",
                        "entity_id": incoming.entity_id,
                        "version": 1 if incoming.base_version is None else 2,
                        "seq": incoming.seq,
                    },
                    received_at=now,
                    resolved_at=now,
                )
            )
        batches.append(rows)

    def insert_all() -> None:
        for rows in batches:
            Operation.objects.bulk_create(rows)

    seconds = timed(insert_all)
    stored = Operation.objects.filter(device=device).count()
    if stored != BATCH * BATCHES:
        raise RuntimeError(f"push bench: floor stored {stored} rows, expected {BATCH * BATCHES}")
    return BATCH * BATCHES / seconds


def _profile(user: User, project_id: int) -> str:
    device, _ = _enrol(user)
    batch = [_incoming(op) for op in _batches(project_id)[0]]
    profiler = cProfile.Profile()
    profiler.enable()
    engine.push(user=user, device=device, device_clock=timezone.now(), ops=batch)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    out.write("\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    return f"cProfile of one engine batch of {BATCH}:\n{out.getvalue()}"
