"""The O&M form engine: a template's answers checked (``validate``), the form as the phone draws it
(``render``) and a filled record as the detail page shows it (``present``).

Templates are data (``forms_data/templates/*.json``, format in ``forms_data/README.md``). Answers:

* ``{section: {item: value}}`` for a section without repeat, and
  ``{section: {"<instrument id>": {item: value}}}`` for a ``repeat: "instrument"`` section.
* normal_abnormal ``{"status": "normal"|"abnormal", "note": str}`` (不正常 needs a note); number a
  JSON number or ``{"value": n, "unit": u}`` (a different unit is refused, never converted); text a
  string; choice a value of ``choices`` (a list of them when ``multiple``); photo a photo UUID or a
  list of them; datetime ISO 8601 with an offset; table a list of rows ``{column: value}``.
* ``signature`` items and ``choices_from`` items are not answered: the record's signature image and
  its chosen instruments fill them.

A draft (``complete=False``) is checked for shapes, types and ranges; a submission also for required
items, the frequency groups and that instrument sections are filled exactly for the chosen
instruments they apply to. All errors are collected and raised together as ``om_answers_invalid``.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from server.errors import DomainError
from server.fields import instant
from server.om import errors
from server.om import judgements as judging
from server.om.models import FormTemplate
from server.registry.models import Instrument

TEXT_MAX = 2000
NOTE_MAX = 1000
CELL_MAX = 200
ROWS_MAX = 100
PHOTOS_MAX = 30

GROUP_LABELS = {
    "daily": "日检查维护",
    "weekly": "周检查维护",
    "monthly": "月检查维护",
    "quarterly": "季检查维护",
}
STATUS_LABELS = {"normal": "正常", "abnormal": "不正常"}
UNANSWERED = "未填写"
# Why a judgement (or one pair of a comparison) was not judged, as the record shows it.
REASON_TEXTS = {
    "missing_inputs": "数据不全",
    "no_band": "没有适用的限值区间",
    "zero_reference": "参考值为 0",
    "zero_span": "量程为 0",
    "too_few_pairs": "比对数据不足",
    "not_computable": "可判定的比对数据不足",
    "below_band": "低于最低浓度档，不以实际水样判定",
    "standard_sample_required": "实际水样低于最低浓度档，须以标准样品代替并填写标准样品数据",
    "standard_out_of_range": "代替用标准样品的浓度不在标准规定的范围内",
}

MESSAGES = {
    "required": "「{label}」为必填项。",
    "note_required": "「{label}」选择“不正常”时须填写说明。",
    "unit_mismatch": "「{label}」的单位须为 {unit}（收到 {got}，不做换算）。",
    "out_of_range": "「{label}」须在 {bounds} 之间。",
    "not_a_number": "「{label}」须为数字。",
    "unknown_section": "表单中没有此部分。",
    "unknown_item": "表单中没有此项。",
    "unknown_instrument": "此设备不在本次运维设备之中。",
    "unknown_choice": "「{label}」的选项无效：{value}。",
    "bad_datetime": "「{label}」须为带时区的 ISO 8601 时间，如 2025-06-01T09:30:00+08:00。",
    "bad_photo": "「{label}」须为照片的 UUID。",
    "bad_value": "「{label}」的格式无效。",
    "too_long": "「{label}」不能超过 {max} {what}。",
    "not_applicable": "「{label}」不适用于本次运维（未选择该检查频次或设备类型不符）。",
    "not_answerable": "「{label}」不在答案中填写：{why}。",
    "too_few_rows": "「{label}」至少须填写 {min} 组（已填 {got} 组）。",
}


@dataclass
class Checked:
    answers: dict
    judgements: list[dict] = field(default_factory=list)


# --- Shared helpers ---------------------------------------------------------------------------------
def applies(section: dict, instrument: Instrument) -> bool:
    """Is a repeat section shown for this instrument (its analytes listed, or any when null)?"""
    analytes = section.get("analytes")
    return analytes is None or bool(set(analytes) & set(instrument.analytes or []))


def in_groups(section: dict, groups: list[str] | None) -> bool:
    return groups is None or section.get("group") is None or section["group"] in groups


def shown_blocks(
    definition: dict, instruments: list[Instrument], groups: list[str]
) -> list[tuple[dict, Instrument | None]]:
    """The section instances a record shows, in order: (section, instrument or None)."""
    out: list[tuple[dict, Instrument | None]] = []
    for section in definition["sections"]:
        if not in_groups(section, groups):
            continue
        if section.get("repeat") == "instrument":
            out += [(section, i) for i in instruments if applies(section, i)]
        else:
            out.append((section, None))
    return out


def not_answered_why(item: dict) -> str | None:
    if item["kind"] == "signature":
        return "签名由记录的手写签名提供"
    if item.get("choices_from"):
        return "由记录所选的运维设备提供"
    return None


def instrument_out(instrument: Instrument) -> dict:
    analytes = list(instrument.analytes or [])
    return {
        "id": instrument.pk,
        "kind": instrument.kind,
        "kind_label": instrument.get_kind_display(),
        "name": instrument.display_name,
        "maker": instrument.maker,
        "model": instrument.model,
        "serial_number": instrument.serial_number,
        "analytes": analytes,
        "range_low": None if instrument.range_low is None else float(instrument.range_low),
        "range_high": None if instrument.range_high is None else float(instrument.range_high),
        "unit": instrument.unit,
    }


def _blank(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _fmt(x: float) -> str:
    return format(x, ".10g")


def _canon_unit(unit) -> str:
    return str(unit or "").strip().replace("³", "3").replace("µ", "u").replace("μ", "u").lower()


# --- Validation -------------------------------------------------------------------------------------
class _Errors(list):
    def add(self, path: str, code: str, **params) -> None:
        params.setdefault("label", path)
        message = MESSAGES.get(code, "{label} 无效。")
        self.append({"path": path, "code": code, "message": message.format(**params)})


def _number(value, item: dict, path: str, errs: _Errors, expected_units: list[str] | None):
    """A number item or column: a float (unit dropped when equal) or None after an error.
    ``expected_units``: the units accepted (as written in the template); None: any unit."""
    label = item["label"]
    unit = None
    if isinstance(value, dict):
        extra = set(value) - {"value", "unit"}
        if extra or "value" not in value:
            errs.add(path, "bad_value", label=label)
            return None
        unit = value.get("unit")
        value = value["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errs.add(path, "not_a_number", label=label)
        return None
    value = float(value)
    low, high = item.get("min"), item.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{_fmt(low) if low is not None else '-∞'} 至 {_fmt(high) if high is not None else '+∞'}"
        errs.add(path, "out_of_range", label=label, bounds=bounds)
        return None
    if unit is None or str(unit).strip() == "":
        return value
    if expected_units is None:  # "other" chosen as the section's unit: any unit, kept with the value
        return {"value": value, "unit": str(unit).strip()}
    if _canon_unit(unit) not in {_canon_unit(u) for u in expected_units}:
        shown = " 或 ".join(expected_units) if expected_units else "无（无量纲）"
        errs.add(path, "unit_mismatch", label=label, unit=shown, got=unit)
        return None
    return value


def _text(value, item: dict, path: str, errs: _Errors, limit: int):
    if not isinstance(value, str):
        errs.add(path, "bad_value", label=item["label"])
        return None
    value = value.strip()
    if len(value) > limit:
        errs.add(path, "too_long", label=item["label"], max=limit, what="个字")
        return None
    return value


def _datetime(value, item: dict, path: str, errs: _Errors):
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or timezone.is_naive(parsed):
        errs.add(path, "bad_datetime", label=item["label"])
        return None
    return instant(parsed)  # stored and shown as every answer writes a moment (F10 item 7)


def _photo(value, item: dict, path: str, errs: _Errors):
    def one(v):
        try:
            return str(uuid.UUID(v)) if isinstance(v, str) else None
        except ValueError:
            return None

    if isinstance(value, list):
        if len(value) > PHOTOS_MAX:
            errs.add(path, "too_long", label=item["label"], max=PHOTOS_MAX, what="张照片")
            return None
        ids = [one(v) for v in value]
        if None in ids:
            errs.add(path, "bad_photo", label=item["label"])
            return None
        return list(dict.fromkeys(ids))
    photo = one(value)
    if photo is None:
        errs.add(path, "bad_photo", label=item["label"])
    return photo


def _choice(value, item: dict, path: str, errs: _Errors):
    allowed = [c["value"] for c in item.get("choices") or []]
    if item.get("multiple"):
        if not isinstance(value, list):
            errs.add(path, "bad_value", label=item["label"])
            return None
        wrong = [v for v in value if not isinstance(v, str) or v not in allowed]
        if wrong:
            errs.add(path, "unknown_choice", label=item["label"], value="、".join(map(str, wrong)))
            return None
        return list(dict.fromkeys(value))
    if not isinstance(value, str) or value not in allowed:
        errs.add(path, "unknown_choice", label=item["label"], value=value)
        return None
    return value


def _normal_abnormal(value, item: dict, path: str, errs: _Errors):
    label = item["label"]
    if not isinstance(value, dict) or set(value) - {"status", "note"}:
        errs.add(path, "bad_value", label=label)
        return None
    status, note = value.get("status"), value.get("note")
    if note is None:
        note = ""
    if not isinstance(note, str):
        errs.add(path, "bad_value", label=label)
        return None
    note = note.strip()
    if len(note) > NOTE_MAX:
        errs.add(path, "too_long", label=label, max=NOTE_MAX, what="个字")
        return None
    if status is None:  # a draft may hold a note before the status is ticked
        return {"status": None, "note": note} if note else None
    if status not in STATUS_LABELS:
        errs.add(path, "unknown_choice", label=label, value=status)
        return None
    if status == "abnormal" and not note:
        errs.add(path, "note_required", label=label)
        return None
    return {"status": status, "note": note}


def _column_units(column: dict) -> list[str]:
    return [column["unit"]] if column.get("unit") else []


def _table(value, item: dict, path: str, errs: _Errors, complete: bool):
    if not isinstance(value, list):
        errs.add(path, "bad_value", label=item["label"])
        return None
    if len(value) > ROWS_MAX:
        errs.add(path, "too_long", label=item["label"], max=ROWS_MAX, what="行")
        return None
    columns = {c["key"]: c for c in item["columns"]}
    before = len(errs)
    rows = []
    for n, row in enumerate(value):
        row_path = f"{path}[{n}]"
        if not isinstance(row, dict):
            errs.add(row_path, "bad_value", label=f"{item['label']}第 {n + 1} 行")
            continue
        out = {}
        failed = set()
        for key, cell in row.items():
            cell_path = f"{row_path}.{key}"
            column = columns.get(key)
            if column is None:
                errs.add(cell_path, "unknown_item", label=key)
                continue
            if cell is None:
                continue
            cell_errors = len(errs)
            if column["kind"] == "number":
                checked = _number(cell, column, cell_path, errs, _column_units(column))
            elif column["kind"] == "datetime":
                checked = _datetime(cell, column, cell_path, errs)
            else:
                checked = _text(cell, column, cell_path, errs, CELL_MAX)
            if len(errs) > cell_errors:
                failed.add(key)
            elif checked is not None:
                out[key] = checked
        if complete:
            for key, column in columns.items():
                if key not in failed and _blank(out.get(key)):
                    errs.add(f"{row_path}.{key}", "required", label=column["label"])
        rows.append(out)
    # HJ 355-2019: a real-water-sample comparison is at least 3 pairs, a level comparison 6 readings.
    # (An empty table is "required" when the item is, rather than "too few".)
    if complete and value and item.get("min_rows") and len(value) < item["min_rows"]:
        errs.add(path, "too_few_rows", label=item["label"], min=item["min_rows"], got=len(value))
    return rows if len(errs) == before else None


def _section_units(section: dict, block: dict) -> list[str] | None:
    """Units accepted for a unit-less number item: its section's ``unit`` choice (gas calibration),
    by value or label; None (any unit) when that choice is "other"; none at all otherwise."""
    item = next((i for i in section["items"] if i["key"] == "unit" and i["kind"] == "choice"), None)
    chosen = block.get("unit") if item else None
    if item is None or not isinstance(chosen, str):
        return []
    if chosen == "other":
        return None
    choice = next((c for c in item.get("choices") or [] if c["value"] == chosen), None)
    return list(dict.fromkeys([choice["label"], chosen])) if choice else []


def _answered(value) -> bool:
    if isinstance(value, dict) and "status" in value:
        return bool(value["status"])  # normal_abnormal: a note alone is not an answer
    return not _blank(value)


def _check_block(section: dict, block: dict, prefix: str, errs: _Errors, complete: bool) -> dict:
    items = {i["key"]: i for i in section["items"]}
    out: dict = {}
    failed: set[str] = set()
    for key, value in block.items():
        path = f"{prefix}.{key}"
        item = items.get(key)
        if item is None:
            errs.add(path, "unknown_item", label=key)
            continue
        why = not_answered_why(item)
        if why:
            errs.add(path, "not_answerable", label=item["label"], why=why)
            continue
        if value is None:
            continue
        before = len(errs)
        check = _CHECKS.get(item["kind"], _check_unknown_kind)
        checked = check(value, item, path, errs, section=section, block=block, complete=complete)
        if len(errs) > before:
            failed.add(key)
        elif checked is not None:
            out[key] = checked
    if complete:
        for item in section["items"]:
            key = item["key"]
            answerable = not not_answered_why(item) and key not in failed
            if item.get("required") and answerable and not _answered(out.get(key)):
                errs.add(f"{prefix}.{key}", "required", label=item["label"])
    return out


def _check_number(value, item, path, errs, *, section, block, complete):
    units = [item["unit"]] if item.get("unit") else _section_units(section, block)
    return _number(value, item, path, errs, units)


def _check_unknown_kind(value, item, path, errs, **_):
    errs.add(path, "bad_value", label=item["label"])


_CHECKS = {
    "number": _check_number,
    "text": lambda v, item, path, errs, **_: _text(v, item, path, errs, TEXT_MAX),
    "choice": lambda v, item, path, errs, **_: _choice(v, item, path, errs),
    "normal_abnormal": lambda v, item, path, errs, **_: _normal_abnormal(v, item, path, errs),
    "photo": lambda v, item, path, errs, **_: _photo(v, item, path, errs),
    "datetime": lambda v, item, path, errs, **_: _datetime(v, item, path, errs),
    "table": lambda v, item, path, errs, *, complete, **_: _table(v, item, path, errs, complete),
}


def check_groups(definition: dict, groups: list[str] | None, *, complete: bool) -> list[str]:
    """The chosen frequency groups, deduplicated; unknown ones refused (drafts too)."""
    groups = list(dict.fromkeys(groups or []))
    declared = list(definition.get("groups") or [])
    unknown = [g for g in groups if g not in declared]
    if unknown:
        raise DomainError(
            errors.OM_GROUP_UNKNOWN,
            details={"groups": unknown, "allowed": declared},
            groups="、".join(map(str, unknown)),
        )
    if complete and declared and not groups:
        raise DomainError(errors.OM_GROUPS_REQUIRED, details={"allowed": declared})
    return groups


def check_instruments(template: FormTemplate, instruments: list[Instrument]) -> None:
    """Each chosen instrument has a repeat section for one of its analytes (any instrument when
    the template has no repeat section bound to analytes)."""
    repeats = [s for s in template.definition["sections"] if s.get("repeat") == "instrument"]
    if not repeats or any(s.get("analytes") is None for s in repeats):
        return
    wrong = [i for i in instruments if not any(applies(s, i) for s in repeats)]
    if wrong:
        analytes = sorted({a for s in repeats for a in s["analytes"]})
        raise DomainError(
            errors.OM_INSTRUMENT_NOT_APPLICABLE,
            details={
                "instruments": [{"id": i.pk, "analytes": list(i.analytes or [])} for i in wrong],
                "applicable_analytes": analytes,
            },
            name=template.name,
            instruments="、".join(f"{i.model}（{i.serial_number}）" for i in wrong),
        )


def validate(
    template: FormTemplate,
    answers: dict,
    *,
    instruments: list[Instrument],
    groups: list[str],
    complete: bool,
) -> Checked:
    """Check and normalise a record's answers; compute its judgements.

    Raises ``om_group_unknown`` / ``om_groups_required`` / ``om_instrument_not_applicable`` for the
    record's choices, then ``om_answers_invalid`` with every error found in the answers.
    """
    definition = template.definition
    groups = check_groups(definition, groups, complete=complete)
    if complete:
        check_instruments(template, instruments)
    errs = _Errors()
    if not isinstance(answers, dict):
        errs.add("", "bad_value", label="答案")
        raise DomainError(errors.OM_ANSWERS_INVALID, details={"errors": list(errs)}, count=1)
    sections = {s["key"]: s for s in definition["sections"]}
    chosen = {str(i.pk): i for i in instruments}
    out: dict = {}
    for key, value in answers.items():
        section = sections.get(key)
        if section is None:
            errs.add(key, "unknown_section", label=key)
            continue
        if not isinstance(value, dict):
            errs.add(key, "bad_value", label=section["title"])
            continue
        shown = in_groups(section, groups)
        if section.get("repeat") != "instrument":
            if complete and not shown and value:
                errs.add(key, "not_applicable", label=section["title"])
                continue
            out[key] = _check_block(section, value, key, errs, complete)
            continue
        blocks = {}
        for instrument_key, block in value.items():
            path = f"{key}[{instrument_key}]"
            instrument = chosen.get(instrument_key)
            if instrument is None:
                errs.add(path, "unknown_instrument", label=path)
                continue
            if complete and not (shown and applies(section, instrument)):
                errs.add(path, "not_applicable", label=section["title"])
                continue
            if not isinstance(block, dict):
                errs.add(path, "bad_value", label=section["title"])
                continue
            blocks[instrument_key] = _check_block(section, block, path, errs, complete)
        out[key] = blocks
    if complete:
        _check_complete(definition, answers, instruments, groups, errs)
    if errs:
        raise DomainError(errors.OM_ANSWERS_INVALID, details={"errors": list(errs)}, count=len(errs))
    blocks = [(s["key"], i.pk if i else None) for s, i in shown_blocks(definition, instruments, groups)]
    return Checked(answers=out, judgements=judging.evaluate(definition, out, blocks))


def _check_complete(definition: dict, answers: dict, instruments: list, groups: list, errs: _Errors) -> None:
    """Required items of shown sections that were not answered at all (answered blocks were
    checked item by item already)."""
    for section, instrument in shown_blocks(definition, instruments, groups):
        key = section["key"]
        if instrument is None:
            if key in answers:
                continue
            prefix = key
        else:
            prefix = f"{key}[{instrument.pk}]"
            raw = answers.get(key)
            if isinstance(raw, dict) and str(instrument.pk) in raw:
                continue
        _check_block(section, {}, prefix, errs, complete=True)
    for section in definition["sections"]:
        for item in section["items"]:
            if item.get("choices_from") and item.get("required") and not instruments:
                errs.add(f"{section['key']}.{item['key']}", "required", label=item["label"])


# --- Rendering for the phone ------------------------------------------------------------------------
def render(
    template: FormTemplate,
    *,
    instruments: list[Instrument] | None = None,
    groups: list[str] | None = None,
    outlet_instruments: list[Instrument] | None = None,
    limits: dict | None = None,
) -> dict:
    """The form as the phone draws it.

    With ``instruments``, instrument sections are repeated once per chosen instrument they apply
    to (each copy carries ``instrument``) and computations once per copy; without, the definition's
    sections as they are. With ``groups``, sections of other groups are left out. With
    ``outlet_instruments``, the ``choices_from: outlet_instruments`` item lists them as choices.
    Every computation carries its limit set (bands, units, ``confirmed``, ``source``).
    """
    definition = template.definition
    if groups is not None:
        groups = check_groups(definition, groups, complete=False)
    limits = limits if limits is not None else judging.limits_for([definition])
    options = None
    if outlet_instruments is not None:
        options = [
            {"value": i.pk, "label": f"{instrument_out(i)['name']} {i.model}（{i.serial_number}）"}
            for i in outlet_instruments
        ]

    def section_out(section: dict, instrument: Instrument | None) -> dict:
        items = []
        for item in section["items"]:
            item = dict(item)
            if item.get("choices_from") == "outlet_instruments" and options is not None:
                item["choices"] = options
            items.append(item)
        return {**section, "items": items, "instrument": instrument_out(instrument) if instrument else None}

    pairs: list[tuple[dict, Instrument | None]] = []
    for section in definition["sections"]:
        if not in_groups(section, groups):
            continue
        if section.get("repeat") == "instrument" and instruments is not None:
            pairs += [(section, i) for i in instruments if applies(section, i)]
        else:
            pairs.append((section, None))
    sections = [section_out(s, i) for s, i in pairs]
    computations = []
    by_section: dict[str, list[dict]] = {}
    for comp in definition.get("computations") or []:
        by_section.setdefault(comp["section"], []).append(comp)
    for section, instrument in pairs:
        for comp in by_section.get(section["key"], []):
            limit = limits[comp["limit_set"]]
            computations.append(
                {
                    **comp,
                    "instrument": instrument.pk if instrument else None,
                    "limit": limit.as_dict(),
                    "provisional": not limit.confirmed,
                }
            )
    return {
        "code": template.code,
        "version": template.version,
        "name": template.name,
        "outlet_kind": template.outlet_kind,
        "sources": definition.get("sources") or [],
        "groups": [{"key": g, "label": GROUP_LABELS.get(g, g)} for g in definition.get("groups") or []],
        "chosen_groups": groups,
        "instruments": None if instruments is None else [instrument_out(i) for i in instruments],
        "sections": sections,
        "computations": computations,
    }


# --- The record as the detail page shows it ---------------------------------------------------------
def _local(value: str) -> str:
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        return str(value)
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")


def _number_text(value, unit: str | None) -> str:
    if isinstance(value, dict):
        value, unit = value.get("value"), value.get("unit")
    if not isinstance(value, (int, float)):
        return str(value)
    return f"{_fmt(value)} {unit}" if unit else _fmt(value)


def _choice_label(item: dict, value) -> str:
    labels = {c["value"]: c["label"] for c in item.get("choices") or []}
    if isinstance(value, list):
        return "、".join(labels.get(v, str(v)) for v in value)
    return labels.get(value, str(value))


def _item_out(item: dict, value, section: dict, block: dict, instruments: list[Instrument]) -> dict:
    out = {"key": item["key"], "label": item["label"], "kind": item["kind"]}
    kind = item["kind"]
    if item.get("choices_from"):
        out["text"] = (
            "；".join(f"{instrument_out(i)['name']} {i.model}（{i.serial_number}）" for i in instruments)
            or UNANSWERED
        )
        return out
    if _blank(value) or (kind == "normal_abnormal" and not value.get("status")):
        out["text"] = UNANSWERED
        return out
    if kind == "normal_abnormal":
        out.update(status=value["status"], note=value.get("note", ""))
        label = STATUS_LABELS[value["status"]]
        out["text"] = f"{label}（{value['note']}）" if value.get("note") else label
    elif kind == "number":
        unit = item.get("unit")
        if unit is None and isinstance(block.get("unit"), str):
            unit_item = next((i for i in section["items"] if i["key"] == "unit"), None)
            if unit_item is not None and block["unit"] != "other":
                unit = _choice_label(unit_item, block["unit"])
        out["text"] = _number_text(value, unit)
    elif kind == "choice":
        out["text"] = _choice_label(item, value)
    elif kind == "datetime":
        out["text"] = _local(value)
    elif kind == "photo":
        out["photos"] = value if isinstance(value, list) else [value]
        out["text"] = f"{len(out['photos'])} 张照片"
    elif kind == "table":
        columns = item["columns"]
        out["columns"] = [{"key": c["key"], "label": c["label"], "unit": c.get("unit")} for c in columns]
        out["rows"] = [[_cell_text(c, row.get(c["key"])) for c in columns] for row in value]
        out["text"] = f"{len(value)} 行"
    else:
        out["text"] = str(value)
    return out


def _cell_text(column: dict, value) -> str:
    if _blank(value):
        return ""
    if column["kind"] == "number":
        return _number_text(value, column.get("unit"))
    if column["kind"] == "datetime":
        return _local(value)
    return str(value)


def _percent(x: float) -> str:
    return f"{float(format(x * 100, '.6g')):g}%"


def _limit_text(kind, limit, unit) -> str:
    if limit is None:
        return "—"
    if kind == "absolute":
        return f"±{_fmt(limit)} {unit or ''}".strip()
    return f"±{_percent(limit)}" + ("F.S." if kind == "full_scale" else "")


def pairs_texts(j: dict) -> tuple[str, str]:
    """A comparison_pairs judgement's value and limit in words: "3/4 对合格" and the rule ("4 对中至少
    3 对在限值内"); for a standard sample that replaced the real sample, its error and limit."""
    if j.get("mode") == "standard_sample":
        value = j.get("value")
        unit = j.get("limit_unit") or ""
        value_text = "—" if value is None else f"标准样品 {_fmt(value)} {unit}".strip()
        band = j.get("band") or {}
        below = (
            f"实际水样低于 {_fmt(band['max'])} {unit}".rstrip() + "，" if band.get("max") is not None else ""
        )
        return value_text, f"{below}以标准样品代替：{_limit_text(j.get('limit_type'), j.get('limit'), unit)}"
    total, within, required = j.get("pairs_total") or 0, j.get("pairs_passed") or 0, j.get("pairs_required")
    if required is None:
        return "—", f"至少 {j.get('min_pairs') or 3} 对"
    value_text = f"{within}/{total} 对合格"
    if j.get("rule") == "all":  # the largest error of the readings is the one judged
        unit = j.get("limit_unit") or ""
        limit = _limit_text(j.get("limit_type"), j.get("limit"), unit)
        return f"{value_text}（最大误差 {_fmt(j['value'])} {unit}".rstrip() + "）", f"每组均在 {limit} 内"
    return value_text, f"{total} 对中至少 {required} 对在限值内"


def judgement_out(j: dict) -> dict:
    """One computation's row: value, limit, 合格/不合格 and 待核实 for an unconfirmed limit set."""
    kind = j.get("limit_type")
    value, limit = j.get("value"), j.get("limit")
    if value is None:
        value_text = "—"
    elif kind == "absolute":
        value_text = f"{_fmt(value)} {j.get('limit_unit') or ''}".strip()
    else:
        value_text = _percent(value)
    if limit is None:
        limit_text = "—"
    elif kind == "absolute":
        limit_text = f"±{_fmt(limit)} {j.get('limit_unit') or ''}".strip()
    else:
        limit_text = f"±{_percent(limit)}" + ("F.S." if kind == "full_scale" else "")
    if j.get("kind") == judging.PAIRS_KIND:
        value_text, limit_text = pairs_texts(j)
    result = {True: "合格", False: "不合格"}.get(j.get("passed"), "未判定")
    return {
        "key": j["key"],
        "label": j.get("label", ""),
        "value": j.get("value"),
        "value_text": value_text,
        "limit_text": limit_text,
        "passed": j.get("passed"),
        "result": result,
        "provisional": bool(j.get("provisional")),
        "flag": "待核实" if j.get("provisional") else "",
        "missing": j.get("missing") or [],
        "limit_set": j.get("limit_set"),
        "source": j.get("source", ""),
        "kind": j.get("kind"),
        "mode": j.get("mode"),
        "reason": j.get("reason"),
        "reason_text": REASON_TEXTS.get(j.get("reason") or "", ""),
        "pairs": [
            {
                "row": p["row"],
                "instrument": p["instrument"],
                "lab": p["lab"],
                "result": {True: "合格", False: "不合格"}.get(p["passed"], "未判定"),
                "reason_text": REASON_TEXTS.get(p.get("reason") or "", ""),
            }
            for p in j.get("pairs") or []
        ],
    }


def present(
    template: FormTemplate, answers: dict, judgements: list[dict], instruments: list[Instrument]
) -> list[dict]:
    """The record detail, section by section as the seed shows it: each item's label and answer as
    text (number with unit, 正常/不正常 with the note, tables as rows), then the section's
    computations (value, limit, 合格/不合格, 待核实). Signature items are left out (the record's
    signature image is shown by the record itself); sections without answers are left out."""
    definition = template.definition
    by_block: dict[tuple[str, int | None], list[dict]] = {}
    for j in judgements or []:
        by_block.setdefault((j.get("section"), j.get("instrument")), []).append(judgement_out(j))
    out = []
    for section in definition["sections"]:
        raw = answers.get(section["key"])
        if section.get("repeat") == "instrument":
            pairs = [
                (i, (raw or {}).get(str(i.pk)))
                for i in instruments
                if isinstance(raw, dict) and isinstance(raw.get(str(i.pk)), dict)
            ]
        elif isinstance(raw, dict) or any(i.get("choices_from") for i in section["items"]):
            pairs = [(None, raw or {})]
        else:
            pairs = []
        for instrument, block in pairs:
            items = [
                _item_out(item, block.get(item["key"]), section, block, instruments)
                for item in section["items"]
                if item["kind"] != "signature"
            ]
            out.append(
                {
                    "key": section["key"],
                    "title": section["title"],
                    "group": section.get("group"),
                    "group_label": GROUP_LABELS.get(section.get("group") or "", ""),
                    "instrument": instrument_out(instrument) if instrument else None,
                    "items": items,
                    "judgements": by_block.get((section["key"], instrument.pk if instrument else None), []),
                }
            )
    return out
