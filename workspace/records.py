"""O&M records as the workspace shows them (seed 003 §2.3-§3): a record's page (the form as the
technician filled it, its check-ins, signature and work photo, versions, confirmations and reviews),
an enterprise's day and its confirmations, the agency's review queue.

Reads go through the scopes of ``server.access`` as the API's (``om_records_for``); the form is laid
out by ``server.om.forms.present``, the one description of a filled record, and only its words are
put in the user's language here. Lists join what they show: one query for the rows and one for the
count, whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet

from server import access
from server.accounts.models import Role, User
from server.errors import NOT_FOUND, DomainError
from server.om import forms
from server.om.models import (
    ConfirmedVersion,
    DayConfirmation,
    FormTemplate,
    OmRecord,
    OmRecordEvent,
    OmRecordVersion,
    Review,
    ReviewedVersion,
)
from server.registry.models import Instrument, Outlet
from server.tracks.models import CheckIn
from workspace.i18n import english, t

PAGE_SIZE = 20

STATUS_EN = {
    OmRecord.Status.DRAFT: "Draft",
    OmRecord.Status.SUBMITTED: "Awaiting the enterprise",
    OmRecord.Status.CONFIRMED: "Confirmed by the enterprise",
    OmRecord.Status.APPROVED: "Approved",
    OmRecord.Status.VOIDED: "Voided",
}
GROUP_LABELS = {
    "daily": ("日检查维护", "Daily checks"),
    "weekly": ("周检查维护", "Weekly checks"),
    "monthly": ("月检查维护", "Monthly checks"),
    "quarterly": ("季检查维护", "Quarterly checks"),
}
DECISION_LABELS = {
    Review.Decision.APPROVE: ("审核通过", "Approved"),
    Review.Decision.VOID: ("作废", "Voided"),
}


def status_label(status: str) -> str:
    if english():
        return STATUS_EN.get(status, status)
    return str(OmRecord.Status(status).label) if status in OmRecord.Status.values else status


def group_label(group: str | None) -> str:
    zh_en = GROUP_LABELS.get(group or "")
    return t(*zh_en) if zh_en else ""


def failed_judgements(judgements) -> int:
    """How many computed values of a record are out of their limit."""
    return sum(1 for j in judgements or [] if isinstance(j, dict) and j.get("passed") is False)


# --- The form, readable -------------------------------------------------------------------------------
@dataclass
class Item:
    label: str
    text: str
    abnormal: bool = False
    unanswered: bool = False
    photos: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Judgement:
    label: str
    value: str
    limit: str
    passed: bool | None
    provisional: bool
    source: str
    missing: list[str]


@dataclass
class Section:
    title: str
    group: str
    instrument: str
    items: list[Item]
    judgements: list[Judgement]


def _item(out: dict) -> Item:
    kind, text = out["kind"], out["text"]
    if text == forms.UNANSWERED:
        return Item(out["label"], t("未填写", "Not answered"), unanswered=True)
    item = Item(out["label"], text)
    if kind == "normal_abnormal":
        item.abnormal = out.get("status") == "abnormal"
        word = t("不正常", "Abnormal") if item.abnormal else t("正常", "Normal")
        item.text = f"{word}（{out['note']}）" if out.get("note") else word
    elif kind == "photo":
        item.photos = [str(p) for p in out.get("photos") or []]
        item.text = t(f"{len(item.photos)} 张照片", f"{len(item.photos)} photo(s)")
    elif kind == "table":
        item.columns = [c["label"] + (f"（{c['unit']}）" if c.get("unit") else "") for c in out["columns"]]
        item.rows = out["rows"]
        item.text = t(f"{len(item.rows)} 行", f"{len(item.rows)} row(s)")
    return item


def _judgement(out: dict) -> Judgement:
    return Judgement(
        label=out["label"],
        value=out["value_text"],
        limit=out["limit_text"],
        passed=out["passed"],
        provisional=out["provisional"],
        source=out["source"],
        missing=list(out["missing"]),
    )


def readable_form(
    template: FormTemplate, answers: dict, judgements: list[dict], instruments: list[Instrument]
) -> list[Section]:
    """The record's sections as ``forms.present`` lays them out (items with their answers, each
    instrument's block, the computed judgements with the limit they were judged against), with the
    workspace's own words in the user's language. Labels are the template's (data, in Chinese)."""
    return [
        Section(
            title=s["title"],
            group=group_label(s.get("group")),
            instrument=(
                f"{s['instrument']['name']} {s['instrument']['model']}（{s['instrument']['serial_number']}）"
                if s.get("instrument")
                else ""
            ),
            items=[_item(i) for i in s["items"]],
            judgements=[_judgement(j) for j in s["judgements"]],
        )
        for s in forms.present(template, answers, judgements, instruments)
    ]


# --- A record's page ------------------------------------------------------------------------------
@dataclass
class RecordPage:
    record: OmRecord
    sections: list[Section]
    groups: list[str]
    instruments: list[Instrument]
    shown_version: OmRecordVersion | None  # an earlier version asked for, else the current one
    versions: list[OmRecordVersion]
    events: list[OmRecordEvent]
    confirmations: list[ConfirmedVersion]
    reviews: list[ReviewedVersion]
    checkins: list[tuple[str, CheckIn | None]] = field(default_factory=list)
    judged: int = 0
    failed: int = 0


def _record_query(user: User) -> QuerySet[OmRecord]:
    return access.om_records_for(user).select_related(
        "task",
        "outlet",
        "template",
        "agency",
        "enterprise",
        "filled_by__person",
        "start_checkin",
        "end_checkin",
        "work_photo__photo_type",
        "work_photo__blob",
    )


def record_page(user: User, pk, *, version: int | None = None) -> RecordPage:
    """A record the user sees (404 outside the scope, as ``GET /om/records/{id}``), at its current
    version or, with ``version``, as that submitted version was."""
    signed = ("actor__person", "work_photo__blob")
    record: OmRecord = access.get_visible(
        _record_query(user).prefetch_related(
            "instruments",
            Prefetch("versions", queryset=OmRecordVersion.objects.select_related("saved_by__person")),
            Prefetch(
                "events", queryset=OmRecordEvent.objects.select_related("actor__person").order_by("at", "id")
            ),
            Prefetch(
                "confirmations",
                queryset=ConfirmedVersion.objects.select_related(
                    *(f"confirmation__{s}" for s in signed)
                ).order_by("confirmation__at", "id"),
            ),
            Prefetch(
                "reviews",
                queryset=ReviewedVersion.objects.select_related(*(f"review__{s}" for s in signed)).order_by(
                    "review__at", "id"
                ),
            ),
        ),
        pk,
    )
    versions = sorted(record.versions.all(), key=lambda v: v.number)
    instruments = list(record.instruments.all())
    answers, judgements, groups, shown = record.answers, record.judgements, record.groups, None
    if version is not None and version != record.version:
        shown = next((v for v in versions if v.number == version), None)
        if shown is None:
            raise DomainError(NOT_FOUND)
        answers, judgements, groups = shown.answers, shown.judgements, shown.groups
        # An instrument since taken off the record is still the one the version was filled for.
        instruments = list(Instrument.objects.filter(pk__in=shown.instrument_ids).order_by("pk"))
    return RecordPage(
        record=record,
        sections=readable_form(record.template, answers, judgements, instruments),
        groups=[group_label(g) for g in groups],
        instruments=instruments,
        shown_version=shown,
        versions=versions,
        events=list(record.events.all()),
        confirmations=list(record.confirmations.all()),
        reviews=list(record.reviews.all()),
        checkins=[
            (t("开始签到（填报前）", "Start (before filling)"), record.start_checkin),
            (t("结束签到（提交前）", "End (before submitting)"), record.end_checkin),
        ],
        judged=len(judgements or []),
        failed=failed_judgements(judgements),
    )


# --- The enterprise's day and its confirmations -----------------------------------------------------
def day_pending(user: User, day: dt.date) -> list[OmRecord]:
    """The day's records awaiting the enterprise's confirmation (as ``GET /om/days/{date}``)."""
    return list(
        _record_query(user).filter(status=OmRecord.Status.SUBMITTED, om_date=day).order_by("created_at", "id")
    )


def confirmations_for(user: User) -> QuerySet[DayConfirmation]:
    """The enterprise's confirmations (for others: those of a record they see), newest first, with
    how many records each confirmed and how many of those were edited since (须重新确认)."""
    qs = DayConfirmation.objects.all()
    if user.role == Role.ENTERPRISE:
        qs = qs.filter(enterprise_id=user.enterprise_id)
    elif user.role != Role.PLATFORM:
        qs = qs.filter(
            pk__in=ConfirmedVersion.objects.filter(record__in=access.om_records_for(user)).values(
                "confirmation_id"
            )
        )
    return (
        qs.select_related("actor__person", "work_photo__blob")
        .annotate(
            records=Count("items"),
            invalidated=Count("items", filter=Q(items__invalidated_at__isnull=False)),
        )
        .order_by("-at", "-pk")
    )


def reviews_for(user: User) -> QuerySet[Review]:
    """Reviews of records the user sees."""
    if user.role == Role.PLATFORM:
        return Review.objects.all()
    return Review.objects.filter(
        pk__in=ReviewedVersion.objects.filter(record__in=access.om_records_for(user)).values("review_id")
    )


# --- The agency's review queue ----------------------------------------------------------------------
@dataclass(frozen=True)
class QueueQuery:
    since: dt.date | None = None
    until: dt.date | None = None
    outlet: int | None = None
    template: str = ""


def review_queue(user: User) -> QuerySet[OmRecord]:
    """Records the enterprise confirmed and the agency is to review, oldest day first (a stable
    order: pages do not shift while the reviewer works through them)."""
    return (
        _record_query(user).filter(status=OmRecord.Status.CONFIRMED).order_by("om_date", "created_at", "id")
    )


def queue_choices(user: User) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The outlets and forms the queue holds, for its filters."""
    queue = access.om_records_for(user).filter(status=OmRecord.Status.CONFIRMED)
    outlets = Outlet.objects.filter(pk__in=queue.values("outlet_id")).select_related("enterprise")
    templates = (
        FormTemplate.objects.filter(pk__in=queue.values("template_id"))
        .order_by("code")
        .values_list("code", "name")
        .distinct()
    )
    return (
        [(str(o.pk), f"{o.enterprise.name} {o.name}") for o in outlets.order_by("enterprise__name", "name")],
        list(dict.fromkeys(templates)),
    )


def filtered_queue(user: User, query: QueueQuery) -> QuerySet[OmRecord]:
    qs = review_queue(user)
    if query.since:
        qs = qs.filter(om_date__gte=query.since)
    if query.until:
        qs = qs.filter(om_date__lte=query.until)
    if query.outlet:
        qs = qs.filter(outlet_id=query.outlet)
    if query.template:
        qs = qs.filter(template__code=query.template)
    return qs


def page_of(queryset, number) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(number)
