"""Load (F8): N simulated phones each push a field day, in offline bursts, to a real server over
loopback; then the database is checked for exactly-once storage.

    .venv/bin/python bench/load.py --phones 200
        starts the production server (gunicorn, ``--workers``) on a fresh database of the kind
        DATABASE_URL names (SpatiaLite in a temporary file when it names none), as tests/e2e/live.py
        does, builds the phones' accounts in it, runs, checks, and drops the database.
    .venv/bin/python bench/load.py --phones 200 --server http://127.0.0.1:8000 --database-url URL
        the same against a server already running on the database URL names (its accounts are added).

It stops by itself: every request has a timeout and every phone a fixed day. Not a ``bench/run.py``
benchmark (there is no ``run_benchmark`` here): it needs a server of its own.

Set-up, untimed: the test world (``tests/factories.build_world``), then per phone a sampler hired by
the Shanghai agency, an account and a device token; phones work in teams of ``--team-size``, each team
on a monitoring project of its own (a pull returns the team's changes, not all 200 phones'). Photos
(JPEGs with a phone's EXIF: make, model, capture time, GPS at the site; distinct pixels, so distinct
bytes and perceptual hashes) and the whole day's operations are made before the clock starts.

A phone's day (``Day``; device times are in the last hours, the phone was offline):
- a pull from cursor 0 when it starts (it had signal at the office);
- ``track_bursts`` offline bursts, each pushed as one batch when the phone finds signal:
  burst 1 creates its 2–3 tasks and notes on them (``task.create``, ``task.update``), starts the first
  (``task.transition`` running), checks in at the outlet (``checkin.record``, GCJ-02 as WeChat gives),
  and appends the first ``points`` GPS fixes (``track.append``); later bursts pause and continue for a
  break, edit the sample codes, append the next fixes, move on to the next task (saved → running)
  and save the last one. Fixes follow a real walk (korita-zbevnica.gpx, moved to the outlet, its
  intervals kept within 5–60 s), WGS-84 as the GPS gives. Base versions are the phone's own count;
- its 1–2 photos, each uploaded right after the burst it was taken in (``POST /photos``, multipart:
  the file plus the capture manifest, as ``wx.uploadFile`` sends it);
- with probability ``retry`` a push or an upload is sent again, the same bytes: the phone lost the
  answer. Every operation must come back ``duplicate``, every photo 200 with the same id;
- a pull from its morning cursor to the end, page by page.
Phones start spread over ``ramp`` seconds and think ``think`` seconds between requests.

Errors: any status other than the expected one, a timeout or a dropped connection, and any operation
whose first answer is not ``applied`` (or whose resend is not ``duplicate``).

Afterwards (untimed), from the database: every operation sent is stored once and applied, none other
for these devices, none held; each task at the version the phone counted, with exactly the moves it
made; the track points, photos (each with its file) and check-ins the phones sent, no more, no less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import io
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
PUSH, PUSH_AGAIN, PHOTO, PHOTO_AGAIN, PULL = (
    "POST /sync/push",
    "POST /sync/push (resent)",
    "POST /photos",
    "POST /photos (resent)",
    "GET /sync/pull",
)
ENDPOINTS = (PUSH, PUSH_AGAIN, PHOTO, PHOTO_AGAIN, PULL)
PHOTO_TYPES = ("sampling_operation", "sampling_site")
ATTEMPTS = 4  # a phone sends a request that failed (5xx, timeout, connection lost) at most this often


@dataclass(frozen=True)
class Day:
    """One phone's field day."""

    tasks: tuple[int, int] = (2, 3)  # how many tasks, at least and at most
    track_bursts: int = 3  # offline bursts, each with a batch of fixes
    points: int = 50  # fixes per batch
    photos: tuple[int, int] = (1, 2)
    photo_size: tuple[int, int] = (1024, 768)
    retry: float = 0.2  # chance that a push or an upload is sent again (answer lost)
    think: tuple[float, float] = (0.2, 1.5)  # seconds between a phone's requests
    ramp: float = 5.0  # phones start spread over this many seconds

    def describe(self) -> str:
        def span(pair) -> str:
            return f"{pair[0]}" if pair[0] == pair[1] else f"{pair[0]}-{pair[1]}"

        return (
            f"{span(self.tasks)} tasks, {self.track_bursts} bursts x {self.points} fixes, "
            f"{span(self.photos)} photos {self.photo_size[0]}x{self.photo_size[1]}, "
            f"resend {self.retry:.0%}, think {self.think[0]}-{self.think[1]} s, ramp {self.ramp} s"
        )


FULL = Day()
# The CI form (tests/e2e/test_load.py): 200 phones, a short day each.
SMALL = Day(
    tasks=(1, 1),
    track_bursts=2,
    points=20,
    photos=(1, 1),
    photo_size=(480, 360),
    retry=0.2,
    think=(0.05, 0.3),
    ramp=3.0,
)


# --- Set-up and verification, run in the server's database ------------------------------------------

SETUP = """
import datetime as dt, json, math, sys, uuid
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.utils import timezone
from server.accounts.services import DeviceInfo, token_issue
from server.fieldwork.models import MonitoringProject
from server.fieldwork.services import project_assign, project_create
from server.registry.identifiers import resident_id_check_char
from server.registry.models import Employment
from server.registry.services import staff_hire
from tests.factories import build_world, certificate, staff_account
phones, team_size, tag = %(phones)d, %(team_size)d, %(tag)r
side = build_world().shanghai
today = timezone.localdate()
projects = [
    project_create(
        agency=side.agency, actor=side.main, number=f"LOAD-{tag}-{n}", name=f"压力测试项目{n}",
        monitoring_type=MonitoringProject.MonitoringType.WATER, enterprise=side.enterprise,
        contract=side.monitoring_contract, region_code="310104",
    )
    for n in range(math.ceil(phones / team_size))
]
out = []
for i in range(phones):
    # Resident ID numbers of our own: one person, one agency, so each must be new.
    born = (dt.date(1970, 1, 1) + dt.timedelta(days=i)).strftime("%%Y%%m%%d")
    body = f"310104{born}{int(tag, 16) %% 1000:03d}"
    employment = staff_hire(
        agency=side.agency, id_number=body + resident_id_check_char(body), name=f"采样员{i}",
        education=Employment.Education.BACHELOR, hired_on=today - dt.timedelta(days=30),
        posts=["sampler"], certificates=[certificate("sampler")],
    )
    user = staff_account(side.main, employment)
    project = projects[i // team_size]
    project_assign(project=project, employment=employment, post_code="sampler")
    device = str(uuid.uuid4())
    issued = token_issue(user=user, info=DeviceInfo(id=device, platform="wechat", app_version="load"))
    out.append({"token": issued.token, "device": device, "project": project.pk})
outlet = side.wastewater
print(json.dumps({
    "outlet": outlet.pk,
    "site_gcj02": [outlet.given_longitude, outlet.given_latitude],
    "site_wgs84": [outlet.location.x, outlet.location.y],
    "projects": [p.pk for p in projects],
    "phones": out,
}))
"""

VERIFY = """
import json
from collections import Counter
import django
django.setup()
from django.db.models import Count
from media_rules.models import Photo
from server.fieldwork.models import MonitoringTask, TaskEvent
from server.tracks.models import CheckIn, TrackPoint
from sync.models import DeviceSyncState, Operation
expect = json.load(open(%(path)r))
projects = expect["projects"]
ops = Operation.objects.filter(device_id__in=expect["devices"])
op_ids = [str(o) for o in ops.values_list("op_id", flat=True)]
tasks = MonitoringTask.objects.filter(project_id__in=projects)
photos = Photo.objects.filter(task__project_id__in=projects)
print(json.dumps({
    "op_ids": op_ids,
    "op_status": Counter(ops.values_list("status", flat=True)),
    "held_anywhere": Operation.objects.filter(status="held").count(),
    "devices_holding": DeviceSyncState.objects.filter(held_ops__gt=0).count(),
    "tasks": {str(t["id"]): [t["version"], t["status"]] for t in tasks.values("id", "version", "status")},
    "moves": {str(r["task_id"]): r["n"] for r in
              TaskEvent.objects.filter(task__project_id__in=projects).values("task_id").annotate(n=Count("id"))},
    "points": {str(r["task_id"]): r["n"] for r in
               TrackPoint.objects.filter(task__project_id__in=projects).values("task_id").annotate(n=Count("id"))},
    "photos": [str(p) for p in photos.values_list("id", flat=True)],
    "photos_without_file": photos.filter(blob__isnull=True).count(),
    "verdicts": Counter(photos.values_list("verdict", flat=True)),
    "checkins": [str(c) for c in
                 CheckIn.objects.filter(task__project_id__in=projects).values_list("id", flat=True)],
}))
"""


def setup_world(env: dict[str, str], phones: int, team_size: int = 10) -> dict:
    """The phones' accounts, tokens and projects, made in the server's database (``env``)."""
    from tests.e2e.live import manage

    code = SETUP % {"phones": phones, "team_size": team_size, "tag": uuid.uuid4().hex[:6]}
    return json.loads(manage(env, code=code).strip().splitlines()[-1])


# --- The phones' days -----------------------------------------------------------------------------


@dataclass
class Photo:
    id: str
    task: str
    photo_type: str
    taken: dt.datetime
    data: bytes
    lon: float  # the phone's own fix, GCJ-02
    lat: float


@dataclass
class Burst:
    ops: list[dict] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)


@dataclass
class Plan:
    """What one phone does and what the server must end up holding for it."""

    token: str
    device: str
    bursts: list[Burst]
    versions: dict[str, int]  # task -> the version the phone counted
    moves: dict[str, int]  # task -> transitions made
    points: dict[str, int]  # task -> fixes sent
    checkins: list[str]

    @property
    def ops(self) -> list[dict]:
        return [op for burst in self.bursts for op in burst.ops]

    @property
    def photos(self) -> list[Photo]:
        return [photo for burst in self.bursts for photo in burst.photos]


def walk() -> list[tuple[float, float, float, float]]:
    """The timed fixes of a real walk as (seconds from its start, lon, lat, altitude); intervals kept
    within 5–60 s so that a burst is minutes, not hours. A generated walk if shared data is absent."""
    try:
        from tests.shared_data import TRACKS

        root = ET.parse(TRACKS / "korita-zbevnica.gpx").getroot()  # noqa: S314 (our own test data)
    except (FileNotFoundError, ET.ParseError):
        rng = random.Random(8)  # noqa: S311 (a test walk)
        lon = lat = 0.0
        out = []
        for n in range(600):
            lon, lat = lon + rng.uniform(-2e-5, 6e-5), lat + rng.uniform(-2e-5, 6e-5)
            out.append((n * 20.0, 14.0 + lon, 45.0 + lat, 700.0))
        return out
    ns = {"g": root.tag.split("}")[0][1:]}
    fixes = []
    for p in root.iterfind(".//g:trkpt", ns):
        text = p.findtext("g:time", None, ns)
        if text:
            at = dt.datetime.fromisoformat(text.rstrip("Z").split(".")[0]).replace(tzinfo=UTC)
            fixes.append((at, float(p.get("lon")), float(p.get("lat")), float(p.findtext("g:ele", "0", ns))))
    out, clock = [], 0.0
    for n, (at, lon, lat, ele) in enumerate(fixes):
        if n:
            clock += min(max((at - fixes[n - 1][0]).total_seconds(), 5.0), 60.0)
        out.append((clock, lon, lat, ele))
    return out


def plan_phones(world: dict, day: Day, seed: int) -> list[Plan]:
    rng = random.Random(seed)  # noqa: S311 (test data)
    track = walk()
    return [_plan(rng, world, phone, track, day) for phone in world["phones"]]


def _plan(rng: random.Random, world: dict, phone: dict, track, day: Day) -> Plan:
    site_lon, site_lat = world["site_gcj02"]
    exif_lon, exif_lat = world["site_wgs84"]
    n_tasks = rng.randint(*day.tasks)
    n_photos = rng.randint(*day.photos)
    tasks = [str(uuid.uuid4()) for _ in range(n_tasks)]
    plan = Plan(
        token=phone["token"],
        device=phone["device"],
        bursts=[Burst() for _ in range(day.track_bursts)],
        versions=dict.fromkeys(tasks, 0),
        moves=dict.fromkeys(tasks, 0),
        points=dict.fromkeys(tasks, 0),
        checkins=[],
    )
    status = dict.fromkeys(tasks, "created")
    # The day as seconds from its start; made absolute (ending two minutes ago) at the end.
    clock = 0.0
    seq = 0

    def op(burst: Burst, kind: str, entity: str, payload: dict, *, base=None, at: float) -> None:
        nonlocal seq
        seq += 1
        burst.ops.append(
            {
                "op_id": str(uuid.uuid4()),
                "seq": seq,
                "type": kind,
                "entity_id": entity,
                "base_version": base,
                "device_time": at,
                "payload": payload,
            }
        )

    def move(burst: Burst, task: str, to: str) -> None:
        nonlocal clock
        clock += rng.uniform(5, 30)
        op(burst, "task.transition", task, {"to": to}, at=clock)
        if status[task] != to:
            plan.versions[task] += 1
        status[task] = to
        plan.moves[task] += 1

    def update(burst: Burst, task: str, changes: dict) -> None:
        nonlocal clock
        clock += rng.uniform(5, 30)
        op(burst, "task.update", task, changes, base=plan.versions[task], at=clock)
        plan.versions[task] += 1

    # Where this phone's walk starts: a random stretch of the real track, moved to the site.
    needed = day.track_bursts * day.points
    start = rng.randrange(0, max(1, len(track) - needed))
    stretch = track[start : start + needed]
    lon0, lat0 = stretch[0][1], stretch[0][2]
    shrink = math.cos(math.radians(lat0)) / math.cos(math.radians(exif_lat))
    east, north = rng.uniform(-5e-4, 5e-4), rng.uniform(-5e-4, 5e-4)
    photo_slots = [min(day.track_bursts - 1, 1 + k) for k in range(n_photos)]
    active = 0
    for b, burst in enumerate(plan.bursts):
        if b == 0:
            for n, task in enumerate(tasks):
                clock += rng.uniform(10, 60)
                op(
                    burst,
                    "task.create",
                    task,
                    {"project": phone["project"], "name": f"采样任务{n + 1}"},
                    at=clock,
                )
                plan.versions[task] = 1
                update(burst, task, {"note": "现场天气晴，水样清澈"})
            move(burst, tasks[0], "running")
            clock += rng.uniform(10, 60)
            checkin = str(uuid.uuid4())
            op(
                burst,
                "checkin.record",
                checkin,
                {
                    "longitude": site_lon + rng.uniform(-2e-4, 2e-4),
                    "latitude": site_lat + rng.uniform(-2e-4, 2e-4),
                    "coordinate_system": "gcj02",
                    "accuracy_m": 8,
                    "task": tasks[0],
                    "outlet": world["outlet"],
                    "device_time": clock,
                },
                at=clock,
            )
            plan.checkins.append(checkin)
        else:
            task = tasks[active]
            move(burst, task, "paused")  # a break: the track splits into a new segment
            move(burst, task, "running")
            update(burst, task, {"sample_codes": [f"W{seq:03d}-{k}" for k in range(3)]})
        task = tasks[active]
        # The burst's fixes, recorded after the operations above.
        fixes = stretch[b * day.points : (b + 1) * day.points]
        offset = clock + 20 - fixes[0][0]
        points = [
            {
                "fix_time": offset + t,
                "longitude": exif_lon + east + (lon - lon0) * shrink,
                "latitude": exif_lat + north + (lat - lat0),
                "altitude_m": ele,
                "accuracy_m": round(rng.uniform(3, 15), 1),
            }
            for t, lon, lat, ele in fixes
        ]
        clock = points[-1]["fix_time"]
        op(
            burst,
            "track.append",
            task,
            {"coordinate_system": "wgs84", "points": points, "task": task},
            at=clock,
        )
        plan.points[task] += len(points)
        for slot in photo_slots:
            if slot == b:
                taken = points[len(points) // 2]["fix_time"]
                burst.photos.append(
                    Photo(
                        id=str(uuid.uuid4()),
                        task=task,
                        photo_type=PHOTO_TYPES[sum(p.task == task for p in plan.photos) % 2],
                        taken=taken,
                        data=b"",
                        lon=site_lon + rng.uniform(-1e-4, 1e-4),
                        lat=site_lat + rng.uniform(-1e-4, 1e-4),
                    )
                )
        # Moving on: the next task (if any is left for a later burst), or the end of the day.
        last = b == day.track_bursts - 1
        following = min(n_tasks - 1, (b + 1) * n_tasks // day.track_bursts) if not last else active
        if following != active:
            move(burst, task, "saved")
            active = following
            move(burst, tasks[active], "running")
        if last:
            for other in tasks:
                if status[other] == "created":
                    move(burst, other, "running")
                if status[other] != "saved":
                    move(burst, other, "saved")
        clock += rng.uniform(120, 600)  # until the phone finds signal again
    # Absolute times: the day ended two minutes before now.
    base = dt.datetime.now(tz=UTC) - dt.timedelta(seconds=clock + 120)

    def at(seconds: float) -> str:
        return (base + dt.timedelta(seconds=seconds)).isoformat()

    for burst in plan.bursts:
        for o in burst.ops:
            o["device_time"] = at(o["device_time"])
            if o["type"] == "track.append":
                for point in o["payload"]["points"]:
                    point["fix_time"] = at(point["fix_time"])
            elif o["type"] == "checkin.record":
                o["payload"]["device_time"] = at(o["payload"]["device_time"])
        for photo in burst.photos:
            photo.taken = base + dt.timedelta(seconds=photo.taken)
            photo.data = make_jpeg(rng, day.photo_size, photo.taken, exif_lon, exif_lat)
    return plan


def make_jpeg(rng: random.Random, size: tuple[int, int], when: dt.datetime, lon: float, lat: float) -> bytes:
    """A textured picture of its own (random colours, shapes, grain), with a phone's EXIF: make,
    model, capture time (Shanghai, with its offset), GPS position and GPS time (UTC)."""
    from PIL import Image, ImageDraw

    width, height = size
    broad = Image.frombytes("RGB", (16, 12), rng.randbytes(16 * 12 * 3)).resize(
        size, Image.Resampling.BICUBIC
    )
    small = (max(1, width // 6), max(1, height // 6))
    grain = Image.frombytes("RGB", small, rng.randbytes(small[0] * small[1] * 3)).resize(size)
    picture = Image.blend(broad, grain, 0.25)
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = (
            x0,
            y0,
            x0 + rng.randrange(width // 10, width // 2),
            y0 + rng.randrange(height // 10, height // 2),
        )
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=colour)
    exif = Image.Exif()
    exif[0x010F] = "Xiaomi"  # Make
    exif[0x0110] = "Redmi Note 12"  # Model
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = when.astimezone(SHANGHAI).strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    sub[0x9011] = "+08:00"  # OffsetTimeOriginal
    utc = when.astimezone(UTC)
    gps = exif.get_ifd(0x8825)
    gps.update({0x01: "N", 0x02: _dms(lat), 0x03: "E", 0x04: _dms(lon)})
    gps[0x07] = (float(utc.hour), float(utc.minute), float(utc.second))  # GPSTimeStamp
    gps[0x1D] = utc.strftime("%Y:%m:%d")  # GPSDateStamp
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees, rest = divmod(abs(value) * 3600, 3600)
    minutes, seconds = divmod(rest, 60)
    return float(degrees), float(minutes), round(seconds, 4)


# --- Running ----------------------------------------------------------------------------------------


@dataclass
class Report:
    phones: int
    day: Day
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)  # "endpoint: what" -> count
    error_samples: list[str] = field(default_factory=list)
    ops: int = 0  # operations sent (each once; resends not counted)
    ops_sent: int = 0  # with resends
    op_answers: Counter = field(default_factory=Counter)  # first sends' statuses
    resent_answers: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)  # endpoint -> requests sent again after a failure
    points: int = 0
    photos: int = 0
    pulled: int = 0  # changes received by pulls
    verdicts: Counter = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error(self, endpoint: str, what: str, sample: str = "") -> None:
        self.errors[f"{endpoint}: {what}"] += 1
        if sample and len(self.error_samples) < 10:
            self.error_samples.append(f"{endpoint}: {what}: {sample[:300]}")

    def table(self) -> str:
        header = f"{'endpoint':<26}{'requests':>9}{'errors':>8}" + "".join(
            f"{name:>9}" for name in ("p50 ms", "p95 ms", "p99 ms", "max ms")
        )
        lines = [header, "-" * len(header)]
        every: list[float] = []
        for name in ENDPOINTS:
            values = self.latencies.get(name, [])
            every += values
            lines.append(
                self._line(name, values, sum(n for k, n in self.errors.items() if k.startswith(name + ":")))
            )
        lines.append("-" * len(header))
        lines.append(self._line("all", every, self.error_count))
        return "\n".join(lines)

    @staticmethod
    def _line(name: str, values: list[float], errors: int) -> str:
        if not values:
            return f"{name:<26}{0:>9}{errors:>8}"
        p = _percentiles(values)
        return (
            f"{name:<26}{len(values):>9}{errors:>8}"
            f"{p[50]:>9.0f}{p[95]:>9.0f}{p[99]:>9.0f}{max(values) * 1000:>9.0f}"
        )

    def text(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        lines = [
            f"field day: {self.day.describe()}",
            self.table(),
            f"operations: {self.ops} sent once, {self.ops_sent} with resends "
            f"({self.ops / self.seconds:.1f} ops/s); first answers "
            + ", ".join(f"{k} {n}" for k, n in self.op_answers.most_common())
            + "; resent answers "
            + (", ".join(f"{k} {n}" for k, n in self.resent_answers.most_common()) or "none"),
            f"track points {self.points}, photos {self.photos} (verdicts "
            + ", ".join(f"{k} {n}" for k, n in self.verdicts.most_common())
            + f"), changes pulled {self.pulled}",
        ]
        if self.retried:
            lines.append(
                "sent again after a failure: " + ", ".join(f"{k} x{n}" for k, n in self.retried.most_common())
            )
        if self.errors:
            lines.append("errors: " + ", ".join(f"{k} x{n}" for k, n in self.errors.most_common()))
            lines += [f"  e.g. {sample}" for sample in self.error_samples]
        lines.append(
            f"load: {self.phones} phones, {self.requests} requests in {self.seconds:.1f} s "
            f"({rate:.1f} req/s), ops {self.ops} ({self.ops / self.seconds:.1f} ops/s), "
            f"errors {self.error_count}"
        )
        return "\n".join(lines)


def _percentiles(values: list[float]) -> dict[int, float]:
    if len(values) == 1:
        return dict.fromkeys((50, 95, 99), values[0] * 1000)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {50: cuts[49] * 1000, 95: cuts[94] * 1000, 99: cuts[98] * 1000}


class Phone:
    def __init__(
        self, session, url: str, outlet: int, plan: Plan, day: Day, report: Report, rng: random.Random
    ):
        self.session, self.url, self.outlet, self.plan = session, url, outlet, plan
        self.day, self.report, self.rng = day, report, rng
        self.headers = {"Authorization": f"Bearer {plan.token}"}

    async def request(
        self, endpoint: str, method: str, path: str, *, headers: dict | None = None, **kwargs
    ) -> tuple[int, object] | None:
        """The answer (status, parsed JSON) or None when the request failed on the way (counted)."""
        import aiohttp

        headers = {**self.headers, **(headers or {})}
        started = time.perf_counter()
        try:
            async with self.session.request(method, self.url + path, headers=headers, **kwargs) as answer:
                body = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.report.latencies[endpoint].append(time.perf_counter() - started)
            self.report.error(endpoint, type(exc).__name__, repr(exc))
            return None
        self.report.latencies[endpoint].append(time.perf_counter() - started)
        try:
            return status, json.loads(body or b"null")
        except ValueError:
            return status, body[:300].decode("utf-8", "replace")

    async def think(self) -> None:
        await asyncio.sleep(self.rng.uniform(*self.day.think))

    async def day_of_work(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.day.ramp))
        cursor = await self.pull(0)
        for burst in self.plan.bursts:
            await self.think()
            if not await self.push(burst.ops):
                continue  # its photos would name a task the server may not have
            for photo in burst.photos:
                await self.think()
                await self.upload(photo)
        await self.think()
        await self.pull(cursor)

    async def send(self, endpoint: str, method: str, path: str, data=None, headers=None):
        """As a phone sends: what failed on the way or got a 5xx (the phone keeps its queue) is sent
        again, up to ATTEMPTS times, each failure counted. ``data`` may be a callable (a new form
        each time). Returns the last answer and how many attempts it took."""
        for attempt in range(1, ATTEMPTS + 1):
            body = data() if callable(data) else data
            answer = await self.request(endpoint, method, path, data=body, headers=headers)
            if (answer is not None and answer[0] < 500) or attempt == ATTEMPTS:
                return answer, attempt
            if answer is not None:
                self.report.error(endpoint, f"HTTP {answer[0]}", json.dumps(answer[1], ensure_ascii=False))
            self.report.retried[endpoint] += 1
            await asyncio.sleep(self.rng.uniform(1, 3))
        raise AssertionError("unreachable")

    async def push(self, ops: list[dict]) -> bool:
        body = json.dumps(
            {"device_id": self.plan.device, "device_time": dt.datetime.now(tz=UTC).isoformat(), "ops": ops},
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json"}
        final: dict[str, str] = {}
        for _ in range(ATTEMPTS):
            answer, _attempts = await self.send(PUSH, "POST", "/api/v1/sync/push", body, headers)
            if not self._answered(PUSH, answer, 200):
                return False
            self.report.ops_sent += len(ops)
            again = False
            for result in answer[1]["results"]:
                status = result["status"]
                if status == "duplicate" and result["op_id"] in final:
                    continue  # applied by an earlier attempt of this push
                if status == "duplicate":  # stored by an attempt that failed on the way back
                    status = (result.get("first") or {}).get("status", "duplicate")
                final[result["op_id"]] = status
                if status == "rejected" and (result.get("details") or {}).get("retry"):
                    # The server says the fault was its own and the operation is not stored: resend.
                    self.report.error(PUSH, f"op rejected {result.get('code')}", json.dumps(result))
                    del final[result["op_id"]]
                    again = True
            if not again:
                break
            self.report.retried[PUSH] += 1
            await asyncio.sleep(self.rng.uniform(1, 3))
        self.report.ops += len(ops)
        self.report.points += sum(len(o["payload"]["points"]) for o in ops if o["type"] == "track.append")
        good = True
        for op in ops:
            status = final.get(op["op_id"], "not stored")
            self.report.op_answers[status] += 1
            if status != "applied":
                self.report.error(PUSH, f"op {status}", op["op_id"])
                good = False
        if self.rng.random() < self.day.retry:
            # The answer was lost on the way: the phone sends the very same batch again.
            await self.think()
            again_answer, _attempts = await self.send(PUSH_AGAIN, "POST", "/api/v1/sync/push", body, headers)
            if self._answered(PUSH_AGAIN, again_answer, 200):
                self.report.ops_sent += len(ops)
                for result in again_answer[1]["results"]:
                    first = (result.get("first") or {}).get("status")
                    self.report.resent_answers[result["status"]] += 1
                    if result["status"] != "duplicate" or first != "applied":
                        self.report.error(PUSH_AGAIN, f"op {result['status']}", json.dumps(result))
        return good

    def _form(self, photo: Photo):
        import aiohttp

        form = aiohttp.FormData()
        fields = {
            "id": photo.id,
            "photo_type": photo.photo_type,
            "task": photo.task,
            "outlet": str(self.outlet),
            "longitude": f"{photo.lon:.6f}",
            "latitude": f"{photo.lat:.6f}",
            "coordinate_system": "gcj02",
            "accuracy_m": "6",
            "fix_time": (photo.taken - dt.timedelta(seconds=2)).isoformat(),
            "device_time": photo.taken.isoformat(),
        }
        for name, value in fields.items():
            form.add_field(name, value)
        form.add_field("file", photo.data, filename=f"IMG_{photo.id[:8]}.jpg", content_type="image/jpeg")
        return form

    async def upload(self, photo: Photo) -> None:
        answer, attempts = await self.send(PHOTO, "POST", "/api/v1/photos", lambda: self._form(photo))
        # After a failed attempt the photo may be in already (the answer was lost): 200 then.
        if answer is not None and attempts > 1 and answer[0] == 200:
            answer = (201, answer[1])
        if not self._answered(PHOTO, answer, 201):
            return
        self.report.photos += 1
        self.report.verdicts[answer[1]["verdict"]] += 1
        if answer[1]["id"] != photo.id or answer[1]["awaiting_media"]:
            self.report.error(PHOTO, "not stored with its file", json.dumps(answer[1]))
        if self.rng.random() < self.day.retry:
            await self.think()
            again, _attempts = await self.send(
                PHOTO_AGAIN, "POST", "/api/v1/photos", lambda: self._form(photo)
            )
            if self._answered(PHOTO_AGAIN, again, 200) and again[1]["id"] != photo.id:
                self.report.error(PHOTO_AGAIN, "another photo", json.dumps(again[1]))

    async def pull(self, cursor: int) -> int:
        for _ in range(1000):  # pages; a bound, never reached
            answer, _attempts = await self.send(PULL, "GET", f"/api/v1/sync/pull?cursor={cursor}")
            if not self._answered(PULL, answer, 200):
                return cursor
            page = answer[1]
            self.report.pulled += len(page["changes"])
            cursor = page["cursor"]
            if not page["more"]:
                break
            await self.think()
        return cursor

    def _answered(self, endpoint: str, answer, expected: int) -> bool:
        if answer is None:
            return False
        status, body = answer
        if status != expected:
            self.report.error(endpoint, f"HTTP {status}", json.dumps(body, ensure_ascii=False))
            return False
        return True


async def _run(url: str, plans: list[Plan], world: dict, day: Day, report: Report, seed: int, timeout: float):
    import aiohttp

    rng = random.Random(seed + 1)  # noqa: S311 (think times)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)  # gunicorn's sync workers close anyway
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:
        phones = [
            Phone(session, url, world["outlet"], plan, day, report, random.Random(rng.random()))  # noqa: S311
            for plan in plans
        ]
        started = time.perf_counter()
        await asyncio.gather(*(phone.day_of_work() for phone in phones))
        report.seconds = time.perf_counter() - started


def run_load(
    url: str, world: dict, plans: list[Plan], day: Day, *, seed: int = 1, timeout: float = 120
) -> Report:
    """Every phone's day against the server at ``url``, all at once; the figures."""
    report = Report(phones=len(plans), day=day)
    asyncio.run(_run(url, plans, world, day, report, seed, timeout))
    return report


# --- Checking the database ------------------------------------------------------------------------


def verify(env: dict[str, str], world: dict, plans: list[Plan], workdir: Path) -> list[str]:
    """What the database holds against what the phones sent; the problems found (none is right)."""
    from tests.e2e.live import manage

    path = workdir / f"load-expect-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps({"projects": world["projects"], "devices": [p.device for p in plans]}))
    try:
        found = json.loads(manage(env, code=VERIFY % {"path": str(path)}).strip().splitlines()[-1])
    finally:
        path.unlink(missing_ok=True)
    problems = []
    sent = [op["op_id"] for plan in plans for op in plan.ops]
    stored = found["op_ids"]
    if len(stored) != len(set(stored)):
        problems.append(f"{len(stored) - len(set(stored))} operations stored more than once")
    if set(stored) != set(sent):
        problems.append(
            f"operations: {len(set(sent) - set(stored))} sent but not stored, "
            f"{len(set(stored) - set(sent))} stored but not sent"
        )
    if set(found["op_status"]) - {"applied"}:
        problems.append(f"operation statuses {found['op_status']}")
    if found["held_anywhere"] or found["devices_holding"]:
        problems.append(f"held: {found['held_anywhere']} operations, {found['devices_holding']} devices")

    def compare(name: str, expected: dict, actual: dict) -> None:
        wrong = {k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k)}
        if wrong:
            k = sorted(wrong)[0]
            problems.append(
                f"{name}: {len(wrong)} of {len(expected)} differ (e.g. {k}: sent {expected.get(k)}, "
                f"stored {actual.get(k)})"
            )

    compare(
        "tasks (version, status)",
        {t: [v, "saved"] for p in plans for t, v in p.versions.items()},
        found["tasks"],
    )
    compare("task moves", {t: n for p in plans for t, n in p.moves.items() if n}, found["moves"])
    compare("track points", {t: n for p in plans for t, n in p.points.items() if n}, found["points"])
    photos = [ph.id for p in plans for ph in p.photos]
    if sorted(photos) != sorted(found["photos"]):
        problems.append(f"photos: sent {len(photos)}, stored {len(found['photos'])}")
    if found["photos_without_file"]:
        problems.append(f"{found['photos_without_file']} photos stored without their file")
    checkins = [c for p in plans for c in p.checkins]
    if sorted(checkins) != sorted(found["checkins"]):
        problems.append(f"check-ins: sent {len(checkins)}, stored {len(found['checkins'])}")
    verdicts = ", ".join(f"{k} {n}" for k, n in Counter(found["verdicts"]).most_common())
    summary = (
        f"verify: {len(stored)} operations stored for {len(sent)} sent "
        f"({len(set(stored))} distinct, statuses {dict(found['op_status'])}), held {found['held_anywhere']}; "
        f"tasks {len(found['tasks'])}/{sum(len(p.versions) for p in plans)}; "
        f"track points {sum(found['points'].values())}/{sum(sum(p.points.values()) for p in plans)}; "
        f"photos {len(found['photos'])}/{len(photos)} (verdicts {verdicts}); "
        f"check-ins {len(found['checkins'])}/{len(checkins)}"
    )
    print(summary)
    print("verify: " + ("OK, every operation stored exactly once" if not problems else "; ".join(problems)))
    return problems


# --- The command line -------------------------------------------------------------------------------


@contextlib.contextmanager
def own_server(workdir: Path, workers: int):
    """A fresh database of the kind DATABASE_URL names, migrated, and gunicorn on it (tests/e2e/live.py)."""
    from tests.e2e.live import Server, django_env, fresh_database, manage

    with fresh_database(workdir) as database_url:
        env = django_env(database_url, workdir)
        manage(env, "migrate", "--noinput")
        server = Server(env, workdir / "server.log", gunicorn_workers=workers).start()
        try:
            yield server.url, env
        finally:
            server.stop()


def server_log_problems(log: Path) -> Counter:
    """What the server logged going wrong, counted: each traceback by its last line (the exception),
    and answers with a 5xx status (from the access log)."""
    found: Counter = Counter()
    if not log.exists():
        return found
    in_traceback = False
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line.startswith((" ", "\t", "During handling", "The above")):
            found[line.strip()[:300]] += 1
            in_traceback = False
        elif '" 50' in line and "HTTP/1." in line:
            found["HTTP 5xx answered"] += 1
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument(
        "--server", help="a running server's URL (default: start gunicorn on a fresh database)"
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="with --server")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers of the server started here")
    parser.add_argument("--team-size", type=int, default=10, help="phones per monitoring project")
    parser.add_argument("--small", action="store_true", help="the short day of the CI test")
    parser.add_argument("--retry", type=float, help="chance of resending a push or an upload")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a request is given up")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep-log", type=Path, help="copy the server's log here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    os.environ.setdefault("SECRET_KEY", "fieldtrace-load-only-not-a-secret")
    day = SMALL if args.small else FULL
    if args.retry is not None:
        day = dataclasses.replace(day, retry=args.retry)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fieldtrace-load-") as tmp:
        workdir = Path(tmp)
        if args.server:
            if not args.database_url:
                parser.error("--server needs --database-url (or DATABASE_URL): set-up and checks run there")
            from tests.e2e.live import django_env

            context = contextlib.nullcontext(
                (args.server.rstrip("/"), django_env(args.database_url, workdir))
            )
        else:
            context = own_server(workdir, args.workers)
        with context as (url, env):
            kind = env["DATABASE_URL"].split(":", 1)[0]
            print(f"load: server {url} ({kind}{'' if args.server else f', gunicorn {args.workers} workers'})")
            mark = time.perf_counter()
            world = setup_world(env, args.phones, args.team_size)
            plans = plan_phones(world, day, args.seed)
            print(
                f"set-up: {args.phones} phones in {len(world['projects'])} projects, "
                f"{sum(len(p.photos) for p in plans)} photos made, in {time.perf_counter() - mark:.1f} s",
                flush=True,
            )
            report = run_load(url, world, plans, day, seed=args.seed, timeout=args.timeout)
            print(report.text(), flush=True)
            problems = verify(env, world, plans, workdir)
        for line, count in server_log_problems(workdir / "server.log").most_common(20):
            print(f"server log: {line} (x{count})")
        if args.keep_log and (workdir / "server.log").exists():
            shutil.copy(workdir / "server.log", args.keep_log)
    print(f"(total {time.perf_counter() - started:.0f} s)")
    return 0 if report.error_count == 0 and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
