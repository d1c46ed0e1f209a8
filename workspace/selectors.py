"""What the home pages show, read through the scopes of ``server.access`` and the selectors the API
uses (the evidence queue, the O&M plans' overdue occurrences, the violations' scope). Each list is one
query for its rows (related objects joined) and one for its count, whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count
from django.urls import reverse

from media_rules.models import Photo, Verdict
from server import access
from server.access import devices_for
from server.accounts.models import User
from server.errors import DomainError
from server.evidence import judgements as qc
from server.evidence import selectors as evidence
from server.evidence.items import KINDS, QueueQuery
from server.fieldwork.models import MonitoringProject
from server.om import plans
from server.om.models import OmRecord
from server.tracks.models import CheckIn
from server.violations.models import Violation
from server.violations.selectors import violations_for
from sync.models import Operation
from workspace.i18n import message_language

SHORT = 5  # rows of each list on a home page
FLAGGED_VERDICTS = [Verdict.WARN, Verdict.FAIL]
FLAGGED_CHECKINS = [CheckIn.Verdict.OUTSIDE, CheckIn.Verdict.COORDINATE_MIXUP]
# Offline work that is not done: waiting for earlier work, clashed, or held past its deadline.
UNSETTLED_OPS = [Operation.Status.HELD, Operation.Status.CONFLICT, Operation.Status.EXPIRED]


@dataclass
class Section:
    key: str
    count: int
    rows: list = field(default_factory=list)


def flagged_photos(user: User):
    return access.photos_for(user).filter(verdict__in=FLAGGED_VERDICTS)


def flagged_checkins(user: User):
    return access.checkins_for(user).filter(verdict__in=FLAGGED_CHECKINS)


def _section(key: str, queryset, limit: int = SHORT) -> Section:
    return Section(key, queryset.count(), list(queryset[:limit]))


@dataclass
class FailingRecord:
    """An O&M record with its failing judgements, as the attention list shows them."""

    record: OmRecord
    failures: list[qc.Failure]


def failing_records(user: User):
    """The user's O&M records past draft, not voided, whose computed judgement fails (the queue's
    ``judgement`` kind), the newest submitted first."""
    return (
        qc.failing_records(access.om_records_for(user))
        .select_related("task", "outlet", "template", "filled_by__person")
        .prefetch_related("instruments")
        .order_by("-submitted_at", "-created_at", "-id")
    )


def _failing_section(user: User) -> Section:
    records = failing_records(user)
    rows = [FailingRecord(r, qc.failures(r)) for r in records[:SHORT]]
    return Section("judgements", records.count(), rows)


def agency_home(user: User, *, today: dt.date | None = None) -> dict[str, Section]:
    """What needs attention: flagged photos and check-ins, unsettled offline work of the agency's
    phones (the user's own, for a sub-account), O&M records whose computed judgement fails, O&M
    records the enterprise confirmed and the agency is to review, overdue O&M plan occurrences,
    violations still open."""
    photos = (
        flagged_photos(user)
        .select_related("photo_type", "task", "outlet", "taken_by__person")
        .order_by("-recorded_at", "-id")
    )
    checkins = (
        flagged_checkins(user)
        .select_related("task", "om_task", "outlet", "user__person")
        .order_by("-recorded_at", "-id")
    )
    held = (
        Operation.objects.filter(device__in=devices_for(user).values("pk"), status__in=UNSETTLED_OPS)
        .select_related("user__person")
        .order_by("-received_at", "-id")
    )
    to_review = (
        access.om_records_for(user)
        .filter(status=OmRecord.Status.CONFIRMED)
        .select_related("task", "outlet", "template", "filled_by__person")
        .order_by("om_date", "created_at", "id")
    )
    violations = (
        violations_for(user)
        .filter(status=Violation.Status.OPEN)
        .select_related("project", "om_task")
        .order_by("deadline", "id")
    )
    # The same list as the 超期 tab and GET /om/overdue: the active tasks' (plans.overdue_list).
    overdue = plans.overdue_list(access.om_tasks_for(user), today=today)
    return {
        "photos": _section("photos", photos),
        "checkins": _section("checkins", checkins),
        "held": _section("held", held),
        "judgements": _failing_section(user),
        "to_review": _section("to_review", to_review),
        "overdue": Section("overdue", len(overdue), overdue[:SHORT]),
        "violations": _section("violations", violations),
    }


def pending_days(user: User) -> list[dict]:
    """The enterprise's days with records awaiting its confirmation (as ``GET /om/days``)."""
    rows = (
        access.om_records_for(user)
        .filter(status=OmRecord.Status.SUBMITTED)
        .values("om_date")
        .annotate(records=Count("id"))
        .order_by("om_date")
    )
    return [{"date": r["om_date"], "records": r["records"]} for r in rows]


def day_records(user: User, day: dt.date) -> list[OmRecord]:
    """One day's records awaiting confirmation (as ``GET /om/days/{date}``)."""
    return list(
        access.om_records_for(user)
        .filter(status=OmRecord.Status.SUBMITTED, om_date=day)
        .select_related("task", "outlet", "template", "agency", "filled_by__person")
        .order_by("created_at", "id")
    )


def region_counts(user: User) -> dict:
    """A regulator's (or the platform's) overview: agencies, projects by status, flagged evidence,
    open violations, all within its scope."""
    rows = access.projects_for(user).order_by().values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in rows}
    labels = dict(MonitoringProject.Status.choices)
    return {
        "agencies": access.agencies_for(user).count(),
        "projects": [
            {"status": status, "label": labels[status], "count": by_status.get(status, 0)}
            for status in labels
        ],
        "projects_total": sum(by_status.values()),
        "flagged_photos": flagged_photos(user).count(),
        "flagged_checkins": flagged_checkins(user).count(),
        "failed_judgements": qc.failing_records(access.om_records_for(user)).count(),
        "open_violations": violations_for(user).filter(status=Violation.Status.OPEN).count(),
    }


def evidence_queue(user: User, *, limit: int = 20) -> list:
    """The newest items of the evidence queue (``GET /evidence``), every kind."""
    return evidence_page(user, kinds=frozenset(KINDS), limit=limit).items


def evidence_page(user: User, *, kinds: frozenset[str], cursor: str = "", limit: int = 50) -> evidence.Page:
    """A page of the evidence queue (``GET /evidence``): of ``kinds``, after ``cursor`` (the
    ``next`` of the page before; one that is not the queue's own starts from the newest)."""
    try:
        position = evidence.decode_cursor(cursor) if cursor else None
    except DomainError:
        position = None
    query = QueueQuery(
        kinds=kinds,
        cursor=position,
        limit=limit,
        language=message_language(),
        opens_violations=user.role in evidence.OPENS_VIOLATIONS,
        thumbnail_url=lambda pk: reverse("mobile_api:photo-thumbnail", args=[pk]),
    )
    return evidence.queue(user=user, query=query)


def photo_detail(user: User, pk) -> dict:
    """A photo the user sees, with its findings worst first (404 outside the scope)."""
    photo: Photo = access.get_visible(
        access.photos_for(user).select_related(
            "photo_type", "blob", "agency", "task__project", "outlet__enterprise", "taken_by__person"
        ),
        pk,
    )
    order = {"fail": 0, "warn": 1, "pass": 2}
    findings = sorted(photo.findings or [], key=lambda f: order.get(f.get("severity"), 3))
    return {"photo": photo, "findings": findings}
