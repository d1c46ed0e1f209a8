"""Who reads the audit trail.

- The list: platform administrators everything; regulators the entries of their region (by the
  6-digit code's prefix, ``access.region_prefix``); an agency's main and manager accounts their
  agency's entries; anyone else 403. An entry's region is its project's, its enterprise's, or (for
  filings and staff) the agency's registration region: a regulator does not see the staff changes
  of an agency registered elsewhere that works in its region (``access.agencies_for`` would).
- One object's history: whoever may see the object (``server.access`` helpers), all its entries;
  an object outside the user's scope, or an unknown subject type, is 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet

from server import access
from server.accounts.models import Role, User
from server.audit.models import AuditEntry
from server.errors import NOT_FOUND, PERMISSION_DENIED, DomainError

LIST_READERS = {Role.PLATFORM, Role.REGULATOR, Role.AGENCY_MAIN, Role.AGENCY_MANAGER}


def entries_for(user: User) -> QuerySet[AuditEntry]:
    if user.role == Role.PLATFORM:
        return AuditEntry.objects.all()
    if user.role == Role.REGULATOR:
        return AuditEntry.objects.filter(region_code__startswith=access.region_prefix(user.region_code))
    if user.role in (Role.AGENCY_MAIN, Role.AGENCY_MANAGER):
        return AuditEntry.objects.filter(agency_id=user.agency_id)
    raise DomainError(PERMISSION_DENIED)


def shows_origin(viewer: User, device_user: User) -> bool:
    """Whether an entry names its phone and sync operation to this viewer: a device id is its user's
    agency's business (F9 item 3: device ids of another tenant's staff showed in entries on shared
    objects, an enterprise or an outlet served by two agencies). Platform administrators and
    regulators, who oversee the agencies, see them all."""
    if viewer.role in (Role.PLATFORM, Role.REGULATOR) or device_user.pk == viewer.pk:
        return True
    return viewer.agency_id is not None and device_user.agency_id == viewer.agency_id


def _task(user: User, pk):
    from server.fieldwork.models import MonitoringTask

    # Deleted tasks included: their history is what shows who deleted them.
    projects = access.projects_for(user, with_deleted=True)
    return access.get_visible(MonitoringTask.objects.filter(project__in=projects), pk)


def _project(user: User, pk):
    # Deleted projects included (seed 002 删除, issue 23): gone from every list, their history stays
    # readable by whoever saw them.
    return access.get_visible(access.projects_for(user, with_deleted=True), pk)


def _violation(user: User, pk):
    from server.violations.selectors import violations_for

    return access.get_visible(violations_for(user), pk)


# subject type -> (user, id) -> the object, or not_found when the user may not see it
SUBJECTS: dict[str, Callable] = {
    "project": _project,
    "task": _task,
    "om_task": access.access_om_task,
    "om_record": access.access_om_record,
    "violation": _violation,
    "agency": access.access_agency,
    "staff": access.access_employment,
    "enterprise": access.access_enterprise,
    "outlet": access.access_outlet,
    "contract": access.access_contract,  # proposed, accepted, refused (issue F9.2)
    "photo": lambda user, pk: access.get_visible(access.photos_for(user), pk),
}


def history_of(user: User, subject_type: str, subject_id: str) -> QuerySet[AuditEntry]:
    find = SUBJECTS.get(subject_type)
    if find is None:
        raise DomainError(NOT_FOUND)
    try:
        subject = find(user, subject_id)
    except DjangoValidationError:  # not an id of that type (a UUID's subject given "abc")
        raise DomainError(NOT_FOUND) from None
    return AuditEntry.objects.filter(subject_type=subject_type, subject_id=str(subject.pk))


def search(
    entries: QuerySet[AuditEntry],
    *,
    subject_type: str = "",
    subject_id: str = "",
    action: str = "",
    actor: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Narrow a scope down. ``action`` ending with a dot ("om_record.") takes every action of a kind."""
    if subject_type:
        entries = entries.filter(subject_type=subject_type)
    if subject_id:
        entries = entries.filter(subject_id=subject_id)
    if action:
        entries = (
            entries.filter(action__startswith=action)
            if action.endswith(".")
            else entries.filter(action=action)
        )
    if actor is not None:
        entries = entries.filter(actor_id=actor)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    return entries
