"""Properties of the coordinate conversions (server/geo.py) and of EXIF's degree/minute/second
rationals (media_rules/exif.py), over generated inputs rather than a fixed grid."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from media_rules.exif import _coordinate
from server.errors import DomainError
from server.geo import (
    INVALID_COORDINATES,
    UNKNOWN_COORDINATE_SYSTEM,
    from_wgs84,
    geodesic_distance_m,
    to_wgs84,
)

# The conventional mainland box GCJ-02 applies in (server.geo._outside_china).
CHINA_LON, CHINA_LAT = (72.004, 137.8347), (0.8293, 55.8271)
SETTINGS = settings(max_examples=200, deadline=None, database=None, derandomize=True)

china_points = st.tuples(
    st.floats(*CHINA_LON, allow_nan=False, allow_infinity=False),
    st.floats(*CHINA_LAT, allow_nan=False, allow_infinity=False),
)
world_points = st.tuples(
    st.floats(-180, 180, allow_nan=False, allow_infinity=False),
    st.floats(-90, 90, allow_nan=False, allow_infinity=False),
)


def inside_china(lon: float, lat: float) -> bool:
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic_distance_m(a[0], a[1], b[0], b[1])


# --- Round trips ------------------------------------------------------------------------------------
@SETTINGS
@given(point=china_points, system=st.sampled_from(["gcj02", "bd09"]))
def test_out_and_back_lands_within_half_a_metre(point, system):
    converted = from_wgs84(*point, system)
    assume(inside_china(*converted))  # the few metres at the box's edge: GCJ-02 switches off there
    assert metres(point, to_wgs84(*converted, system)) < 0.5


@SETTINGS
@given(point=china_points, system=st.sampled_from(["gcj02", "bd09"]))
def test_in_and_out_again_lands_within_half_a_metre(point, system):
    wgs = to_wgs84(*point, system)
    assume(inside_china(*wgs))
    assert metres(point, from_wgs84(*wgs, system)) < 0.5


@SETTINGS
@given(point=world_points)
def test_gcj02_leaves_points_outside_china_unchanged(point):
    assume(not inside_china(*point))
    assert from_wgs84(*point, "gcj02") == point
    assert to_wgs84(*point, "gcj02") == point
    assert from_wgs84(*point, "wgs84") == to_wgs84(*point, "wgs84") == point


@SETTINGS
@given(point=china_points)
def test_the_offset_is_bounded(point):
    # GCJ-02 moves a point by tens to hundreds of metres, never kilometres; BD-09 adds under 1.5 km.
    assert metres(point, from_wgs84(*point, "gcj02")) < 1_000
    assert metres(point, from_wgs84(*point, "bd09")) < 2_500


# --- Anything else is the documented error ----------------------------------------------------------
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities too
    st.decimals(),
    st.text(max_size=20),
    st.sampled_from(["1e400", "-0", " 121.5 ", "NaN", "inf", "０"]),
    st.lists(st.integers(), max_size=2),
)


@SETTINGS
@given(lon=anything, lat=anything, system=st.one_of(st.sampled_from(["wgs84", "GCJ02 ", "bd09"]), anything))
def test_conversions_answer_a_point_or_the_documented_error(lon, lat, system):
    for convert in (to_wgs84, from_wgs84):
        try:
            result = convert(lon, lat, system)
        except DomainError as exc:
            error = exc.error
        else:
            error = None
            assert len(result) == 2
            assert all(isinstance(v, float) and math.isfinite(v) for v in result)
        assert error in (None, INVALID_COORDINATES, UNKNOWN_COORDINATE_SYSTEM)


# --- EXIF degrees, minutes, seconds -----------------------------------------------------------------
def tag(values) -> SimpleNamespace:
    return SimpleNamespace(values=values)


@SETTINGS
@given(
    degrees=st.integers(0, 89),
    minutes=st.integers(0, 59),
    seconds=st.fractions(min_value=0, max_value=Fraction(5999, 100), max_denominator=1000),
    ref=st.sampled_from(["N", "S"]),
)
def test_dms_rationals_read_as_signed_degrees(degrees, minutes, seconds, ref):
    value = _coordinate(tag([Fraction(degrees), Fraction(minutes), seconds]), tag(ref), "NS", 90)
    expected = degrees + minutes / 60 + float(seconds) / 3600
    assert value == pytest.approx(expected if ref == "N" else -expected, abs=1e-9)


def _ratio_like(numerator: int, denominator: int):
    """exifread's Ratio: a Fraction, except that it can hold a zero denominator (unknown)."""
    if denominator == 0:
        return SimpleNamespace(numerator=numerator, denominator=0)
    return Fraction(numerator, denominator)


ratio_values = st.builds(_ratio_like, st.integers(-(2**32), 2**32), st.integers(0, 2**32))


@SETTINGS
@given(
    values=st.one_of(
        st.lists(ratio_values, max_size=5), st.none(), st.text(max_size=5), st.binary(max_size=5)
    ),
    ref=st.one_of(st.text(max_size=3), st.lists(st.integers(0, 255), max_size=3), st.none(), st.integers()),
)
def test_any_rationals_give_a_coordinate_none_or_value_error(values, ref):
    """``ValueError`` is what the reader expects (it becomes the ``bad_gps`` problem); nothing else."""
    try:
        value = _coordinate(tag(values), tag(ref), "NS", 90)
    except ValueError:
        return
    assert value is None or (math.isfinite(value) and -90 <= value <= 90)


def test_decimal_input_is_accepted_like_a_float():
    assert to_wgs84(Decimal("121.4737"), Decimal("31.2304"), "wgs84") == (121.4737, 31.2304)
