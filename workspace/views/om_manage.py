"""O&M management for an agency's accounts (seed 003 §2.4-§2.5): its O&M tasks (运维任务) listed with
filters and exported; a task's page (contract and enterprise, points, staff, instruments, plans,
reports, records); 运维管理 with its tabs 本周 / 本月 / 全部 / 超期, for one task or across the agency's
tasks; reports uploaded (上传报告) and downloaded.

Every write calls the service the API calls (``mobile_api/work.py`` ``OmTaskViewSet.staff`` and
``.plans``: ``om_task_add_staff``, ``om_plan_add``; ``mobile_api/om_manage.py`` ``ReportListView.post``:
``report_upload``) after the same scope and role checks; reads go through the same scopes and
selectors (``server.access``, ``server.om.plans``, ``server.om.reports``). The records themselves open
on the existing record page (``/om/records/<id>/``)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from mobile_api.exports import local, table_response
from server import access
from server.accounts.models import AGENCY_ROLES
from server.errors import DomainError
from server.om import errors, plans, reports
from server.om import services as om_services
from server.om.models import OmTask
from workspace import om_manage_selectors as selectors
from workspace.forms import show_domain_error
from workspace.i18n import t
from workspace.om_manage_forms import (
    KIND_EN,
    TASK_STATUS_EN,
    VIEWS,
    ManageFilterForm,
    PlanForm,
    ReportForm,
    StaffForm,
    TaskFilterForm,
    named,
)
from workspace.pages import page, render_page

logger = logging.getLogger(__name__)


def _partial(request: HttpRequest) -> bool:
    """An htmx request for the filters and results only (not htmx restoring a page from its history)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _query(request: HttpRequest, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


# --- The list -------------------------------------------------------------------------------------
def _filtered_tasks(request: HttpRequest) -> tuple[TaskFilterForm, object]:
    user = request.user
    form = TaskFilterForm(request.GET or None, enterprises=selectors.filter_enterprises(user))
    valid = form.is_valid() or not form.is_bound
    data = form.cleaned_data if form.is_bound and valid else {}
    tasks = selectors.om_tasks(
        user,
        q=(data.get("q") or "").strip(),
        status=data.get("status") or "",
        enterprise=data.get("enterprise"),
    )
    # A filter that is wrong lists nothing: the error is said beside it.
    return form, tasks if valid else tasks.none()


@page(roles=AGENCY_ROLES)
def task_list(request: HttpRequest) -> HttpResponse:
    form, tasks = _filtered_tasks(request)
    context = {
        "form": form,
        "results": selectors.paginate(tasks, request.GET.get("page") or 1),
        "query": _query(request),
    }
    if _partial(request):
        return render_page(request, "workspace/om_manage/task_panel.html", context)
    return render_page(request, "workspace/om_manage/tasks.html", context, active="om-tasks")


TASK_EXPORT_HEADERS = (
    "任务编号",
    "任务名称",
    "委托企业",
    "运维合同",
    "任务类型",
    "任务开始日期",
    "任务结束日期",
    "状态",
    "点位数",
    "计划数",
    "登记时间",
)


@page(roles=AGENCY_ROLES)
def task_export(request: HttpRequest) -> HttpResponse:
    """导出: the tasks the list shows for the same filters, as Excel (or CSV with ``format=csv``)."""
    _, tasks = _filtered_tasks(request)
    rows = (
        [
            task.number,
            task.name,
            task.contract.enterprise.name,
            task.contract.number,
            named(OmTask._meta.get_field("kind").choices, KIND_EN, task.kind),
            task.starts_on,
            task.ends_on,
            named(OmTask.Status.choices, TASK_STATUS_EN, task.status),
            task.point_count,
            task.plan_count,
            local(task.created_at),
        ]
        for task in tasks.iterator(chunk_size=500)
    )
    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return table_response(file_format, title="运维任务", headers=TASK_EXPORT_HEADERS, rows=rows)


# --- A task's page --------------------------------------------------------------------------------
def _detail(request: HttpRequest, pk, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    view = selectors.task_view(user, pk, records_page=request.GET.get("records") or 1)
    task = view.task
    manages = user.role in access.AGENCY_ADMINS and task.agency_id == user.agency_id
    context = {"view": view, "task": task, "manages": manages}
    if manages:
        context["staff_form"] = forms.get("staff_form") or StaffForm(user=user, task=task)
        context["plan_form"] = forms.get("plan_form") or PlanForm(task=task)
    if reports.may_upload(task, user):
        context["report_form"] = forms.get("report_form") or ReportForm(
            records=selectors.linkable_records(task)
        )
    return render_page(request, "workspace/om_manage/task.html", context, status=status, active="om-tasks")


@page(roles=AGENCY_ROLES)
def task(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


def _managed(request: HttpRequest, pk: int) -> OmTask:
    """The task, for its agency's main or manager account (as the API's staff and plans actions)."""
    task = selectors.visible_task(request.user, pk)
    access.require_agency_admin(request.user, task.agency)
    return task


@page(roles=access.AGENCY_ADMINS)
@require_POST
def staff_add(request: HttpRequest, pk: int) -> HttpResponse:
    task = _managed(request, pk)
    form = StaffForm(request.POST, user=request.user, task=task)
    if form.is_valid():
        try:
            om_services.om_task_add_staff(
                task=task, employment=form.cleaned_data["employment"], role=form.cleaned_data["role"]
            )
        except DomainError as error:
            show_domain_error(form, error, StaffForm.ERROR_FIELDS)
        else:
            messages.success(request, t("运维人员已添加。", "The staff member is added."))
            return redirect("workspace:om-task", task.pk)
    return _detail(request, pk, status=400, staff_form=form)


@page(roles=access.AGENCY_ADMINS)
@require_POST
def plan_add(request: HttpRequest, pk: int) -> HttpResponse:
    task = _managed(request, pk)
    form = PlanForm(request.POST, task=task)
    if form.is_valid():
        data = form.cleaned_data
        try:
            om_services.om_plan_add(
                task=task,
                title=data["title"],
                frequency=data["frequency"],
                interval_days=data["interval_days"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                outlet=data["outlet"],
                template_code=data["template_code"],
            )
        except DomainError as error:
            show_domain_error(form, error, PlanForm.ERROR_FIELDS)
        else:
            messages.success(request, t("运维计划已添加。", "The plan is added."))
            return redirect("workspace:om-task", task.pk)
    return _detail(request, pk, status=400, plan_form=form)


# --- Reports (上传报告) -----------------------------------------------------------------------------
@page(roles=AGENCY_ROLES)
@require_POST
def report_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The API's ``ReportListView.post``: whoever sees the task posts; ``report_upload`` decides
    (the agency's main or manager account, or the task's own staff)."""
    user = request.user
    task = access.access_om_task(user, pk)
    if not reports.may_upload(task, user):
        raise DomainError(errors.OM_REPORT_NOT_ALLOWED)
    form = ReportForm(request.POST, request.FILES, records=selectors.linkable_records(task))
    if form.is_valid():
        data = form.cleaned_data
        try:
            reports.report_upload(
                task=task,
                actor=user,
                name=data["name"],
                category=data["category"],
                file=data["file"],
                description=data["description"],
                record_ids=[r.pk for r in data["records"]],
            )
        except DomainError as error:
            show_domain_error(form, error, ReportForm.ERROR_FIELDS)
        else:
            messages.success(request, t("报告已上传。", "The report is uploaded."))
            return redirect(reverse("workspace:om-task", args=[task.pk]) + "#reports")
    return _detail(request, pk, status=400, report_form=form)


@page(roles=AGENCY_ROLES)
def report_file(request: HttpRequest, report_id: int) -> HttpResponse:
    """The API's ``ReportFileView``: the file as uploaded, served as the type its content was
    recognised as, for whoever sees the task."""
    report = reports.access_report(request.user, report_id)
    try:
        handle = default_storage.open(report.file.name, "rb")
    except Exception as exc:  # FileNotFoundError on disk, botocore's ClientError on S3, network errors
        logger.error("om: report file %s cannot be read: %r", report.file.name, exc)
        raise DomainError(errors.OM_REPORT_UNAVAILABLE) from exc
    return FileResponse(
        handle, as_attachment=True, filename=report.file_name, content_type=reports.content_type(report)
    )


# --- 运维管理 ---------------------------------------------------------------------------------------
@page(roles=AGENCY_ROLES)
def manage(request: HttpRequest) -> HttpResponse:
    """运维管理: the tabs 本周 / 本月 / 全部 / 超期 for one task (``?task=``, as
    ``GET /om-tasks/{id}/manage``) or across the tasks the user sees; the agency-wide 超期 is
    ``GET /om/overdue`` (active tasks, the last ``OM_OVERDUE_LOOKBACK_DAYS`` days)."""
    user = request.user
    form = ManageFilterForm(request.GET or None, user=user)
    valid = form.is_valid() or not form.is_bound
    data = form.cleaned_data if form.is_bound and valid else {}
    view = data.get("view") or plans.View.WEEK
    task = data.get("task")
    across = task is None and view == plans.View.OVERDUE
    occurrences: list = []
    if valid:
        try:
            if across:
                occurrences = selectors.overdue(user, start=data.get("start"), end=data.get("end"))
            else:
                occurrences = selectors.management(
                    tasks=access.om_tasks_for(user).filter(pk=task.pk) if task else access.om_tasks_for(user),
                    view=view,
                    plan_id=data["plan"].pk if data.get("plan") else None,
                    start=data.get("start"),
                    end=data.get("end"),
                )
        except DomainError as error:
            show_domain_error(form, error)
            valid = False
    results = selectors.paginate(occurrences, request.GET.get("page") or 1)
    tab_query = _query(request, "view")
    context = {
        "form": form,
        "view": view,
        "task": task,
        "across": across,
        "results": results,
        "rows": selectors.manage_rows(list(results.object_list), across=across),
        "query": _query(request),
        "tabs": [
            {
                "view": value,
                "label": t(zh, en),
                "url": f"?{tab_query}&view={value}" if tab_query else f"?view={value}",
            }
            for value, zh, en in VIEWS
        ],
        "today": timezone.localdate(),
        "lookback": settings.OM_OVERDUE_LOOKBACK_DAYS,
    }
    if _partial(request):
        return render_page(request, "workspace/om_manage/manage_panel.html", context)
    return render_page(request, "workspace/om_manage/manage.html", context, active="om-manage")
