"""Loading the O&M form templates and judgement limits from ``server/om/forms_data`` (data, not code).

A template is stored once per (code, version). Changing a loaded version's sections or items is
refused: bump ``version`` in the file, so records keep the version they were filled with. Limit sets
are updated in place from ``limits.json`` (a corrected limit or a confirmed clause applies to every
later judgement; records keep the judgement, limit and source they were judged with).

Used by the data migration and by ``manage.py om_forms_load``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent / "forms_data"


class TemplateChangedError(Exception):
    """A template file differs from the stored version of the same number."""


@dataclass
class Loaded:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    limits_created: int = 0
    limits_updated: int = 0


def template_files(data: Path = DATA) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((data / "templates").glob("*.json"))]


def limit_sets(data: Path = DATA) -> list[dict]:
    return json.loads((data / "limits.json").read_text(encoding="utf-8"))


def load(template_model, limit_model, data: Path = DATA) -> Loaded:
    """Store what the files hold (models passed in, so that a migration can use its own)."""
    out = Loaded()
    for spec in limit_sets(data):
        fields = {
            "measure": spec["measure"],
            "analyte": spec.get("analyte") or "",
            "definition": {"bands": spec["bands"], "band_on": spec.get("band_on")},
            "source": spec["source"],
            "confirmed": bool(spec.get("confirmed")),
            "note": spec.get("note") or "",
        }
        current = limit_model.objects.filter(key=spec["id"]).first()
        if current is None:
            limit_model.objects.create(key=spec["id"], **fields)
            out.limits_created += 1
        elif any(getattr(current, k) != v for k, v in fields.items()):
            limit_model.objects.filter(key=spec["id"]).update(**fields)
            out.limits_updated += 1
    for spec in template_files(data):
        label = f"{spec['code']} v{spec['version']}"
        stored = template_model.objects.filter(code=spec["code"], version=spec["version"]).first()
        if stored is None:
            template_model.objects.create(
                code=spec["code"],
                version=spec["version"],
                outlet_kind=spec["outlet_kind"],
                name=spec["name"],
                definition=spec,
            )
            out.created.append(label)
        elif stored.definition != spec:
            raise TemplateChangedError(f"{label} 已载入且内容不同：修改表单须提高 version。")
        else:
            out.unchanged.append(label)
    return out
