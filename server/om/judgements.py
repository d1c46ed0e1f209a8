"""Computed judgements (计算判定) of an O&M record: drift, relative error and comparison error
against the limit sets of ``forms_data/limits.json`` (see ``forms_data/README.md``).

Formulas, with ``a`` the reading judged and ``b`` what it is compared with:

* ``zero_drift`` / ``span_drift``: a = ``before``, b = ``previous_after`` (the reading after the
  last calibration), or ``reference`` when ``previous_after`` is empty.
* ``relative_error``: a = ``measured``, b = ``reference``.
* ``comparison_error``: a = ``instrument``, b = ``lab``.

The band is chosen by the value of the limit set's ``band_on`` input (``min`` inclusive, ``max``
exclusive, ``null`` unbounded). The band's limit type gives the error: ``absolute`` a − b (in the
limit's unit), ``relative`` (a − b) / the ``band_on`` value, ``full_scale`` (a − b) / ``span``.

**Boundary.** A judgement passes iff |error| ≤ limit: a value exactly at the limit passes. Readings
arrive as binary floats; they are turned into decimals through their shortest representation and
the error is rounded to 10 significant digits before the comparison, so that 110 against 100 is an
error of exactly 10 % (and passes a ±10 % limit) rather than 10.000000000000009 %.

A judgement whose inputs are missing has ``passed: None`` and lists the roles in ``missing``; one
that cannot be computed (a zero reference or span under a relative or full-scale limit) has
``passed: None`` and a ``reason``. Judgements with an unconfirmed limit set are ``provisional``
(shown as 待核实).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from server.om.models import LimitSet

SIGNIFICANT = 10

# role -> (reading judged, baseline); drift falls back from previous_after to reference.
ROLES = {
    "zero_drift": ("before", "previous_after"),
    "span_drift": ("before", "previous_after"),
    "relative_error": ("measured", "reference"),
    "comparison_error": ("instrument", "lab"),
}
DRIFT_KINDS = {"zero_drift", "span_drift"}


@dataclass(frozen=True)
class Limits:
    """A limit set as the judgement uses it (from the ``LimitSet`` row or a limits.json entry)."""

    key: str
    measure: str
    analyte: str
    bands: list
    band_on: str
    confirmed: bool
    source: str
    note: str = ""

    @classmethod
    def from_model(cls, row: LimitSet) -> Limits:
        return cls(
            key=row.key,
            measure=row.measure,
            analyte=row.analyte,
            bands=list(row.definition.get("bands") or []),
            band_on=row.definition.get("band_on") or "",
            confirmed=row.confirmed,
            source=row.source,
            note=row.note,
        )

    @classmethod
    def from_spec(cls, spec: dict) -> Limits:
        return cls(
            key=spec["id"],
            measure=spec["measure"],
            analyte=spec.get("analyte") or "",
            bands=list(spec["bands"]),
            band_on=spec.get("band_on") or "",
            confirmed=bool(spec.get("confirmed")),
            source=spec["source"],
            note=spec.get("note") or "",
        )

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "measure": self.measure,
            "analyte": self.analyte,
            "band_on": self.band_on,
            "bands": self.bands,
            "confirmed": self.confirmed,
            "provisional": not self.confirmed,
            "source": self.source,
            "note": self.note,
        }


def decimal(value) -> Decimal | None:
    """A float or int as the decimal it was written as (shortest repr); None stays None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return result if result.is_finite() else None


def _round(value: Decimal) -> Decimal:
    return Decimal(format(value, f".{SIGNIFICANT}g")) if value else Decimal(0)


def select_band(bands: list[dict], x: Decimal | None) -> dict | None:
    """The band holding x (min inclusive, max exclusive). A single unbounded band needs no x."""
    if len(bands) == 1 and bands[0].get("min") is None and bands[0].get("max") is None:
        return bands[0]
    if x is None:
        return None
    for band in bands:
        low, high = decimal(band.get("min")), decimal(band.get("max"))
        if (low is None or x >= low) and (high is None or x < high):
            return band
    return None


def judge(computation: dict, values: dict, limits: Limits, *, instrument: int | None = None) -> dict:
    """Judge one computation of the template with its inputs' values (by role: floats or None)."""
    kind = computation["kind"]
    reading_role, baseline_role = ROLES[kind]
    numbers = {role: decimal(values.get(role)) for role in computation["inputs"]}
    a = numbers.get(reading_role)
    b = numbers.get(baseline_role)
    baseline = baseline_role
    missing: list[str] = []
    if a is None:
        missing.append(reading_role)
    if kind in DRIFT_KINDS and b is None:
        b, baseline = numbers.get("reference"), "reference"
        if b is None:
            missing += ["previous_after", "reference"]
    elif b is None:
        missing.append(baseline_role)
    band = select_band(limits.bands, numbers.get(limits.band_on))
    if band is None and numbers.get(limits.band_on) is None and limits.band_on not in missing:
        missing.append(limits.band_on)
    limit = (band or {}).get("limit") or {}
    limit_type = limit.get("type")
    if limit_type == "full_scale" and numbers.get("span") is None and "span" not in missing:
        missing.append("span")

    value: Decimal | None = None
    reason = "missing_inputs" if missing else None
    if band is None and not missing:
        reason = "no_band"
    if not reason and a is not None and b is not None:
        delta = a - b
        if limit_type == "absolute":
            value = delta
        else:
            denominator = numbers["span"] if limit_type == "full_scale" else numbers.get(limits.band_on)
            if denominator:
                value = delta / denominator
            else:
                reason = "zero_span" if limit_type == "full_scale" else "zero_reference"
    if value is not None:
        value = _round(value)
    passed = None if value is None else abs(value) <= decimal(limit["value"])
    return {
        "key": computation["key"],
        "label": computation.get("label", ""),
        "kind": kind,
        "section": computation["section"],
        "instrument": instrument,
        "value": None if value is None else float(value),
        "value_type": None if not limit_type else ("absolute" if limit_type == "absolute" else "fraction"),
        "limit": limit.get("value"),
        "limit_type": limit_type,
        "limit_unit": limit.get("unit") if limit_type == "absolute" else None,
        "band": None if band is None else {"min": band.get("min"), "max": band.get("max")},
        "passed": passed,
        "provisional": not limits.confirmed,
        "limit_set": limits.key,
        "source": limits.source,
        "missing": missing,
        "baseline": baseline if kind in DRIFT_KINDS else baseline_role,
        "inputs": {role: values.get(role) for role in computation["inputs"]},
        "reason": reason,
    }


def limits_for(definitions: list[dict]) -> dict[str, Limits]:
    """The limit sets the templates' computations reference, in one query. A reference to a set that
    is not loaded is a defect of the data files, not of the record: it raises LookupError."""
    keys = {c["limit_set"] for d in definitions for c in d.get("computations") or []}
    if not keys:
        return {}
    found = {row.key: Limits.from_model(row) for row in LimitSet.objects.filter(key__in=keys)}
    absent = sorted(keys - set(found))
    if absent:
        raise LookupError(f"limit sets not loaded: {', '.join(absent)}")
    return found


def section_values(block: dict, computation: dict) -> dict:
    """The inputs of a computation, by role, from the (normalised) answers of its section."""
    values = {}
    for role, item_key in computation["inputs"].items():
        value = block.get(item_key)
        if isinstance(value, dict):  # a number whose unit was kept (gas calibration: unit "other")
            value = value.get("value")
        values[role] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return values


def evaluate(
    definition: dict, answers: dict, blocks: list[tuple[str, int | None]], limits=None
) -> list[dict]:
    """Every computation of the template, once per shown section instance.

    ``blocks`` lists the shown (section key, instrument id or None) pairs, in display order; a
    computation is judged for each pair of its section (with an empty block when unanswered).
    """
    limits = limits if limits is not None else limits_for([definition])
    by_section: dict[str, list[dict]] = {}
    for comp in definition.get("computations") or []:
        by_section.setdefault(comp["section"], []).append(comp)
    out = []
    for section_key, instrument_id in blocks:
        for comp in by_section.get(section_key, []):
            section_answers = answers.get(section_key) or {}
            if instrument_id is not None:
                section_answers = section_answers.get(str(instrument_id)) or {}
            values = section_values(section_answers, comp)
            out.append(judge(comp, values, limits[comp["limit_set"]], instrument=instrument_id))
    return out
