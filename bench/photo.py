"""Photo throughput: 12-megapixel JPEGs through intake (the synchronous part of an upload) and through
the background work that follows it, each next to a floor.

The photos: PHOTOS distinct 4000x3000 JPEGs made once per run (textured content, quality 92, 3.5 to
5 MB each) with a phone's EXIF: make and model, orientation (half of them 6, as a phone held
upright writes it), DateTimeOriginal with its offset, GPS position, altitude and accuracy at the
site. Intake stores a file once by its content, so every round must send bytes the server has not
seen: before each round the EXIF capture times and ImageUniqueID are rewritten in place (same
length, same pixels, a new SHA-256), untimed.

photo-intake
    ``POST /api/v1/photos`` as multipart (the file plus the capture manifest as form fields, the way
    ``wx.uploadFile`` sends it) through DRF's ``APIClient``, as the Shanghai field user with a device
    token, for one task and its wastewater outlet. Each request streams the file through the hashing
    upload handler, stores it, reads its EXIF, checks it decodes, records the photo and judges it
    (the verdict is in the response). The background task queued when the file is stored is *not*
    run: ``process_blob.delay`` is replaced by a list (the on_commit hook still fires). No
    device_clock is sent (the bodies are made before the clock starts, so it would be stale). Multipart
    bodies are encoded before the clock starts (a phone's work, not the server's). A round is
    PHOTOS requests; one untimed warm-up, one untimed round with stage timers, then RUNS timed.
    Floor: reading the same photos (as made, before the EXIF rewrite: the same size) from disk and
    SHA-256 hashing them, RUNS rounds interleaved with the timed ones.

photo-background
    ``media_rules.background.measure(person=False)``: the thumbnail (stored) and the perceptual
    hashes, on bytes already in memory, for files intake stored and nobody processed. A round is
    PHOTOS files, RUNS timed after one warm-up. Floor: decoding the same files at reduced size only
    (``img.draft("RGB", (320, 320)); img.load()``, the 1/8 scale a thumbnail decode uses).
    Also, for comparison and not in the ratio, ``process_blob`` itself (the Celery task body: read
    from storage, measure, store the measures, judge the file's photos again) for BG_TASK_RUNS rounds.

BENCH_PROFILE=1 profiles one extra intake round with cProfile and prints where its time went.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import hashlib
import io
import os
import pstats
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.test.client import encode_multipart
from PIL import Image, ImageChops, ImageDraw
from rest_framework.test import APIClient

from bench._common import Result, Row, three_digits, timed
from media_rules import background, intake, tasks
from media_rules.models import Blob, Photo
from server.accounts.services import DeviceInfo, token_issue
from server.fieldwork.services import task_create
from server.geo import to_wgs84

INTAKE = "photo-intake"
BACKGROUND = "photo-background"
URL = "/api/v1/photos"
PHOTOS = 24
RUNS = 5
BG_TASK_RUNS = 3
SIZE = (4000, 3000)
QUALITY = 92
PHOTO_TYPE = "sampling_site"
BOUNDARY = "FieldtraceBenchBoundary7MA4YWxkTrZu0gW"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Fixed-length EXIF values rewritten before each round (searched for in the header only).
TIME_MARK = b"2000:01:01 00:00:00"  # DateTime, DateTimeOriginal, DateTimeDigitized
UID_MARK = b"B" * 32  # ImageUniqueID: 32 hex digits
HEADER = 64 * 1024


def run_benchmark(world) -> Result:
    side = world.shanghai
    user, outlet = side.field_user, side.wastewater
    task, _ = task_create(actor=user, task_id=uuid.uuid4(), project=side.project, name="基准照片任务")
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="photos-", dir=os.environ.get("VAR_DIR")) as tmp:
        started = time.perf_counter()
        paths = _make_photos(Path(tmp), outlet)
        sizes = [path.stat().st_size for path in paths]
        notes.append(
            f"photos: {PHOTOS} JPEGs {SIZE[0]}x{SIZE[1]}, {min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} MB "
            f"(mean {sum(sizes) / len(sizes) / 1e6:.2f} MB), made in {time.perf_counter() - started:.1f} s"
        )
        intake_rows, blob_sets = _intake(user, task, outlet, paths, notes)
    background_rows = _background(blob_sets, notes)
    rows = intake_rows + background_rows
    for row in rows:
        notes.append(f"{row.benchmark} {row.path}, per round (photos/s): {_rounds(row.rates)}")
    summary = "\n".join(
        _summary(name, measured, floor)
        for name, measured, floor in (
            (INTAKE, intake_rows[0], intake_rows[1]),
            (BACKGROUND, background_rows[0], background_rows[1]),
        )
    )
    return Result(rows=rows, summary=summary, notes=notes)


def _summary(name: str, measured: Row, floor: Row) -> str:
    return (
        f"bench {name}: {measured.median:.1f} photos/s; floor {floor.median:.1f} photos/s; "
        f"ratio {three_digits(measured.median / floor.median)}"
    )


def _rounds(rates: list[float]) -> str:
    return ", ".join(f"{rate:.1f}" for rate in rates)


# --- The photos ---------------------------------------------------------------------------------------


def _make_photos(directory: Path, outlet, count: int = PHOTOS) -> list[Path]:
    """``count`` distinct textured 12 MP JPEGs with a phone's EXIF, written to ``directory``. Each
    picture has its own random seed, so they are made on two threads (Pillow's resizing, blending
    and JPEG encoding release the GIL)."""
    width, height = SIZE
    grain = Image.effect_noise((width + 256, height + 256), 10)  # sensor grain, shared, cropped apart
    flat = Image.new("L", SIZE, 128)
    lon, lat = to_wgs84(outlet.given_longitude, outlet.given_latitude, outlet.given_system)

    def make(i: int) -> Path:
        rng = random.Random(20261123 + i)  # noqa: S311 - test pictures, not secrets
        channels = []
        for _ in range(3):
            broad = Image.frombytes("L", (16, 12), rng.randbytes(16 * 12))
            detail = Image.frombytes("L", (500, 375), rng.randbytes(500 * 375))
            channel = Image.blend(
                broad.resize(SIZE, Image.Resampling.BICUBIC),
                detail.resize(SIZE, Image.Resampling.BILINEAR),
                0.3,
            )
            x, y = rng.randrange(256), rng.randrange(256)
            noise = Image.blend(flat, grain.crop((x, y, x + width, y + height)), rng.uniform(0.45, 1.0))
            channels.append(ImageChops.add(channel, noise, offset=-128))
        picture = Image.merge("RGB", channels)
        draw = ImageDraw.Draw(picture)  # edges: signs, pipes, equipment
        for _ in range(60):
            x, y = rng.randrange(width), rng.randrange(height)
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            box = (x, y, x + rng.randrange(50, 600), y + rng.randrange(50, 400))
            draw.rectangle(box, outline=colour, width=rng.randrange(2, 12))
        exif = _exif(lon + rng.uniform(-2e-4, 2e-4), lat + rng.uniform(-2e-4, 2e-4), upright=i % 2 == 1)
        path = directory / f"IMG_{i:04d}.jpg"
        picture.save(path, "JPEG", quality=QUALITY, exif=exif)
        return path

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(make, range(count)))


def _exif(lon: float, lat: float, *, upright: bool) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Xiaomi"  # Make
    exif[0x0110] = "Redmi Note 12"  # Model
    exif[0x0112] = 6 if upright else 1  # Orientation
    exif[0x0132] = TIME_MARK.decode()  # DateTime
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = TIME_MARK.decode()  # DateTimeOriginal
    sub[0x9004] = TIME_MARK.decode()  # DateTimeDigitized
    sub[0x9011] = "+08:00"  # OffsetTimeOriginal
    sub[0x9010] = "+08:00"  # OffsetTime
    sub[0x829A] = 1 / 120  # ExposureTime
    sub[0x829D] = 1.8  # FNumber
    sub[0x8827] = 100  # ISOSpeedRatings
    sub[0x920A] = 4.7  # FocalLength
    sub[0xA002], sub[0xA003] = SIZE  # PixelXDimension, PixelYDimension
    sub[0xA420] = UID_MARK.decode()  # ImageUniqueID
    gps = exif.get_ifd(0x8825)
    gps.update({0x01: "N", 0x02: _dms(lat), 0x03: "E", 0x04: _dms(lon)})
    gps.update({0x05: 0, 0x06: 6.5, 0x1F: 4.0})  # above sea level, 6.5 m; horizontal error 4 m
    return exif


def _dms(value: float) -> tuple[float, float, float]:
    degrees, rest = divmod(abs(value) * 3600, 3600)
    minutes, seconds = divmod(rest, 60)
    return float(degrees), float(minutes), round(seconds, 4)


def _patch(data: bytes, old: bytes, new: bytes) -> bytes:
    head = data[:HEADER]
    if head.count(old) < 1 or len(old) != len(new):
        raise RuntimeError(f"photo bench: {old!r} not in the EXIF header")
    return head.replace(old, new) + data[HEADER:]


# --- photo-intake -------------------------------------------------------------------------------------


def _intake(user, task, outlet, paths: list[Path], notes: list[str]) -> tuple[list[Row], list[list[str]]]:
    originals = [path.read_bytes() for path in paths]
    issued = token_issue(
        user=user, info=DeviceInfo(id=str(uuid.uuid4()), platform="wechat", app_version="bench")
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    measured = Row(INTAKE, f"HTTP POST {URL} (multipart)", PHOTOS)
    floor = Row(INTAKE, "floor: read file + SHA-256", PHOTOS)
    queued: list[str] = []
    blob_sets: list[list[str]] = []
    verdicts: Counter[str] = Counter()

    def one_round(stages: _Stages | None = None, profiler: cProfile.Profile | None = None) -> float:
        bodies = _bodies(originals, task, outlet)
        responses = []

        def post_all() -> None:
            for body in bodies:
                responses.append(
                    client.post(URL, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
                )

        with stages.watching() if stages is not None else ExitStack():
            if profiler is not None:
                profiler.enable()
            seconds = timed(post_all)
            if profiler is not None:
                profiler.disable()
        blob_sets.append(_check(responses, verdicts))
        if stages is not None:
            stages.seconds = seconds
        return PHOTOS / seconds

    with mock.patch.object(tasks.process_blob, "delay", queued.append):
        one_round()  # warm-up
        stages = _Stages()
        one_round(stages)
        notes.append(stages.describe(PHOTOS))
        _floor_round(paths)
        for _ in range(RUNS):
            measured.rates.append(one_round())
            floor.rates.append(_floor_round(paths))
        if os.environ.get("BENCH_PROFILE"):
            profiler = cProfile.Profile()
            one_round(profiler=profiler)
            notes.append(_profile_text(profiler, f"one intake round of {PHOTOS} photos"))
    rounds = len(blob_sets)
    if len(queued) != rounds * PHOTOS or Blob.objects.filter(processed_at__isnull=False).exists():
        raise RuntimeError(f"photo bench: {len(queued)} background tasks queued, expected {rounds * PHOTOS}")
    notes.append(
        f"{INTAKE}: verdicts of the {sum(verdicts.values())} photos recorded: "
        + ", ".join(f"{verdict} {count}" for verdict, count in verdicts.most_common())
        + f"; {len(queued)} process_blob tasks queued, none run"
    )
    return [measured, floor], blob_sets


def _bodies(originals: list[bytes], task, outlet) -> list[bytes]:
    """The round's multipart bodies: each photo with new EXIF times and id, and its manifest."""
    taken = dt.datetime.now(tz=SHANGHAI).replace(microsecond=0) - dt.timedelta(seconds=2)
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S").encode()
    bodies = []
    for i, original in enumerate(originals):
        data = _patch(_patch(original, TIME_MARK, stamp), UID_MARK, uuid.uuid4().hex.upper().encode())
        fields = {
            "id": str(uuid.uuid4()),
            "photo_type": PHOTO_TYPE,
            "task": str(task.pk),
            "outlet": str(outlet.pk),
            "longitude": f"{outlet.given_longitude + (i % 5 - 2) * 1e-4:.6f}",
            "latitude": f"{outlet.given_latitude + (i % 3 - 1) * 1e-4:.6f}",
            "coordinate_system": outlet.given_system,
            "accuracy_m": "8",
            "fix_time": (taken - dt.timedelta(seconds=3)).isoformat(),
            "device_time": taken.isoformat(),
            "file": SimpleUploadedFile(f"IMG_{i:04d}.jpg", data, content_type="image/jpeg"),
        }
        bodies.append(encode_multipart(BOUNDARY, fields))
    return bodies


def _check(responses: list, verdicts: Counter[str]) -> list[str]:
    """Every photo recorded (201) with its file; the round's SHA-256s, for the background bench."""
    hashes = []
    for response in responses:
        if response.status_code != 201:
            raise RuntimeError(f"photo bench: HTTP {response.status_code}: {response.content[:500]!r}")
        body = response.json()
        if body["awaiting_media"]:
            raise RuntimeError(f"photo bench: photo {body['id']} recorded without its file")
        verdicts[body["verdict"]] += 1
        hashes.append(body["sha256"])
    if len(set(hashes)) != PHOTOS:
        raise RuntimeError("photo bench: a round's files were not all new")
    return hashes


def _floor_round(paths: list[Path]) -> float:
    def read_and_hash() -> None:
        for path in paths:
            hashlib.sha256(path.read_bytes()).hexdigest()

    return PHOTOS / timed(read_and_hash)


HANDLER = "the upload handler hashing and keeping the file in memory"
READ_BACK = "reading the kept file back whole"
INGEST = "intake.ingest"
DESCRIBE = "describe (the decode check, at 1/8 scale)"
EXIF = "read_exif"
SAVE = "storage save"
RECORD = "record_photo"


class _Stages:
    """Where an intake round's time goes: cumulative time in a few functions on the request's path."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self.seconds = 0.0

    @contextmanager
    def watching(self) -> Iterator[None]:
        from mobile_api import photos

        targets = [
            (intake.HashingUploadHandler, "receive_data_chunk", HANDLER),
            (intake, "ingest", INGEST),
            (intake, "describe", DESCRIBE),
            (intake, "read_exif", EXIF),
            (default_storage, "save", SAVE),
            (photos, "record_photo", RECORD),
        ]
        with ExitStack() as stack:
            for owner, name, label in targets:
                stack.enter_context(mock.patch.object(owner, name, self._wrap(getattr(owner, name), label)))
            # The view reads the kept upload back whole: File proxies read() to its file.
            stack.enter_context(
                mock.patch.object(
                    InMemoryUploadedFile, "read", property(lambda f: self._wrap(f.file.read, READ_BACK))
                )
            )
            yield

    def _wrap(self, fn: Callable, label: str) -> Callable:
        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[label] += time.perf_counter() - start

        return timed_call

    def describe(self, photos: int) -> str:
        ms = {label: seconds / photos * 1000 for label, seconds in self.spent.items()}
        total = self.seconds / photos * 1000
        ingest, record = ms.get(INGEST, 0.0), ms.get(RECORD, 0.0)

        def part(label: str) -> str:
            return f"{label} {ms.get(label, 0.0):.1f}"

        return (
            f"{INTAKE}, per photo (one untimed round of {photos}, stage timers on), in ms: {total:.1f} = "
            f"the request outside the two calls below {total - ingest - record:.1f} (multipart parsing, "
            f"auth, serializers, response; of which {part(HANDLER)}, {part(READ_BACK)}) + "
            f"intake.ingest {ingest:.1f} (of which {part(DESCRIBE)}, {part(EXIF)}, {part(SAVE)}) + "
            f"record_photo {record:.1f} (the photo row, judging it, the change record)"
        )


# --- photo-background ---------------------------------------------------------------------------------


def _background(blob_sets: list[list[str]], notes: list[str]) -> list[Row]:
    measured = Row(BACKGROUND, "background.measure(person=False)", PHOTOS)
    floor = Row(BACKGROUND, "floor: decode only, draft 320 px", PHOTOS)
    task = Row(BACKGROUND, "process_blob (task body)", PHOTOS)
    unused = list(blob_sets)

    def load(hashes: list[str]) -> list[tuple[Blob, bytes]]:
        blobs = Blob.objects.in_bulk(hashes)
        out = []
        for sha in hashes:
            with default_storage.open(blobs[sha].name, "rb") as stream:
                out.append((blobs[sha], stream.read()))
        return out

    def measure_round(files: list[tuple[Blob, bytes]]) -> float:
        results = []

        def measure_all() -> None:
            for blob, data in files:
                results.append(background.measure(blob, data, person=False))

        seconds = timed(measure_all)
        for values in results:
            if values.get("process_error") or values.get("phash") is None or not values.get("thumbnail"):
                raise RuntimeError(f"photo bench: measure failed: {values}")
        return len(files) / seconds

    def floor_round(files: list[tuple[Blob, bytes]]) -> float:
        def decode_all() -> None:
            for _, data in files:
                image = Image.open(io.BytesIO(data))
                image.draft("RGB", (320, 320))
                image.load()

        return len(files) / timed(decode_all)

    def task_round(hashes: list[str]) -> float:
        done = []
        seconds = timed(lambda: done.extend(background.process_blob(sha) for sha in hashes))
        if not all(done) or Blob.objects.filter(pk__in=hashes, processed_at__isnull=True).exists():
            raise RuntimeError("photo bench: process_blob left files unprocessed")
        return len(hashes) / seconds

    # Each measure round gets files never processed (no thumbnail yet). process_blob then gets files
    # the measure rounds thumbnailed, their thumbnails deleted (measure stores nothing on the Blob, so
    # they are still unprocessed).
    warm = load(unused.pop(0))
    measure_round(warm)
    floor_round(warm)
    done_sets = []
    for _ in range(RUNS):
        files = load(unused.pop(0))
        measured.rates.append(measure_round(files))
        floor.rates.append(floor_round(files))
        done_sets.append([blob.sha256 for blob, _ in files])
    for hashes in done_sets[:BG_TASK_RUNS]:
        for sha in hashes:
            default_storage.delete(background.thumbnail_name(sha))
        task.rates.append(task_round(hashes))
    photos = Photo.objects.filter(blob_id__in=[sha for hashes in done_sets[:BG_TASK_RUNS] for sha in hashes])
    notes.append(
        f"{BACKGROUND}: process_blob ÷ measure {three_digits(task.median / measured.median)}; verdicts "
        "after process_blob: "
        + ", ".join(
            f"{v or 'pending'} {n}" for v, n in Counter(photos.values_list("verdict", flat=True)).items()
        )
    )
    return [measured, floor, task]


def _profile_text(profiler: cProfile.Profile, what: str) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    out.write("\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    return f"cProfile of {what}:\n{out.getvalue()}"
