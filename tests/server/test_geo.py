"""WGS-84 / GCJ-02 / BD-09 at the boundary: the published formulas, exact inverses, validation."""

import math
from decimal import Decimal

import pytest

from server.errors import DomainError
from server.geo import (
    INVALID_COORDINATES,
    UNKNOWN_COORDINATE_SYSTEM,
    CoordinateSystem,
    from_wgs84,
    geodesic_distance_m,
    to_wgs84,
)

# A grid across the mainland, from Kashgar (76E) to Fuyuan (134E) and Sanya (18N) to Mohe (53N).
CHINA_GRID = [(lon, lat) for lon in range(74, 136, 4) for lat in range(18, 54, 3)] + [
    (116.391265, 39.907339),  # Tiananmen
    (121.4737, 31.2304),  # Shanghai
    (114.0579, 22.5431),  # Shenzhen
    (104.0665, 30.5723),  # Chengdu
    (87.6168, 43.8256),  # Urumqi
    (91.1409, 29.6456),  # Lhasa
]
OUTSIDE_CHINA = [
    (-0.1276, 51.5072),  # London
    (-74.006, 40.7128),  # New York
    (139.6917, 35.6895),  # Tokyo: east of the box
    (151.2093, -33.8688),  # Sydney
    (100.5018, 0.5),  # south of the box
    (71.9, 40.0),  # just west of the box
    (110.0, 56.0),  # just north of the box
    (0.0, 0.0),
    (180.0, 90.0),
    (-180.0, -90.0),
]


def distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic_distance_m(a[0], a[1], b[0], b[1])


# --- Reference values -----------------------------------------------------------------------------
def test_published_reference_vectors():
    # The test vectors in the README of wandergis/coordtransform, the most used implementation of
    # the same formulas; the forward transforms agree to the last bit.
    assert from_wgs84(116.404, 39.915, "gcj02") == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert from_wgs84(116.404, 39.915, "bd09") == pytest.approx(
        (116.41662724378733, 39.922699552216216), abs=1e-12
    )


def test_published_inverse_vector_is_the_one_step_approximation():
    # coordtransform's gcj02towgs84(116.404, 39.915) = (116.39775550083061, 39.91359571849836) is the
    # one-step approximation; ours is iterated, a few centimetres away and exact under the forward.
    approx = (116.39775550083061, 39.91359571849836)
    wgs = to_wgs84(116.404, 39.915, "gcj02")
    assert 0.001 < distance(wgs, approx) < 0.5
    assert distance(from_wgs84(*wgs, "gcj02"), (116.404, 39.915)) < 0.001
    assert distance(from_wgs84(*approx, "gcj02"), (116.404, 39.915)) > distance(
        from_wgs84(*wgs, "gcj02"), (116.404, 39.915)
    )


def test_tiananmen():
    # The often-quoted GCJ-02 value for Tiananmen is (116.397509, 39.908741); the standard formula
    # gives (116.3975061, 39.9087403), 0.26 m away: the quoted value is rounded from a map tool.
    gcj = from_wgs84(116.391265, 39.907339, "gcj02")
    assert gcj == pytest.approx((116.3975061, 39.9087403), abs=1e-7)
    assert distance(gcj, (116.397509, 39.908741)) < 1.0


def test_shanghai_offset_is_about_half_a_kilometre():
    offset = distance((121.4737, 31.2304), from_wgs84(121.4737, 31.2304, "gcj02"))
    assert 450 < offset < 550  # 481.7 m


def test_bd09_is_a_further_offset_of_gcj02():
    wgs = (116.391265, 39.907339)
    gcj = from_wgs84(*wgs, "gcj02")
    bd = from_wgs84(*wgs, "bd09")
    # Baidu adds roughly 0.0065 degrees of longitude and 0.006 of latitude, about 800 m.
    assert 600 < distance(gcj, bd) < 1000
    assert to_wgs84(*bd, "bd09") == pytest.approx(wgs, abs=1e-8)


# --- Round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_round_trip_from_wgs84_across_china(system):
    worst = 0.0
    for point in CHINA_GRID:
        converted = from_wgs84(*point, system)
        assert distance(point, converted) > 50, point  # it really was offset
        worst = max(worst, distance(point, to_wgs84(*converted, system)))
    assert worst < 0.5
    assert worst < 0.001  # in fact the iteration converges to well under a millimetre


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_round_trip_to_wgs84_across_china(system):
    # Points as a phone sends them: back to WGS-84 and out again lands on the same spot.
    for point in CHINA_GRID:
        wgs = to_wgs84(*point, system)
        assert distance(point, from_wgs84(*wgs, system)) < 0.5, point


def test_one_step_inverse_would_not_be_good_enough():
    # Guards the reason for iterating: subtracting the offset computed at the GCJ-02 point misses
    # by metres somewhere on the grid, while the round trip test above demands < 0.5 m.
    from server.geo import _wgs84_to_gcj02

    worst = 0.0
    for lon, lat in CHINA_GRID:
        gcj = _wgs84_to_gcj02(lon, lat)
        again = _wgs84_to_gcj02(*gcj)
        one_step = (2 * gcj[0] - again[0], 2 * gcj[1] - again[1])
        worst = max(worst, distance((lon, lat), one_step))
    assert worst > 0.5


@pytest.mark.parametrize("system", ["wgs84", CoordinateSystem.WGS84])
def test_wgs84_is_the_identity(system):
    assert to_wgs84(121.4737, 31.2304, system) == (121.4737, 31.2304)
    assert from_wgs84(121.4737, 31.2304, system) == (121.4737, 31.2304)


@pytest.mark.parametrize("point", OUTSIDE_CHINA)
def test_gcj02_is_wgs84_outside_china(point):
    assert from_wgs84(*point, "gcj02") == point
    assert to_wgs84(*point, "gcj02") == point


def test_bd09_offset_applies_outside_china_too():
    # BD-09 is an offset of GCJ-02 everywhere (Baidu's formula has no bounding box).
    london = (-0.1276, 51.5072)
    bd = from_wgs84(*london, "bd09")
    assert 300 < distance(london, bd) < 1000
    assert distance(london, to_wgs84(*bd, "bd09")) < 0.001


# --- Inputs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lon", "lat"),
    [(121, 31), (Decimal("121.4737"), Decimal("31.2304")), ("121.4737", " 31.2304 "), (121.4737, 31.2304)],
)
def test_numbers_decimals_and_numeric_strings_are_accepted(lon, lat):
    assert to_wgs84(lon, lat, "wgs84") == (float(lon), float(lat))


@pytest.mark.parametrize("system", ["GCJ02", " gcj02 ", CoordinateSystem.GCJ02])
def test_system_names_are_case_insensitive(system):
    assert from_wgs84(121.4737, 31.2304, system) == from_wgs84(121.4737, 31.2304, "gcj02")


@pytest.mark.parametrize(
    ("lon", "lat", "field", "reason"),
    [
        (181, 30, "lon", "out_of_range"),
        (-180.0001, 30, "lon", "out_of_range"),
        (120, 90.5, "lat", "out_of_range"),
        (120, -91, "lat", "out_of_range"),
        (math.nan, 30, "lon", "not_finite"),
        (120, math.inf, "lat", "not_finite"),
        (-math.inf, 30, "lon", "not_finite"),
        ("nan", 30, "lon", "not_finite"),
        (Decimal("NaN"), 30, "lon", "not_finite"),
        (True, 30, "lon", "not_a_number"),
        (120, False, "lat", "not_a_number"),
        ("east", 30, "lon", "not_a_number"),
        ("", 30, "lon", "not_a_number"),
        (None, 30, "lon", "not_a_number"),
        (120, [30], "lat", "not_a_number"),
        (120, b"30", "lat", "not_a_number"),
    ],
)
@pytest.mark.parametrize("convert", [to_wgs84, from_wgs84])
def test_invalid_coordinates(convert, lon, lat, field, reason):
    with pytest.raises(DomainError) as excinfo:
        convert(lon, lat, "gcj02")
    error = excinfo.value
    assert error.error is INVALID_COORDINATES
    assert error.details["field"] == field
    assert error.details["reason"] == reason


def test_invalid_coordinates_messages():
    with pytest.raises(DomainError) as excinfo:
        to_wgs84(200, 30, "wgs84")
    error = excinfo.value
    assert INVALID_COORDINATES.code == "invalid_coordinates"
    assert INVALID_COORDINATES.status == 400
    assert error.error.message("zh-hans", **error.params) == "坐标无效：lon 超出范围 [-180.0, 180.0]"
    assert error.error.message("en", **error.params) == "Invalid coordinates: lon is outside [-180.0, 180.0]"


@pytest.mark.parametrize("system", ["wgs-84", "epsg:4326", "baidu", "", None, 4326])
@pytest.mark.parametrize("convert", [to_wgs84, from_wgs84])
def test_unknown_coordinate_system(convert, system):
    with pytest.raises(DomainError) as excinfo:
        convert(121.4737, 31.2304, system)
    error = excinfo.value
    assert error.error is UNKNOWN_COORDINATE_SYSTEM
    assert error.details["allowed"] == ["wgs84", "gcj02", "bd09"]


def test_unknown_coordinate_system_message_names_the_accepted_ones():
    assert UNKNOWN_COORDINATE_SYSTEM.code == "unknown_coordinate_system"
    assert UNKNOWN_COORDINATE_SYSTEM.status == 400
    for language in ("zh-hans", "en"):
        message = UNKNOWN_COORDINATE_SYSTEM.message(language, system="baidu")
        assert "baidu" in message
        assert all(name in message for name in ("wgs84", "gcj02", "bd09"))


def test_choices():
    choices = CoordinateSystem.choices()
    assert [value for value, _ in choices] == ["wgs84", "gcj02", "bd09"]
    labels = dict(choices)
    assert "百度" in labels["bd09"]
    assert "高德" in labels["gcj02"]
    assert CoordinateSystem("gcj02") is CoordinateSystem.GCJ02
    assert CoordinateSystem.GCJ02 == "gcj02"
    assert str(CoordinateSystem.BD09) == "bd09"


# --- Distance -------------------------------------------------------------------------------------
def test_geodesic_distance_takes_lon_lat():
    # One degree of latitude at the equator is 110 574 m on WGS-84, one of longitude 111 319 m;
    # swapping lon and lat would give the other number.
    assert geodesic_distance_m(0, 0, 0, 1) == pytest.approx(110_574.4, abs=0.5)
    assert geodesic_distance_m(0, 0, 1, 0) == pytest.approx(111_319.5, abs=0.5)
    assert geodesic_distance_m(116.391265, 39.907339, 116.391265, 39.907339) == 0


def test_geodesic_distance_beijing_shanghai():
    # Tiananmen to People's Square, about 1 067 km.
    assert geodesic_distance_m(116.391265, 39.907339, 121.4737, 31.2304) == pytest.approx(1_067_000, rel=0.01)


def test_geodesic_distance_validates():
    with pytest.raises(DomainError) as excinfo:
        geodesic_distance_m(0, 0, 0, 91)
    assert excinfo.value.error is INVALID_COORDINATES
    assert excinfo.value.details["field"] == "lat"
