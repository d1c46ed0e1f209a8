"""The agency's office (seeds 001, 002 机构信息, 003 §2): its filing (机构备案: the data as filed, a
change waiting for the regulator beside the approved value, editing, submitting, the history with
the regulator's return reasons), its accounts (账号: list, create a sub-account with a role, close
one) and contracts (合同: the list, a contract's page with its acceptance history, proposing one).
The enterprise's confirmer accepts or refuses the contracts proposed to it; a regulator reads the
contracts of its region (合同查看).

Every write goes to the service the API calls (``mobile_api/registry.py`` AgencyViewSet and
AccountViewSet, ``mobile_api/sites.py`` ContractViewSet), after the same scope and role checks
(``server.access``); what a service refuses is said beside the field."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from mobile_api.exports import table_response
from server import access
from server.accounts import services as account_services
from server.accounts.models import Role
from server.errors import DomainError
from server.registry import services
from server.registry.models import Agency, Contract
from workspace import agency_selectors as reads
from workspace.agency_forms import (
    AccountFilterForm,
    AccountForm,
    AgencyForm,
    ContractFilterForm,
    ContractForm,
    RefuseForm,
)
from workspace.dossier_forms import DocumentForm, FacilityForm, QualificationForm, SiteForm
from workspace.forms import show_domain_error
from workspace.i18n import message_language, t
from workspace.nav import PROJECT_ROLES
from workspace.pages import page, render_page

ADMINS = access.AGENCY_ADMINS
# Who reads contracts here: the agency's back office, the enterprise's confirmer, the regulator of
# the enterprise's region (合同查看), the platform (server.access.contracts_for scopes each).
CONTRACT_ROLES = {*ADMINS, Role.ENTERPRISE, Role.REGULATOR, Role.PLATFORM}


def _partial(request: HttpRequest) -> bool:
    """An htmx request for the filters and results only (not htmx restoring a page from its history)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _error_text(error: DomainError) -> str:
    return error.error.message(message_language(), **error.params)


# --- The filing (机构备案) --------------------------------------------------------------------------
def render_filing(
    request: HttpRequest, *, submit_error: str = "", status: int = 200, forms: dict | None = None
) -> HttpResponse:
    """The filing page: the data as approved with what waits beside it, the dossier with its forms
    (``forms``: a posted one with its errors, workspace/views/dossier.py), the history."""
    agency = reads.own_agency(request.user)
    editable = agency.filing_status not in reads.LOCKED
    forms = forms or {}
    context = {
        "dossier": reads.dossier_of(request.user, agency),
        "document_form": forms.get("document") or DocumentForm(),
        "qualification_form": forms.get("qualification") or QualificationForm(),
        "site_form": forms.get("site") or SiteForm(),
        "facility_form": forms.get("facility") or FacilityForm(),
        "dossier_editable": editable,
        "agency": agency,
        "rows": reads.filing_rows(agency),
        "events": reads.filing_events(agency),
        "status_label": reads.filing_status_label(agency.filing_status),
        "editable": editable,
        "can_submit": request.user.role == Role.AGENCY_MAIN and agency.filing_status in reads.SUBMITTABLE,
        "submit_error": submit_error,
    }
    return render_page(request, "workspace/agency/filing.html", context, status=status, active="filing")


@page(roles=ADMINS)
def filing(request: HttpRequest) -> HttpResponse:
    return render_filing(request)


@page(roles=ADMINS)
@require_http_methods(["GET", "POST"])
def filing_edit(request: HttpRequest) -> HttpResponse:
    """``PATCH /agencies/{id}``: agency_update (after approval, a reviewed field waits for review)."""
    agency = reads.own_agency(request.user)
    form = AgencyForm(request.POST or None, initial=AgencyForm.initial_for(agency))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                agency = services.agency_update(agency=agency, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                show_domain_error(form, error, AgencyForm.ERROR_FIELDS)
            else:
                said = t("备案信息已保存。", "The filing data is saved.")
                if agency.pending_changes:
                    said = t(
                        "已保存。机构名称、机构类别、法定代表人、运维类别、监测类别的变更须经监管方审查通过后生效。",
                        "Saved. A change of name, kind, legal representative or categories takes effect "
                        "once the regulator approves it.",
                    )
                messages.success(request, said)
                return redirect("workspace:agency-filing")
    context = {"agency": agency, "form": form, "locked": agency.filing_status in reads.LOCKED}
    return render_page(request, "workspace/agency/filing_edit.html", context, status=status, active="filing")


@page(roles=ADMINS)
@require_POST
def filing_submit(request: HttpRequest) -> HttpResponse:
    """``POST /agencies/{id}/submit``: the main account submits a draft or a returned filing."""
    agency = reads.own_agency(request.user)
    resubmit = agency.filing_status == Agency.FilingStatus.RETURNED
    try:
        services.agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=request.user)
    except DomainError as error:
        return render_filing(request, submit_error=_error_text(error), status=error.error.status)
    messages.success(
        request,
        t("备案已重新提交，等待监管方审查。", "The filing is submitted again for review.")
        if resubmit
        else t("备案已提交，等待监管方审查。", "The filing is submitted for review."),
    )
    return redirect("workspace:agency-filing")


# --- Accounts (账号) -------------------------------------------------------------------------------
def _accounts(request: HttpRequest, *, account_form: AccountForm | None = None, status: int = 200):
    user = request.user
    filters = AccountFilterForm(request.GET or None)
    valid = filters.is_valid() or not filters.is_bound
    data = filters.cleaned_data if filters.is_bound and valid else {}
    results = reads.account_page(
        user,
        role=data.get("role") or "",
        active=data.get("active") or "",
        q=(data.get("q") or "").strip(),
        number=request.GET.get("page") or 1,
        nothing=not valid,
    )
    query = request.GET.copy()
    query.pop("page", None)
    manages = user.role == Role.AGENCY_MAIN  # AccountViewSet: only the main account creates and closes
    context = {
        "filters": filters,
        "results": results,
        "query": query.urlencode(),
        "manages": manages,
        "form": (account_form or AccountForm(user=user)) if manages else None,
    }
    if _partial(request):
        return render_page(request, "workspace/agency/account_panel.html", context)
    return render_page(request, "workspace/agency/accounts.html", context, status=status, active="accounts")


@page(roles=ADMINS)
@require_http_methods(["GET", "POST"])
def account_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _accounts(request)
    user = request.user
    access.require_role(user, {Role.AGENCY_MAIN})
    form = AccountForm(request.POST, user=user)
    if form.is_valid():
        data = form.cleaned_data
        employment = data["employment"]
        try:
            account = account_services.sub_account_create(
                main=user,
                username=data["username"],
                password=data["password"],
                role=data["role"],
                person=employment.person if employment else None,
                phone=data["phone"].strip(),
            )
        except DomainError as error:
            show_domain_error(form, error, AccountForm.ERROR_FIELDS)
        else:
            messages.success(
                request,
                t(f"账号 {account.username} 已创建。", f"The account {account.username} is created."),
            )
            return redirect("workspace:agency-accounts")
    return _accounts(request, account_form=form, status=400)


@page(roles=ADMINS)
@require_POST
def account_close(request: HttpRequest, pk: int) -> HttpResponse:
    """``POST /accounts/{id}/close``: the main account closes a sub-account (signed out everywhere)."""
    account = reads.visible_account(request.user, pk)
    access.require_role(request.user, {Role.AGENCY_MAIN})
    try:
        account_services.account_close(user=account, actor=request.user)
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request, t(f"账号 {account.username} 已停用。", f"The account {account.username} is closed.")
        )
    return redirect("workspace:agency-accounts")


# --- Contracts (合同) ------------------------------------------------------------------------------
def _contract_filters(request: HttpRequest) -> tuple[ContractFilterForm, dict]:
    form = ContractFilterForm(request.GET or None, enterprises=reads.filter_enterprises(request.user))
    if request.user.role == Role.ENTERPRISE:
        del form.fields["enterprise"]  # its own contracts only: the filter would offer one choice
    valid = form.is_valid() or not form.is_bound
    data = form.cleaned_data if form.is_bound and valid else {}
    filters = {
        "q": (data.get("q") or "").strip(),
        "acceptance": data.get("acceptance") or "",
        "status": data.get("status") or "",
        "nature": data.get("nature") or "",
        "enterprise": data.get("enterprise"),
        # A filter that is wrong lists nothing: the error is said beside it.
        "nothing": not valid,
    }
    return form, filters


@page(roles=CONTRACT_ROLES)
def contract_list(request: HttpRequest) -> HttpResponse:
    form, filters = _contract_filters(request)
    results = reads.contract_page(request.user, number=request.GET.get("page") or 1, **filters)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "results": results,
        "query": query.urlencode(),
        "can_propose": request.user.role in ADMINS,
    }
    if _partial(request):
        return render_page(request, "workspace/agency/contract_panel.html", context)
    return render_page(request, "workspace/agency/contracts.html", context, active="contracts")


EXPORT_HEADERS = (
    ("合同编号", "Number"),
    ("合同标题", "Title"),
    ("合同性质", "Nature"),
    ("服务机构", "Agency"),
    ("委托企业", "Client enterprise"),
    ("合同金额（元）", "Amount (yuan)"),
    ("履行开始", "Starts on"),
    ("履行结束", "Ends on"),
    ("履行状态", "Performance"),
    ("确认状态", "Acceptance"),
    ("拒绝原因", "Reason refused"),
)


@page(roles=CONTRACT_ROLES)
def contract_export(request: HttpRequest) -> HttpResponse:
    """The contracts as filtered on the list, in Excel (mobile_api.exports.table_response)."""
    _, filters = _contract_filters(request)
    rows = (
        [
            c.number,
            c.title,
            reads.nature_label(c.nature),
            c.agency.name,
            c.enterprise.name,
            c.amount,
            c.starts_on,
            c.ends_on,
            reads.contract_status_label(c.status),
            reads.acceptance_label(c.acceptance),
            c.refusal_reason,
        ]
        for c in reads.contracts(request.user, **filters).iterator(chunk_size=500)
    )
    return table_response(
        "xlsx", title=t("合同", "Contracts"), headers=[t(*pair) for pair in EXPORT_HEADERS], rows=rows
    )


@page(roles=ADMINS)
@require_http_methods(["GET", "POST"])
def contract_new(request: HttpRequest) -> HttpResponse:
    """``POST /contracts``: the agency proposes a contract; the enterprise (or its regulator) accepts."""
    user = request.user
    agency = access.require_agency_admin(user)
    form = ContractForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                contract = services.contract_create(
                    agency=agency, enterprise=data.pop("credit_code"), actor=user, **data
                )
            except DomainError as error:
                show_domain_error(form, error, ContractForm.ERROR_FIELDS)
            else:
                messages.success(
                    request,
                    t(
                        "合同已提交，等待委托企业确认。",
                        "The contract is proposed; it waits for the enterprise to accept it.",
                    ),
                )
                return redirect("workspace:contract", contract.pk)
    return render_page(
        request, "workspace/agency/contract_new.html", {"form": form}, status=status, active="contracts"
    )


def _contract(request: HttpRequest, pk, *, refuse_form=None, move_error: str = "", status: int = 200):
    user = request.user
    view = reads.contract_view(user, pk)
    contract = view.contract
    proposed = contract.acceptance == Contract.Acceptance.PROPOSED
    # The enterprise decides on what is proposed to it; a regulator reads (合同查看); the proposing
    # agency may propose a refused contract again (ACCEPTANCE_TRANSITIONS).
    decides = user.role == Role.ENTERPRISE and proposed
    proposes = (
        user.role in ADMINS
        and contract.agency_id == user.agency_id
        and contract.acceptance == Contract.Acceptance.REFUSED
    )
    context = {
        "view": view,
        "contract": contract,
        "decides": decides,
        "proposes": proposes,
        "refuse_form": refuse_form or (RefuseForm() if decides else None),
        "move_error": move_error,
        "is_agency": user.role in ADMINS,
        "links_projects": user.role in PROJECT_ROLES,
    }
    return render_page(request, "workspace/agency/contract.html", context, status=status, active="contracts")


@page(roles=CONTRACT_ROLES)
def contract(request: HttpRequest, pk: int) -> HttpResponse:
    return _contract(request, pk)


def _move(request: HttpRequest, pk: int, to: str, *, reason: str = "", said: str, form=None):
    contract = reads.visible_contract(request.user, pk)
    try:
        services.contract_transition(contract=contract, to=to, actor=request.user, reason=reason)
    except DomainError as error:
        if form is not None and error.error.code in RefuseForm.ERROR_FIELDS:
            show_domain_error(form, error, RefuseForm.ERROR_FIELDS)
            return _contract(request, pk, refuse_form=form, status=error.error.status)
        return _contract(request, pk, move_error=_error_text(error), status=error.error.status)
    messages.success(request, said)
    return redirect("workspace:contract", contract.pk)


@page(roles={Role.ENTERPRISE})
@require_POST
def contract_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """``POST /contracts/{id}/accept``: the enterprise's confirmer accepts a proposed contract."""
    return _move(
        request,
        pk,
        Contract.Acceptance.ACCEPTED,
        said=t("合同已确认。", "The contract is accepted."),
    )


@page(roles={Role.ENTERPRISE})
@require_POST
def contract_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    """``POST /contracts/{id}/refuse``: refused with a reason (the service requires one)."""
    form = RefuseForm(request.POST)
    if not form.is_valid():  # too long; a missing reason is the service's to say
        return _contract(request, pk, refuse_form=form, status=400)
    return _move(
        request,
        pk,
        Contract.Acceptance.REFUSED,
        reason=(form.cleaned_data.get("reason") or "").strip(),
        said=t("合同已拒绝。", "The contract is refused."),
        form=form,
    )


@page(roles=ADMINS)
@require_POST
def contract_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """``POST /contracts/{id}/propose``: the agency proposes a refused contract again."""
    return _move(
        request,
        pk,
        Contract.Acceptance.PROPOSED,
        said=t("合同已重新提交，等待委托企业确认。", "The contract is proposed again."),
    )
