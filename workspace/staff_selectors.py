"""What the staff pages show, read through ``server.access.employments_for`` (an agency's main and
manager accounts: its own staff; a regulator: the staff of the agencies in its region; anything else
is not found). Every ID number leaves masked (``mask_resident_id``). A person's page shows their
records at the page's agency only: another agency is never named, as ``person_active_elsewhere``
says no more than "elsewhere" (issue F9 item 6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from server import access
from server.accounts.models import Role, User
from server.registry.identifiers import mask_resident_id
from server.registry.models import Agency, Certificate, Employment, Post
from workspace.i18n import t
from workspace.staff_forms import (
    EDUCATION_EN,
    EXPIRING_DAYS,
    GENDER_EN,
    RELATION_EN,
    STATUS_EN,
    TITLE_EN,
    label,
    post_name,
)

PAGE_SIZE = 20
STATUS_BADGES = {"active": "ok", "departed": "muted", "non_technical": "muted"}


@dataclass
class CertificateRow:
    certificate: Certificate
    post: str
    state: str  # valid | expiring | expired | pending
    state_label: str
    badge: str


@dataclass
class StaffRow:
    """An employment as a page shows it: names, never codes; the ID number masked."""

    employment: Employment
    masked_id: str
    gender: str
    education: str
    title: str
    relation: str
    status: str
    badge: str
    posts: list[str]
    certificates: list[CertificateRow]

    @property
    def valid_certificates(self) -> int:
        return sum(1 for c in self.certificates if c.state in ("valid", "expiring"))


def certificate_row(certificate: Certificate, today: dt.date) -> CertificateRow:
    if certificate.valid_from > today:
        state, words, badge = "pending", ("未生效", "Not yet valid"), "muted"
    elif certificate.valid_until < today:
        state, words, badge = "expired", ("已过期", "Expired"), "fail"
    elif certificate.valid_until <= today + dt.timedelta(days=EXPIRING_DAYS):
        state, words, badge = "expiring", ("即将到期", "Expires soon"), "warn"
    else:
        state, words, badge = "valid", ("有效", "Valid"), "ok"
    return CertificateRow(certificate, post_name(certificate.post), state, t(*words), badge)


def staff_row(employment: Employment, today: dt.date | None = None) -> StaffRow:
    """From prefetched posts and certificates (``with_related``): no query."""
    today = today or timezone.localdate()
    person = employment.person
    return StaffRow(
        employment=employment,
        masked_id=mask_resident_id(person.id_number),
        gender=label(person.Gender.choices, GENDER_EN, person.gender),
        education=label(Employment.Education.choices, EDUCATION_EN, employment.education),
        title=label(Employment.Title.choices, TITLE_EN, employment.title),
        relation=label(Employment.Relation.choices, RELATION_EN, employment.relation),
        status=label(Employment.Status.choices, STATUS_EN, employment.status),
        badge=STATUS_BADGES.get(employment.status, "muted"),
        posts=[post_name(post) for post in employment.posts.all()],
        certificates=[certificate_row(c, today) for c in employment.person.certificates.all()],
    )


def with_related(employments: QuerySet[Employment]) -> QuerySet[Employment]:
    """Persons and agencies joined, posts and certificates prefetched: a list is a fixed number of
    queries however many rows it holds."""
    return employments.select_related("person", "agency").prefetch_related(
        Prefetch("posts", queryset=Post.objects.order_by("id")),
        Prefetch(
            "person__certificates",
            queryset=Certificate.objects.select_related("post").order_by("post_id", "-valid_until", "id"),
        ),
    )


# --- The list -------------------------------------------------------------------------------------
def filter_agencies(user: User) -> QuerySet[Agency] | None:
    """A regulator's agency filter: the agencies of its region. An agency's accounts have none."""
    if user.role != Role.REGULATOR:
        return None
    return access.agencies_for(user).order_by("name", "id")


def _certificate_state(employments: QuerySet[Employment], state: str, today: dt.date) -> QuerySet:
    held = Certificate.objects.filter(person_id=OuterRef("person_id"))
    valid = held.filter(valid_from__lte=today, valid_until__gte=today)
    if state == "valid":
        return employments.filter(Exists(valid))
    if state == "expiring":
        return employments.filter(
            Exists(valid.filter(valid_until__lte=today + dt.timedelta(days=EXPIRING_DAYS)))
        )
    if state == "expired":
        return employments.filter(Exists(held)).exclude(Exists(valid))
    if state == "none":
        return employments.exclude(Exists(held))
    return employments


def staff_queryset(
    user: User,
    *,
    q: str = "",
    status: str = "",
    post: Post | None = None,
    certificate: str = "",
    title: str = "",
    education: str = "",
    gender: str = "",
    agency: Agency | None = None,
    id_number: str = "",
    nothing: bool = False,
) -> QuerySet[Employment]:
    """The staff the user sees, filtered, ordered by name then id (the API's order; the id last, so
    pages never skip or repeat). ``id_number``: a whole, validated number (compared through the blind
    index: the number is encrypted at rest). ``nothing``: the filters were wrong, none listed."""
    employments = access.employments_for(user)
    if nothing:
        employments = employments.none()
    if q:
        by_certificate = Certificate.objects.filter(person_id=OuterRef("person_id"), number__icontains=q)
        employments = employments.filter(Q(person__name__icontains=q) | Q(Exists(by_certificate)))
    if status:
        employments = employments.filter(status=status)
    if post is not None:
        employments = employments.filter(
            Exists(Employment.posts.through.objects.filter(employment_id=OuterRef("pk"), post_id=post.pk))
        )
    if certificate:
        employments = _certificate_state(employments, certificate, timezone.localdate())
    if title:
        employments = employments.filter(title=title)
    if education:
        employments = employments.filter(education=education)
    if gender:
        employments = employments.filter(person__gender=gender)
    if agency is not None:
        employments = employments.filter(agency=agency)
    if id_number:
        employments = employments.filter(person__id_number=id_number)
    return employments.order_by("person__name", "id")


def staff_page(employments: QuerySet[Employment], number: int | str = 1) -> Page:
    page = Paginator(with_related(employments), PAGE_SIZE).get_page(number)
    today = timezone.localdate()
    page.object_list = [staff_row(e, today) for e in page.object_list]
    return page


# --- One person -----------------------------------------------------------------------------------
@dataclass
class PersonView:
    row: StaffRow
    # The person's records at this page's agency only, newest first (rehired after a departure).
    history: list[StaffRow]

    @property
    def employment(self) -> Employment:
        return self.row.employment


def visible_employment(user: User, pk) -> Employment:
    return access.get_visible(with_related(access.employments_for(user)), pk)


def person_view(user: User, pk) -> PersonView:
    employment = visible_employment(user, pk)
    today = timezone.localdate()
    history = (
        access.employments_for(user)
        .filter(person_id=employment.person_id, agency_id=employment.agency_id)
        .select_related("person")
        .prefetch_related(Prefetch("posts", queryset=Post.objects.order_by("id")))
        .order_by("-hired_on", "-id")
    )
    rows = []
    for record in history:
        # The person's certificates are the page's; a history row shows its own posts and dates.
        record.person = employment.person
        rows.append(staff_row(record, today))
    return PersonView(row=staff_row(employment, today), history=rows)
