"""Pull throughput ([F8]): a technician's first sync, and an incremental pull with nothing new, through
``GET /api/v1/sync/pull`` with a device token over DRF's in-process test client.

- **pull-first**: a fresh sampler, assigned to a fresh project of the Shanghai agency, on which TASKS
  monitoring tasks were created through ``task_create`` (so each has its ``sync.Change`` row; setup,
  untimed). A run is SYNCS first syncs, each paging from cursor 0 until ``more`` is false with the
  server's default page size; objects/s. Floor: the bare query of the same rows
  (``Change.objects.filter(...).values(...)``, the columns the pull reads) plus one ``json.dumps`` of
  them, SYNCS times a run; objects/s.
- **pull-incremental**: the same phone pulling from the end cursor (nothing new), REQUESTS requests a
  run; requests/s. Floor: the same client's authenticated ``GET`` of a do-nothing DRF ``APIView``
  (default authentication and permission classes, returns ``{}``), routed by this module's own URLconf
  (``override_settings(ROOT_URLCONF="bench.pull")``, under the same ``/api/v1/`` prefix and middleware);
  nothing is added to the app's URLs.

Each path runs once untimed (the warm-up), then RUNS timed runs interleaved with the floor's; medians.
"""

from __future__ import annotations

import json
import uuid

from django.test.utils import override_settings
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from bench._common import Result, Row, three_digits, timed
from server.accounts.services import DeviceInfo, token_issue
from server.fieldwork.models import MonitoringProject
from server.fieldwork.services import project_assign, project_create, task_create
from sync.models import Change
from tests.factories import hire, staff_account

TASKS = 500
REQUESTS = 200
SYNCS = 10  # first syncs per pull-first run, so that a run lasts long enough to time
RUNS = 5
URL = "/api/v1/sync/pull"
NOOP_URL = "/api/v1/bench/noop"
COLUMNS = ("seq", "entity_type", "entity_id", "version", "deleted", "data")


class _Noop(APIView):
    """An authenticated request that does nothing: the settings' authentication and permissions."""

    def get(self, request: Request) -> Response:
        return Response({})


# This module is also the URLconf of the incremental floor (override_settings(ROOT_URLCONF=__name__)).
urlpatterns = [path(NOOP_URL.lstrip("/"), _Noop.as_view())]


def run_benchmark(world) -> Result:
    user, project = _technician(world.shanghai)
    _, token = _enrol(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    first_row = Row("pull-first", f"HTTP GET {URL} from 0 (pages)", TASKS * SYNCS)
    first_floor = Row("pull-first", "floor: Change .values() + json.dumps", TASKS * SYNCS)
    inc_row = Row("pull-incremental", f"HTTP GET {URL} at end cursor", REQUESTS)
    inc_floor = Row("pull-incremental", "floor: GET no-op APIView, same auth", REQUESTS)

    # Warm-up, untimed, and the checks: every task and nothing else arrives; the pages.
    end, pages = _first_sync(client)
    _floor_query(project)
    _incremental(client, end)
    _noop(client)
    for _ in range(RUNS):
        first_row.rates.append(TASKS * SYNCS / timed(lambda: _repeat(SYNCS, _first_sync, client)))
        first_floor.rates.append(TASKS * SYNCS / timed(lambda: _repeat(SYNCS, _floor_query, project)))
        inc_row.rates.append(REQUESTS / timed(lambda: _incremental(client, end)))
        inc_floor.rates.append(REQUESTS / timed(lambda: _noop(client)))

    notes = [
        f"pull-first: {TASKS} tasks in {pages} page(s) (server defaults), end cursor {end}",
        *(
            f"{row.benchmark} {row.path}, per run: {', '.join(f'{r:.1f}' for r in row.rates)}"
            for row in (first_row, first_floor, inc_row, inc_floor)
        ),
    ]
    summaries = [
        _summary("pull-first", first_row, first_floor, "objects/s"),
        _summary("pull-incremental", inc_row, inc_floor, "requests/s"),
    ]
    return Result(
        rows=[first_row, first_floor, inc_row, inc_floor], summary="\n".join(summaries), notes=notes
    )


def _summary(name: str, row: Row, floor: Row, unit: str) -> str:
    return (
        f"bench {name}: {row.median:.1f} {unit}; floor {floor.median:.1f} {unit}; "
        f"ratio {three_digits(row.median / floor.median)}"
    )


# --- Setup --------------------------------------------------------------------------------------------


def _technician(side):
    """A new sampler on a new project of the side's agency, with TASKS tasks: all they can pull."""
    sampler = hire(side.agency, ["sampler"])
    user = staff_account(side.main, sampler)
    project = project_create(
        agency=side.agency,
        actor=side.main,
        number=f"P-PULL-{uuid.uuid4().hex[:8]}",
        name="拉取基准项目",
        monitoring_type=MonitoringProject.MonitoringType.WATER,
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
        region_code=side.project.region_code,
    )
    project_assign(project=project, employment=sampler, post_code="sampler")
    for i in range(TASKS):
        task_create(
            actor=user,
            task_id=uuid.uuid4(),
            project=project,
            name=f"拉取基准任务 {i}",
            sample_codes=[f"PL-{i:04d}", f"PL-{i:04d}-P"],
            note=f"现场备注 {i}",
        )
    return user, project


def _enrol(user):
    issued = token_issue(
        user=user, info=DeviceInfo(id=str(uuid.uuid4()), platform="wechat", app_version="bench")
    )
    return issued.record.device, issued.token


def _repeat(times: int, fn, arg) -> None:
    for _ in range(times):
        fn(arg)


# --- The paths ----------------------------------------------------------------------------------------


def _first_sync(client: APIClient) -> tuple[int, int]:
    """Pages from cursor 0 to the end, as a phone's first sync does; (end cursor, pages)."""
    cursor, pages, seen = 0, 0, 0
    while True:
        response = client.get(URL, {"cursor": cursor})
        if response.status_code != 200:
            raise RuntimeError(f"pull bench: {response.status_code} {response.content[:200]!r}")
        body = response.json()
        pages += 1
        seen += len(body["changes"])
        if any(change["entity"] != "task" for change in body["changes"]):
            raise RuntimeError("pull bench: the technician sees more than the bench's tasks")
        cursor = body["cursor"]
        if not body["more"]:
            break
    if seen != TASKS:
        raise RuntimeError(f"pull bench: expected {TASKS} changes, pulled {seen}")
    return cursor, pages


def _floor_query(project) -> None:
    rows = list(
        Change.objects.filter(entity_type="task", project_id=project.pk).order_by("seq").values(*COLUMNS)
    )
    json.dumps(rows, ensure_ascii=False)
    if len(rows) != TASKS:
        raise RuntimeError(f"pull bench: the floor query found {len(rows)} rows, not {TASKS}")


def _incremental(client: APIClient, end: int) -> None:
    for _ in range(REQUESTS):
        response = client.get(URL, {"cursor": end})
        if response.status_code != 200 or response.json()["changes"]:
            raise RuntimeError(
                f"pull bench: incremental pull {response.status_code} {response.content[:200]!r}"
            )


def _noop(client: APIClient) -> None:
    with override_settings(ROOT_URLCONF=__name__):
        for _ in range(REQUESTS):
            response = client.get(NOOP_URL)
            if response.status_code != 200 or response.json():
                raise RuntimeError(
                    f"pull bench: no-op request {response.status_code} {response.content[:200]!r}"
                )
