"""The plain values photo authenticity is judged on. No Django models here: the rules
(``media_rules/rules.py``) are pure functions over these, tested without a database.

Three sources must agree (DESIGN.md, "Photo authenticity"): the photo's EXIF, the phone's own
location fix at capture (often the only location: WeChat strips EXIF GPS from mini-program
uploads), and the server (receive time, hashes, what else it holds).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return {"pass": 0, "warn": 1, "fail": 2}[self.value]


@dataclass(frozen=True)
class ExifData:
    """EXIF as read from the file's header, normalised. Every field may be missing."""

    capture_time: dt.datetime | None = None  # aware; DateTimeOriginal + OffsetTimeOriginal + SubSec
    capture_offset_assumed: bool = False  # True when no offset was recorded and Asia/Shanghai was assumed
    gps_lon: float | None = None  # WGS-84 decimal degrees (camera GPS is WGS-84)
    gps_lat: float | None = None
    gps_time: dt.datetime | None = None  # aware, UTC (GPSDateStamp + GPSTimeStamp)
    gps_accuracy_m: float | None = None  # GPSHPositioningError, tag 0x001F
    altitude_m: float | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    modify_time: dt.datetime | None = None  # aware; DateTime (0x0132) with OffsetTime
    width: int | None = None
    height: int | None = None
    orientation: int | None = None  # 1..8
    problems: tuple[str, ...] = ()  # what could not be read, e.g. "corrupt_exif"

    @property
    def has_gps(self) -> bool:
        return self.gps_lon is not None and self.gps_lat is not None


@dataclass(frozen=True)
class CaptureFix:
    """The phone's own location fix taken when the photo was captured (from the capture manifest),
    already converted to WGS-84; what the phone sent is kept alongside."""

    lon: float
    lat: float
    accuracy_m: float | None
    fix_time: dt.datetime | None
    declared_system: str  # "wgs84", "gcj02" or "bd09", as the phone declared it
    raw_lon: float
    raw_lat: float
    mock: bool = False


@dataclass(frozen=True)
class Site:
    """Where the photo should have been taken: a sampling point or an outlet, with its geofence."""

    lon: float
    lat: float
    geofence_m: float
    name: str = ""


@dataclass(frozen=True)
class DuplicateUse:
    """The same file (by SHA-256) or a near-duplicate (by perceptual hash) already stored elsewhere."""

    photo_id: str
    task_id: str | None
    site_name: str = ""
    distance: int = 0  # Hamming distance of the perceptual hashes; 0 for the same file
    mirrored: bool = False


@dataclass(frozen=True)
class PhotoContext:
    """Everything the rules look at for one photo."""

    exif: ExifData
    fix: CaptureFix | None
    site: Site | None
    device_time: dt.datetime | None  # the phone's clock at capture, corrected by its measured offset
    receive_time: dt.datetime  # when the server received the photo
    task_window: tuple[dt.datetime, dt.datetime] | None = None  # the task's start and end (or now)
    photo_type: str = ""
    stage: str = ""  # sampling, delivery, lab
    # Capture times of the same task's photos in earlier and later stages (stage-order rule).
    earlier_stage_latest: dt.datetime | None = None
    later_stage_earliest: dt.datetime | None = None
    same_file_uses: tuple[DuplicateUse, ...] = ()  # the photo's own agency's uses, named
    # The same file used earlier by another agency (F9 item 4): a finding, but one that names nothing
    # the viewer may not see (no photo, task, site or agency of the other tenant).
    same_file_other_agency: bool = False
    near_duplicates: tuple[DuplicateUse, ...] = ()
    signature_valid: bool | None = None  # None: no signature sent
    # The person in a work photo (seed 003: the face must be clear), measured in the background by
    # media_rules/faces.py; None while not measured yet.
    face_count: int | None = None
    sharpness: float | None = None  # variance of the Laplacian of the reduced grey image
    # What the background decode of the file found wrong (Blob.process_error), "" when nothing or not yet.
    file_error: str = ""


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    zh: str
    en: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": {"zh-hans": self.zh, "en": self.en},
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Verdict:
    """The worst severity and every finding. A photo is never deleted for its verdict."""

    severity: Severity
    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, findings: list[Finding]) -> Verdict:
        worst = max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.PASS)
        return cls(severity=worst, findings=tuple(findings))
