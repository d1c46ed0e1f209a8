"""The names of China's administrative divisions (GB/T 2260), for people: a regulator reads
"上海市徐汇区", not "310104". Codes are stored as codes (server/registry/services.validate_region_code);
this only names them. The table is vendored (data/VENDORED.md); a code it does not know (a division
created or abolished since) is shown as the code itself, with its province when that is known."""

from __future__ import annotations

import functools
import json
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
# A prefecture that is only a grouping of a municipality's districts (北京市 → 市辖区) is not named.
_GROUPINGS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@functools.cache
def _table() -> dict[str, str]:
    names: dict[str, str] = {}
    for file, width in (("provinces.json", 2), ("cities.json", 4), ("areas.json", 6)):
        for row in json.loads((_DATA / file).read_text(encoding="utf-8")):
            names[row["code"].ljust(width, "0")[:width]] = row["name"]
    return names


def region_name(code: str) -> str:
    """``310000`` → 上海市, ``320100`` → 江苏省南京市, ``320102`` → 江苏省南京市玄武区, ``310104`` →
    上海市徐汇区. Blank for a blank code; the code itself when not even its province is known."""
    code = (code or "").strip()
    if not code:
        return ""
    table = _table()
    province = table.get(code[:2])
    if province is None or len(code) != 6 or not code.isdigit():
        return code
    parts = [province]
    if code[2:4] != "00":
        city = table.get(code[:4])
        if city is None:
            return f"{province}（{code}）"
        if city not in _GROUPINGS:
            parts.append(city)
    if code[4:] != "00":
        area = table.get(code)
        if area is None:
            return f"{''.join(parts)}（{code}）"
        parts.append(area)
    return "".join(parts)
