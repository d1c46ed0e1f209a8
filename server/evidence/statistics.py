"""查询统计 (seed 002): how much work and how many findings, grouped by agency, region, status or
month, over what the user may see (the same scopes as the lists). One aggregate query per measure.

Measures, each dated by its own time: monitoring projects (registered), monitoring tasks
(created), O&M records (their day), violations (opened), photos judged warn or fail (received),
check-ins outside their geofence or with a coordinate mix-up (received). ``status`` is each
measure's own status (a photo's and a check-in's verdict), so its groups differ by measure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from server import access
from server.accounts.models import Role, User
from server.fieldwork.models import MonitoringProject, MonitoringTask
from server.om.models import OmRecord
from server.regions import region_name

BY = ("agency", "region", "status", "month")
STATISTICS_ROLES = {Role.PLATFORM, Role.REGULATOR, *access.AGENCY_ADMINS}


@dataclass(frozen=True)
class Measure:
    scope: Callable[[User], QuerySet]
    at: str  # the field that dates a row
    is_date: bool  # a DateField (else a DateTimeField)
    agency: tuple  # expressions of the agency's id and name
    region: object  # expression of the region code
    status: str
    labels: dict[str, str]


def _photos(user: User) -> QuerySet:
    from media_rules.models import Verdict

    return access.photos_for(user).filter(verdict__in=[Verdict.WARN, Verdict.FAIL])


def _checkins(user: User) -> QuerySet:
    from server.tracks.models import CheckIn

    return access.checkins_for(user).filter(
        verdict__in=[CheckIn.Verdict.OUTSIDE, CheckIn.Verdict.COORDINATE_MIXUP]
    )


def _violations(user: User) -> QuerySet:
    from server.violations.selectors import violations_for

    return violations_for(user)


def _measures() -> dict[str, Measure]:
    from media_rules.models import Verdict
    from server.tracks.models import CheckIn
    from server.violations.models import Violation

    return {
        "projects": Measure(
            access.projects_for,
            "created_at",
            False,
            (F("agency_id"), F("agency__name")),
            F("region_code"),
            "status",
            dict(MonitoringProject.Status.choices),
        ),
        "tasks": Measure(
            access.tasks_for,
            "created_at",
            False,
            (F("project__agency_id"), F("project__agency__name")),
            F("project__region_code"),
            "status",
            dict(MonitoringTask.Status.choices),
        ),
        "om_records": Measure(
            access.om_records_for,
            "om_date",
            True,
            (F("agency_id"), F("agency__name")),
            F("enterprise__region_code"),
            "status",
            dict(OmRecord.Status.choices),
        ),
        "violations": Measure(
            _violations,
            "opened_at",
            False,
            (
                Coalesce("project__agency_id", "om_task__agency_id"),
                Coalesce("project__agency__name", "om_task__agency__name"),
            ),
            Coalesce("project__region_code", "om_task__contract__enterprise__region_code"),
            "status",
            dict(Violation.Status.choices),
        ),
        "flagged_photos": Measure(
            _photos,
            "recorded_at",
            False,
            (F("agency_id"), F("agency__name")),
            Coalesce("task__project__region_code", "outlet__enterprise__region_code"),
            "verdict",
            {k: v for k, v in Verdict.choices if k},
        ),
        "flagged_checkins": Measure(
            _checkins,
            "recorded_at",
            False,
            (
                Coalesce("task__project__agency_id", "om_task__agency_id"),
                Coalesce("task__project__agency__name", "om_task__agency__name"),
            ),
            Coalesce("task__project__region_code", "om_task__contract__enterprise__region_code"),
            "verdict",
            dict(CheckIn.Verdict.choices),
        ),
    }


def _dated(queryset: QuerySet, measure: Measure, since: dt.datetime | None, until: dt.datetime | None):
    if measure.is_date:
        # A record's day is an Asia/Shanghai date: compare it with the bounds' local dates.
        since_v = timezone.localdate(since) if since else None
        until_v = timezone.localdate(until) if until else None
    else:
        since_v, until_v = since, until
    q = Q()
    if since_v is not None:
        q &= Q(**{f"{measure.at}__gte": since_v})
    if until_v is not None:
        q &= Q(**{f"{measure.at}__lte": until_v})
    return queryset.filter(q)


def _groups(measure: Measure, queryset: QuerySet, by: str) -> list[dict]:
    if by == "agency":
        key, label = measure.agency
    elif by == "region":
        key = label = measure.region
    elif by == "status":
        key = label = F(measure.status)
    else:
        key = label = TruncMonth(measure.at)
    rows = (
        queryset.order_by()
        .annotate(group_key=key, group_label=label)
        .values("group_key", "group_label")
        .annotate(n=Count("pk"))
    )
    groups = []
    for row in rows:
        value, shown = row["group_key"], row["group_label"]
        if by == "month" and value is not None:
            value = shown = value.strftime("%Y-%m")
        elif by == "status":
            shown = measure.labels.get(value, value)
        elif by == "region":
            shown = region_name(value)
        groups.append({"key": "" if value is None else str(value), "label": shown or "", "count": row["n"]})
    order = (lambda g: (g["label"], g["key"])) if by == "agency" else (lambda g: g["key"])
    return sorted(groups, key=order)


def statistics(
    *, user: User, by: str, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict:
    """``{"by", "since", "until", "measures": {name: {"total", "groups": [{"key", "label", "count"}]}}}``."""
    access.require_role(user, STATISTICS_ROLES)
    if by not in BY:
        raise ValueError(by)
    measures = {}
    for name, measure in _measures().items():
        groups = _groups(measure, _dated(measure.scope(user), measure, since, until), by)
        measures[name] = {"total": sum(g["count"] for g in groups), "groups": groups}
    return {"by": by, "since": since, "until": until, "measures": measures}
