"""The phone's O&M form module (``field_app/static/field_app/app/omform.js``) against the server's
engine (``server/om/forms.py``, ``server/om/judgements.py``): the same judgements on every computation
of every template and every band, and for each of the 15 templates a form filled as a browser posts
it, read by the phone into answers the server accepts as complete, with the same judgements.

Node runs once (``omform_cli.mjs``: cases on stdin, results on stdout)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from itertools import count
from pathlib import Path

import pytest

from server.om import forms
from server.om import judgements as judging
from server.om.models import FormTemplate
from tests.om.fill import applicable, groups_of, instrument_kit, valid_answers

CLI = Path(__file__).resolve().parent / "omform_cli.mjs"
NODE = shutil.which("node")
FIELDS = (
    "value",
    "value_type",
    "limit",
    "limit_type",
    "limit_unit",
    "band",
    "passed",
    "provisional",
    "missing",
    "reason",
    "baseline",
    # comparison_pairs (HJ 355-2019 实际水样比对): absent, hence None, for the single computations
    "mode",
    "rule",
    "min_pairs",
    "pairs",
    "pairs_total",
    "pairs_passed",
    "pairs_required",
    "standard",
)
# What a datetime-local control posts, and the same moment as the server stores it (phone at +08:00).
LOCAL_TIME = "2025-06-01T09:30"
ISO_TIME = "2025-06-01T09:30:00+08:00"
OFFSET_MINUTES = -480  # Date#getTimezoneOffset in China

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_node(cases: dict) -> dict:
    done = subprocess.run(
        [NODE, str(CLI)], input=json.dumps(cases), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- Judge cases: every computation, every band, at, inside and outside each limit ---------------------
def _band_points(band: dict) -> list[float]:
    """Values of the band_on input inside the band (and at its edges, the next band's too)."""
    low, high = band.get("min"), band.get("max")
    if low is None and high is None:
        return [100.0, 0.5, 12.3]
    points = []
    if low is not None:
        points += [low, low - 0.01, low * 2 + 1 if high is None else (low + high) / 2]
    if high is not None:
        points += [high, high - 0.01, high / 2 if low is None else high - 0.001]
    return points


def _deltas(limit: dict, scale: float) -> list[float]:
    """Errors at, just inside and just outside the limit (scale: the denominator, 1 for absolute)."""
    at = limit["value"] * scale
    return [at, -at, at * (1 - 1e-9), at * (1 + 1e-9), at + 0.01, -(at + 0.001), 0.0, 0.1 + 0.2 - 0.3]


def judge_cases(computations: list[dict], limits: dict) -> list[dict]:
    rng = random.Random(20261207)  # noqa: S311 - repeatable test data
    cases = []
    for comp in computations:
        if comp["kind"] == judging.PAIRS_KIND:  # each pair is judged as a comparison_error
            comp = {**comp, "kind": "comparison_error"}
        spec = limits[comp["limit_set"]]
        kind = comp["kind"]
        values: list[dict] = []
        if kind in judging.DRIFT_KINDS:
            for band in spec.bands:
                for span in (500, 100.0, 20, 0.5):
                    previous = 0.1 * span if span > 1 else 1.1
                    for delta in _deltas(band["limit"], span):
                        values.append(
                            {
                                "reference": 0.0,
                                "previous_after": previous,
                                "before": previous + delta,
                                "span": span,
                            }
                        )
                    values.append({"reference": previous, "before": previous + delta, "span": span})
            values += [
                {"reference": 400, "before": 341, "span": 500},
                {"reference": 0, "previous_after": 1, "before": 26, "span": 500},
                {"reference": 0, "previous_after": 1, "before": 26, "span": 0},
                {"reference": 0, "before": 2},
                {"previous_after": 1, "span": 100},
                {"before": 3, "span": 100},
                {},
            ]
            for _ in range(10):
                span = rng.choice([500, 200, 100, 25, 1])
                previous = round(rng.uniform(0, span), rng.choice([0, 1, 2, 3]))
                before = round(previous + rng.uniform(-0.05, 0.05) * span, rng.choice([1, 2, 3]))
                values.append({"reference": 0, "previous_after": previous, "before": before, "span": span})
        else:
            reading, base = judging.ROLES[kind]
            for band in spec.bands:
                for b in _band_points(band):
                    scale = abs(b) if band["limit"]["type"] == "relative" else 1
                    values += [{reading: b + delta, base: b} for delta in _deltas(band["limit"], scale)]
            values += [{reading: 1, base: 0}, {reading: 0, base: 0}, {reading: 3}, {base: 3}, {}]
            values += [{reading: 0.1 + 0.2, base: 0.3}, {reading: 110, base: 100}, {reading: 1, base: 3}]
            for _ in range(10):
                b = round(rng.uniform(0, 1000) ** rng.choice([1, 0.5, 0.25]), rng.choice([0, 1, 2, 3]))
                values.append({reading: round(b * (1 + rng.uniform(-0.35, 0.35)), 3), base: b})
        cases += [{"computation": comp, "values": v, "limits": spec.as_dict()} for v in values]
    return cases


# --- Pair cases: counts 1 to 7, each pair at, inside or outside its band's limit, below the band -----------
def _pair(band: dict, rng: random.Random, outcome: str) -> dict:
    """A pair in ``band``: error exactly at the limit, just inside, just outside, or far off."""
    points = _band_points(band)
    lab = rng.choice([p for p in points if p > 0] or [1.0])
    limit = band["limit"]
    scale = abs(lab) if limit["type"] == "relative" else 1
    at = limit["value"] * scale
    delta = {"at": at, "-at": -at, "in": at * 0.5, "out": at * (1 + 1e-9) + 1e-9, "far": at * 3 + 1}[outcome]
    return {"instrument": lab + delta, "lab": lab}


def _standard(band: dict, rng: random.Random) -> dict:
    substitute = band.get("substitute") or {}
    low = substitute.get("min") if substitute.get("min") is not None else 1.0
    high = substitute.get("max") if substitute.get("max") is not None else low + 5
    reference = rng.choice([low, high, (low + high) / 2, low - 0.01, high + 0.01, 0.0])
    limit = band["limit"]["value"]
    measured = reference + rng.choice([limit, -limit, limit + 0.01, 0.0, limit * 0.5])
    return rng.choice([{"measured": measured, "reference": reference}, {"measured": measured}, {}])


def pairs_cases(computations: list[dict], limits: dict) -> list[dict]:
    rng = random.Random(20261208)  # noqa: S311 - repeatable test data
    outcomes = ["at", "-at", "in", "out", "far"]
    cases = []
    for comp in computations:
        spec = limits[comp["limit_set"]]
        bands = [b for b in spec.bands if not b.get("substitute")]
        below = [b for b in spec.bands if b.get("substitute")]
        # the counts the rule names, each way round: 2/3, 1/3, 3/4, 2/4, 4/5, 3/5, 4/6, 3/6, 4/7 ...
        for total in range(1, 8):
            for within in range(total + 1):
                for _ in range(3):
                    rows = [
                        _pair(rng.choice(bands), rng, rng.choice(["at", "-at", "in"])) for _ in range(within)
                    ]
                    rows += [
                        _pair(rng.choice(bands), rng, rng.choice(["out", "far"]))
                        for _ in range(total - within)
                    ]
                    rng.shuffle(rows)
                    cases.append({"computation": comp, "rows": rows, "standard": {}})
        for _ in range(100):  # mixed: half-typed rows, below-band rows, standard samples
            rows = []
            for _ in range(rng.randint(0, 6)):
                kind = rng.random()
                if below and kind < 0.3:
                    rows.append(_pair(below[0], rng, rng.choice(outcomes)))
                elif kind < 0.4:
                    rows.append(rng.choice([{"instrument": 10.0}, {"lab": 10.0}, {}]))
                else:
                    rows.append(_pair(rng.choice(bands), rng, rng.choice(outcomes)))
            standard = _standard(below[0], rng) if below and comp.get("standard") else {}
            cases.append({"computation": comp, "rows": rows, "standard": standard})
    return [{**c, "limits": limits[c["computation"]["limit_set"]].as_dict()} for c in cases]


# --- A filled form, as the browser posts it --------------------------------------------------------------
def _fit(item: dict, value: float) -> float:
    low, high = item.get("min"), item.get("max")
    if low is not None and value < low:
        return float(low)
    if high is not None and value > high:
        return float(high)
    return value


def _number_text(value: float, n: int) -> str:
    text = repr(value)
    return text.replace(".", ",") if n % 3 == 0 else text  # some phones' keypads type a comma


def _readings(definition: dict, section: dict, rng: random.Random) -> tuple[dict, set[str]]:
    """Computation inputs with errors around the limits (so some judgements fail) and optional ones
    left empty now and then; returns the values and the item keys to leave unanswered."""
    items = {i["key"]: i for i in section["items"]}
    values: dict = {}
    empty: set[str] = set()
    for comp in definition["computations"]:
        if comp["section"] != section["key"]:
            continue
        roles = comp["inputs"]
        if comp["kind"] == judging.PAIRS_KIND:
            spec = judging.limits_for([definition])[comp["limit_set"]]
            columns = {c["key"]: c for c in items[comp["pairs"]]["columns"]}
            rows = []
            for _ in range(rng.randint(comp["min_pairs"], comp["min_pairs"] + 3)):
                pair = _pair(rng.choice(spec.bands), rng, rng.choice(["at", "in", "out", "far"]))
                rows.append(
                    {
                        roles["instrument"]: _fit(columns[roles["instrument"]], round(pair["instrument"], 4)),
                        roles["lab"]: _fit(columns[roles["lab"]], pair["lab"]),
                    }
                )
            values[comp["pairs"]] = rows
            for role, item in (comp.get("standard") or {}).items():
                values[item] = (
                    round(rng.uniform(18, 27), 1) if role == "reference" else round(rng.uniform(15, 30), 2)
                )
            continue
        if comp["kind"] in judging.DRIFT_KINDS:
            span = values.setdefault(
                roles["span"], _fit(items[roles["span"]], float(rng.choice([500, 100, 20])))
            )
            reference = round(rng.uniform(0, span), 1)
            previous = round(reference + rng.uniform(-0.02, 0.02) * span, 2)
            before = round(previous + rng.uniform(-0.12, 0.12) * span, 2)
            values.update(
                {roles["reference"]: reference, roles["previous_after"]: previous, roles["before"]: before}
            )
            if not items[roles["previous_after"]].get("required") and rng.random() < 0.5:
                empty.add(roles["previous_after"])
        else:
            a, b = ("measured", "reference") if comp["kind"] == "relative_error" else ("instrument", "lab")
            base = _fit(items[roles[b]], round(rng.uniform(0.05, 150), rng.choice([1, 2, 3])))
            values[roles[b]] = base
            values[roles[a]] = _fit(items[roles[a]], round(base * (1 + rng.uniform(-0.4, 0.4)), 3))
    return values, empty


def _entries(prefix: str, section: dict, block: dict, n: count) -> tuple[list, dict]:
    """The entries a browser posts for one block, and the answers they stand for."""
    entries: list = []
    expected: dict = {}
    for item in section["items"]:
        key, kind = item["key"], item["kind"]
        name = f"a|{prefix}|{key}"
        if kind == "signature" or item.get("choices_from") or kind == "photo":
            continue
        value = block.get(key)
        if kind == "normal_abnormal":
            value = {"status": "abnormal", "note": "泵管老化，已更换"} if next(n) % 4 == 0 else value
            entries += [[f"{name}|status", value["status"]], [f"{name}|note", value["note"]]]
        elif value is None:
            entries.append([name, ""])  # left empty
            continue
        elif kind == "number":
            entries.append([name, _number_text(value, next(n))])
        elif kind == "datetime":
            value = ISO_TIME
            entries.append([name, LOCAL_TIME])
        elif kind == "choice" and item.get("multiple"):
            entries += [[name, v] for v in value]
        elif kind == "table":
            rows = value if isinstance(value, list) and value else [{}]
            value = []
            for r, given in enumerate(rows):
                row = {}
                for c in item["columns"]:
                    number = given.get(c["key"], 2.5)
                    cell = {"number": number, "datetime": ISO_TIME}.get(c["kind"], "滤芯")
                    text = {"number": _number_text(number, next(n)), "datetime": LOCAL_TIME}.get(
                        c["kind"], "滤芯"
                    )
                    entries.append([f"{name}|{r}|{c['key']}", text])
                    row[c["key"]] = cell
                value.append(row)
            entries += [[f"{name}|{len(rows)}|{c['key']}", ""] for c in item["columns"]]  # a blank row
        else:
            entries.append([name, value])
        expected[key] = value
    return entries, expected


def form_case(template: FormTemplate, instruments: list, seed: int) -> tuple[dict, dict]:
    definition = template.definition
    groups = groups_of(template)
    rng = random.Random(seed)  # noqa: S311 - repeatable test data
    filled = valid_answers(template, instruments, groups)
    n = count()
    entries: list = []
    expected: dict = {}
    for section, instrument in forms.shown_blocks(definition, instruments, groups):
        key = section["key"]
        block = filled[key][str(instrument.pk)] if instrument else filled[key]
        readings, empty = _readings(definition, section, rng)
        block = {k: v for k, v in {**block, **readings}.items() if k not in empty}
        prefix = f"{key}@{instrument.pk}" if instrument else key
        posted, answers = _entries(prefix, section, block, n)
        entries += posted
        if instrument:
            expected.setdefault(key, {})[str(instrument.pk)] = answers
        else:
            expected[key] = answers
    limits = judging.limits_for([definition])
    keys = sorted({c["limit_set"] for c in definition.get("computations") or []})
    case = {
        "template": {
            "code": template.code,
            "version": template.version,
            "name": template.name,
            "outlet_kind": template.outlet_kind,
            "definition": definition,
            "limit_sets": {k: limits[k].as_dict() for k in keys},
        },
        "instruments": [forms.instrument_out(i) for i in instruments],
        "groups": groups,
        "entries": entries,
        "offsetMinutes": OFFSET_MINUTES,
    }
    return case, {"expected": expected, "groups": groups}


@pytest.fixture
def instruments(world):
    """One instrument per analyte the templates know, on the Shanghai outlets."""
    return instrument_kit(world.shanghai)


def _fields(j: dict) -> dict:
    return {f: j.get(f) for f in FIELDS}


def test_the_phone_judges_and_reads_forms_as_the_server_does(instruments):
    templates = list(FormTemplate.objects.order_by("code"))
    assert len(templates) == 15
    definitions = [t.definition for t in templates]
    limits = judging.limits_for(definitions)
    computations = [c for d in definitions for c in d.get("computations") or []]
    judged = judge_cases(computations, limits)
    forms_in, forms_meta = [], []
    for seed, template in enumerate(templates):
        chosen = applicable(template, instruments[template.outlet_kind])
        case, meta = form_case(template, chosen, seed)
        forms_in.append(case)
        forms_meta.append({**meta, "template": template, "instruments": chosen})

    paired = pairs_cases([c for c in computations if c["kind"] == judging.PAIRS_KIND], limits)
    out = run_node({"judge": judged, "pairs": paired, "forms": forms_in})

    # (a) judge(): every field, every case.
    assert len(judged) > 500
    wrong = []
    for case, phone in zip(judged, out["judge"], strict=True):
        server = judging.judge(case["computation"], case["values"], limits[case["computation"]["limit_set"]])
        if _fields(phone) != _fields(server):
            wrong.append((case["computation"]["key"], case["values"], _fields(server), _fields(phone)))
    assert not wrong, f"{len(wrong)} of {len(judged)} differ, first: {wrong[:3]}"
    outcomes = {j["passed"] for j in out["judge"]}
    assert outcomes == {True, False, None}

    # (a') comparison_pairs: every field, the pairs' own judgements included.
    assert len(paired) > 1000
    wrong = []
    for case, phone in zip(paired, out["pairs"], strict=True):
        comp = case["computation"]
        server = judging.judge_pairs(comp, case["rows"], case["standard"], limits[comp["limit_set"]])
        if _fields(phone) != _fields(server):
            wrong.append((comp["key"], case["rows"], case["standard"], _fields(server), _fields(phone)))
    assert not wrong, f"{len(wrong)} of {len(paired)} differ, first: {wrong[:2]}"
    seen = {(j["pairs_passed"], j["pairs_total"], j["passed"]) for j in out["pairs"] if j["rule"] != "all"}
    assert {(2, 3, True), (1, 3, False), (3, 4, True), (2, 4, False), (4, 5, True), (3, 5, False)} <= seen
    assert {(4, 6, True), (3, 6, False), (4, 7, True)} <= seen
    reasons = {(j["mode"], j["reason"]) for j in out["pairs"]}
    assert {
        ("real_sample", None),
        ("real_sample", "too_few_pairs"),
        ("standard_sample", None),
        ("standard_sample", "standard_sample_required"),
        ("standard_sample", "standard_out_of_range"),
    } <= reasons
    assert {j["passed"] for j in out["pairs"] if j["mode"] == "standard_sample"} == {True, False, None}

    # (b) a filled form: the phone's answers are complete for the server, with the same judgements.
    judged_forms = 0
    for meta, phone in zip(forms_meta, out["forms"], strict=True):
        template, chosen, groups = meta["template"], meta["instruments"], meta["groups"]
        shown = forms.shown_blocks(template.definition, chosen, groups)
        assert phone["blocks"] == [f"{s['key']}@{i.pk}" if i else s["key"] for s, i in shown], template.code
        checked = forms.validate(template, phone["answers"], instruments=chosen, groups=groups, complete=True)
        meant = forms.validate(template, meta["expected"], instruments=chosen, groups=groups, complete=True)
        assert checked.answers == meant.answers, template.code
        assert [(j["key"], j["instrument"]) for j in phone["judgements"]] == [
            (j["key"], j["instrument"]) for j in checked.judgements
        ], template.code
        for p, s in zip(phone["judgements"], checked.judgements, strict=True):
            assert _fields(p) == _fields(s), (template.code, p["key"], p["block"])
        judged_forms += bool(checked.judgements)
    assert judged_forms == 4  # calibration (2), comparison, periodic verification
