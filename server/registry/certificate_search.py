"""持证查询 (seed 000 §信息查询: "可按考生、按申报、按岗位进行查询和证书的导出"; issue 23): the competency
certificates of staff, found by the holder (name contains, or the whole resident ID number through
its blind index) and by post category, with each certificate's validity and the holder's current
agency. Read-only selectors; the API (``GET /certificates``, ``POST /certificates/search``,
``GET /certificates/export``) and the workspace page call these.

Who finds what (the staff pages' scope, ``access.employments_for``, narrowed to the holder's
current, active employment):
- platform administrators: every certificate, a holder with no agency now included;
- regulators: the holders now on the staff of an agency of their region (registered there, or
  working there under an accepted contract: seed 001 §2.4 and seed 003 §4.2, as ``agencies_for``);
- an agency's main and manager accounts: their own current staff (in seed 000 the applying unit
  queries its own examinees' certificates);
- anyone else: nothing (403 at the door).

A list is two queries whatever its length (the rows, with person, post and the current agency
joined or annotated, and the count); the ID number leaves masked (``mask_resident_id``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from server import access
from server.accounts.models import Role, User
from server.regions import region_name
from server.registry.identifiers import mask_resident_id
from server.registry.models import Agency, Certificate, Employment, Post

SEARCH_ROLES = {Role.PLATFORM, Role.REGULATOR, *access.AGENCY_ADMINS}
# "即将到期": the staff pages' warning window (workspace.staff_forms.EXPIRING_DAYS), ninety days: a
# certificate is renewed by an examination held a few times a year (seed 000 考场安排).
EXPIRING_DAYS = 90
STATES = ("valid", "expiring", "expired", "pending")
STATE_LABELS = {"valid": "有效", "expiring": "即将到期", "expired": "已过期", "pending": "未生效"}
STATE_LABELS_EN = {
    "valid": "Valid",
    "expiring": "Expires soon",
    "expired": "Expired",
    "pending": "Not yet valid",
}


def state_of(certificate: Certificate, today: dt.date) -> str:
    if certificate.valid_from > today:
        return "pending"
    if certificate.valid_until < today:
        return "expired"
    if certificate.valid_until <= today + dt.timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "valid"


def _state_q(state: str, today: dt.date) -> Q:
    soon = today + dt.timedelta(days=EXPIRING_DAYS)
    started = Q(valid_from__lte=today)
    return {
        "valid": started & Q(valid_until__gt=soon),
        "expiring": started & Q(valid_until__gte=today, valid_until__lte=soon),
        "expired": Q(valid_until__lt=today),
        "pending": Q(valid_from__gt=today),
    }[state]


def _current(prefix: str = "") -> QuerySet[Employment]:
    return Employment.objects.filter(
        person_id=OuterRef(f"{prefix}person_id"), status=Employment.Status.ACTIVE
    )


def certificates_searchable(user: User) -> QuerySet[Certificate]:
    """The certificates ``user`` may find, each annotated with the holder's current agency
    (``agency_now_id``, ``agency_now_name``, ``agency_now_region``; None when not employed now)."""
    access.require_role(user, SEARCH_ROLES)
    current = _current()
    qs = Certificate.objects.select_related("person", "post").annotate(
        agency_now_id=Subquery(current.values("agency_id")[:1]),
        agency_now_name=Subquery(current.values("agency__name")[:1]),
        agency_now_region=Subquery(current.values("agency__region_code")[:1]),
    )
    if user.role == Role.PLATFORM:
        return qs
    # One active employment per person (employment_one_active_per_person): the holder's agency now.
    return qs.filter(Exists(current.filter(pk__in=access.employments_for(user).values("pk"))))


def search(
    user: User,
    *,
    name: str = "",
    id_number: str = "",
    post: Post | None = None,
    state: str = "",
    agency: Agency | None = None,
    number: str = "",
    today: dt.date | None = None,
) -> QuerySet[Certificate]:
    """``id_number``: a whole, already validated resident ID number, compared through the blind
    index (never a partial match: the number is stored encrypted)."""
    today = today or timezone.localdate()
    qs = certificates_searchable(user)
    if name.strip():
        qs = qs.filter(person__name__icontains=name.strip())
    if id_number:
        qs = qs.filter(person__id_number=id_number)
    if post is not None:
        qs = qs.filter(post=post)
    if state:
        qs = qs.filter(_state_q(state, today))
    if agency is not None:
        qs = qs.filter(Exists(_current().filter(agency=agency)))
    if number.strip():
        qs = qs.filter(number__icontains=number.strip())
    return qs.order_by("person__name", "person_id", "post_id", "-valid_until", "id")


def agencies_to_filter(user: User) -> QuerySet[Agency] | None:
    """The agency filter's choices: a regulator's region's agencies, the platform's all; an agency
    searches its own staff and has none."""
    if user.role not in (Role.PLATFORM, Role.REGULATOR):
        return None
    return access.agencies_for(user).order_by("name", "id")


@dataclass(frozen=True)
class Hit:
    """A certificate as a person reads it: names, never codes; the ID number masked."""

    certificate: Certificate
    masked_id: str
    state: str
    agency_id: int | None
    agency_name: str
    agency_region: str  # the region's name (上海市徐汇区), never its code alone


def hit(certificate: Certificate, today: dt.date) -> Hit:
    """From a row of ``search`` (person and post joined, the agency annotated): no query."""
    return Hit(
        certificate=certificate,
        masked_id=mask_resident_id(certificate.person.id_number),
        state=state_of(certificate, today),
        agency_id=certificate.agency_now_id,
        agency_name=certificate.agency_now_name or "",
        agency_region=region_name(certificate.agency_now_region or ""),
    )


def hits(certificates: Iterable[Certificate], today: dt.date | None = None) -> list[Hit]:
    today = today or timezone.localdate()
    return [hit(c, today) for c in certificates]


# --- 证书的导出 (export) -----------------------------------------------------------------------------
EXPORT_HEADERS = (
    "姓名",
    "身份证号（脱敏）",
    "岗位类别",
    "证书编号",
    "发证单位",
    "有效期起",
    "有效期至",
    "证书状态",
    "当前机构",
    "机构所在地",
)


def export_rows(certificates: QuerySet[Certificate], today: dt.date | None = None) -> Iterator[list[Any]]:
    """The rows of the export, read in chunks (a region's thousands of certificates)."""
    today = today or timezone.localdate()
    for certificate in certificates.iterator(chunk_size=500):
        row = hit(certificate, today)
        yield [
            certificate.person.name,
            row.masked_id,
            certificate.post.name,
            certificate.number,
            certificate.issuer,
            certificate.valid_from,
            certificate.valid_until,
            STATE_LABELS[row.state],
            row.agency_name or "（无在职机构）",
            row.agency_region,
        ]
