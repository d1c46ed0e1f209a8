"""What the agency office pages read (机构备案, 账号, 合同): the agency's filing as approved with what
waits for review beside it, its filing history, its accounts, and the contracts a user sees. Every
read starts from a ``server.access`` scope, so an object outside it is not found; each list is one
query for its rows, related objects joined."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from server import access
from server.accounts.models import Role, User
from server.fieldwork.models import MonitoringProject
from server.regions import region_name
from server.registry.models import (
    Agency,
    AgencyFilingEvent,
    AgencyNature,
    Contract,
    ContractAcceptanceEvent,
    Enterprise,
    MonitoringCategory,
    OmCategory,
    Outlet,
    OutletKind,
)
from workspace.i18n import t
from workspace.nav import ROLE_EN

PAGE_SIZE = 20
F = Agency.FilingStatus
A = Contract.Acceptance

FILING_STATUS_EN = {
    F.DRAFT: "Draft",
    F.SUBMITTED: "Submitted",
    F.APPROVED: "Approved",
    F.RETURNED: "Returned",
    F.CHANGED: "Change awaiting review",
    F.CANCELLED: "Cancelled",
}
KIND_EN = {
    Agency.Kind.MONITORING: "Monitoring agency",
    Agency.Kind.OM: "O&M agency",
    Agency.Kind.BOTH: "Monitoring and O&M agency",
}
ACCEPTANCE_EN = {A.PROPOSED: "Awaiting the enterprise", A.ACCEPTED: "Accepted", A.REFUSED: "Refused"}
CONTRACT_STATUS_EN = {
    Contract.Status.ACTIVE: "In force",
    Contract.Status.ENDED: "Expired",
    Contract.Status.TERMINATED: "Terminated",
}
NATURE_EN = {Contract.Nature.MONITORING: "Monitoring", Contract.Nature.OM: "O&M"}
OUTLET_KIND_EN = {"wastewater": "Wastewater", "waste_gas": "Waste gas"}

# The filing's fields in the order seed 001's form asks them (统一社会信用代码 is fixed at registration).
FILING_FIELDS = [
    ("credit_code", "统一社会信用代码", "Unified social credit code"),
    ("name", "机构名称", "Name"),
    ("kind", "机构类别", "Kind"),
    ("nature", "机构性质", "Nature"),
    ("monitoring_categories", "监测类别", "Monitoring categories"),
    ("om_categories", "运维类别", "O&M categories"),
    ("legal_representative", "法定代表人", "Legal representative"),
    ("legal_representative_phone", "法定代表人电话", "Legal representative's phone"),
    ("contact_name", "联系人", "Contact"),
    ("contact_phone", "联系电话", "Contact's phone"),
    ("address", "注册地址", "Registered address"),
    ("region_code", "注册地行政区划", "Region code"),
]
# The fields whose values are codes of a catalogue (seed 001 §3.1.1.1), shown by their names.
CATALOGUES = {
    "nature": AgencyNature,
    "monitoring_categories": MonitoringCategory,
    "om_categories": OmCategory,
}
# When the agency's main account may submit (seed 001 §3.1: 草稿 or 已退回 → 已提交).
SUBMITTABLE = (F.DRAFT, F.RETURNED)
# When agency_update refuses an edit (agency_locked).
LOCKED = (F.SUBMITTED, F.CANCELLED)


def _named(choices, english: dict, value: str) -> str:
    label = dict(choices).get(value)
    return t(label, english.get(value, label)) if label else value


def filing_status_label(value: str) -> str:
    return _named(F.choices, FILING_STATUS_EN, value)


def kind_label(value: str) -> str:
    return _named(Agency.Kind.choices, KIND_EN, value)


def acceptance_label(value: str) -> str:
    return _named(A.choices, ACCEPTANCE_EN, value)


def contract_status_label(value: str) -> str:
    return _named(Contract.Status.choices, CONTRACT_STATUS_EN, value)


def nature_label(value: str) -> str:
    return _named(Contract.Nature.choices, NATURE_EN, value)


def role_label(value: str) -> str:
    return _named(Role.choices, ROLE_EN, value)


def outlet_kind_label(value: str) -> str:
    return _named(OutletKind.choices, OUTLET_KIND_EN, value)


def region_text(code: str) -> str:
    """上海市徐汇区（310104）: the name for people, the code for whoever files by it."""
    name = region_name(code)
    return f"{name}（{code}）" if name and name != code else code


# --- The filing -----------------------------------------------------------------------------------
@dataclass
class FilingRow:
    label: str
    value: str
    pending: str | None  # the new value waiting for the regulator, None when nothing waits


def own_agency(user: User) -> Agency:
    """The agency whose office the user runs (its main or manager account): not found for anyone else."""
    access.require_role(user, access.AGENCY_ADMINS)
    return access.access_agency(user, user.agency_id)


def _shown(name: str, value) -> str:
    if name == "kind":
        return kind_label(value)
    if name in CATALOGUES:
        labels = dict(CATALOGUES[name].choices)
        if isinstance(value, list):
            return "、".join(str(labels.get(code, code)) for code in value) or "—"
        return str(labels.get(value, value)) if value else "—"
    if name == "region_code" and value:
        return region_text(value)
    return str(value) if value not in (None, "") else "—"


def filing_rows(agency: Agency) -> list[FilingRow]:
    """The filing as approved (what regulators and the public look-up read), each reviewed field's
    pending change beside it (``pending_changes``, agency_update)."""
    pending = agency.pending_changes or {}
    return [
        FilingRow(
            label=t(zh, en),
            value=_shown(name, getattr(agency, name)),
            pending=_shown(name, pending[name]) if name in pending else None,
        )
        for name, zh, en in FILING_FIELDS
    ]


CHANGE_PREFIX = "变更："


def event_reason(reason: str) -> str:
    """A reason in words: agency_update writes a change's reason as the changed fields' names
    ("变更：kind、name"), which the page names by their labels."""
    if not reason.startswith(CHANGE_PREFIX):
        return reason
    labels = {name: t(zh, en) for name, zh, en in FILING_FIELDS}
    names = reason.removeprefix(CHANGE_PREFIX).split("、")
    return t("变更：", "Changed: ") + t("、", ", ").join(labels.get(name, name) for name in names)


def filing_events(agency: Agency) -> list[dict]:
    """The filing's history, oldest first, as ``GET /agencies/{id}/filing-events`` lists it."""
    return [
        {
            "event": event,
            "from": filing_status_label(event.from_status),
            "to": filing_status_label(event.to_status),
            "reason": event_reason(event.reason),
        }
        for event in AgencyFilingEvent.objects.filter(agency=agency)
        .select_related("actor__person")
        .order_by("at", "id")
    ]


# --- Accounts -------------------------------------------------------------------------------------
def accounts(user: User) -> QuerySet[User]:
    """The agency's accounts, as ``GET /accounts`` lists them (AccountViewSet.get_queryset)."""
    access.require_role(user, access.AGENCY_ADMINS)
    return User.objects.filter(agency_id=user.agency_id).select_related("person").order_by("id")


def account_page(
    user: User, *, role: str = "", active: str = "", q: str = "", number=1, nothing: bool = False
) -> Page:
    rows = accounts(user)
    if nothing:
        rows = rows.none()
    if role:
        rows = rows.filter(role=role)
    if active:
        rows = rows.filter(is_active=active == "yes")
    if q:
        rows = rows.filter(Q(username__icontains=q) | Q(person__name__icontains=q) | Q(phone__icontains=q))
    return Paginator(rows, PAGE_SIZE).get_page(number)


def visible_account(user: User, pk) -> User:
    return access.get_visible(accounts(user), pk)


# --- Contracts ------------------------------------------------------------------------------------
def filter_enterprises(user: User) -> QuerySet[Enterprise]:
    """The enterprises of the contracts the user sees (a proposed contract's included: its agency
    named the enterprise itself)."""
    return Enterprise.objects.filter(pk__in=access.contracts_for(user).values("enterprise_id")).order_by(
        "name", "id"
    )


def contracts(
    user: User,
    *,
    q: str = "",
    acceptance: str = "",
    status: str = "",
    nature: str = "",
    enterprise: Enterprise | None = None,
    nothing: bool = False,
) -> QuerySet[Contract]:
    """The contracts the user sees (``GET /contracts``), newest in force first, the id last so that
    pages never skip or repeat a row."""
    rows = access.contracts_for(user)
    if nothing:
        rows = rows.none()
    if q:
        rows = rows.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(enterprise__name__icontains=q)
            | Q(agency__name__icontains=q)
        )
    if acceptance:
        rows = rows.filter(acceptance=acceptance)
    if status:
        rows = rows.filter(status=status)
    if nature:
        rows = rows.filter(nature=nature)
    if enterprise is not None:
        rows = rows.filter(enterprise=enterprise)
    return rows.select_related("agency", "enterprise").order_by("-starts_on", "-created_at", "-id")


def contract_page(user: User, number=1, **filters) -> Page:
    return Paginator(contracts(user, **filters), PAGE_SIZE).get_page(number)


@dataclass
class ContractView:
    contract: Contract
    events: list[dict]
    outlets: list[Outlet]
    projects: list[MonitoringProject]


def visible_contract(user: User, pk, *, for_update: bool = False) -> Contract:
    return access.get_visible(
        access.contracts_for(user).select_related("agency", "enterprise"), pk, for_update=for_update
    )


def contract_view(user: User, pk) -> ContractView:
    contract = visible_contract(user, pk)
    events = [
        {"event": event, "from": acceptance_label(event.from_status), "to": acceptance_label(event.to_status)}
        for event in ContractAcceptanceEvent.objects.filter(contract=contract)
        .select_related("actor__person", "actor__enterprise", "actor__agency")
        .order_by("at", "id")
    ]
    # The enterprise's outlets as far as the user sees them: an agency only once a contract with the
    # enterprise is accepted (server.access.outlets_for; a proposed contract grants nothing).
    outlets = list(
        access.outlets_for(user).filter(enterprise_id=contract.enterprise_id).order_by("kind", "name", "id")
    )
    # The monitoring projects registered under it, as far as the user sees them.
    projects = list(access.projects_for(user).filter(contract=contract).order_by("-created_at", "-id"))
    return ContractView(contract=contract, events=events, outlets=outlets, projects=projects)


# --- The dossier (备案材料) ---------------------------------------------------------------------------
@dataclass
class Dossier:
    """What a regulator judges a filing on, as far as the reader may see it (dossier scopes)."""

    readable: bool
    documents: list
    qualifications: list
    sites: list
    facilities: list
    missing: list[str]


def dossier_of(user: User, agency: Agency) -> Dossier:
    from server.registry import dossier

    readable = access.dossier_agencies_for(user).filter(pk=agency.pk).exists()
    if not readable:
        # A regulator reading an agency registered elsewhere (it works for an enterprise here): the
        # files stay with the filing authority of the agency's own region.
        return Dossier(False, [], [], [], [], [])
    missing = [t(*dossier.MISSING_LABELS[code]) for code in dossier.missing_for_submission(agency)]
    return Dossier(
        readable=True,
        documents=list(agency.documents.select_related("uploaded_by").order_by("kind", "uploaded_at", "id")),
        qualifications=list(agency.qualifications.order_by("kind", "id")),
        sites=list(agency.sites.order_by("id")),
        facilities=list(agency.facilities.order_by("id")),
        missing=missing,
    )


def visible_document(user: User, pk):

    return access.get_visible(access.agency_documents_for(user).select_related("agency"), pk)


def visible_qualification(user: User, pk):

    return access.get_visible(access.qualifications_for(user).select_related("agency"), pk)


def own_site(user: User, pk):
    from server.registry.models import AgencySite

    return access.get_visible(AgencySite.objects.filter(agency=own_agency(user)), pk)


def own_facility(user: User, pk):
    from server.registry.models import AgencyFacility

    return access.get_visible(AgencyFacility.objects.filter(agency=own_agency(user)), pk)
