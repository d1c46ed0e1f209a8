"""Registry services: every change to agencies, staff, certificates, enterprises, outlets,
instruments and contracts goes through a function here (keyword-only arguments, one transaction).
The REST views and, later, the sync engine call these; the rules live nowhere else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone

from server.accounts.models import Role, User
from server.accounts.standing import sign_out_everywhere
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.geo import geodesic_distance_m, to_wgs84
from server.registry import errors
from server.registry.identifiers import validate_credit_code, validate_resident_id
from server.registry.models import (
    GAS_ANALYTES,
    WATER_ANALYTES,
    Agency,
    AgencyFilingEvent,
    Analyte,
    Certificate,
    Contract,
    ContractAcceptanceEvent,
    Employment,
    Enterprise,
    Instrument,
    Outlet,
    OutletKind,
    Person,
    Post,
)
from server.transitions import StateMachine

# --- Regions --------------------------------------------------------------------------------------


def validate_region_code(code: str) -> str:
    """A 6-digit administrative division code (GB/T 2260) whose first two digits name a province."""
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit() or code[:2] in {"00"}:
        raise DomainError(errors.INVALID_REGION_CODE, details={"region_code": code}, code=code)
    return code


# --- Agencies and their filing --------------------------------------------------------------------
F = Agency.FilingStatus

# Who may move a filing from where to where (seed 001 §3.1-3.4): the agency's main account submits,
# changes and cancels; the regulator of the agency's region approves or returns (with a reason).
FILING_TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (F.DRAFT, F.SUBMITTED): {Role.AGENCY_MAIN},
    (F.RETURNED, F.SUBMITTED): {Role.AGENCY_MAIN},
    (F.SUBMITTED, F.APPROVED): {Role.REGULATOR, Role.PLATFORM},
    (F.SUBMITTED, F.RETURNED): {Role.REGULATOR, Role.PLATFORM},
    (F.APPROVED, F.CHANGED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
    (F.CHANGED, F.APPROVED): {Role.REGULATOR, Role.PLATFORM},
    (F.CHANGED, F.RETURNED): {Role.REGULATOR, Role.PLATFORM},
    (F.DRAFT, F.CANCELLED): {Role.AGENCY_MAIN},
    (F.RETURNED, F.CANCELLED): {Role.AGENCY_MAIN},
    (F.APPROVED, F.CANCELLED): {Role.AGENCY_MAIN},
}
NEEDS_REASON = {F.RETURNED}

# Changing these after approval needs a second review (seed 001 §3.3: 机构名称、机构类别、法定代表人、
# 运维类别、监测类别五类信息的修改需提交二次审查；其余备案信息的修改无需审查流程).
REVIEWED_FIELDS = {"name", "kind", "legal_representative", "monitoring_categories", "om_categories"}


FILING = StateMachine(
    status_field="filing_status",
    moves=FILING_TRANSITIONS,
    history=AgencyFilingEvent,
    history_fk="agency",
    not_allowed=errors.FILING_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.FILING_ACTOR_NOT_ALLOWED,
    reason_required=errors.REASON_REQUIRED,
    needs_reason=NEEDS_REASON,
    reason_field="return_reason",
)


def _filing_check(agency: Agency, to: str, actor: User) -> None:
    if to == F.SUBMITTED:
        # Required documents are required at submission (server/registry/dossier.py says which).
        from server.registry.dossier import ensure_complete

        ensure_complete(agency)
    if actor.role == Role.REGULATOR:
        from server.access import region_prefix

        if not agency.region_code.startswith(region_prefix(actor.region_code)):
            raise DomainError(errors.FILING_OUTSIDE_REGION)


def agency_transition(*, agency: Agency, to: str, actor: User, reason: str = "") -> Agency:
    """Move a filing through its table (FILING_TRANSITIONS); a regulator acts only in its region."""
    with transaction.atomic():
        agency = FILING.apply(
            agency,
            to=to,
            actor=actor,
            reason=reason,
            check=lambda obj, target: _filing_check(obj, target, actor),
        )
        if to == F.APPROVED and agency.pending_changes:
            _apply_pending(agency)
        audit.record(
            "agency.filing_transition",
            subject=agency,
            actor=actor,
            summary=f"备案状态：{F(to).label}",
            changes=audit.last_move(agency.filing_events),
        )
    return agency


@transaction.atomic
def agency_register(
    *,
    credit_code: str,
    name: str,
    kind: str,
    legal_representative: str,
    address: str,
    region_code: str,
    username: str,
    password: str,
    phone: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    legal_representative_phone: str = "",
) -> tuple[Agency, User]:
    """First registration (seed 001 §2.3.1): a draft agency and its main account."""
    from server.accounts.services import account_create

    credit_code = validate_credit_code(credit_code)
    if Agency.objects.filter(credit_code=credit_code).exists():
        raise DomainError(errors.AGENCY_ALREADY_REGISTERED, details={"credit_code": credit_code})
    agency = Agency.objects.create(
        credit_code=credit_code,
        name=name.strip(),
        kind=kind,
        legal_representative=legal_representative.strip(),
        legal_representative_phone=legal_representative_phone,
        contact_name=contact_name,
        contact_phone=contact_phone,
        address=address.strip(),
        region_code=validate_region_code(region_code),
    )
    user = account_create(
        username=username,
        password=password,
        role=Role.AGENCY_MAIN,
        agency=agency,
        phone=phone,
        created_by=None,
    )
    return agency, user


@transaction.atomic
def agency_update(*, agency: Agency, actor: User, **fields: Any) -> Agency:
    """Edit the filing. After approval, a change to a reviewed field sends it back for review and waits
    in ``pending_changes`` until approved (F10 item 9: the agency left the public look-up meanwhile)."""
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.filing_status in (F.SUBMITTED, F.CANCELLED):
        raise DomainError(errors.AGENCY_LOCKED, state=Agency.FilingStatus(agency.filing_status).label)
    if "region_code" in fields:
        fields["region_code"] = validate_region_code(fields["region_code"])
    from server.registry.dossier import normalise_fields

    fields = normalise_fields(dict(fields))
    pending = dict(agency.pending_changes)
    if _filed(agency):
        # A reviewed field of a filed agency changes only when a regulator approves: it waits aside.
        for name in REVIEWED_FIELDS & set(fields):
            value = fields.pop(name)
            if value == getattr(agency, name):
                pending.pop(name, None)
            else:
                pending[name] = value
    changed = {name for name, value in fields.items() if getattr(agency, name) != value}
    for name in changed:
        setattr(agency, name, fields[name])
    if pending != agency.pending_changes:
        agency.pending_changes = pending
        changed.add("pending_changes")
    if changed:
        agency.save(update_fields=[*changed, "updated_at"])
    if agency.filing_status == F.APPROVED and pending:
        agency = agency_transition(
            agency=agency, to=F.CHANGED, actor=actor, reason="变更：" + "、".join(sorted(pending))
        )
    return agency


def _filed(agency: Agency) -> bool:
    """Approved once, or with a change already waiting: its reviewed fields are what was approved."""
    return agency.filing_status in (F.APPROVED, F.CHANGED) or bool(agency.pending_changes)


def _apply_pending(agency: Agency) -> None:
    applied = agency.pending_changes
    for name, value in applied.items():
        setattr(agency, name, value)
    agency.pending_changes = {}
    agency.save(update_fields=[*applied, "pending_changes", "updated_at"])


def ensure_agency_approved(agency: Agency) -> None:
    """Seed 002: an agency registers projects only after its filing has been approved."""
    if agency.filing_status != F.APPROVED:
        raise DomainError(errors.AGENCY_NOT_APPROVED, state=Agency.FilingStatus(agency.filing_status).label)


# --- People, staff and certificates ---------------------------------------------------------------


def _birth_date(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def _gender(id_number: str) -> str:
    # GB 11643-1999 §5.3: the 17th digit, the sequence code, is odd for men and even for women.
    return Person.Gender.MALE if int(id_number[16]) % 2 else Person.Gender.FEMALE


def person_for(*, id_number: str, name: str, phone: str = "") -> Person:
    """The person with this ID number, created on first sight. The name on file must match."""
    id_number = validate_resident_id(id_number)
    name = name.strip()
    if not name:
        raise DomainError(VALIDATION_FAILED, details={"name": ["姓名不能为空。"]})
    person, created = Person.objects.get_or_create(
        id_number=id_number,
        defaults={
            "name": name,
            "gender": _gender(id_number),
            "birth_date": _birth_date(id_number),
            "phone": phone,
        },
    )
    if not created and person.name != name:
        raise DomainError(errors.PERSON_NAME_MISMATCH)
    return person


def valid_certificate(person: Person, post: Post, on: dt.date) -> Certificate | None:
    return (
        Certificate.objects.filter(person=person, post=post, valid_from__lte=on, valid_until__gte=on)
        .order_by("-valid_until")
        .first()
    )


def ensure_post_allowed(*, person: Person, post: Post, on: dt.date) -> None:
    """Seed 000: a post that needs a competency certificate is taken, and acted on, only while a
    valid one is held. Called when a post is assigned and again whenever someone acts in it."""
    if not post.requires_certificate or valid_certificate(person, post, on):
        return
    latest = Certificate.objects.filter(person=person, post=post).order_by("-valid_until").first()
    if latest is None:
        raise DomainError(errors.CERTIFICATE_REQUIRED, details={"post": post.code}, post=post.name)
    raise DomainError(
        errors.CERTIFICATE_NOT_VALID,
        details={"post": post.code, "valid_from": latest.valid_from, "valid_until": latest.valid_until},
        post=post.name,
        valid_until=latest.valid_until.isoformat(),
    )


def _posts(codes: Iterable[str]) -> list[Post]:
    codes = list(dict.fromkeys(codes))
    posts = list(Post.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {p.code for p in posts})
    if unknown:
        raise DomainError(errors.UNKNOWN_POST, details={"posts": unknown}, posts="、".join(unknown))
    return posts


@transaction.atomic
def certificate_add(
    *,
    person: Person,
    post_code: str,
    number: str,
    valid_from: dt.date,
    valid_until: dt.date,
    issuer: str = "",
) -> Certificate:
    (post,) = _posts([post_code])
    if valid_until < valid_from:
        raise DomainError(VALIDATION_FAILED, details={"valid_until": ["有效期至不能早于有效期起。"]})
    existing = Certificate.objects.filter(post=post, number=number.strip()).first()
    if existing is not None:
        if existing.person_id != person.pk:
            raise DomainError(errors.CERTIFICATE_NUMBER_TAKEN, number=number)
        return existing  # the same certificate sent again
    return Certificate.objects.create(
        person=person,
        post=post,
        number=number.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        issuer=issuer,
    )


def check_can_join(*, person: Person, agency: Agency, lock: bool = False) -> None:
    """One person, one agency (seed 001 一人一机构): someone active elsewhere is refused until the old
    agency records the departure, or this one files a transfer report."""
    active = Employment.objects.filter(person=person, status=Employment.Status.ACTIVE).select_related(
        "agency"
    )
    active = (active.select_for_update(of=("self",)) if lock else active).first()
    if active is None:
        return
    if active.agency_id == agency.pk:
        raise DomainError(errors.PERSON_ALREADY_ON_STAFF, details={"employment_id": active.pk})
    # Nothing about the other record (F9 item 6): an ID number alone must not tell a stranger the
    # person's employer; the way forward is a transfer request (server/registry/transfers.py).
    raise DomainError(errors.PERSON_ACTIVE_ELSEWHERE)


def posts_allowed(*, person: Person, codes: Iterable[str], hired_on: dt.date) -> list[Post]:
    """The posts by code, each one the person may take from ``hired_on`` (or today, if later)."""
    chosen = _posts(codes)
    on = max(hired_on, timezone.localdate())
    for post in chosen:
        ensure_post_allowed(person=person, post=post, on=on)
    return chosen


@transaction.atomic
def staff_hire(
    *,
    agency: Agency,
    id_number: str,
    name: str,
    education: str,
    hired_on: dt.date,
    posts: Iterable[str] = (),
    certificates: Iterable[dict] = (),
    phone: str = "",
    major: str = "",
    title: str = Employment.Title.NONE,
    position: str = "",
    relation: str = Employment.Relation.EMPLOYEE,
) -> Employment:
    """Add a technical staff member (技术人员新增). One person, one agency: someone active elsewhere
    is refused until the old agency records the departure, or this one files a transfer."""
    person = person_for(id_number=id_number, name=name, phone=phone)
    check_can_join(person=person, agency=agency, lock=True)
    for cert in certificates:
        certificate_add(person=person, **cert)
    chosen = posts_allowed(person=person, codes=posts, hired_on=hired_on)
    try:
        with transaction.atomic():
            employment = Employment.objects.create(
                person=person,
                agency=agency,
                education=education,
                major=major,
                title=title,
                position=position,
                relation=relation,
                hired_on=hired_on,
            )
    except IntegrityError:
        # Another request hired the same person at the same moment; the constraint decided.
        raise DomainError(errors.PERSON_ACTIVE_ELSEWHERE) from None
    employment.posts.set(chosen)
    audit.record(
        "staff.hired",
        subject=employment,
        actor=None,
        summary=f"入职：{person.name}",
        changes={"hired_on": hired_on, "posts": [post.code for post in chosen]},
    )
    return employment


@transaction.atomic
def staff_update(*, employment: Employment, posts: Iterable[str] | None = None, **fields: Any) -> Employment:
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    if employment.status != Employment.Status.ACTIVE:
        raise DomainError(errors.EMPLOYMENT_NOT_ACTIVE)
    for name, value in fields.items():
        setattr(employment, name, value)
    if fields:
        employment.save(update_fields=list(fields))
    if posts is not None:
        chosen = _posts(posts)
        current = set(employment.posts.values_list("pk", flat=True))
        for post in chosen:
            if post.pk not in current:
                ensure_post_allowed(person=employment.person, post=post, on=timezone.localdate())
        employment.posts.set(chosen)
    return employment


@transaction.atomic
def staff_depart(*, employment: Employment, departed_on: dt.date) -> Employment:
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    if employment.status != Employment.Status.ACTIVE:
        raise DomainError(errors.EMPLOYMENT_NOT_ACTIVE)
    if departed_on < employment.hired_on:
        raise DomainError(VALIDATION_FAILED, details={"departed_on": ["离职时间不能早于入职时间。"]})
    employment.status = Employment.Status.DEPARTED
    employment.departed_on = departed_on
    employment.save(update_fields=["status", "departed_on"])
    # The person's accounts at this agency sign out everywhere (F9 item 7); until rehired they
    # cannot sign in again (server.accounts.standing).
    for user in User.objects.filter(person_id=employment.person_id, agency_id=employment.agency_id):
        sign_out_everywhere(user=user, actor=None)
    audit.record(
        "staff.departed",
        subject=employment,
        actor=None,
        summary=f"离职：{employment.person.name}",
        changes={"status": [Employment.Status.ACTIVE, employment.status], "departed_on": departed_on},
    )
    return employment


# --- Enterprises, outlets, instruments ------------------------------------------------------------


@transaction.atomic
def enterprise_create(
    *,
    credit_code: str,
    name: str,
    address: str,
    region_code: str,
    contact_name: str = "",
    contact_phone: str = "",
) -> Enterprise:
    credit_code = validate_credit_code(credit_code)
    existing = Enterprise.objects.filter(credit_code=credit_code).first()
    if existing is not None:
        # Enterprises are shared: an agency that meets one already registered contracts with it.
        raise DomainError(
            errors.ENTERPRISE_ALREADY_REGISTERED, details={"id": existing.pk, "name": existing.name}
        )
    return Enterprise.objects.create(
        credit_code=credit_code,
        name=name.strip(),
        address=address.strip(),
        region_code=validate_region_code(region_code),
        contact_name=contact_name,
        contact_phone=contact_phone,
    )


@transaction.atomic
def enterprise_update(*, enterprise: Enterprise, actor: User | None = None, **fields: Any) -> Enterprise:
    """Edit the enterprise's record (its own account or platform staff: access.require_enterprise_editor).
    A new region code is not applied here: jurisdiction moves only through
    ``enterprise_region_request`` and a regulator's decision (issue F9.5)."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    region_code = fields.pop("region_code", None)
    before = audit.snapshot(enterprise)
    for name, value in fields.items():
        setattr(enterprise, name, value)
    if fields:
        enterprise.save(update_fields=list(fields))
    changes = audit.diff(before, enterprise)
    if changes:
        audit.record(
            "enterprise.updated",
            subject=enterprise,
            actor=actor,
            summary=f"修改企业：{enterprise.name}",
            changes=changes,
        )
    if region_code is not None:
        enterprise = enterprise_region_request(enterprise=enterprise, actor=actor, region_code=region_code)
    return enterprise


@transaction.atomic
def enterprise_region_request(*, enterprise: Enterprise, actor: User | None, region_code: str) -> Enterprise:
    """The enterprise asks to move to another region; a regulator of its current region decides
    (``enterprise_region_decide``). Asking for the code it already has withdraws a pending request."""
    region_code = validate_region_code(region_code)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    pending = "" if region_code == enterprise.region_code else region_code
    if pending == enterprise.pending_region_code:
        return enterprise
    changes = {"pending_region_code": [enterprise.pending_region_code, pending]}
    enterprise.pending_region_code = pending
    enterprise.save(update_fields=["pending_region_code"])
    summary = f"申请变更行政区划：{enterprise.region_code} → {pending}" if pending else "撤回行政区划变更申请"
    audit.record(
        "enterprise.region_requested", subject=enterprise, actor=actor, summary=summary, changes=changes
    )
    return enterprise


def _regulates(actor: User, region_code: str) -> bool:
    from server.access import region_prefix

    return actor.role == Role.REGULATOR and region_code.startswith(region_prefix(actor.region_code))


@transaction.atomic
def enterprise_region_decide(
    *, enterprise: Enterprise, actor: User, approve: bool, reason: str = ""
) -> Enterprise:
    """A regulator of the enterprise's current region (or platform staff) approves or refuses its
    pending region change. Approval moves the enterprise and its projects' region codes together, in
    one transaction and audited, so no work changes regulator silently (issue F9.5)."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if actor.role != Role.PLATFORM and not _regulates(actor, enterprise.region_code):
        raise DomainError(errors.REGION_CHANGE_ACTOR_NOT_ALLOWED)
    if not enterprise.pending_region_code:
        raise DomainError(errors.REGION_CHANGE_NOT_PENDING)
    reason = reason.strip()
    if not approve and not reason:
        raise DomainError(errors.REGION_CHANGE_REASON_REQUIRED)
    old, new = enterprise.region_code, enterprise.pending_region_code
    if approve:
        return enterprise_region_set(enterprise=enterprise, actor=actor, region_code=new)
    enterprise.pending_region_code = ""
    enterprise.save(update_fields=["pending_region_code"])
    audit.record(
        "enterprise.region_refused",
        subject=enterprise,
        actor=actor,
        summary=f"行政区划变更未批准：{old} → {new}",
        changes={"pending_region_code": [new, ""], "reason": reason},
    )
    return enterprise


@transaction.atomic
def enterprise_region_set(*, enterprise: Enterprise, actor: User | None, region_code: str) -> Enterprise:
    """Move the enterprise, and its projects' region codes with it, to another region: on a
    regulator's approval, or by platform staff in the back office. Audited in both regions."""
    region_code = validate_region_code(region_code)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    old = enterprise.region_code
    enterprise.region_code, enterprise.pending_region_code = region_code, ""
    enterprise.save(update_fields=["region_code", "pending_region_code"])
    if old == region_code:
        return enterprise
    from server.fieldwork.models import MonitoringProject

    MonitoringProject.objects.filter(enterprise=enterprise).update(region_code=region_code)
    for region in (old, region_code):  # the regulator losing it and the one gaining it both see it
        audit.record(
            "enterprise.region_changed",
            subject=enterprise,
            actor=actor,
            summary=f"行政区划变更：{old} → {region_code}",
            changes={"region_code": [old, region_code]},
            region_code=region,
        )
    return enterprise


def _point(longitude: float, latitude: float, system: str) -> Point:
    lon, lat = to_wgs84(longitude, latitude, system)
    return Point(lon, lat, srid=4326)


@transaction.atomic
def outlet_create(
    *,
    enterprise: Enterprise,
    kind: str,
    name: str,
    longitude: float,
    latitude: float,
    coordinate_system: str,
    geofence_radius_m: int = 200,
    code: str = "",
) -> Outlet:
    """An outlet's position is converted to WGS-84 here, once; what was sent is kept for audit."""
    location = _point(longitude, latitude, coordinate_system)
    if Outlet.objects.filter(enterprise=enterprise, name=name.strip()).exists():
        raise DomainError(errors.OUTLET_NAME_TAKEN, name=name)
    _check_geofence(geofence_radius_m)
    return Outlet.objects.create(
        enterprise=enterprise,
        kind=kind,
        name=name.strip(),
        code=code,
        location=location,
        given_longitude=longitude,
        given_latitude=latitude,
        given_system=coordinate_system,
        geofence_radius_m=geofence_radius_m,
    )


def _check_geofence(radius: int) -> None:
    if not 10 <= radius <= 5000:
        raise DomainError(
            VALIDATION_FAILED, details={"geofence_radius_m": ["电子围栏半径须在 10 至 5000 米之间。"]}
        )


@transaction.atomic
def outlet_update(
    *,
    outlet: Outlet,
    actor: User | None = None,
    longitude: float | None = None,
    latitude: float | None = None,
    coordinate_system: str | None = None,
    **fields: Any,
) -> Outlet:
    outlet = Outlet.objects.select_for_update().get(pk=outlet.pk)
    before = audit.snapshot(outlet)
    moved = (longitude, latitude, coordinate_system)
    if any(v is not None for v in moved):
        if any(v is None for v in moved):
            raise DomainError(
                VALIDATION_FAILED,
                details={"coordinate_system": ["经度、纬度和坐标系须一起提交。"]},
            )
        old_location = outlet.location
        outlet.location = _point(longitude, latitude, coordinate_system)
        outlet.given_longitude, outlet.given_latitude, outlet.given_system = moved
        _audit_move(outlet, old_location, actor)
        fields_changed = ["location", "given_longitude", "given_latitude", "given_system"]
    else:
        fields_changed = []
    if "geofence_radius_m" in fields:
        _check_geofence(fields["geofence_radius_m"])
    if "name" in fields and (
        Outlet.objects.filter(enterprise_id=outlet.enterprise_id, name=fields["name"])
        .exclude(pk=outlet.pk)
        .exists()
    ):
        raise DomainError(errors.OUTLET_NAME_TAKEN, name=fields["name"])
    if "photo_thresholds" in fields:
        _check_photo_thresholds(fields["photo_thresholds"])
    for name, value in fields.items():
        setattr(outlet, name, value)
    outlet.save(update_fields=[*fields_changed, *fields])
    changes = audit.diff(before, outlet)
    if changes:
        audit.record(
            "outlet.updated", subject=outlet, actor=actor, summary=f"修改排口：{outlet.name}", changes=changes
        )
    if fields_changed or {"geofence_radius_m", "photo_thresholds", "name"} & set(fields):
        # The site's photos were judged against the old position or geofence: judge them again.
        from media_rules.background import schedule_site

        schedule_site(outlet.pk)
    return outlet


def _audit_move(outlet: Outlet, old: Point, actor: User | None) -> None:
    """Every move of an outlet is its own audit entry, with both positions and the distance: the
    geofence that judges every photo and check-in there moves with it (issue F9.2)."""
    new = outlet.location
    metres = round(geodesic_distance_m(old.x, old.y, new.x, new.y), 1)
    audit.record(
        "outlet.moved",
        subject=outlet,
        actor=actor,
        summary=f"移动排口：{outlet.name}（{metres} 米）",
        changes={"location": [[old.x, old.y], [new.x, new.y]], "distance_m": metres},
    )


def _check_photo_thresholds(value: Any) -> None:
    from media_rules.rules import Thresholds, thresholds_for

    try:
        thresholds_for(Thresholds(), value if isinstance(value, dict) else {"?": value})
    except (ValueError, TypeError) as exc:
        raise DomainError(VALIDATION_FAILED, details={"photo_thresholds": [str(exc)]}) from None


def _check_instrument(outlet: Outlet, analytes: list[str], range_low, range_high) -> list[str]:
    unknown = sorted(set(analytes) - set(Analyte.values))
    if unknown:
        raise DomainError(errors.UNKNOWN_ANALYTE, details={"analytes": unknown}, analytes="、".join(unknown))
    if not analytes:
        raise DomainError(VALIDATION_FAILED, details={"analytes": ["至少选择一个监测因子。"]})
    allowed = WATER_ANALYTES if outlet.kind == OutletKind.WASTEWATER else GAS_ANALYTES
    wrong = sorted(set(analytes) - allowed)
    if wrong:
        raise DomainError(
            errors.ANALYTE_NOT_FOR_OUTLET,
            details={"analytes": wrong, "outlet_kind": outlet.kind},
            analytes="、".join(wrong),
            kind=OutletKind(outlet.kind).label,
        )
    if range_low is not None and range_high is not None and Decimal(range_low) >= Decimal(range_high):
        raise DomainError(VALIDATION_FAILED, details={"range_high": ["量程上限须大于下限。"]})
    return list(dict.fromkeys(analytes))


@transaction.atomic
def instrument_create(
    *,
    outlet: Outlet,
    kind: str,
    analytes: list[str],
    maker: str,
    model: str,
    serial_number: str,
    range_low=None,
    range_high=None,
    unit: str = "",
) -> Instrument:
    analytes = _check_instrument(outlet, analytes, range_low, range_high)
    if Instrument.objects.filter(maker=maker.strip(), serial_number=serial_number.strip()).exists():
        raise DomainError(errors.INSTRUMENT_ALREADY_REGISTERED, maker=maker, serial=serial_number)
    return Instrument.objects.create(
        outlet=outlet,
        kind=kind,
        analytes=analytes,
        maker=maker.strip(),
        model=model.strip(),
        serial_number=serial_number.strip(),
        range_low=range_low,
        range_high=range_high,
        unit=unit,
    )


@transaction.atomic
def instrument_update(*, instrument: Instrument, **fields: Any) -> Instrument:
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    analytes = _check_instrument(
        instrument.outlet,
        fields.get("analytes", instrument.analytes),
        fields.get("range_low", instrument.range_low),
        fields.get("range_high", instrument.range_high),
    )
    if "analytes" in fields:
        fields["analytes"] = analytes
    for name, value in fields.items():
        setattr(instrument, name, value)
    if fields:
        instrument.save(update_fields=list(fields))
    return instrument


# --- Contracts ------------------------------------------------------------------------------------


@transaction.atomic
def contract_create(
    *,
    agency: Agency,
    enterprise: Enterprise,
    nature: str,
    number: str,
    title: str,
    amount: Decimal,
    starts_on: dt.date,
    ends_on: dt.date,
    actor: User | None = None,
) -> Contract:
    ensure_agency_approved(agency)
    if nature == Contract.Nature.MONITORING and not agency.does_monitoring:
        raise DomainError(errors.CONTRACT_NATURE_NOT_FOR_AGENCY, nature=Contract.Nature(nature).label)
    if nature == Contract.Nature.OM and not agency.does_om:
        raise DomainError(errors.CONTRACT_NATURE_NOT_FOR_AGENCY, nature=Contract.Nature(nature).label)
    if ends_on < starts_on:
        raise DomainError(VALIDATION_FAILED, details={"ends_on": ["履行结束不能早于履行开始。"]})
    if Contract.objects.filter(agency=agency, number=number.strip()).exists():
        raise DomainError(errors.CONTRACT_NUMBER_TAKEN, number=number)
    # Proposed only: the agency gains nothing over the enterprise until the enterprise or a
    # regulator of its region accepts (contract_transition; issue F9.2).
    contract = Contract.objects.create(
        agency=agency,
        enterprise=enterprise,
        nature=nature,
        number=number.strip(),
        title=title.strip(),
        amount=amount,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    audit.record(
        "contract.proposed",
        subject=contract,
        actor=actor,
        summary=f"提交合同：{contract.number} {contract.title}",
        agency_id=agency.pk,
        enterprise_id=enterprise.pk,
        region_code=enterprise.region_code,
    )
    return contract


A = Contract.Acceptance
PARTIES = {Role.ENTERPRISE, Role.REGULATOR, Role.PLATFORM}
# Who moves a contract's acceptance (seed 003 合同管理: the agency enters the contract, the enterprise
# and the supervising regulator see it): the enterprise's own account or a regulator of the
# enterprise's region accepts or refuses (with a reason); the agency may propose a refused one again.
ACCEPTANCE_TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (A.PROPOSED, A.ACCEPTED): PARTIES,
    (A.PROPOSED, A.REFUSED): PARTIES,
    (A.REFUSED, A.PROPOSED): {Role.AGENCY_MAIN, Role.AGENCY_MANAGER},
}

ACCEPTANCE = StateMachine(
    status_field="acceptance",
    moves=ACCEPTANCE_TRANSITIONS,
    history=ContractAcceptanceEvent,
    history_fk="contract",
    not_allowed=errors.CONTRACT_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.CONTRACT_ACTOR_NOT_ALLOWED,
    reason_required=errors.CONTRACT_REFUSAL_REASON_REQUIRED,
    needs_reason={A.REFUSED},
    reason_field="refusal_reason",
)


def _party_of(contract: Contract, actor: User) -> None:
    """The enterprise's own account, a regulator of its region, or the proposing agency."""
    if actor.role == Role.ENTERPRISE and actor.enterprise_id == contract.enterprise_id:
        return
    if actor.role == Role.REGULATOR and _regulates(actor, contract.enterprise.region_code):
        return
    if actor.role in (Role.AGENCY_MAIN, Role.AGENCY_MANAGER) and actor.agency_id == contract.agency_id:
        return
    if actor.role == Role.PLATFORM:
        return
    raise DomainError(errors.CONTRACT_ACTOR_NOT_ALLOWED)


def contract_transition(*, contract: Contract, to: str, actor: User, reason: str = "") -> Contract:
    """Move a contract's acceptance through ACCEPTANCE_TRANSITIONS, with a history row and an audit
    entry in the same transaction."""
    with transaction.atomic():
        contract = ACCEPTANCE.apply(
            contract, to=to, actor=actor, reason=reason, check=lambda obj, _: _party_of(obj, actor)
        )
        audit.record(
            f"contract.{to}",
            subject=contract,
            actor=actor,
            summary=f"合同{A(to).label}：{contract.number} {contract.title}",
            changes=audit.last_move(contract.acceptance_events),
            agency_id=contract.agency_id,
            enterprise_id=contract.enterprise_id,
            region_code=contract.enterprise.region_code,
        )
    return contract


def ensure_contract_accepted(contract: Contract) -> None:
    """Work is registered only under a contract the enterprise side has accepted (issue F9.2)."""
    if contract.acceptance != A.ACCEPTED:
        raise DomainError(errors.CONTRACT_NOT_ACCEPTED, state=A(contract.acceptance).label)
