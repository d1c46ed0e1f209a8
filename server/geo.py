"""Coordinate systems at the boundary: we store WGS-84, phones send what their map SDK gives them.

- WGS-84: GPS as measured; what the database and every distance computation use.
- GCJ-02: the obfuscated datum that Chinese map providers must use on the mainland (WeChat's
  ``wx.getLocation(type: 'gcj02')``, Gaode/AMap, Tencent Maps). Outside the mainland it equals WGS-84.
- BD-09: Baidu's further offset of GCJ-02.

Convert incoming points with ``to_wgs84`` as soon as they arrive and outgoing ones with
``from_wgs84`` just before they leave; nothing in between should know about GCJ-02 or BD-09.
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import Enum

from geopy.distance import geodesic

from server.errors import DomainError, ErrorCode

INVALID_COORDINATES = ErrorCode(
    "invalid_coordinates",
    400,
    "坐标无效：{reason_zh}",
    "Invalid coordinates: {reason_en}",
)
UNKNOWN_COORDINATE_SYSTEM = ErrorCode(
    "unknown_coordinate_system",
    400,
    "不支持的坐标系：{system}，可选 wgs84、gcj02、bd09。",
    "Unknown coordinate system: {system}; use one of wgs84, gcj02, bd09.",
)


class CoordinateSystem(str, Enum):
    # ``(str, Enum)`` rather than ``StrEnum`` (3.11+) because the project supports Python 3.10.
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """``[(value, label)]`` for model fields, serializers and the API docs."""
        return [(member.value, member.label) for member in cls]


_LABELS = {
    CoordinateSystem.WGS84: "WGS-84（GPS 原始坐标）",
    CoordinateSystem.GCJ02: "GCJ-02（国测局坐标：微信、高德、腾讯地图）",
    CoordinateSystem.BD09: "BD-09（百度地图坐标）",
}

# --- Validation -----------------------------------------------------------------------------------
_REASONS = {
    "not_a_number": ("{field} 不是数字", "{field} is not a number"),
    "not_finite": ("{field} 不是有限数值", "{field} is not a finite number"),
    "out_of_range": ("{field} 超出范围 [{low}, {high}]", "{field} is outside [{low}, {high}]"),
}


def _coordinate_error(field: str, reason: str, low: float, high: float) -> DomainError:
    zh, en = _REASONS[reason]
    values = {"field": field, "low": low, "high": high}
    return DomainError(
        INVALID_COORDINATES,
        details={"field": field, "reason": reason, "min": low, "max": high},
        reason_zh=zh.format(**values),
        reason_en=en.format(**values),
    )


def _number(value: object, field: str, low: float, high: float) -> float:
    # bool is an int subclass: True would otherwise pass as 1.0 degrees.
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise _coordinate_error(field, "not_a_number", low, high)
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _coordinate_error(field, "not_a_number", low, high) from None
    if not math.isfinite(number):
        raise _coordinate_error(field, "not_finite", low, high)
    if not low <= number <= high:
        raise _coordinate_error(field, "out_of_range", low, high)
    return number


def validate_point(lon: object, lat: object) -> tuple[float, float]:
    """``(lon, lat)`` as floats; numbers, Decimals and numeric strings are accepted."""
    return _number(lon, "lon", -180.0, 180.0), _number(lat, "lat", -90.0, 90.0)


def coordinate_system(system: object) -> CoordinateSystem:
    """The ``CoordinateSystem`` named by ``system`` (case and surrounding spaces ignored)."""
    if isinstance(system, CoordinateSystem):
        return system
    if isinstance(system, str):
        try:
            return CoordinateSystem(system.strip().lower())
        except ValueError:
            pass
    raise DomainError(
        UNKNOWN_COORDINATE_SYSTEM,
        details={"system": str(system), "allowed": [member.value for member in CoordinateSystem]},
        system=str(system),
    )


# --- GCJ-02 ---------------------------------------------------------------------------------------
# The published (reverse-engineered) GCJ-02 forward transform: an offset computed on the
# Krasovsky 1940 ellipsoid, the reference ellipsoid of the Beijing 1954 datum.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323  # first eccentricity squared


def _outside_china(lon: float, lat: float) -> bool:
    # The conventional bounding box of the mainland; outside it the providers serve WGS-84 as is.
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if _outside_china(lon, lat):
        return lon, lat
    return _gcj02_offset(lon, lat)


def _gcj02_offset(lon: float, lat: float) -> tuple[float, float]:
    """The forward transform's formula, wherever the point is."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = math.radians(lat)
    magic = 1 - _KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    # Metres-like offsets to degrees via the meridian and prime-vertical radii of curvature.
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + dlon, lat + dlat


# The offset varies by well under 1e-4 per degree, so fixed-point iteration converges fast; 1e-10
# degrees is about 0.01 mm. The common one-step inverse (subtract the offset computed at the GCJ-02
# point) is off by up to about 5 m across the mainland, which is why it is not used.
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_ITERATIONS = 30


def _gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if _outside_china(lon, lat):
        return lon, lat
    wgs_lon, wgs_lat = lon, lat
    for _ in range(_INVERSE_MAX_ITERATIONS):
        # The formula, not _wgs84_to_gcj02: near the box's edge a guess may step outside it, where
        # the forward transform is the identity, and the iteration would stall hundreds of metres
        # off (found by tests/server/test_geo_properties.py).
        gcj_lon, gcj_lat = _gcj02_offset(wgs_lon, wgs_lat)
        d_lon, d_lat = lon - gcj_lon, lat - gcj_lat
        wgs_lon += d_lon
        wgs_lat += d_lat
        if abs(d_lon) < _INVERSE_TOLERANCE_DEG and abs(d_lat) < _INVERSE_TOLERANCE_DEG:
            break
    return wgs_lon, wgs_lat


# --- BD-09 ----------------------------------------------------------------------------------------
# Baidu's published GCJ-02 <-> BD-09 pair. BD-09 is defined everywhere as an offset of GCJ-02 (and
# GCJ-02 is WGS-84 outside the mainland), so the offset is applied regardless of location.
_X_PI = math.pi * 3000.0 / 180.0


def _gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def _bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    # Baidu's inverse formula evaluates the perturbation at the BD-09 point instead of the GCJ-02
    # one and is off by up to about 0.2 m; a few fixed-point steps against the forward formula
    # remove that error so that BD-09 round trips are as exact as GCJ-02 ones.
    gcj_lon, gcj_lat = _bd09_to_gcj02_approx(lon, lat)
    for _ in range(_INVERSE_MAX_ITERATIONS):
        bd_lon, bd_lat = _gcj02_to_bd09(gcj_lon, gcj_lat)
        d_lon, d_lat = lon - bd_lon, lat - bd_lat
        gcj_lon += d_lon
        gcj_lat += d_lat
        if abs(d_lon) < _INVERSE_TOLERANCE_DEG and abs(d_lat) < _INVERSE_TOLERANCE_DEG:
            break
    return gcj_lon, gcj_lat


# --- Public API -----------------------------------------------------------------------------------
def to_wgs84(lon: float, lat: float, system: str) -> tuple[float, float]:
    """The WGS-84 ``(lon, lat)`` of a point given in ``system``."""
    lon, lat = validate_point(lon, lat)
    source = coordinate_system(system)
    if source is CoordinateSystem.GCJ02:
        return _gcj02_to_wgs84(lon, lat)
    if source is CoordinateSystem.BD09:
        return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))
    return lon, lat


def from_wgs84(lon: float, lat: float, system: str) -> tuple[float, float]:
    """The WGS-84 point ``(lon, lat)`` expressed in ``system``, for a client's map SDK."""
    lon, lat = validate_point(lon, lat)
    target = coordinate_system(system)
    if target is CoordinateSystem.GCJ02:
        return _wgs84_to_gcj02(lon, lat)
    if target is CoordinateSystem.BD09:
        return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))
    return lon, lat


def geodesic_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres between two WGS-84 points along the ellipsoid (Karney's algorithm)."""
    lon1, lat1 = validate_point(lon1, lat1)
    lon2, lat2 = validate_point(lon2, lat2)
    # geopy takes (lat, lon), the reverse of our (lon, lat) and of GeoJSON's order.
    return geodesic((lat1, lon1), (lat2, lon2), ellipsoid="WGS-84").meters
