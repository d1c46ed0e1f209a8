"""Computed judgements: every limit set a template uses, every band, at / inside / outside the limit.

Pure (no database) except where the loaded ``LimitSet`` rows and ``forms.validate`` are used.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from server.om.forms_load import limit_sets, template_files
from server.om.judgements import Limits, judge, select_band

SPECS = {spec["id"]: spec for spec in limit_sets()}


# (template code, computation) for every computation of every template file
def _single(computation: dict) -> dict:
    """A comparison_pairs computation judges each of its pairs as a comparison_error."""
    if computation["kind"] == "comparison_pairs":
        return {**computation, "kind": "comparison_error"}
    return computation


COMPUTATIONS = [(t["code"], _single(c)) for t in template_files() for c in t.get("computations") or []]
USED = sorted({c["limit_set"] for _, c in COMPUTATIONS})
# one computation per limit set (sets shared by several templates behave the same)
COMPUTATION_OF = {c["limit_set"]: c for _, c in reversed(COMPUTATIONS)}

EPS = Decimal("0.000001")  # "just" inside / outside: a millionth of the limit


def bands_of(key: str) -> list[tuple[int, dict]]:
    return list(enumerate(SPECS[key]["bands"]))


CASES = [(key, n) for key in USED for n, _ in bands_of(key)]


def point_in(band: dict) -> Decimal:
    """A band_on value inside the band: its min (inclusive) when bounded below, else below its max."""
    low, high = band["min"], band["max"]
    if low is not None:
        return Decimal(str(low))
    if high is not None:
        return Decimal(str(high)) / 2
    return Decimal(50)


def inputs_for(computation: dict, band: dict, error: Decimal) -> dict:
    """Role values whose error (in the band's limit type) is ``error``."""
    limit = band["limit"]
    kind = computation["kind"]
    if kind in ("zero_drift", "span_drift"):
        span, previous = Decimal(200), Decimal(40)
        delta = error * span if limit["type"] == "full_scale" else error
        return {
            "reference": float(previous),
            "previous_after": float(previous),
            "before": float(previous + delta),
            "span": float(span),
        }
    b = point_in(band)
    delta = error * b if limit["type"] == "relative" else error
    a = b + delta
    roles = ("measured", "reference") if kind == "relative_error" else ("instrument", "lab")
    return {roles[0]: float(a), roles[1]: float(b)}


def test_every_used_limit_set_is_in_limits_json_with_the_computations_analyte():
    assert USED, "no computations found"
    for code, comp in COMPUTATIONS:
        spec = SPECS[comp["limit_set"]]
        assert spec["measure"] == comp["kind"], (code, comp["key"])
        section = next(
            s
            for t in template_files()
            if t["code"] == code
            for s in t["sections"]
            if s["key"] == comp["section"]
        )
        assert section["analytes"] == [spec["analyte"]], (code, comp["key"])
        assert spec["band_on"] in comp["inputs"], (code, comp["key"])


def test_bands_tile_the_axis():
    for key in USED:
        bands = sorted(SPECS[key]["bands"], key=lambda b: -1e300 if b["min"] is None else b["min"])
        assert bands[0]["min"] is None, key
        assert bands[-1]["max"] is None, key
        for lower, upper in itertools.pairwise(bands):
            assert lower["max"] == upper["min"], key


@pytest.mark.parametrize(("key", "band_index"), CASES, ids=[f"{k}-band{n}" for k, n in CASES])
def test_limit_boundaries(key, band_index):
    limits = Limits.from_spec(SPECS[key])
    band = SPECS[key]["bands"][band_index]
    comp = COMPUTATION_OF[key]
    limit = Decimal(str(band["limit"]["value"]))
    for sign in (1, -1):
        for error, expected, what in (
            (limit, True, "at the limit"),
            (limit * (1 - EPS), True, "just inside"),
            (limit * (1 + EPS), False, "just outside"),
            (Decimal(0), True, "no error"),
        ):
            result = judge(comp, inputs_for(comp, band, sign * error), limits)
            assert result["band"] == {"min": band["min"], "max": band["max"]}, (what, sign)
            assert result["limit"] == band["limit"]["value"]
            assert result["limit_type"] == band["limit"]["type"]
            assert result["passed"] is expected, (what, sign, result)
            assert result["missing"] == []
            assert result["provisional"] is not SPECS[key]["confirmed"]  # 待核实 unless confirmed
            assert result["limit_set"] == key
            assert result["source"] == SPECS[key]["source"]


@pytest.mark.parametrize("key", [k for k in USED if len(SPECS[k]["bands"]) > 1])
def test_band_min_is_inclusive_and_max_exclusive(key):
    bands = SPECS[key]["bands"]
    for band in bands:
        if band["min"] is None:
            continue
        at = Decimal(str(band["min"]))
        assert select_band(bands, at) is band
        below = select_band(bands, at - Decimal("0.0001"))
        assert below is not band
        assert below["max"] == band["min"]


def _cod(instrument: float, lab: float) -> dict:
    comp = COMPUTATION_OF["hj355_real_sample_cod"]
    return judge(
        comp, {"instrument": instrument, "lab": lab}, Limits.from_spec(SPECS["hj355_real_sample_cod"])
    )


def test_absolute_and_relative_bands_of_the_cod_comparison():
    low = _cod(25, 20)  # lab < 30: ±5 mg/L
    assert (low["value"], low["value_type"], low["limit_unit"], low["passed"]) == (
        5.0,
        "absolute",
        "mg/L",
        True,
    )
    assert _cod(25.01, 20)["passed"] is False
    assert _cod(15, 20)["passed"] is True
    high = _cod(115, 100)  # lab >= 100: ±15 %
    assert (high["value"], high["value_type"], high["limit_unit"], high["passed"]) == (
        0.15,
        "fraction",
        None,
        True,
    )
    assert _cod(115.2, 100)["passed"] is False
    at_boundary = _cod(39, 30)  # 30 is in the 30–60 band (±30 %), not in "< 30" (±5 mg/L)
    assert at_boundary["band"] == {"min": 30, "max": 60}
    assert at_boundary["passed"] is True
    assert _cod(35.5, 29.999)["passed"] is False  # just below 30: ±5 mg/L


def test_full_scale_drift_is_a_fraction_of_the_span():
    comp = COMPUTATION_OF["hj75_zero_drift_so2"]
    limits = Limits.from_spec(SPECS["hj75_zero_drift_so2"])  # ±2.5 % F.S.
    ok = judge(comp, {"reference": 0, "previous_after": 1, "before": 6, "span": 200}, limits)
    assert (ok["value"], ok["limit_type"], ok["passed"], ok["baseline"]) == (
        0.025,
        "full_scale",
        True,
        "previous_after",
    )
    bad = judge(comp, {"reference": 0, "previous_after": 1, "before": -4.2, "span": 200}, limits)
    assert (bad["value"], bad["passed"]) == (-0.026, False)


def test_zero_drift_falls_back_to_the_reference_when_previous_after_is_empty():
    comp = COMPUTATION_OF["ww_zero_drift_cod"]
    limits = Limits.from_spec(SPECS["ww_zero_drift_cod"])  # ±5 % F.S.
    result = judge(comp, {"reference": 2, "previous_after": None, "before": 52, "span": 1000}, limits)
    assert result["baseline"] == "reference"
    assert (result["value"], result["passed"], result["missing"]) == (0.05, True, [])
    result = judge(comp, {"reference": 2, "before": 52.5, "span": 1000}, limits)
    assert result["passed"] is False
    # with previous_after given, the reference is not the baseline
    result = judge(comp, {"reference": 2, "previous_after": 10, "before": 52, "span": 1000}, limits)
    assert (result["baseline"], result["value"]) == ("previous_after", 0.042)


def test_missing_inputs_leave_the_judgement_open():
    comp = COMPUTATION_OF["ww_span_drift_cod"]
    limits = Limits.from_spec(SPECS["ww_span_drift_cod"])
    result = judge(comp, {"span": 100}, limits)
    assert result["passed"] is None
    assert result["value"] is None
    assert set(result["missing"]) == {"before", "previous_after", "reference"}
    result = judge(comp, {"before": 1, "previous_after": 1}, limits)
    assert (result["passed"], result["missing"]) == (None, ["span"])
    result = _cod(None, None)
    assert result["passed"] is None
    assert set(result["missing"]) == {"instrument", "lab"}
    assert result["band"] is None  # the band depends on the lab value


def test_a_zero_reference_or_span_cannot_be_judged():
    comp = COMPUTATION_OF["hj75_accuracy_gas_flow"]  # relative in every band
    result = judge(comp, {"instrument": 1, "lab": 0}, Limits.from_spec(SPECS["hj75_accuracy_gas_flow"]))
    assert (result["passed"], result["reason"]) == (None, "zero_reference")
    comp = COMPUTATION_OF["hj75_span_drift_o2"]
    result = judge(
        comp,
        {"reference": 1, "previous_after": 1, "before": 1, "span": 0},
        Limits.from_spec(SPECS["hj75_span_drift_o2"]),
    )
    assert (result["passed"], result["reason"]) == (None, "zero_span")


def test_float_artefacts_do_not_move_the_boundary():
    comp = COMPUTATION_OF["hj355_standard_sample_tp"]  # ±10 %
    limits = Limits.from_spec(SPECS["hj355_standard_sample_tp"])
    assert (0.33 - 0.3) / 0.3 > 0.1  # what plain floats would say
    result = judge(comp, {"measured": 0.33, "reference": 0.3}, limits)
    assert (result["value"], result["passed"]) == (0.1, True)
    assert judge(comp, {"measured": 0.27, "reference": 0.3}, limits)["passed"] is True
    assert judge(comp, {"measured": 0.3300001, "reference": 0.3}, limits)["passed"] is False


@pytest.mark.django_db
def test_loaded_limit_sets_match_the_file_and_a_confirmed_set_is_not_provisional():
    from server.om.judgements import limits_for
    from server.om.models import FormTemplate, LimitSet

    definitions = [t.definition for t in FormTemplate.objects.all()]
    loaded = limits_for(definitions)
    assert sorted(loaded) == USED
    for key, limits in loaded.items():
        assert limits == Limits.from_spec(SPECS[key])
    LimitSet.objects.filter(key="hj355_standard_sample_cod").update(confirmed=True)
    confirmed = limits_for(definitions)["hj355_standard_sample_cod"]
    comp = COMPUTATION_OF["hj355_standard_sample_cod"]
    result = judge(comp, {"measured": 105, "reference": 100}, confirmed)
    assert (result["provisional"], result["passed"]) == (False, True)


def test_absolute_limits_are_in_the_inputs_unit():
    """An absolute limit compares readings directly, so its unit is the input items' unit."""
    for template in template_files():
        for comp in template["computations"]:
            section = next(s for s in template["sections"] if s["key"] == comp["section"])
            items = section["items"]
            if comp["kind"] == "comparison_pairs":  # the pairs' columns
                items = next(i for i in items if i["key"] == comp["pairs"])["columns"]
            units = {i["unit"] for i in items if i["key"] in comp["inputs"].values()}
            for band in SPECS[comp["limit_set"]]["bands"]:
                if band["limit"]["type"] == "absolute" and units != {None}:
                    assert units == {band["limit"]["unit"]}, (template["code"], comp["key"])


@pytest.mark.django_db
def test_a_calibration_record_is_judged_with_the_reference_when_previous_after_is_empty():
    from server.om import forms
    from server.om.models import FormTemplate
    from server.registry.models import Instrument

    template = FormTemplate.objects.get(code="ww_standard_check_calibration", version=1)
    cod = Instrument(pk=41, kind="water_analyzer", analytes=["cod"])  # the engine reads pk and analytes
    block = {
        "range_upper": 500,
        "std_reference": 100,
        "std_measured": 111,  # +11 %: fails ±10 %
        "calibrated": "yes",
        "zero_reference": 0,
        "zero_before": 25,  # 5 % of 500 from the reference: at the ±5 % F.S. limit
        "span_reference": 400,
        "span_previous_after": 390,
        "span_before": 341,  # -49 / 500 = -9.8 %
    }
    answers = {"basic": {"om_time": "2025-06-01T09:30:00+08:00"}, "check_cod": {"41": block}}
    checked = forms.validate(template, answers, instruments=[cod], groups=[], complete=True)
    by_key = {j["key"]: j for j in checked.judgements}
    assert [(j["key"], j["instrument"]) for j in checked.judgements] == [
        ("std_error_cod", 41),
        ("zero_drift_cod", 41),
        ("span_drift_cod", 41),
    ]
    assert (by_key["std_error_cod"]["value"], by_key["std_error_cod"]["passed"]) == (0.11, False)
    zero = by_key["zero_drift_cod"]
    assert (zero["baseline"], zero["value"], zero["passed"], zero["limit_type"]) == (
        "reference",
        0.05,
        True,
        "full_scale",
    )
    span = by_key["span_drift_cod"]
    assert (span["baseline"], span["value"], span["passed"]) == ("previous_after", -0.098, True)
    # The drift placeholders are provisional, the HJ 355 standard-sample check is confirmed (issue 23).
    assert all(j["provisional"] is not SPECS[j["limit_set"]]["confirmed"] for j in checked.judgements)
    assert (by_key["zero_drift_cod"]["provisional"], by_key["std_error_cod"]["provisional"]) == (True, False)
    assert by_key["std_error_cod"]["source"].startswith("HJ 355-2019")
    # a calibration not done: the drift judgements stay open, not failed
    for key in ("zero_reference", "zero_before", "span_reference", "span_previous_after", "span_before"):
        del block[key]
    block["calibrated"] = "no"
    checked = forms.validate(template, answers, instruments=[cod], groups=[], complete=True)
    open_ = [j for j in checked.judgements if j["passed"] is None]
    assert [j["key"] for j in open_] == ["zero_drift_cod", "span_drift_cod"]
    assert set(open_[0]["missing"]) == {"before", "previous_after", "reference"}
