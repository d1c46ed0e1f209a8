"""重复人员报备 (seed 001 §3.1.1.2, one person one agency): a new agency that hires someone still
active at another agency files a request with the departure date and the signed departure proof; the
old agency's main account, or a regulator of the old agency's region, confirms or refuses it. Only a
confirmation ends the old staff record (through ``services.staff_depart``, the one departure path)
and starts the new one (``services.staff_hire``), in one transaction with their audit rows.

Issue F9 item 6: a filing used to end the other agency's record at once, on the requester's word,
and the refusals named the other agency. The requester learns no more than "registered elsewhere":
its view of a filing has no old agency, and a request for someone not active elsewhere is refused
with the same answer whether the person is unknown or simply free to hire.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from server.accounts.models import AGENCY_ROLES, Role, User
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.notifications.services import agency_admins, notify
from server.registry import errors, services
from server.registry.identifiers import mask_resident_id, validate_resident_id
from server.registry.models import Agency, Employment, Person, TransferFiling, TransferFilingEvent
from server.transitions import StateMachine

S = TransferFiling.Status
DECIDERS = {Role.AGENCY_MAIN, Role.REGULATOR, Role.PLATFORM}
TRANSFER_MOVES: dict[tuple[str, str], set[str]] = {
    (S.PENDING, S.CONFIRMED): DECIDERS,
    (S.PENDING, S.REFUSED): DECIDERS,
}
TRANSFER = StateMachine(
    status_field="status",
    moves=TRANSFER_MOVES,
    history=TransferFilingEvent,
    history_fk="filing",
    not_allowed=errors.TRANSFER_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.TRANSFER_ACTOR_NOT_ALLOWED,
    reason_required=errors.TRANSFER_REASON_REQUIRED,
    needs_reason={S.REFUSED},
    reason_field="decision_reason",
)
# What ``staff_hire`` takes besides the agency and the ID number, kept on the filing until confirmed.
HIRE_FIELDS = ("name", "education", "hired_on", "posts", "phone", "major", "title", "position", "relation")
SUBJECT = "staff_transfer"  # the notifications' subject type


# --- Reads (the scope is ``server.access.transfers_for``) -------------------------------------------
def shows_old_agency(filing: TransferFiling, user: User) -> bool:
    """Whether ``user`` may know where the person is registered: not the requesting agency."""
    return not (user.role in AGENCY_ROLES and user.agency_id == filing.to_agency_id)


# --- Filing ---------------------------------------------------------------------------------------
def _hire_data(hire: dict[str, Any]) -> dict[str, Any]:
    unknown = set(hire) - set(HIRE_FIELDS)
    if unknown:
        raise ValueError(f"not staff_hire arguments: {sorted(unknown)}")
    data = dict(hire)
    data["hired_on"] = data["hired_on"].isoformat()
    data["posts"] = list(data.get("posts", []))
    return data


def _active_elsewhere(id_number: str, agency: Agency) -> Employment:
    person = Person.objects.filter(id_number=id_number).first()
    active = (
        Employment.objects.select_for_update(of=("self",))
        .filter(person=person, status=Employment.Status.ACTIVE)
        .select_related("agency", "person")
        .first()
        if person is not None
        else None
    )
    if active is None or active.agency_id == agency.pk:
        raise DomainError(errors.NO_TRANSFER_NEEDED)
    return active


def transfer_request(
    *,
    to_agency: Agency,
    id_number: str,
    departed_on: dt.date,
    proof: UploadedFile | None,
    actor: User,
    **hire: Any,
) -> TransferFiling:
    """File a request (pending) and notify the old agency. ``hire`` is the new staff record
    (``staff_hire``'s arguments), created only when the request is confirmed."""
    if proof is None:
        raise DomainError(VALIDATION_FAILED, details={"proof": ["请上传人员签字的离职证明。"]})
    with transaction.atomic():
        active = _active_elsewhere(validate_resident_id(id_number), to_agency)
        person = active.person
        if person.name != hire["name"].strip():
            raise DomainError(errors.PERSON_NAME_MISMATCH)
        if not active.hired_on <= departed_on <= timezone.localdate():
            raise DomainError(
                VALIDATION_FAILED, details={"departed_on": ["离职时间须在原单位入职之后且不晚于今天。"]}
            )
        # Checked now as staff_hire checks them on confirmation: a request that could never be
        # carried out is refused at once.
        services.posts_allowed(person=person, codes=hire.get("posts", []), hired_on=hire["hired_on"])
        try:
            with transaction.atomic():
                filing = TransferFiling.objects.create(
                    person=person,
                    from_agency=active.agency,
                    to_agency=to_agency,
                    departed_on=departed_on,
                    proof_name=proof.name[-200:],
                    hire=_hire_data(hire),
                    filed_by=actor,
                    filed_at=timezone.now(),
                )
        except IntegrityError:
            raise DomainError(errors.TRANSFER_ALREADY_PENDING) from None
        filing.proof.save(f"{filing.pk}-{proof.name[-80:]}", proof, save=True)
        _audit(filing, "staff.transfer_requested", actor, f"重复人员报备：{person.name}")
        notify(
            recipients=agency_admins(filing.from_agency_id),
            kind="staff_transfer_requested",
            title="重复人员报备待确认",
            body=(
                f"{to_agency.name}报备：{person.name}（{mask_resident_id(person.id_number)}）已于 "
                f"{departed_on.isoformat()} 从本单位离职，并附离职证明。请核实后确认或拒绝。"
            ),
            subject_type=SUBJECT,
            subject_id=filing.pk,
        )
    return filing


# --- Deciding -------------------------------------------------------------------------------------
def _may_decide(filing: TransferFiling, actor: User) -> None:
    """The old agency's main account, or a regulator of the old agency's region: the side that
    vouches for the employment being ended. The requester never decides its own request."""
    from server.access import region_prefix

    if actor.role == Role.AGENCY_MAIN and actor.agency_id == filing.from_agency_id:
        return
    if actor.role == Role.REGULATOR and filing.from_agency.region_code.startswith(
        region_prefix(actor.region_code)
    ):
        return
    if actor.role == Role.PLATFORM:
        return
    raise DomainError(errors.TRANSFER_ACTOR_NOT_ALLOWED)


def _carry_out(filing: TransferFiling) -> Employment:
    """End the old record and start the new one, or refuse if the old one is no longer active."""
    old = (
        Employment.objects.select_for_update()
        .filter(person=filing.person, agency=filing.from_agency, status=Employment.Status.ACTIVE)
        .first()
    )
    if old is None:
        raise DomainError(errors.TRANSFER_STALE)
    services.staff_depart(employment=old, departed_on=filing.departed_on)
    hire = dict(filing.hire)
    hire["hired_on"] = dt.date.fromisoformat(hire["hired_on"])
    return services.staff_hire(agency=filing.to_agency, id_number=filing.person.id_number, **hire)


@transaction.atomic
def transfer_decide(*, filing: TransferFiling, to: str, actor: User, reason: str = "") -> TransferFiling:
    """Confirm (end the old record, start the new one) or refuse (with a reason) a pending request."""
    filing = TRANSFER.apply(
        filing, to=to, actor=actor, reason=reason, check=lambda obj, target: _may_decide(obj, actor)
    )
    filing.decided_by, filing.decided_at = actor, timezone.now()
    changed = ["decided_by", "decided_at"]
    if to == S.CONFIRMED:
        filing.new_employment = _carry_out(filing)
        changed.append("new_employment")
    filing.save(update_fields=changed)
    label = S(to).label
    _audit(filing, f"staff.transfer_{to}", actor, f"重复人员报备{label}：{filing.person.name}")
    notify(
        recipients=agency_admins(filing.to_agency_id),
        kind=f"staff_transfer_{to}",
        title=f"重复人员报备{label}",
        body=f"{filing.person.name}的重复人员报备{label}。"
        + (f"原因：{filing.decision_reason}" if filing.decision_reason else ""),
        subject_type=SUBJECT,
        subject_id=filing.pk,
    )
    return filing


def _audit(filing: TransferFiling, action: str, actor: User, summary: str) -> None:
    """One entry in each agency's trail (and so in each region's)."""
    changes = {"status": filing.status, "departed_on": filing.departed_on}
    for agency in (filing.from_agency, filing.to_agency):
        audit.record(
            action,
            subject=filing,
            actor=actor,
            summary=summary,
            changes=changes,
            agency_id=agency.pk,
            region_code=agency.region_code,
        )
