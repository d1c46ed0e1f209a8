from __future__ import annotations

import datetime as dt

from django import template

from server.regions import region_name
from workspace import labels, nav
from workspace.i18n import t as pick

register = template.Library()


@register.simple_tag
def t(zh: str, en: str) -> str:
    """``{% t "中文" "English" %}``: the text in the user's language."""
    return pick(zh, en)


@register.filter
def region(code: str) -> str:
    """``310104`` → 上海市徐汇区 (server/regions), the code kept beside it for whoever files by code."""
    name = region_name(code)
    return f"{name}（{code}）" if name and name != code and code not in name else name


@register.filter
def local(value) -> str:
    """A moment in Asia/Shanghai, to the second; a date as it is."""
    if isinstance(value, dt.datetime):
        return labels.local_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return labels.readable(value) if value not in (None, "") else "—"


@register.filter
def finding_message(finding: dict) -> str:
    return labels.finding_message(finding)


@register.filter
def evidence_rows(evidence) -> list[tuple[str, str]]:
    return labels.evidence_rows(evidence)


@register.filter
def severity(value: str) -> str:
    return labels.severity_label(value)


@register.filter
def who(user) -> str:
    """A person's name (the account's name when it has no person)."""
    return nav.display_name(user) if user is not None else "—"


@register.filter
def worst(findings) -> dict | None:
    """The finding that made a verdict: the first fail, else the first warning."""
    flagged = [f for f in findings or [] if isinstance(f, dict) and f.get("severity") in ("fail", "warn")]
    flagged.sort(key=lambda f: f.get("severity") != "fail")
    return flagged[0] if flagged else None
