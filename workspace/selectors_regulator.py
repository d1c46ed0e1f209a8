"""What the regulator's pages read: filings awaiting review, projects, violations, and the charts of
its home, through the scopes of ``server.access`` and the selectors the API uses (the statistics of
``GET /statistics``). Each list is one query for its page of rows (related objects joined) and one
for its count, ordered by a unique key last so that pages never repeat or skip a row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from server import access
from server.accounts.models import User
from server.evidence import statistics
from server.fieldwork.models import MonitoringProject, ProjectEvent
from server.om.models import OmTask
from server.registry.models import Agency, AgencyFilingEvent
from server.violations.models import Rectification, Violation, ViolationEvent
from server.violations.selectors import violations_for
from workspace.i18n import t

PAGE_SIZE = 20
F = Agency.FilingStatus
# A filing the regulator is to judge: first submitted, or changed after approval (seed 001 §3.1-3.3).
AWAITING = [F.SUBMITTED, F.CHANGED]


def paginate(queryset: QuerySet, number) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(number)


# --- Filings --------------------------------------------------------------------------------------
def filings(user: User, *, status: str = "", keyword: str = "") -> QuerySet[Agency]:
    """Agencies in the scope; by default those whose filing awaits the regulator."""
    queryset = access.agencies_for(user)
    queryset = (
        queryset.filter(filing_status=status) if status else queryset.filter(filing_status__in=AWAITING)
    )
    if keyword:
        queryset = queryset.filter(name__icontains=keyword)
    return queryset.order_by("updated_at", "id")


def filing_detail(user: User, pk) -> dict:
    agency = access.access_agency(user, pk)
    events = list(
        AgencyFilingEvent.objects.filter(agency=agency).select_related("actor__person").order_by("at", "id")
    )
    return {"agency": agency, "events": events, "awaiting": agency.filing_status in AWAITING}


# --- Projects -------------------------------------------------------------------------------------
def projects(user: User, *, status: str = "", keyword: str = "") -> QuerySet[MonitoringProject]:
    queryset = access.projects_for(user).select_related("agency", "enterprise")
    if status:
        queryset = queryset.filter(status=status)
    if keyword:
        queryset = queryset.filter(name__icontains=keyword)
    return queryset.order_by("-created_at", "-id")


def project_detail(user: User, pk) -> dict:
    project = access.get_visible(
        access.projects_for(user).select_related("agency", "enterprise", "contract"), pk
    )
    events = list(
        ProjectEvent.objects.filter(project=project).select_related("actor__person").order_by("at", "id")
    )
    violations = list(
        violations_for(user).filter(project=project).with_overdue().order_by("-opened_at", "-id")
    )
    return {
        "project": project,
        "events": events,
        "violations": violations,
        "reviewable": project.status == MonitoringProject.Status.SUBMITTED,
    }


def om_task(user: User, pk) -> OmTask:
    return access.get_visible(access.om_tasks_for(user).select_related("agency", "contract__enterprise"), pk)


# --- Violations -----------------------------------------------------------------------------------
def violations(user: User, *, status: str = "") -> QuerySet[Violation]:
    queryset = (
        violations_for(user)
        .with_overdue()
        .select_related(
            "project__agency", "project__enterprise", "om_task__agency", "om_task__contract__enterprise"
        )
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-opened_at", "-id")


def violation_detail(user: User, pk) -> dict:
    violation = access.get_visible(
        violations(user).prefetch_related(
            Prefetch(
                "rectifications",
                queryset=Rectification.objects.select_related("submitted_by__person").order_by(
                    "submitted_at", "id"
                ),
            ),
            Prefetch(
                "events", queryset=ViolationEvent.objects.select_related("actor__person").order_by("at", "id")
            ),
        ),
        pk,
    )
    subject = violation.project if violation.project_id else violation.om_task
    return {
        "violation": violation,
        "subject": subject,
        "reviewable": violation.status == Violation.Status.RECTIFIED,
    }


# --- Charts ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    measure: str
    zh: str
    en: str


BY_AGENCY = [
    Series("projects", "监测项目", "Projects"),
    Series("violations", "违规", "Violations"),
    Series("flagged_photos", "问题照片", "Flagged photos"),
    Series("flagged_checkins", "异常签到", "Flagged check-ins"),
]
BY_REGION = BY_AGENCY
BY_MONTH = [
    Series("projects", "监测项目", "Projects"),
    Series("tasks", "监测任务", "Monitoring tasks"),
    Series("om_records", "运维记录", "O&M records"),
    Series("violations", "违规", "Violations"),
]
FLAGGED = [
    Series("flagged_photos", "问题照片", "Flagged photos"),
    Series("flagged_checkins", "异常签到", "Flagged check-ins"),
]


def _chart(counts: dict, series: list[Series], title: str) -> dict:
    """Categories (the groups' labels, in the selectors' order) and one series of counts per measure."""
    labels: dict[str, str] = {}
    for item in series:
        for group in counts["measures"][item.measure]["groups"]:
            labels.setdefault(group["key"], group["label"] or t("未知", "Unknown"))
    # Agencies by name; regions by code (a province's districts together), months in order.
    keys = sorted(labels, key=lambda k: (labels[k], k)) if counts["by"] == "agency" else sorted(labels)
    data = []
    for item in series:
        by_key = {g["key"]: g["count"] for g in counts["measures"][item.measure]["groups"]}
        data.append({"name": t(item.zh, item.en), "data": [by_key.get(k, 0) for k in keys]})
    return {"title": title, "categories": [labels[k] for k in keys], "series": data}


def charts(user: User, *, months: int = 12) -> dict:
    """The home's charts, from ``server.evidence.statistics`` (as ``GET /statistics``): by region
    (named) and by agency (all time), by month and flagged evidence by month (the last ``months`` months)."""
    by_agency = statistics.statistics(user=user, by="agency")
    by_region = statistics.statistics(user=user, by="region")
    today = timezone.localdate()
    first = (today.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    by_month = statistics.statistics(user=user, by="month", since=since)
    return {
        "region": _chart(by_region, BY_REGION, t("按地区", "By region")),
        "agency": _chart(by_agency, BY_AGENCY, t("按机构", "By agency")),
        "month": _chart(by_month, BY_MONTH, t("按月份", "By month")),
        "flagged": _chart(by_month, FLAGGED, t("问题证据（按月）", "Flagged evidence by month")),
    }
