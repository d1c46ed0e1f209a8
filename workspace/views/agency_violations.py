"""Violations for the agency (违规待整改 and 历史整改记录, seed 002; 整改单 on O&M tasks, seed 003): the
agency's violations listed with the seed's filters (项目名称, 整改状态, 整改期限) and exported; a
violation's page with its rectifications and history; the rectification submitted with its file.

The rectification calls the service ``POST /violations/{id}/rectify`` calls
(``rectification_submit``) on a violation fetched through the same scope
(``server.violations.selectors``); its refusals are said in the form. The regulator's side of the
same violations is ``workspace/views/regulator.py``."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from mobile_api.exports import local, table_response
from server import access
from server.accounts.models import AGENCY_ROLES
from server.errors import NOT_FOUND, DomainError
from server.violations import services
from server.violations.models import Violation
from workspace import om_manage_selectors as selectors
from workspace.forms import show_domain_error
from workspace.i18n import t
from workspace.om_manage_forms import (
    VIOLATION_STATUS_EN,
    RectificationFilterForm,
    RectifyForm,
    ViolationFilterForm,
    named,
)
from workspace.pages import page, render_page


def _filtered(request: HttpRequest) -> tuple[ViolationFilterForm, object]:
    form = ViolationFilterForm(request.GET or None)
    valid = form.is_valid() or not form.is_bound
    data = form.cleaned_data if form.is_bound and valid else {}
    rows = selectors.violations(
        request.user,
        status=data.get("status") or "",
        q=(data.get("q") or "").strip(),
        deadline_after=data.get("deadline_after"),
        deadline_before=data.get("deadline_before"),
        overdue_only=bool(data.get("overdue")),
    )
    return form, rows if valid else rows.none()


@page(roles=AGENCY_ROLES)
def violation_list(request: HttpRequest) -> HttpResponse:
    form, rows = _filtered(request)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "results": selectors.paginate(rows, request.GET.get("page") or 1),
        "query": query.urlencode(),
    }
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        return render_page(request, "workspace/om_manage/violation_panel.html", context)
    return render_page(request, "workspace/om_manage/violations.html", context, active="agency-violations")


VIOLATION_EXPORT_HEADERS = (
    "类别",
    "项目或任务编号",
    "项目或任务名称",
    "委托企业",
    "违规情况",
    "整改期限",
    "整改状态",
    "已逾期",
    "开具时间",
)


@page(roles=AGENCY_ROLES)
def violation_export(request: HttpRequest) -> HttpResponse:
    """导出: the violations the list shows for the same filters, as Excel (or CSV)."""
    _, rows = _filtered(request)

    def row(v: Violation) -> list:
        subject = v.project if v.project_id else v.om_task
        enterprise = v.project.enterprise if v.project_id else v.om_task.contract.enterprise
        return [
            "违规待整改" if v.project_id else "整改单",
            subject.number,
            subject.name,
            enterprise.name,
            v.description,
            v.deadline,
            named(Violation.Status.choices, VIOLATION_STATUS_EN, v.status),
            "是" if v.overdue else "否",
            local(v.opened_at),
        ]

    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return table_response(
        file_format,
        title="违规待整改",
        headers=VIOLATION_EXPORT_HEADERS,
        rows=(row(v) for v in rows.iterator(chunk_size=500)),
    )


@page(roles=AGENCY_ROLES)
@require_http_methods(["GET", "POST"])
def violation(request: HttpRequest, pk: int) -> HttpResponse:
    """A violation, and for the agency's main or manager account the rectification form while it is
    open (整改). Anyone else posting is told what ``rectification_submit`` says."""
    user = request.user
    item = selectors.violation_detail(user, pk)
    rectifies = user.role in access.AGENCY_ADMINS
    form = None
    status = 200
    if request.method == "POST":
        form = RectifyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.rectification_submit(
                    violation=item,
                    actor=user,
                    text=form.cleaned_data["text"],
                    upload=form.cleaned_data["file"] or None,
                )
            except DomainError as error:
                show_domain_error(form, error, RectifyForm.ERROR_FIELDS)
            else:
                messages.success(
                    request,
                    t("整改已提交，等待监管部门审核。", "The rectification is sent to the regulator."),
                )
                return redirect("workspace:agency-violation", pk=item.pk)
        status = 400
    elif rectifies and item.status == Violation.Status.OPEN:
        form = RectifyForm()
    subject = item.project if item.project_id else item.om_task
    return render_page(
        request,
        "workspace/om_manage/violation.html",
        {"violation": item, "subject": subject, "form": form},
        status=status,
        active="agency-violations",
    )


@page(roles=AGENCY_ROLES)
def rectification_list(request: HttpRequest) -> HttpResponse:
    """历史整改记录: the rectifications submitted, with the violation each answers and its outcome."""
    form = RectificationFilterForm(request.GET or None)
    valid = form.is_valid() or not form.is_bound
    data = form.cleaned_data if form.is_bound and valid else {}
    rows = selectors.rectifications(
        request.user,
        q=(data.get("q") or "").strip(),
        outcome=data.get("outcome") or "",
        deadline_after=data.get("deadline_after"),
        deadline_before=data.get("deadline_before"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "results": selectors.paginate(rows if valid else rows.none(), request.GET.get("page") or 1),
        "query": query.urlencode(),
    }
    return render_page(
        request, "workspace/om_manage/rectifications.html", context, active="agency-violations"
    )


@page(roles=AGENCY_ROLES)
def rectification_file(request: HttpRequest, pk: int) -> FileResponse:
    """A rectification's attachment as uploaded (``GET /rectifications/{id}/file``'s rules)."""
    rectification = selectors.visible_rectification(request.user, pk)
    if not rectification.file:
        raise DomainError(NOT_FOUND)
    return FileResponse(
        rectification.file.open("rb"),
        as_attachment=True,
        filename=rectification.file_name or rectification.file.name.rsplit("/", 1)[-1],
    )
