"""HJ 355-2019's real-water-sample rule (issue 23): a comparison is at least 3 pairs and passes when 2 of
3, 3 of 4, or 4 of 5 or more pairs are within their band's limit; below the lowest COD band (30 mg/L)
a 20–25 mg/L standard sample replaces the real sample; the flowmeter's level is 6 readings (the
largest error judged) and its flow the 10 minutes' totals. Pure judgements first, then what
``forms.validate`` stores for a record of the template's version 2 (and version 1 still judged as it
was)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from server.errors import DomainError
from server.om import errors, forms
from server.om.forms_load import limit_sets, template_files
from server.om.judgements import Limits, judge_pairs, pairs_required
from server.om.models import FormTemplate, OmRecord
from tests.om.fill import instrument_kit, valid_answers
from tests.om.helpers import checkin_payload, record_payload

SPECS = {spec["id"]: spec for spec in limit_sets()}
COMPARISON = next(t for t in template_files() if t["code"] == "ww_real_sample_comparison")
COMPUTATION = {c["key"]: c for c in COMPARISON["computations"]}
V1 = json.loads((Path(__file__).parent / "data" / "ww_real_sample_comparison_v1.json").read_text("utf-8"))


def cod(pairs, standard=None):
    rows = [{"instrument": a, "lab": b} for a, b in pairs]
    limits = Limits.from_spec(SPECS["hj355_real_sample_cod"])
    return judge_pairs(COMPUTATION["comparison_cod"], rows, standard or {}, limits, instrument=7)


IN, OUT = (115, 100), (116, 100)  # ±15 % at ≥ 100 mg/L: 15 % passes, 16 % fails


def counts(j):
    return (j["pairs_passed"], j["pairs_total"], j["pairs_required"], j["passed"])


@pytest.mark.parametrize(
    ("within", "outside", "passed"),
    [
        (2, 1, True),  # 2 of 3
        (1, 2, False),
        (3, 1, True),  # 3 of 4
        (2, 2, False),
        (4, 1, True),  # 4 of 5
        (3, 2, False),  # 3 of 5
        (4, 2, True),  # 4 of 6: "5 对以上至少 4 对" is a count, not 80 %
        (3, 3, False),
        (4, 6, True),
        (3, 0, True),
    ],
)
def test_pair_counts_decide_the_verdict(within, outside, passed):
    j = cod([IN] * within + [OUT] * outside)
    required = {3: 2, 4: 3}.get(within + outside, 4)
    assert counts(j) == (within, within + outside, required, passed)
    assert (j["kind"], j["mode"], j["reason"], j["missing"]) == ("comparison_pairs", "real_sample", None, [])
    assert [p["passed"] for p in j["pairs"]] == [True] * within + [False] * outside
    assert j["provisional"] is False  # confirmed by public transcriptions of HJ 355 (issue 23)


def test_pairs_required_is_the_standards_table():
    assert [pairs_required(n, "hj355_real_sample") for n in (3, 4, 5, 6, 9)] == [2, 3, 4, 4, 4]
    assert pairs_required(6, "all") == 6


def test_fewer_than_three_pairs_are_not_judged():
    j = cod([IN, IN])
    assert (j["passed"], j["reason"], j["missing"], j["pairs_required"]) == (
        None,
        "too_few_pairs",
        ["pairs"],
        None,
    )
    incomplete = cod([IN, IN, (None, 100)])  # a draft's half-typed row is not a pair
    assert (incomplete["passed"], incomplete["reason"], incomplete["pairs"][2]["reason"]) == (
        None,
        "too_few_pairs",
        "missing_inputs",
    )


def test_each_pair_has_its_own_band_and_the_limit_is_inclusive():
    # 100 → ±15 %; 60 → ±20 %; 30 → ±30 % (30 is in 30–60, min inclusive)
    j = cod([(115, 100), (72, 60), (39, 30), (39.01, 30)])
    assert [(p["band"], p["limit"], p["value"], p["passed"]) for p in j["pairs"]] == [
        ({"min": 100, "max": None}, 0.15, 0.15, True),
        ({"min": 60, "max": 100}, 0.2, 0.2, True),
        ({"min": 30, "max": 60}, 0.3, 0.3, True),
        ({"min": 30, "max": 60}, 0.3, 0.3003333333, False),
    ]
    assert counts(j) == (3, 4, 3, True)


def test_below_30_mg_l_a_standard_sample_replaces_the_real_sample():
    low = [(22, 20), (26, 21), (18, 19)]  # lab < 30: the ±5 mg/L band is the standard sample's
    required = cod(low)
    assert (required["mode"], required["passed"], required["reason"]) == (
        "standard_sample",
        None,
        "standard_sample_required",
    )
    assert required["missing"] == ["standard_measured", "standard_reference"]
    assert [p["reason"] for p in required["pairs"]] == ["below_band"] * 3
    assert all(p["passed"] is None for p in required["pairs"])

    ok = cod(low, {"measured": 26.5, "reference": 21.5})  # +5 mg/L: at the limit, passes
    assert (ok["mode"], ok["value"], ok["limit"], ok["limit_unit"], ok["passed"], ok["reason"]) == (
        "standard_sample",
        5.0,
        5,
        "mg/L",
        True,
        None,
    )
    assert ok["standard"] == {"measured": 26.5, "reference": 21.5, "range": {"min": 20, "max": 25}}
    assert ok["band"] == {"min": None, "max": 30}
    bad = cod(low, {"measured": 26.6, "reference": 21.5})
    assert (bad["passed"], bad["value"]) == (False, 5.1)
    wrong_standard = cod(low, {"measured": 50, "reference": 50})  # not a 20–25 mg/L standard
    assert (wrong_standard["passed"], wrong_standard["reason"], wrong_standard["value"]) == (
        None,
        "standard_out_of_range",
        None,
    )
    for edge in (20, 25):
        assert cod(low, {"measured": edge, "reference": edge})["passed"] is True


def test_enough_pairs_above_the_band_are_judged_as_real_samples():
    j = cod([IN, IN, OUT, (22, 20)], {"measured": 99, "reference": 21})
    assert (j["mode"], counts(j)) == ("real_sample", (2, 3, 2, True))
    assert j["pairs"][3]["reason"] == "below_band"


def test_the_flowmeter_level_is_six_readings_and_the_largest_error_is_judged():
    limits = Limits.from_spec(SPECS["hj355_flow_level_comparison"])
    comp = COMPUTATION["comparison_flow_level"]
    rows = [{"instrument": 500 + d, "lab": 500} for d in (3, -12, 5, 0, 1, 2)]
    j = judge_pairs(comp, rows, {}, limits)
    assert (j["value"], j["limit"], j["limit_unit"], j["passed"], counts(j)) == (
        -12.0,
        12,
        "mm",
        True,
        (6, 6, 6, True),
    )
    rows[2] = {"instrument": 512.5, "lab": 500}
    j = judge_pairs(comp, rows, {}, limits)
    assert (j["value"], j["passed"], j["pairs_passed"]) == (12.5, False, 5)
    five = judge_pairs(comp, rows[:5], {}, limits)
    assert (five["passed"], five["reason"]) == (None, "too_few_pairs")


# --- A record of version 2, through forms.validate ------------------------------------------------------
@pytest.fixture
def kit(world):
    return instrument_kit(world.shanghai)


def by_analyte(kit, analyte):
    return next(i for i in kit["wastewater"] if analyte in i.analytes)


def latest(code="ww_real_sample_comparison"):
    return FormTemplate.objects.filter(code=code).order_by("-version").first()


def rows(pairs, time):
    return [{"sample_time": time, "instrument_value": a, "lab_value": b} for a, b in pairs]


def test_a_record_stores_the_pair_counts_and_the_verdict(kit):
    t = latest()
    assert t.version == 2
    c, ph, flow = by_analyte(kit, "cod"), by_analyte(kit, "ph"), by_analyte(kit, "water_flow")
    answers = valid_answers(t, [c, ph, flow], [])
    time = answers["basic"]["om_time"]
    answers["compare_cod"][str(c.pk)]["pairs"] = rows([IN, OUT, IN, OUT], time)
    answers["compare_ph"][str(ph.pk)]["pairs"] = rows([(7.5, 7.0), (7.6, 7.0), (7.0, 7.0)], time)
    answers["compare_water_flow"][str(flow.pk)].update(
        level_readings=[
            {"read_time": time, "instrument_level": 300 + d, "reference_level": 300}
            for d in (1, 2, 3, 4, 5, 6)
        ],
        instrument_total=110,
        reference_total=100,
    )
    checked = forms.validate(t, answers, instruments=[c, ph, flow], groups=[], complete=True)
    got = {j["key"]: j for j in checked.judgements}
    assert counts(got["comparison_cod"]) == (2, 4, 3, False)
    assert got["comparison_cod"]["instrument"] == c.pk
    assert counts(got["comparison_ph"]) == (2, 3, 2, True)  # 0.6 pH fails, 0.5 and 0 pass
    assert (got["comparison_flow_level"]["value"], got["comparison_flow_level"]["passed"]) == (6.0, True)
    flow_total = got["comparison_flow"]
    assert (flow_total["kind"], flow_total["value"], flow_total["passed"]) == ("comparison_error", 0.1, True)

    shown = forms.present(t, checked.answers, checked.judgements, [c, ph, flow])
    cod_rows = next(s for s in shown if s["key"] == "compare_cod")["judgements"]
    assert [(r["value_text"], r["limit_text"], r["result"], r["flag"]) for r in cod_rows] == [
        ("2/4 对合格", "4 对中至少 3 对在限值内", "不合格", "")
    ]
    assert [p["result"] for p in cod_rows[0]["pairs"]] == ["合格", "不合格", "合格", "不合格"]
    level = next(s for s in shown if s["key"] == "compare_water_flow")["judgements"][0]
    assert (level["value_text"], level["limit_text"]) == ("6/6 对合格（最大误差 6 mm）", "每组均在 ±12 mm 内")


def test_a_low_cod_record_says_the_standard_sample_replaced_the_real_one(kit):
    t = latest()
    c = by_analyte(kit, "cod")
    answers = valid_answers(t, [c], [])
    block = answers["compare_cod"][str(c.pk)]
    block["pairs"] = rows([(22, 20), (21, 21), (19, 20)], answers["basic"]["om_time"])
    block.update(standard_value=21.5, standard_measured=23)
    checked = forms.validate(t, answers, instruments=[c], groups=[], complete=True)
    [j] = checked.judgements
    assert (j["mode"], j["value"], j["passed"], j["reason"]) == ("standard_sample", 1.5, True, None)
    [row] = forms.present(t, checked.answers, checked.judgements, [c])[1]["judgements"]
    assert (row["value_text"], row["limit_text"], row["result"]) == (
        "标准样品 1.5 mg/L",
        "实际水样低于 30 mg/L，以标准样品代替：±5 mg/L",
        "合格",
    )
    del block["standard_value"], block["standard_measured"]
    [j] = forms.validate(t, answers, instruments=[c], groups=[], complete=True).judgements
    assert (j["passed"], j["reason"]) == (None, "standard_sample_required")
    [row] = forms.present(t, answers, [j], [c])[1]["judgements"]
    assert row["reason_text"] == "实际水样低于最低浓度档，须以标准样品代替并填写标准样品数据"


def test_a_submission_needs_three_pairs_and_six_level_readings(kit):
    t = latest()
    c, flow = by_analyte(kit, "cod"), by_analyte(kit, "water_flow")
    answers = valid_answers(t, [c, flow], [])
    time = answers["basic"]["om_time"]
    answers["compare_cod"][str(c.pk)]["pairs"] = rows([IN, IN], time)
    answers["compare_water_flow"][str(flow.pk)]["level_readings"] = [
        {"read_time": time, "instrument_level": 300, "reference_level": 300}
    ] * 5
    with pytest.raises(DomainError) as caught:
        forms.validate(t, answers, instruments=[c, flow], groups=[], complete=True)
    assert caught.value.error is errors.OM_ANSWERS_INVALID
    assert [(e["path"], e["code"], e["message"]) for e in caught.value.details["errors"]] == [
        (
            f"compare_cod[{c.pk}].pairs",
            "too_few_rows",
            "「比对数据（至少3对）」至少须填写 3 组（已填 2 组）。",
        ),
        (
            f"compare_water_flow[{flow.pk}].level_readings",
            "too_few_rows",
            "「液位比对（连续6组读数）」至少须填写 6 组（已填 5 组）。",
        ),
    ]
    # a draft keeps what was typed so far and says the comparison is not judged yet
    draft = forms.validate(t, answers, instruments=[c, flow], groups=[], complete=False)
    cod_j = next(j for j in draft.judgements if j["key"] == "comparison_cod")
    assert (cod_j["passed"], cod_j["reason"]) == (None, "too_few_pairs")


def test_records_of_version_1_keep_their_single_comparison(kit):
    v1 = FormTemplate.objects.create(
        code=V1["code"], version=1, outlet_kind=V1["outlet_kind"], name=V1["name"], definition=V1
    )
    c = by_analyte(kit, "cod")
    answers = valid_answers(v1, [c], [])
    answers["compare_cod"][str(c.pk)].update(instrument_value=26, lab_value=20)
    [j] = forms.validate(v1, answers, instruments=[c], groups=[], complete=True).judgements
    assert (j["kind"], j["value"], j["limit"], j["passed"]) == ("comparison_error", 6.0, 5, False)
    assert "mode" not in j


def test_low_tp_and_tn_pairs_are_judged_as_real_samples_and_low_nh3n_is_replaced():
    """The public transcription names a replacing standard sample for COD (< 30 mg/L) and NH3-N
    (< 2 mg/L) only; TP below 0.4 mg/L and TN below 2 mg/L are judged on the real sample."""
    tp = judge_pairs(
        COMPUTATION["comparison_tp"],
        [{"instrument": a, "lab": 0.2} for a in (0.24, 0.16, 0.2401)],
        {},
        Limits.from_spec(SPECS["hj355_real_sample_tp"]),
    )
    assert (tp["mode"], counts(tp), [p["passed"] for p in tp["pairs"]]) == (
        "real_sample",
        (2, 3, 2, True),
        [True, True, False],
    )
    assert "standard" not in COMPUTATION["comparison_tp"]
    nh3n = judge_pairs(
        COMPUTATION["comparison_nh3n"],
        [{"instrument": 1.1, "lab": 1.0}] * 3,
        {"measured": 1.8, "reference": 1.5},
        Limits.from_spec(SPECS["hj355_real_sample_nh3n"]),
    )
    assert (nh3n["mode"], nh3n["value"], nh3n["limit"], nh3n["passed"]) == ("standard_sample", 0.3, 0.3, True)
    assert nh3n["standard"]["range"] == {"min": None, "max": None}  # no concentration range checked


def test_the_api_stores_the_pair_counts_and_the_verdict_on_the_record(world, client_for):
    """Over the phone's API: the draft record as stored carries the aggregated judgement."""
    side = world.shanghai
    tech = client_for(side.technician_user)
    start = uuid.uuid4()
    when = timezone.now() - dt.timedelta(hours=1)
    answer = tech.post(
        "/api/v1/checkins", {"id": str(start), **checkin_payload(side, "start", when)}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    payload = record_payload(side, template_code="ww_real_sample_comparison", start=start)
    block = payload["answers"]["compare_cod"][str(side.instrument.pk)]
    block["pairs"] = rows([IN, OUT, OUT, IN, IN], payload["answers"]["basic"]["om_time"])
    record_id = uuid.uuid4()
    answer = tech.post("/api/v1/om/records", {"id": str(record_id), **payload}, format="json")
    assert answer.status_code == 201, answer.json()
    stored = OmRecord.objects.get(pk=record_id)
    assert stored.template.version == 2
    [j] = stored.judgements
    assert (j["key"], j["kind"], j["mode"], j["instrument"]) == (
        "comparison_cod",
        "comparison_pairs",
        "real_sample",
        side.instrument.pk,
    )
    assert counts(j) == (3, 5, 4, False)  # 3 of 5: "5 对以上至少 4 对"
    assert [p["passed"] for p in j["pairs"]] == [True, False, False, True, True]
