"""The regulator's pages (监管方): its home with the statistics as charts and the evidence queue;
filings to approve or return; projects submitted for review to accept or return; violations to open
and rectifications to accept or reject.

Each action calls the service the REST API calls (``mobile_api/registry.py``, ``mobile_api/work.py``,
``mobile_api/violations.py``) on an object fetched through the same scope; a service's refusal is
shown on the form, in the user's language. After a change the page is loaded again (POST, redirect,
GET)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from mobile_api import exports
from server import access
from server.accounts.models import Role
from server.errors import NOT_FOUND, DomainError
from server.fieldwork import services as project_services
from server.fieldwork.models import MonitoringProject
from server.regions import region_name
from server.registry import services as registry_services
from server.registry.models import Agency
from server.violations import services as violation_services
from workspace import agency_selectors as office
from workspace import selectors
from workspace import selectors_regulator as reads
from workspace.forms import submit
from workspace.forms_regulator import (
    ERROR_FIELDS,
    DecisionForm,
    ViolationForm,
    filing_filter,
    project_filter,
    violation_filter,
)
from workspace.i18n import t
from workspace.pages import page, render_page

REGULATOR = {Role.REGULATOR}


# The lists' exports: what is filtered, every page of it, with the columns the page shows.
FILING_COLUMNS = [
    ("机构名称", "Agency"),
    ("统一社会信用代码", "Credit code"),
    ("机构类别", "Kind"),
    ("注册地行政区划", "Region"),
    ("备案状态", "Filing"),
    ("更新时间", "Updated"),
]
VIOLATION_COLUMNS = [
    ("违规情况", "Violation"),
    ("类别", "Kind"),
    ("项目或运维任务", "Project or O&M task"),
    ("机构", "Agency"),
    ("整改期限", "Deadline"),
    ("状态", "Status"),
    ("开具时间", "Opened"),
]


def _export_url(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query["export"] = "xlsx"
    return f"{request.path}?{query.urlencode()}"


def _filtered(form, queryset_of):
    """The list for the filter's values (none when a value is wrong: the error shows beside it)."""
    if not form.is_valid():
        return queryset_of(status="", keyword="").none()
    return queryset_of(status=form.cleaned_data["status"], keyword=form.cleaned_data.get("keyword", ""))


@page(roles=REGULATOR)
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render_page(
        request,
        "workspace/home_regulator.html",
        {
            "counts": selectors.region_counts(user),
            "queue": selectors.evidence_queue(user),
            "charts": reads.charts(user),
        },
        active="home",
    )


# --- Filings (备案审查) ----------------------------------------------------------------------------
@page(roles=REGULATOR)
def filings(request: HttpRequest) -> HttpResponse:
    form = filing_filter(request.GET)
    rows = _filtered(form, lambda **kw: reads.filings(request.user, **kw))
    if request.GET.get("export") == "xlsx":
        return exports.table_response(
            "xlsx",
            title=t("备案审查", "Filings"),
            headers=[t(*h) for h in FILING_COLUMNS],
            rows=(_filing_row(a) for a in rows),
        )
    return render_page(
        request,
        "workspace/regulator/filings.html",
        {"form": form, "page": reads.paginate(rows, request.GET.get("page")), "export": _export_url(request)},
        active="filings",
    )


@page(roles=REGULATOR)
@require_http_methods(["GET", "POST"])
def filing(request: HttpRequest, pk: int) -> HttpResponse:
    detail = reads.filing_detail(request.user, pk)
    agency = detail["agency"]
    form = DecisionForm(request.POST or None, reason_label=t("退回原因", "Reason for returning"))

    def decide(data):
        to = Agency.FilingStatus.APPROVED if form.approves else Agency.FilingStatus.RETURNED
        registry_services.agency_transition(agency=agency, to=to, actor=request.user, reason=data["reason"])
        said = t("备案已审查通过。", "The filing is approved.") if form.approves else None
        said = said or t("备案已退回。", "The filing was returned.")
        return said, redirect("workspace:regulator-filing", pk=agency.pk)

    done, status = submit(request, form, decide, ERROR_FIELDS)
    if done:
        return done
    # The filing as approved, each change waiting beside it (seed 001 §3.3), and the dossier it is
    # judged on, its files downloadable (workspace/views/dossier.py).
    context = {
        **detail,
        "form": form,
        "rows": office.filing_rows(agency),
        "dossier": office.dossier_of(request.user, agency),
    }
    return render_page(request, "workspace/regulator/filing.html", context, status=status, active="filings")


# --- Projects (项目审核) ---------------------------------------------------------------------------
@page(roles=REGULATOR)
def projects(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = MonitoringProject.Status.SUBMITTED  # what awaits the regulator, first
    form = project_filter(data)
    rows = _filtered(form, lambda **kw: reads.projects(request.user, **kw))
    export = reverse("mobile_api:project-export") + "?" + data.urlencode()
    return render_page(
        request,
        "workspace/regulator/projects.html",
        {"form": form, "page": reads.paginate(rows, request.GET.get("page")), "export": export},
        active="review",
    )


@page(roles=REGULATOR)
@require_http_methods(["GET", "POST"])
def project(request: HttpRequest, pk: int) -> HttpResponse:
    detail = reads.project_detail(request.user, pk)
    project = detail["project"]
    form = DecisionForm(request.POST or None, reason_label=t("退回原因", "Reason for returning"))

    def decide(data):
        to = MonitoringProject.Status.DONE if form.approves else MonitoringProject.Status.RETURNED
        project_services.project_transition(project=project, to=to, actor=request.user, reason=data["reason"])
        said = t("项目已审核通过。", "The project is accepted.") if form.approves else None
        said = said or t("项目已退回。", "The project was returned.")
        return said, redirect("workspace:regulator-project", pk=project.pk)

    done, status = submit(request, form, decide, ERROR_FIELDS)
    if done:
        return done
    return render_page(
        request,
        "workspace/regulator/project.html",
        {**detail, "form": form},
        status=status,
        active="review",
    )


# --- Violations (违规待整改, 整改单) ----------------------------------------------------------------
@page(roles=REGULATOR)
@require_http_methods(["GET", "POST"])
def violation_new(request: HttpRequest) -> HttpResponse:
    """Open a violation on a project (``?project=``) or an order on an O&M task (``?om_task=``)."""
    source = request.POST if request.method == "POST" else request.GET
    project = om_task = None
    if source.get("project"):
        project = access.access_project(request.user, _number(source["project"]))
    elif source.get("om_task"):
        om_task = reads.om_task(request.user, _number(source["om_task"]))
    else:
        _not_found()
    form = ViolationForm(request.POST or None)

    def open_violation(data):
        violation = violation_services.violation_open(
            project=project,
            om_task=om_task,
            actor=request.user,
            description=data["description"],
            deadline=data["deadline"],
        )
        return t("违规已开具。", "The violation is opened."), redirect(
            "workspace:regulator-violation", pk=violation.pk
        )

    done, status = submit(request, form, open_violation, ERROR_FIELDS)
    if done:
        return done
    return render_page(
        request,
        "workspace/regulator/violation_new.html",
        {"form": form, "project": project, "om_task": om_task},
        status=status,
        active="violations",
    )


def _number(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        _not_found()


def _not_found():
    raise DomainError(NOT_FOUND)


@page(roles=REGULATOR)
def violations(request: HttpRequest) -> HttpResponse:
    form = violation_filter(request.GET)
    rows = _filtered(form, lambda status, keyword: reads.violations(request.user, status=status))
    if request.GET.get("export") == "xlsx":
        return exports.table_response(
            "xlsx",
            title=t("违规整改", "Violations"),
            headers=[t(*h) for h in VIOLATION_COLUMNS],
            rows=(_violation_row(v) for v in rows),
        )
    return render_page(
        request,
        "workspace/regulator/violations.html",
        {"form": form, "page": reads.paginate(rows, request.GET.get("page")), "export": _export_url(request)},
        active="violations",
    )


def _violation_row(v) -> list:
    subject = v.project if v.project_id else v.om_task
    kind = t("违规", "Violation") if v.project_id else t("整改单", "Order")
    status = v.get_status_display() + (t(" · 已逾期", " · overdue") if v.overdue else "")
    opened = exports.local(v.opened_at)
    return [v.description, kind, subject.name, subject.agency.name, v.deadline, status, opened]


def _filing_row(a: Agency) -> list:
    kind, status = a.get_kind_display(), a.get_filing_status_display()
    return [a.name, a.credit_code, kind, region_name(a.region_code), status, exports.local(a.updated_at)]


@page(roles=REGULATOR)
@require_http_methods(["GET", "POST"])
def violation(request: HttpRequest, pk: int) -> HttpResponse:
    detail = reads.violation_detail(request.user, pk)
    form = DecisionForm(request.POST or None, reason_label=t("退回原因", "Reason for rejecting"))

    def decide(data):
        violation_services.rectification_review(
            violation=detail["violation"], actor=request.user, accept=form.approves, reason=data["reason"]
        )
        said = t("整改已销号。", "The rectification is accepted.") if form.approves else None
        said = said or t("整改已退回。", "The rectification was rejected.")
        return said, redirect("workspace:regulator-violation", pk=pk)

    done, status = submit(request, form, decide, ERROR_FIELDS)
    if done:
        return done
    return render_page(
        request,
        "workspace/regulator/violation.html",
        {**detail, "form": form},
        status=status,
        active="violations",
    )
