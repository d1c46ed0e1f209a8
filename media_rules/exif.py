"""Read a photo's EXIF header into :class:`ExifData`, normalised, never raising.

Header only (exifread ``details=False``: no MakerNotes, no thumbnails) and no pixel decoding: uploads
are untrusted and often broken, so each failure becomes a code in ``ExifData.problems``:
``no_exif`` (no tag read, whatever the reason), ``corrupt_exif`` (exifread raised or warned; what it
read is still used), ``unsupported_format`` (not an image), ``unreadable_image`` (an image signature,
but a header Pillow cannot parse: e.g. truncated), ``empty`` (no bytes), ``unreadable_input`` (the
stream failed), ``bad_datetime`` / ``bad_gps`` (a value present but impossible).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import threading
from collections.abc import Callable
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import exifread
import pillow_heif
from PIL import Image

from media_rules.evidence import ExifData

# Our sites are in mainland China, which keeps one time zone. OffsetTime* only exists since EXIF 2.31
# (2016) and many cameras and Android builds still leave it out, so a local time without an offset is
# taken as Shanghai time (ZoneInfo rather than a fixed +08:00: China kept summer time in 1986-1991).
ASSUMED_TZ = ZoneInfo("Asia/Shanghai")

pillow_heif.register_heif_opener()  # once: lets Pillow parse HEIC headers (iPhone photos)

Key = tuple[str, int]
Tags = dict[Key, Any]
Source = tuple[Key, tuple[Key, ...], Key | None]  # a local time, its offsets, its sub-seconds

# Tags are looked up by (IFD, EXIF 2.32 tag number), not by exifread's names, which change between
# versions: 0x001F is "GPS Tag 0x001F" in exifread 3.5 and "GPS GPSHPositioningError" in others.
MAKE, MODEL, ORIENTATION = ("Image", 0x010F), ("Image", 0x0110), ("Image", 0x0112)
SOFTWARE, DATETIME = ("Image", 0x0131), ("Image", 0x0132)
DATETIME_ORIGINAL, DATETIME_DIGITIZED = ("EXIF", 0x9003), ("EXIF", 0x9004)
OFFSET_TIME, OFFSET_ORIGINAL, OFFSET_DIGITIZED = ("EXIF", 0x9010), ("EXIF", 0x9011), ("EXIF", 0x9012)
SUBSEC, SUBSEC_ORIGINAL, SUBSEC_DIGITIZED = ("EXIF", 0x9290), ("EXIF", 0x9291), ("EXIF", 0x9292)
PIXEL_X, PIXEL_Y = ("EXIF", 0xA002), ("EXIF", 0xA003)  # PixelXDimension, PixelYDimension
LAT_REF, LAT, LON_REF, LON = ("GPS", 0x0001), ("GPS", 0x0002), ("GPS", 0x0003), ("GPS", 0x0004)
ALT_REF, ALT, GPS_TIME = ("GPS", 0x0005), ("GPS", 0x0006), ("GPS", 0x0007)
GPS_DATE, GPS_H_ERROR = ("GPS", 0x001D), ("GPS", 0x001F)  # GPSDateStamp, GPSHPositioningError

# Capture time: DateTimeOriginal, else DateTimeDigitized, else DateTime (the last write, perhaps an
# editor's); each with its own offset and sub-second tags, OffsetTime (0x9010) as the common fallback.
_CAPTURE: tuple[Source, ...] = (
    (DATETIME_ORIGINAL, (OFFSET_ORIGINAL, OFFSET_TIME), SUBSEC_ORIGINAL),
    (DATETIME_DIGITIZED, (OFFSET_DIGITIZED, OFFSET_TIME), SUBSEC_DIGITIZED),
    (DATETIME, (OFFSET_TIME,), SUBSEC),
)
_MODIFY: tuple[Source, ...] = ((DATETIME, (OFFSET_TIME,), None),)  # DateTime 0x0132 + OffsetTime
_DATETIME_RE = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")
# Image signatures (JPEG, PNG, TIFF, WebP, GIF; HEIF is "ftyp" at 4): truncated photo vs no photo.
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*", b"RIFF", b"GIF8")
_exifread_lock = threading.Lock()


def read_exif(data: bytes | BinaryIO) -> ExifData:
    """The photo's EXIF, normalised; never raises, whatever ``data`` holds."""
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            return _read(io.BytesIO(bytes(data)))
        if not data.seekable():
            return _read(io.BytesIO(data.read()))
        start = data.tell()
        try:
            return _read(data)
        finally:
            data.seek(start)  # leave an upload where the caller had it (it is hashed next)
    except Exception:
        return ExifData(problems=("no_exif", "unreadable_input"))


def _read(stream: BinaryIO) -> ExifData:
    problems: list[str] = []
    tags = _exif_tags(stream, problems)
    capture_time, assumed = _first_time(tags, _CAPTURE, problems)
    width, height = _int(tags.get(PIXEL_X), 1), _int(tags.get(PIXEL_Y), 1)
    if not tags or width is None or height is None:
        width, height = _header_size(stream, problems)
    lon, lat = _guarded(_position, tags, problems) or (None, None)
    return ExifData(
        capture_time=capture_time,
        capture_offset_assumed=assumed,
        gps_lon=lon,
        gps_lat=lat,
        gps_time=_guarded(_gps_time, tags, problems),
        gps_accuracy_m=_guarded(lambda t: _ratio(_first(t.get(GPS_H_ERROR)), 0), tags, problems),
        altitude_m=_guarded(_altitude, tags, problems),
        make=_text(tags.get(MAKE)),
        model=_text(tags.get(MODEL)),
        software=_text(tags.get(SOFTWARE)),
        modify_time=_first_time(tags, _MODIFY, problems)[0],
        width=width,
        height=height,
        orientation=_int(tags.get(ORIENTATION), 1, 8),
        problems=tuple(dict.fromkeys(problems)),  # de-duplicated, in order found
    )


def _exif_tags(stream: BinaryIO, problems: list[str]) -> Tags:
    logger, raised = logging.getLogger("exifread"), False
    warnings: list[logging.LogRecord] = []

    def swallow(record: logging.LogRecord) -> bool:  # keep its warnings as evidence, log nothing
        warnings.append(record)
        return False

    with _exifread_lock:  # the logger is shared by every thread: one reader changes it at a time
        level = logger.level
        logger.setLevel(logging.WARNING)  # its debug chatter is not even formatted
        logger.addFilter(swallow)
        try:
            raw = exifread.process_file(stream, details=False, extract_thumbnail=False)
        except Exception:  # exifread raises on truncated or malformed headers (BadSize, struct...)
            raw, raised = {}, True
        finally:
            logger.removeFilter(swallow)
            logger.setLevel(level)
    tags = {(k.split(" ")[0], v.tag): v for k, v in raw.items() if isinstance(getattr(v, "tag", None), int)}
    if raised or (warnings and tags):  # with no tag, its warning only says "no EXIF found"
        problems.append("corrupt_exif")
    if not tags:
        problems.append("no_exif")
    return tags


def _header_size(stream: BinaryIO, problems: list[str]) -> tuple[int | None, int | None]:
    """Width and height from the image header: Image.open decodes no pixels until load()."""
    try:
        stream.seek(0)
        with Image.open(stream) as image:
            return image.size
    except Exception:
        stream.seek(0)
        head = stream.read(12)
        is_image = head.startswith(_IMAGE_MAGIC) or head[4:8] == b"ftyp"
        problems.append("unreadable_image" if is_image else "unsupported_format" if head else "empty")
        return None, None


def _first_time(
    tags: Tags, sources: tuple[Source, ...], problems: list[str]
) -> tuple[dt.datetime | None, bool]:
    """The first usable local time among ``sources``, made aware; and whether its zone was assumed."""
    for when_key, offset_keys, subsec_key in sources:
        try:
            when = _local_time(_text(tags.get(when_key)))
        except ValueError:
            problems.append("bad_datetime")
            continue
        if when is None:
            continue
        subsec = _text(tags.get(subsec_key)) if subsec_key else None
        if subsec and subsec.isdigit():  # digits of a decimal fraction: "054" is 0.054 s
            when = when.replace(microsecond=int(subsec[:6].ljust(6, "0")))
        for key in offset_keys:
            try:
                offset = _offset(_text(tags.get(key)))
            except ValueError:
                problems.append("bad_datetime")
                continue
            if offset is not None:
                return when.replace(tzinfo=offset), False
        return when.replace(tzinfo=ASSUMED_TZ), True
    return None, False


def _local_time(text: str | None) -> dt.datetime | None:
    """Naive 'YYYY:MM:DD HH:MM:SS'. None when unknown: EXIF 2.32 fills an unknown time with blanks,
    many cameras with zeros. ValueError when garbled or impossible ("2008:13:45 25:00:00")."""
    if not text or not text.strip(" :0"):
        return None
    match = _DATETIME_RE.fullmatch(text)
    if not match:
        raise ValueError(text)
    return dt.datetime(*map(int, match.groups()))  # noqa: DTZ001 (the caller adds the zone)


def _offset(text: str | None) -> dt.timezone | None:
    """'+08:00' as OffsetTime* writes it; None when blank, ValueError when impossible."""
    if not text or not text.strip(" :"):
        return None
    match = _OFFSET_RE.fullmatch(text)
    if not match or int(match[2]) > 14 or int(match[3]) >= 60:  # real zones span -12:00..+14:00
        raise ValueError(text)
    minutes = int(match[2]) * 60 + int(match[3])
    return dt.timezone(dt.timedelta(minutes=-minutes if match[1] == "-" else minutes))


def _position(tags: Tags) -> tuple[float | None, float | None]:
    """Signed WGS-84 (lon, lat). (0, 0) is a receiver without a fix, not a photo off Africa."""
    lat = _coordinate(tags.get(LAT), tags.get(LAT_REF), "NS", 90)
    lon = _coordinate(tags.get(LON), tags.get(LON_REF), "EW", 180)
    if (lat is None) != (lon is None):
        raise ValueError("half a position")
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None
    return lon, lat


def _coordinate(tag: Any, ref_tag: Any, refs: str, limit: float) -> float | None:
    """Degrees, minutes, seconds rationals; all 0/0 (written by cameras without a fix) is missing."""
    ratios = [_ratio(v) for v in _values(tag)]
    parts = [r for r in ratios if r is not None]
    if not parts:
        return None
    if len(parts) != len(ratios) or len(parts) > 3:
        raise ValueError("incomplete coordinate")
    value = sum(part / 60**i for i, part in enumerate(parts))
    ref = (_text(ref_tag) or "?")[0].upper()
    if ref not in refs or not 0 <= value <= limit:  # without N/S or E/W the sign is unknown
        raise ValueError("bad coordinate")
    return -value if ref == refs[1] else value


def _gps_time(tags: Tags) -> dt.datetime | None:
    """GPSDateStamp (0x001D) + GPSTimeStamp (0x0007): UTC by definition (EXIF 2.32)."""
    date, ratios = _text(tags.get(GPS_DATE)), [_ratio(v, 0) for v in _values(tags.get(GPS_TIME))]
    time = [r for r in ratios if r is not None]
    if not date or not date.strip(" :0") or not time or len(time) != len(ratios):
        return None
    hours, minutes, seconds = time  # ValueError unless exactly three
    if hours >= 24 or minutes >= 60 or seconds >= 61:  # 60: a leap second
        raise ValueError("bad GPS time")
    year, month, day = map(int, date.replace("-", ":").split(":"))
    midnight = dt.datetime(year, month, day, tzinfo=dt.timezone.utc)
    return midnight + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _altitude(tags: Tags) -> float | None:
    altitude = _ratio(_first(tags.get(ALT)), 0)
    below_sea = _int(tags.get(ALT_REF)) == 1  # GPSAltitudeRef: 0 above sea level, 1 below
    return -altitude if altitude is not None and below_sea else altitude


def _guarded(read: Callable[[Tags], Any], tags: Tags, problems: list[str]) -> Any:
    """A GPS field, or None and ``bad_gps`` when the camera wrote something impossible."""
    try:
        return read(tags)
    except Exception:
        problems.append("bad_gps")
        return None


def _values(tag: Any) -> list[Any]:
    values = getattr(tag, "values", None)
    return list(values) if isinstance(values, (list, tuple)) else []


def _first(tag: Any) -> Any:
    return (_values(tag) or [None])[0]


def _ratio(value: Any, low: float = -math.inf) -> float | None:
    """A rational (exifread's Ratio is a Fraction) as a float; None for n/0, written when unknown.
    ValueError below ``low`` (a negative distance or time)."""
    if value is None or getattr(value, "denominator", 1) == 0:
        return None
    number = float(value)
    if number < low:
        raise ValueError(value)
    return number if math.isfinite(number) else None


def _int(tag: Any, low: int = 0, high: int = 2**32) -> int | None:
    value = _first(tag)
    return value if isinstance(value, int) and low <= value <= high else None


def _text(tag: Any) -> str | None:
    """An ASCII tag, cut at its NUL terminator and stripped; None when empty."""
    values = getattr(tag, "values", None)
    if isinstance(values, list) and all(isinstance(v, int) and 0 <= v < 256 for v in values):
        values = bytes(values)  # an ASCII tag written with the wrong type (BYTE or UNDEFINED)
    if isinstance(values, bytes):
        values = values.decode("utf-8", "replace")
    if not isinstance(values, str):
        return None
    return values.lstrip("\x00").split("\x00", 1)[0].strip() or None


# --- Stored form ----------------------------------------------------------------------------------
_TIME_FIELDS = ("capture_time", "gps_time", "modify_time")


def exif_to_json(exif: ExifData) -> dict[str, Any]:
    """``ExifData`` as JSON (times ISO-8601 with their offsets), as stored with the file."""
    out: dict[str, Any] = {}
    for name in ExifData.__dataclass_fields__:
        value = getattr(exif, name)
        if name in _TIME_FIELDS and value is not None:
            value = value.isoformat()
        elif name == "problems":
            value = list(value)
        out[name] = value
    return out


def exif_from_json(data: dict[str, Any] | None) -> ExifData:
    """The inverse of ``exif_to_json``; unknown keys are ignored (a field removed since storing)."""
    values: dict[str, Any] = {}
    for name in ExifData.__dataclass_fields__:
        if name not in (data or {}):
            continue
        value = data[name]
        if name in _TIME_FIELDS and value is not None:
            value = dt.datetime.fromisoformat(value)
        elif name == "problems":
            value = tuple(value)
        values[name] = value
    return ExifData(**values)
