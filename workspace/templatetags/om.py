"""``{% load om %}``: an O&M record's status and a review's decision in the user's language, the
badge each is shown with, and how many computed values of a record are out of their limit."""

from __future__ import annotations

from django import template

from server.om.models import OmRecord
from server.tracks.models import CheckIn
from workspace import records
from workspace.i18n import t

register = template.Library()

STATUS_BADGES = {
    OmRecord.Status.DRAFT: "muted",
    OmRecord.Status.SUBMITTED: "warn",
    OmRecord.Status.CONFIRMED: "warn",
    OmRecord.Status.APPROVED: "ok",
    OmRecord.Status.VOIDED: "fail",
}
CHECKIN_EN = {
    CheckIn.Verdict.INSIDE: "Inside the geofence",
    CheckIn.Verdict.OUTSIDE: "Outside the geofence",
    CheckIn.Verdict.COORDINATE_MIXUP: "Coordinate system mix-up",
    CheckIn.Verdict.NO_SITE: "No site to compare with",
}


@register.filter
def om_status(status: str) -> str:
    return records.status_label(status)


@register.filter
def om_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "muted")


@register.filter
def decision(value: str) -> str:
    zh_en = records.DECISION_LABELS.get(value)
    return t(*zh_en) if zh_en else value


@register.filter
def out_of_limit(judgements) -> int:
    return records.failed_judgements(judgements)


@register.filter
def checkin_verdict(checkin: CheckIn) -> str:
    en = CHECKIN_EN.get(checkin.verdict)
    return t(checkin.get_verdict_display(), en) if en else checkin.get_verdict_display()


@register.filter
def checkin_badge(checkin: CheckIn) -> str:
    if checkin.verdict == CheckIn.Verdict.INSIDE:
        return "ok"
    return "muted" if checkin.verdict == CheckIn.Verdict.NO_SITE else "fail"
