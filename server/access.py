"""Who may see what. Every read of a domain object goes through a ``*_for(user)`` scope or an
``access_*(user, pk)`` helper from here; views never call ``Model.objects.get`` themselves.

- platform administrators see everything;
- regulators see what lies in their region (by 6-digit administrative code, GB/T 2260): the
  enterprises there and what is done for them, and the agencies registered there or working for
  an enterprise there (seed 001 §2.4: each province shows the agencies registered in it; seed 003
  §4.2 shows out-of-province agencies doing business in Shanghai), drafts excepted;
- agency accounts see their own agency's objects; field staff see the projects and O&M tasks they
  are assigned to;
- enterprise confirmers see their own enterprise and what is done for it.

An object outside the scope is "not found" (404), never "forbidden", so that existence does not leak.
A visible object the user may not change is 403 (``require_role``).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Model, Q, QuerySet

from server.accounts.models import AGENCY_ROLES, Role, User
from server.errors import NOT_FOUND, PERMISSION_DENIED, DomainError
from server.fieldwork.models import MonitoringProject, MonitoringTask
from server.om.models import ChangeRequest, OmTask
from server.registry.models import (
    Agency,
    AgencyDocument,
    AgencyQualification,
    Certificate,
    Contract,
    Employment,
    Enterprise,
    Instrument,
    Outlet,
    PersonDocument,
    TransferFiling,
)
from server.strict import missing_reference


def region_prefix(code: str) -> str:
    """'310000' (Shanghai) -> '31'; '310100' -> '3101'; '310104' (Xuhui) -> '310104'."""
    code = code.strip()
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def _in_region(user: User, field: str) -> Q:
    return Q(**{f"{field}__startswith": region_prefix(user.region_code)})


def _nothing(model: type[Model]) -> QuerySet:
    return model.objects.none()


def accepted_contracts() -> QuerySet[Contract]:
    """The contracts that grant rights: those the enterprise side has accepted (issue F9.2). A
    proposed or refused contract is seen by its parties (``contracts_for``) and gives nothing else."""
    return Contract.objects.filter(acceptance=Contract.Acceptance.ACCEPTED)


def agencies_for(user: User) -> QuerySet[Agency]:
    qs = Agency.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        working_here = (
            accepted_contracts().filter(_in_region(user, "enterprise__region_code")).values("agency_id")
        )
        return qs.exclude(filing_status=Agency.FilingStatus.DRAFT).filter(
            _in_region(user, "region_code") | Q(pk__in=working_here)
        )
    if user.role in AGENCY_ROLES:
        return qs.filter(pk=user.agency_id)
    if user.role == Role.ENTERPRISE:
        return qs.filter(
            pk__in=accepted_contracts().filter(enterprise_id=user.enterprise_id).values("agency_id")
        )
    return _nothing(Agency)


def enterprises_for(user: User) -> QuerySet[Enterprise]:
    qs = Enterprise.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        return qs.filter(_in_region(user, "region_code"))
    if user.role in AGENCY_ROLES:
        return qs.filter(pk__in=accepted_contracts().filter(agency_id=user.agency_id).values("enterprise_id"))
    if user.role == Role.ENTERPRISE:
        return qs.filter(pk=user.enterprise_id)
    return _nothing(Enterprise)


def outlets_for(user: User) -> QuerySet[Outlet]:
    return Outlet.objects.filter(enterprise__in=enterprises_for(user))


def instruments_for(user: User) -> QuerySet[Instrument]:
    return Instrument.objects.filter(outlet__enterprise__in=enterprises_for(user))


def contracts_for(user: User) -> QuerySet[Contract]:
    qs = Contract.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        return qs.filter(_in_region(user, "enterprise__region_code"))
    if user.role in AGENCY_ROLES:
        return qs.filter(agency_id=user.agency_id)
    if user.role == Role.ENTERPRISE:
        return qs.filter(enterprise_id=user.enterprise_id)
    return _nothing(Contract)


def employments_for(user: User) -> QuerySet[Employment]:
    qs = Employment.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        return qs.filter(agency__in=agencies_for(user))
    if user.role in AGENCY_ROLES:
        return qs.filter(agency_id=user.agency_id)
    return _nothing(Employment)


def transfers_for(user: User) -> QuerySet[TransferFiling]:
    """Transfer requests (重复人员报备): the old and the new agency's main and manager accounts,
    regulators of either agency's region (F9 item 6)."""
    qs = TransferFiling.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        return qs.filter(
            _in_region(user, "from_agency__region_code") | _in_region(user, "to_agency__region_code")
        )
    if user.role in (Role.AGENCY_MAIN, Role.AGENCY_MANAGER):
        return qs.filter(Q(from_agency_id=user.agency_id) | Q(to_agency_id=user.agency_id))
    return _nothing(TransferFiling)


def certificates_for(user: User) -> QuerySet[Certificate]:
    return Certificate.objects.filter(person__employments__in=employments_for(user)).distinct()


# The filing dossier's files and a person's documents (server/registry/dossier.py).


def dossier_agencies_for(user: User) -> QuerySet[Agency]:
    """Whose dossier files the user may read: its own agency, the agencies registered in a regulator's
    region (the filing authority, seed 001 §3.1.3: 注册地省级主管部门), everything for platform staff."""
    qs = Agency.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        return qs.exclude(filing_status=Agency.FilingStatus.DRAFT).filter(_in_region(user, "region_code"))
    if user.role in AGENCY_ROLES:
        return qs.filter(pk=user.agency_id)
    return qs.none()


def agency_documents_for(user: User) -> QuerySet[AgencyDocument]:
    return AgencyDocument.objects.filter(agency__in=dossier_agencies_for(user))


def qualifications_for(user: User) -> QuerySet[AgencyQualification]:
    return AgencyQualification.objects.filter(agency__in=dossier_agencies_for(user))


def person_documents_for(user: User) -> QuerySet[PersonDocument]:
    """A person's files: the agency employing the person now (its back office), the regulators of that
    agency's region, platform staff. A departed person's files leave the old agency's sight."""
    qs = PersonDocument.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    active = Employment.objects.filter(status=Employment.Status.ACTIVE)
    if user.role == Role.REGULATOR:
        employed = active.filter(_in_region(user, "agency__region_code"))
    elif user.role in (Role.AGENCY_MAIN, Role.AGENCY_MANAGER):
        employed = active.filter(agency_id=user.agency_id)
    else:
        return qs.none()
    return qs.filter(person_id__in=employed.values("person_id"))


def projects_for(user: User, *, with_deleted: bool = False) -> QuerySet[MonitoringProject]:
    """The monitoring projects a user sees. A deleted project (seed 002 删除) is in no list, page or
    pull; ``with_deleted`` is for the sync engine, which still finds its tasks to answer that they
    are deleted and to hand phones their tombstones."""
    qs = MonitoringProject.objects.all()
    if not with_deleted:
        qs = qs.exclude(status=MonitoringProject.Status.DELETED)
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        # Jurisdiction follows the enterprise's registered location, never a code typed on the
        # project (issue F9.5).
        return qs.filter(_in_region(user, "enterprise__region_code"))
    if user.role == Role.AGENCY_FIELD:
        return qs.filter(
            agency_id=user.agency_id, assignments__employment__person_id=user.person_id
        ).distinct()
    if user.role in AGENCY_ROLES:
        return qs.filter(agency_id=user.agency_id)
    if user.role == Role.ENTERPRISE:
        return qs.filter(enterprise_id=user.enterprise_id)
    return _nothing(MonitoringProject)


def change_requests_for(user: User) -> QuerySet[ChangeRequest]:
    """The 信息变更申请 (server/om/changes.py) a user sees: the asking agency's main and manager accounts, the
    enterprise, the regulators of its region, the platform. Anyone else sees none (never a 403)."""
    rows = ChangeRequest.objects.all()
    if user.role == Role.PLATFORM:
        return rows
    if user.role == Role.REGULATOR:
        return rows.filter(_in_region(user, "enterprise__region_code"))
    if user.role in (Role.AGENCY_MAIN, Role.AGENCY_MANAGER):
        return rows.filter(agency_id=user.agency_id)
    if user.role == Role.ENTERPRISE:
        return rows.filter(enterprise_id=user.enterprise_id)
    return rows.none()


def photos_for(user: User) -> QuerySet:
    """A task's photos are seen by whoever sees the task; a site's photos (no task) by the agency
    that took them and by those who see the site's enterprise from outside an agency."""
    from media_rules.models import Photo

    qs = Photo.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    of_tasks = Q(task__project__in=projects_for(user))
    if user.role in AGENCY_ROLES:
        of_sites = Q(task__isnull=True, agency_id=user.agency_id)
    else:
        of_sites = Q(task__isnull=True, outlet__in=outlets_for(user))
    return qs.filter(of_tasks | of_sites)


def tasks_for(user: User) -> QuerySet[MonitoringTask]:
    """The monitoring tasks a user sees: those of the projects they see, not deleted. The task list,
    the task detail, photo records and the home screen's counts all start here."""
    return MonitoringTask.objects.filter(project__in=projects_for(user), deleted_at__isnull=True)


def checkins_for(user: User) -> QuerySet:
    """A check-in is seen by whoever sees its monitoring task or O&M task, and by its author."""
    from server.tracks.models import CheckIn

    qs = CheckIn.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    return qs.filter(
        Q(user=user) | Q(task__project__in=projects_for(user)) | Q(om_task__in=om_tasks_for(user))
    )


def om_tasks_for(user: User) -> QuerySet[OmTask]:
    qs = OmTask.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role == Role.REGULATOR:
        return qs.filter(_in_region(user, "contract__enterprise__region_code"))
    if user.role in (Role.AGENCY_FIELD, Role.AGENCY_REVIEWER):
        return qs.filter(agency_id=user.agency_id, staff__employment__person_id=user.person_id).distinct()
    if user.role in AGENCY_ROLES:
        return qs.filter(agency_id=user.agency_id)
    if user.role == Role.ENTERPRISE:
        return qs.filter(contract__enterprise_id=user.enterprise_id)
    return _nothing(OmTask)


def om_records_for(user: User) -> QuerySet:
    """O&M records: those of the O&M tasks the user sees. Drafts stay with the agency that fills them;
    the enterprise and the regulator see a record once it is submitted."""
    from server.om.models import OmRecord

    qs = OmRecord.objects.filter(task__in=om_tasks_for(user))
    if user.role in (Role.ENTERPRISE, Role.REGULATOR):
        qs = qs.exclude(status=OmRecord.Status.DRAFT)
    return qs


def devices_for(user: User) -> QuerySet:
    """A user's own phones; an agency's main or manager account also sees its agency's phones (to
    revoke a lost one); the platform all. Each annotated ``signed_in``: a live token left."""
    from django.db.models import Exists, OuterRef

    from server.accounts.models import Device, DeviceToken

    live = DeviceToken.objects.filter(device=OuterRef("pk"), revoked_at__isnull=True)
    qs = (
        Device.objects.select_related("user").annotate(signed_in=Exists(live)).order_by("-last_seen_at", "id")
    )
    if user.role == Role.PLATFORM:
        return qs
    if user.role in AGENCY_ADMINS:
        return qs.filter(user__agency_id=user.agency_id)
    return qs.filter(user=user)


def access_om_record(user: User, pk, **kw):
    return get_visible(om_records_for(user), pk, **kw)


def get_visible(queryset: QuerySet, pk, *, for_update: bool = False, field: str | None = None):
    """The object with this pk from a scope, or not_found. ``for_update`` locks the row.

    ``field``: the request body's field that names it. An object a body names and that is not there
    (or not in the user's scope: the same answer, nothing leaks) is the request's mistake, a 400
    ``validation_failed`` naming the field, not a 404 like a wrong URL (F10 item 6)."""
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        if field is not None:
            raise missing_reference(field, pk) from None
        raise DomainError(NOT_FOUND) from None


def referenced(scope: QuerySet, data: Mapping, field: str):
    """The object a request body names in ``field`` (None when it names none), from ``scope``: one
    the user cannot see is a 400 naming the field (get_visible)."""
    pk = data.get(field)
    return None if pk is None else get_visible(scope, pk, field=field)


def access_agency(user: User, pk, **kw) -> Agency:
    return get_visible(agencies_for(user), pk, **kw)


def access_enterprise(user: User, pk, **kw) -> Enterprise:
    return get_visible(enterprises_for(user), pk, **kw)


def access_outlet(user: User, pk, **kw) -> Outlet:
    return get_visible(outlets_for(user), pk, **kw)


def access_instrument(user: User, pk, **kw) -> Instrument:
    return get_visible(instruments_for(user), pk, **kw)


def access_contract(user: User, pk, **kw) -> Contract:
    return get_visible(contracts_for(user), pk, **kw)


def access_employment(user: User, pk, **kw) -> Employment:
    return get_visible(employments_for(user), pk, **kw)


def access_transfer(user: User, pk, **kw) -> TransferFiling:
    return get_visible(transfers_for(user), pk, **kw)


def access_project(user: User, pk, **kw) -> MonitoringProject:
    return get_visible(projects_for(user), pk, **kw)


def access_om_task(user: User, pk, **kw) -> OmTask:
    return get_visible(om_tasks_for(user), pk, **kw)


# --- What a visible object's viewer may change ----------------------------------------------------
AGENCY_ADMINS = {Role.AGENCY_MAIN, Role.AGENCY_MANAGER}


def require_role(user: User, roles: set[str]) -> None:
    if user.role not in roles:
        raise DomainError(PERMISSION_DENIED)


def require_agency_admin(user: User, agency: Agency | None = None) -> Agency:
    """The agency whose back office this user runs (main or manager account); platform admins pass
    for any agency they name."""
    if user.role == Role.PLATFORM and agency is not None:
        return agency
    require_role(user, AGENCY_ADMINS)
    if agency is not None and agency.pk != user.agency_id:
        raise DomainError(NOT_FOUND)
    return user.agency


def require_enterprise_editor(user: User, enterprise: Enterprise) -> None:
    """The enterprise's record, its outlets and instruments are kept by the enterprise itself (seed
    003: 由排污企业完善各排口的自动监控设施信息) or by a platform administrator. Agencies, even under
    an accepted contract, record against outlets but never move or rename them (issue F9.2): an
    outlet's position is the geofence every photo and check-in there is judged against."""
    if user.role == Role.PLATFORM:
        return
    if user.role == Role.ENTERPRISE and user.enterprise_id == enterprise.pk:
        return
    raise DomainError(PERMISSION_DENIED)
