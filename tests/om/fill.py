"""Complete, valid answer sets for any O&M form template (used by the form and record tests).

``valid_answers(template, instruments, groups)`` fills every section the record shows (sections of
the chosen groups; instrument sections once per chosen instrument whose analytes match), in the
answer format of ``server.om.forms``. Numbers lie inside the item's plausibility bounds and are
given in the item's own unit; the inputs of each computation are equal readings, so every judgement
passes. Photos are fresh UUID strings (the form engine does not look them up), datetimes are now.
"""

from __future__ import annotations

import uuid
from itertools import count

from django.utils import timezone

from server.om.forms_load import limit_sets
from server.om.models import FormTemplate
from server.registry.models import Instrument
from server.registry.services import instrument_create

# Readings per computation role: equal readings give a zero error, which every limit accepts.
SPAN = 100.0
DRIFT = {"zero_drift": 0.0, "span_drift": 80.0}
READING = 10.0
LIMITS = {spec["id"]: spec for spec in limit_sets()}


def groups_of(template: FormTemplate) -> list[str]:
    """Every frequency group the template declares ([] when it has none)."""
    return list(template.definition.get("groups") or [])


def applies(section: dict, instrument: Instrument) -> bool:
    analytes = section.get("analytes")
    return analytes is None or bool(set(analytes) & set(instrument.analytes))


def applicable(template: FormTemplate, instruments: list[Instrument]) -> list[Instrument]:
    """The instruments a complete record of this template may choose: those with a repeat section
    for their analytes (any instrument when the template has no analyte-bound repeat sections)."""
    repeats = [s for s in template.definition["sections"] if s.get("repeat") == "instrument"]
    if not repeats or any(s.get("analytes") is None for s in repeats):
        return list(instruments)
    return [i for i in instruments if any(applies(s, i) for s in repeats)]


def now_iso() -> str:
    return timezone.localtime().isoformat()


def _fit(item: dict, preferred: float) -> float:
    low, high = item.get("min"), item.get("max")
    if (low is None or preferred >= low) and (high is None or preferred <= high):
        return float(preferred)
    if low is not None and high is not None:
        return (low + high) / 2
    return float(low if low is not None else high)


def _column_value(column: dict):
    kind = column["kind"]
    if kind == "number":
        return 1.0
    if kind == "datetime":
        return now_iso()
    return "测试"


def _item_value(item: dict):
    kind = item["kind"]
    if kind == "normal_abnormal":
        return {"status": "normal", "note": ""}
    if kind == "number":
        return _fit(item, READING)
    if kind == "text":
        return "测试"
    if kind == "choice":
        first = item["choices"][0]["value"]
        return [first] if item.get("multiple") else first
    if kind == "photo":
        return str(uuid.uuid4())
    if kind == "datetime":
        return now_iso()
    if kind == "table":
        return [{c["key"]: _column_value(c) for c in item["columns"]}]
    raise ValueError(f"no value for item kind {kind!r}")


def _computation_values(definition: dict, section: dict) -> dict:
    """Readings for the computations of one section, chosen so that every judgement passes."""
    items = {i["key"]: i for i in section["items"]}
    values: dict = {}
    for comp in definition.get("computations") or []:
        if comp["section"] != section["key"]:
            continue
        roles = comp["inputs"]
        if comp["kind"] == "comparison_pairs":
            values[comp["pairs"]] = _pairs(comp, items[comp["pairs"]])
            continue
        if comp["kind"] in DRIFT:
            reading = DRIFT[comp["kind"]]
            values[roles["span"]] = _fit(items[roles["span"]], SPAN)
            for role in ("reference", "previous_after", "before"):
                values[roles[role]] = _fit(items[roles[role]], reading)
        else:
            a, b = ("measured", "reference") if comp["kind"] == "relative_error" else ("instrument", "lab")
            reading = _fit(items[roles[b]], READING)
            values[roles[a]] = values[roles[b]] = reading
    return values


def _pairs(comp: dict, table: dict) -> list[dict]:
    """As many equal pairs as the comparison needs, in its limit set's top band (a real sample above
    the band where a standard sample would replace it)."""
    columns = {c["key"]: c for c in table["columns"]}
    bands = LIMITS[comp["limit_set"]]["bands"]
    top = max((b["min"] for b in bands if b.get("min") is not None), default=READING)
    reading = _fit(columns[comp["inputs"]["lab"]], top)
    row = {key: _column_value(column) for key, column in columns.items()}
    row.update(dict.fromkeys(comp["inputs"].values(), reading))
    return [dict(row) for _ in range(comp.get("min_pairs") or 3)]


def section_answers(definition: dict, section: dict, *, optional: bool = True) -> dict:
    """Answers for one section (or one instrument block of it)."""
    out = {}
    for item in section["items"]:
        if item["kind"] == "signature" or item.get("choices_from"):
            continue  # the record's signature image; the record's chosen instruments
        if not item.get("required") and not optional:
            continue
        out[item["key"]] = _item_value(item)
    out.update(_computation_values(definition, section))
    return out


def valid_answers(
    template: FormTemplate, instruments: list[Instrument], groups: list[str], *, optional: bool = True
) -> dict:
    """A complete valid answer set. ``optional=False`` leaves optional items unanswered (e.g. no
    site photos); computation inputs are always filled."""
    definition = template.definition
    answers: dict = {}
    for section in definition["sections"]:
        if section.get("group") and section["group"] not in groups:
            continue
        if section.get("repeat") == "instrument":
            blocks = {
                str(i.pk): section_answers(definition, section, optional=optional)
                for i in instruments
                if applies(section, i)
            }
            if blocks:
                answers[section["key"]] = blocks
        else:
            answers[section["key"]] = section_answers(definition, section, optional=optional)
    return answers


_serial = count(1)


def make_instrument(
    outlet, kind: str, analytes: list[str], *, range_high=100, unit: str = "mg/L"
) -> Instrument:
    return instrument_create(
        outlet=outlet,
        kind=kind,
        analytes=analytes,
        maker="测试厂家",
        model=f"M-{'-'.join(analytes)}",
        serial_number=f"F6-{uuid.uuid4().hex[:8]}-{next(_serial)}",
        range_low=0,
        range_high=range_high,
        unit=unit,
    )


def instrument_kit(side) -> dict[str, list[Instrument]]:
    """Instruments for every analyte the templates know, on the side's outlets: one per water analyte
    (the side's COD analyzer first), a SO2/NOx/O2 CEMS and the other gas instruments."""
    water = [side.instrument] + [
        make_instrument(side.wastewater, kind, [a])
        for kind, a in [
            ("water_analyzer", "toc"),
            ("water_analyzer", "nh3n"),
            ("water_analyzer", "tp"),
            ("water_analyzer", "tn"),
            ("water_analyzer", "ph"),
            ("flow_meter", "water_flow"),
        ]
    ]
    gas = [
        make_instrument(side.gas, "cems", ["so2", "nox", "o2"], unit="mg/m3"),
        make_instrument(side.gas, "cems", ["particulates"], unit="mg/m3"),
        make_instrument(side.gas, "cems", ["gas_flow"], unit="m/s"),
        make_instrument(side.gas, "nmhc_analyzer", ["nmhc"], unit="mg/m3"),
    ]
    return {"wastewater": water, "waste_gas": gas}
