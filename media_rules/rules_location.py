"""Location rules (see ``media_rules/rules.py`` for the list of codes and ``Thresholds``).

The location evidence is the phone's capture fix when there is one (WeChat strips EXIF GPS), else
the EXIF GPS. Distances are geodesic on WGS-84 and accuracy-aware: a position is outside only if
distance - accuracy > geofence, with the accuracy credit capped by ``max_accuracy_credit_m``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from media_rules.evidence import Finding, PhotoContext, Severity
from server.errors import DomainError
from server.geo import CoordinateSystem, geodesic_distance_m, to_wgs84

if TYPE_CHECKING:
    from media_rules.rules import Thresholds

_DEFAULT_EXIF_FIX_SLACK_M = 200.0  # used when there is no site to take a geofence from
_SYSTEM_LABELS = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
_SOURCE_LABELS = {
    "capture_fix": ("手机采集定位", "the capture fix"),
    "exif_gps": ("EXIF GPS", "the EXIF GPS"),
}
_TARGET_LABELS = {"site": ("点位", "the site"), **_SOURCE_LABELS}


@dataclass(frozen=True)
class _Position:
    source: str  # "capture_fix" or "exif_gps"
    lon: float  # WGS-84
    lat: float
    accuracy_m: float | None
    declared_system: str  # what the coordinates were declared as
    raw_lon: float  # the coordinates as sent, before conversion
    raw_lat: float


def _usable(lon: float | None, lat: float | None) -> bool:
    # (0, 0) is what cameras and some phones write when they have no fix: treated as no location.
    if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
        return False
    return -180 <= lon <= 180 and -90 <= lat <= 90 and (lon, lat) != (0, 0)


def _fix_position(ctx: PhotoContext) -> _Position | None:
    fix = ctx.fix
    if fix is None or not _usable(fix.lon, fix.lat):
        return None
    declared = str(fix.declared_system or "").strip().lower()
    raw_ok = _usable(fix.raw_lon, fix.raw_lat)
    return _Position(
        "capture_fix",
        fix.lon,
        fix.lat,
        fix.accuracy_m,
        declared,
        fix.raw_lon if raw_ok else fix.lon,
        fix.raw_lat if raw_ok else fix.lat,
    )


def _exif_position(ctx: PhotoContext) -> _Position | None:
    exif = ctx.exif
    if not _usable(exif.gps_lon, exif.gps_lat):
        return None
    # Camera GPS is WGS-84 by definition; some phones nevertheless write GCJ-02 (mix-up check below).
    return _Position(
        "exif_gps", exif.gps_lon, exif.gps_lat, exif.gps_accuracy_m, "wgs84", exif.gps_lon, exif.gps_lat
    )


def _location(ctx: PhotoContext) -> _Position | None:
    """The location evidence: the capture fix, else the EXIF GPS, else None."""
    return _fix_position(ctx) or _exif_position(ctx)


def _distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float | None:
    try:
        return geodesic_distance_m(lon1, lat1, lon2, lat2)
    except (DomainError, ValueError):
        return None


def _credit(accuracy_m: float | None, th: Thresholds) -> float:
    if accuracy_m is None or not math.isfinite(accuracy_m) or accuracy_m <= 0:
        return 0.0
    return min(accuracy_m, th.max_accuracy_credit_m)


def _m(metres: float) -> str:
    return f"{metres:,.0f}"


def _accuracy_text(accuracy_m: float | None) -> tuple[str, str]:
    if accuracy_m is None or not math.isfinite(accuracy_m):
        return "", ""
    return f"（定位精度 ±{_m(accuracy_m)} 米）", f" (accuracy ±{_m(accuracy_m)} m)"


def _relabel(
    pos: _Position, lon: float, lat: float, limit_m: float
) -> tuple[str, float, float, float] | None:
    """The other coordinate system that, had the raw coordinates been declared in it, puts ``pos``
    within ``limit_m`` of (lon, lat): ``(system, lon, lat, distance)`` of the closest, or None."""
    best = None
    for system in CoordinateSystem:
        if system.value == pos.declared_system:
            continue
        try:
            corrected = to_wgs84(pos.raw_lon, pos.raw_lat, system.value)
        except DomainError:
            continue
        distance = _distance(*corrected, lon, lat)
        if distance is not None and distance <= limit_m and (best is None or distance < best[3]):
            best = (system.value, corrected[0], corrected[1], distance)
    return best


def _mixup_finding(
    pos: _Position,
    relabel: tuple[str, float, float, float],
    target: str,
    as_declared_m: float,
    evidence: dict[str, Any],
) -> Finding:
    system, lon, lat, distance = relabel
    declared = _SYSTEM_LABELS.get(pos.declared_system, pos.declared_system or "?")
    actual = _SYSTEM_LABELS[system]
    source_zh, source_en = _SOURCE_LABELS[pos.source]
    target_zh, target_en = _TARGET_LABELS[target]
    return Finding(
        "coordinate_system_mixup",
        Severity.WARN,
        f"{source_zh}坐标系疑似标错：声明为 {declared}，按 {actual} 换算后距{target_zh} {_m(distance)} 米"
        f"（按声明为 {_m(as_declared_m)} 米）。这是客户端缺陷，不是造假",
        f"The coordinate system of {source_en} looks mislabelled: declared {declared}, but read as "
        f"{actual} it is {_m(distance)} m from {target_en} ({_m(as_declared_m)} m as declared). "
        "A client bug, not fraud",
        {
            **evidence,
            "compared_with": target,
            "declared_system": pos.declared_system,
            "likely_system": system,
            "raw": [pos.raw_lon, pos.raw_lat],
            "corrected": [lon, lat],
            "corrected_distance_m": round(distance, 1),
        },
    )


def rule_location_missing(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    if _location(ctx) is not None:
        return []
    return [
        Finding(
            "location_missing",
            Severity.FAIL if th.location_required else Severity.WARN,
            "没有任何位置信息：既无手机采集定位，也无 EXIF GPS",
            "No location at all: neither a capture fix from the phone nor EXIF GPS",
            {"capture_fix": ctx.fix is not None, "exif_gps": ctx.exif.has_gps},
        )
    ]


def rule_geofence(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    pos, site = _location(ctx), ctx.site
    if pos is None or site is None or not _usable(site.lon, site.lat):
        return []
    distance = _distance(pos.lon, pos.lat, site.lon, site.lat)
    geofence = th.geofence_m if th.geofence_m is not None else site.geofence_m
    if distance is None or geofence is None or not math.isfinite(geofence):
        return []
    credit = _credit(pos.accuracy_m, th)
    evidence = {
        "source": pos.source,
        "position": [pos.lon, pos.lat],
        "site": [site.lon, site.lat],
        "site_name": site.name,
        "distance_m": round(distance, 1),
        "accuracy_m": pos.accuracy_m,
        "accuracy_credit_m": credit,
        "geofence_m": geofence,
    }
    acc_zh, acc_en = _accuracy_text(pos.accuracy_m)
    if distance - credit <= geofence:
        return [
            Finding(
                "within_geofence",
                Severity.PASS,
                f"距点位 {_m(distance)} 米{acc_zh}，在电子围栏 {_m(geofence)} 米内",
                f"{_m(distance)} m from the site{acc_en}, within its {_m(geofence)} m geofence",
                evidence,
            )
        ]
    relabel = _relabel(pos, site.lon, site.lat, geofence + credit)
    if relabel is not None:
        return [_mixup_finding(pos, relabel, "site", distance, evidence)]
    return [
        Finding(
            "outside_geofence",
            Severity.FAIL,
            f"距点位 {_m(distance)} 米{acc_zh}，超出电子围栏 {_m(geofence)} 米",
            f"{_m(distance)} m from the site{acc_en}, beyond its {_m(geofence)} m geofence",
            evidence,
        )
    ]


def rule_exif_gps_vs_fix(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    fix, exif = _fix_position(ctx), _exif_position(ctx)
    if fix is None or exif is None:
        return []
    distance = _distance(exif.lon, exif.lat, fix.lon, fix.lat)
    if distance is None:
        return []
    if th.exif_fix_slack_m is not None:
        slack = th.exif_fix_slack_m
    elif ctx.site is not None:
        slack = th.geofence_m if th.geofence_m is not None else ctx.site.geofence_m
    else:
        slack = _DEFAULT_EXIF_FIX_SLACK_M
    limit = _credit(exif.accuracy_m, th) + _credit(fix.accuracy_m, th) + slack
    evidence = {
        "exif_gps": [exif.lon, exif.lat],
        "capture_fix": [fix.lon, fix.lat],
        "distance_m": round(distance, 1),
        "exif_accuracy_m": exif.accuracy_m,
        "fix_accuracy_m": fix.accuracy_m,
        "limit_m": round(limit, 1),
    }
    if distance <= limit:
        return [
            Finding(
                "exif_gps_agrees",
                Severity.PASS,
                f"EXIF GPS 与手机采集定位相距 {_m(distance)} 米，一致",
                f"The EXIF GPS is {_m(distance)} m from the capture fix: they agree",
                evidence,
            )
        ]
    # Either side may carry the mislabelled coordinates (phones writing GCJ-02 into EXIF, or a fix
    # declared in the wrong system).
    for pos, other in ((exif, fix), (fix, exif)):
        relabel = _relabel(pos, other.lon, other.lat, limit)
        if relabel is not None:
            return [_mixup_finding(pos, relabel, other.source, distance, evidence)]
    return [
        Finding(
            "exif_gps_far_from_fix",
            Severity.WARN,
            f"EXIF GPS 与手机采集定位相距 {_m(distance)} 米，超过允许的 {_m(limit)} 米",
            f"The EXIF GPS is {_m(distance)} m from the capture fix, more than the {_m(limit)} m allowed",
            evidence,
        )
    ]


def rule_accuracy(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    pos = _location(ctx)
    if pos is None or pos.accuracy_m is None or not math.isfinite(pos.accuracy_m):
        return []
    accuracy = pos.accuracy_m
    evidence = {"source": pos.source, "accuracy_m": accuracy, "warn_above_m": th.accuracy_warn_m}
    source_zh, source_en = _SOURCE_LABELS[pos.source]
    if accuracy <= 0:
        # No real receiver reports a perfect fix: mock-location apps and hand-made manifests do.
        return [
            Finding(
                "zero_accuracy",
                Severity.WARN,
                f"{source_zh}精度为 {accuracy:g} 米，真实定位不会如此，疑似伪造",
                f"The accuracy of {source_en} is {accuracy:g} m, which no real fix reports: "
                "it looks fabricated",
                evidence,
            )
        ]
    if accuracy > th.accuracy_warn_m:
        return [
            Finding(
                "poor_accuracy",
                Severity.WARN,
                f"{source_zh}精度 ±{_m(accuracy)} 米，低于要求（±{_m(th.accuracy_warn_m)} 米以内）",
                f"The accuracy of {source_en} is ±{_m(accuracy)} m, "
                f"worse than the ±{_m(th.accuracy_warn_m)} m required",
                evidence,
            )
        ]
    return []


def rule_mock_location(ctx: PhotoContext, th: Thresholds) -> list[Finding]:
    fix = ctx.fix
    if fix is None or not fix.mock:
        return []
    return [
        Finding(
            "mock_location",
            Severity.FAIL,
            "手机报告该定位来自模拟位置（虚拟定位）",
            "The phone reported the capture fix as a mock location",
            {"capture_fix": [fix.lon, fix.lat], "accuracy_m": fix.accuracy_m},
        )
    ]
