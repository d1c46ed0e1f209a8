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
from django.views.decorators.http import require_http_methods, require_POST

from mobile_api.exports import local, table_response
from server import access
from server.accounts.models import AGENCY_ROLES, Role
from server.errors import DomainError
from server.om import changes, errors, plans, reports
from server.om import services as om_services
from server.om.models import ChangeRequest, OmTask
from workspace import om_manage_selectors as selectors
from workspace.forms import show_domain_error
from workspace.i18n import message_language, t
from workspace.om_manage_forms import (
    KIND_EN,
    TASK_STATUS_EN,
    VIEWS,
    ContractEditForm,
    ManageFilterForm,
    PlanForm,
    ReasonForm,
    ReportForm,
    StaffForm,
    TaskEditForm,
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
    active = task.status == OmTask.Status.ACTIVE
    pending = changes.pending_for(task=task)
    context = {
        "view": view,
        "task": task,
        "manages": manages,
        "events": selectors.task_events(task),
        "pending": pending,
        "pending_changes": changes.changes_shown(pending) if pending else [],
    }
    if manages and active:
        # A finished task (已完结) takes no new staff, plans or records: no forms for them.
        context["staff_form"] = forms.get("staff_form") or StaffForm(user=user, task=task)
        context["plan_form"] = forms.get("plan_form") or PlanForm(task=task)
    if manages:
        context["reopen_form"] = forms.get("reopen_form") or ReasonForm(
            label=("重新开启的原因", "Why reopen")
        )
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
                template_codes=data["template_codes"],
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


# --- Editing a task, finishing it, its plans (issue F13) ---------------------------------------------
def _said_edit(result) -> str:
    if isinstance(result, ChangeRequest):
        return t(
            "已提交信息变更申请，委托企业确认后生效；在此之前原信息继续有效。",
            "A change request is sent: it takes effect when the enterprise accepts it; until then the "
            "current terms stay in force.",
        )
    return t("已保存。", "Saved.")


@page(roles=access.AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """修改任务信息 (``POST /om-tasks/{id}/edit``): direct while the task has no records, else a
    信息变更申请 (``changes.om_task_update``)."""
    task = _managed(request, pk)
    form = TaskEditForm(request.POST or None, task=task)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = changes.om_task_update(task=task, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                show_domain_error(form, error, TaskEditForm.ERROR_FIELDS)
            else:
                messages.success(request, _said_edit(result))
                return redirect("workspace:om-task", task.pk)
    context = {
        "task": task,
        "form": form,
        "pending": changes.pending_for(task=task),
        "has_records": task.records.exists(),
    }
    return render_page(
        request, "workspace/om_manage/task_edit.html", context, status=status, active="om-tasks"
    )


def _move_task(request: HttpRequest, pk: int, to: str, said: str) -> HttpResponse:
    task = _managed(request, pk)
    form = ReasonForm(request.POST, label=("重新开启的原因", "Why reopen"))
    reason = (form.cleaned_data.get("reason") or "") if form.is_valid() else ""
    try:
        om_services.om_task_move(task=task, to=to, actor=request.user, reason=reason)
    except DomainError as error:
        show_domain_error(form, error, ReasonForm.ERROR_FIELDS)
        return _detail(request, pk, status=error.error.status, reopen_form=form)
    messages.success(request, said)
    return redirect("workspace:om-task", task.pk)


@page(roles=access.AGENCY_ADMINS)
@require_POST
def task_finish(request: HttpRequest, pk: int) -> HttpResponse:
    """完结任务 (``POST /om-tasks/{id}/finish``)."""
    return _move_task(
        request,
        pk,
        OmTask.Status.FINISHED,
        t(
            "任务已完结：手机上不再显示，也不能再填报记录。",
            "The task is finished: phones no longer list it.",
        ),
    )


@page(roles=access.AGENCY_ADMINS)
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """重新开启 (``POST /om-tasks/{id}/reopen``), with a reason."""
    return _move_task(request, pk, OmTask.Status.ACTIVE, t("任务已重新开启。", "The task is reopened."))


def _managed_plan(request: HttpRequest, plan_id: int):
    plan = selectors.visible_plan(request.user, plan_id)
    access.require_agency_admin(request.user, plan.task.agency)
    return plan


@page(roles=access.AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """编辑计划 (``PATCH /om-plans/{id}``): the rules of adding one (``om_plan_update``)."""
    plan = _managed_plan(request, plan_id)
    task = plan.task
    form = PlanForm(request.POST or None, task=task, plan=plan)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                om_services.om_plan_update(plan=plan, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                show_domain_error(form, error, PlanForm.ERROR_FIELDS)
            else:
                messages.success(request, t("运维计划已保存。", "The plan is saved."))
                return redirect(reverse("workspace:om-task", args=[task.pk]) + "#plans")
    context = {
        "task": task,
        "plan": plan,
        "form": form,
        "counted": om_services.plan_records(plan).count(),
        "active": task.status == OmTask.Status.ACTIVE,
    }
    return render_page(
        request, "workspace/om_manage/plan_edit.html", context, status=status, active="om-tasks"
    )


@page(roles=access.AGENCY_ADMINS)
@require_POST
def plan_delete(request: HttpRequest, plan_id: int) -> HttpResponse:
    """删除计划 (``DELETE /om-plans/{id}``): refused, and said, once records count towards it."""
    plan = _managed_plan(request, plan_id)
    task = plan.task
    try:
        om_services.om_plan_delete(plan=plan, actor=request.user)
    except DomainError as error:
        messages.error(request, error.error.message(message_language(), **error.params))
        return redirect("workspace:om-plan-edit", plan.pk)
    messages.success(request, t("运维计划已删除。", "The plan is deleted."))
    return redirect(reverse("workspace:om-task", args=[task.pk]) + "#plans")


# --- Contracts edited, 信息变更申请 -------------------------------------------------------------------
CHANGE_ROLES = {*access.AGENCY_ADMINS, Role.ENTERPRISE, Role.REGULATOR}


@page(roles=access.AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """修改合同 (``POST /contracts/{id}/edit``): direct until the enterprise accepts the contract,
    then a 信息变更申请 (``changes.contract_update``)."""
    user = request.user
    contract = access.access_contract(user, pk)
    access.require_agency_admin(user, contract.agency)
    form = ContractEditForm(request.POST or None, contract=contract)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = changes.contract_update(contract=contract, actor=user, **form.cleaned_data)
            except DomainError as error:
                show_domain_error(form, error, ContractEditForm.ERROR_FIELDS)
            else:
                messages.success(request, _said_edit(result))
                if isinstance(result, ChangeRequest):
                    return redirect("workspace:om-change", result.pk)
                return redirect("workspace:contract", contract.pk)
    context = {
        "contract": contract,
        "form": form,
        "pending": changes.pending_for(contract=contract),
        "accepted": contract.acceptance == contract.Acceptance.ACCEPTED,
    }
    return render_page(
        request, "workspace/om_manage/contract_edit.html", context, status=status, active="contracts"
    )


@page(roles=CHANGE_ROLES)
def change_list(request: HttpRequest) -> HttpResponse:
    """信息变更申请 (seed 003, 合同管理 and 运维任务管理): the agency's requests, the enterprise's and
    its region's regulators' to decide; ``?status=pending`` for those waiting."""
    wanted = request.GET.get("status") or ""
    subject = request.GET.get("subject") or ""
    if wanted not in ChangeRequest.Status.values:
        wanted = ""
    rows = selectors.change_requests(request.user, status=wanted, subject=subject)
    context = {
        "results": selectors.paginate(rows, request.GET.get("page") or 1),
        "status": wanted,
        "subject": subject,
        "statuses": ChangeRequest.Status.choices,
        "query": _query(request),
    }
    return render_page(request, "workspace/om_manage/changes.html", context, active="om-changes")


def _change(request: HttpRequest, pk, *, status: int = 200, refuse_form=None) -> HttpResponse:
    user = request.user
    row = selectors.visible_change_request(user, pk)
    pending = row.status == ChangeRequest.Status.PENDING
    decides = pending and user.role in (Role.ENTERPRISE, Role.REGULATOR)
    context = {
        "change": row,
        "changes": changes.changes_shown(row),
        "events": selectors.change_events(row),
        "decides": decides,
        "withdraws": pending and user.role in access.AGENCY_ADMINS,
        "refuse_form": refuse_form or (ReasonForm(label=("拒绝原因", "Why refused")) if decides else None),
    }
    return render_page(
        request, "workspace/om_manage/change.html", context, status=status, active="om-changes"
    )


@page(roles=CHANGE_ROLES)
def change(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk)


def _move_change(request: HttpRequest, pk: int, to: str, said: str) -> HttpResponse:
    row = selectors.visible_change_request(request.user, pk)
    form = ReasonForm(request.POST, label=("拒绝原因", "Why refused"))
    reason = (form.cleaned_data.get("reason") or "") if form.is_valid() else ""
    try:
        changes.change_request_move(request=row, to=to, actor=request.user, reason=reason)
    except DomainError as error:
        show_domain_error(form, error, ReasonForm.ERROR_FIELDS)
        return _change(request, pk, status=error.error.status, refuse_form=form)
    messages.success(request, said)
    return redirect("workspace:om-change", row.pk)


@page(roles={Role.ENTERPRISE, Role.REGULATOR})
@require_POST
def change_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _move_change(
        request,
        pk,
        ChangeRequest.Status.ACCEPTED,
        t("已同意变更，新信息已生效。", "Accepted: the change is in force."),
    )


@page(roles={Role.ENTERPRISE, Role.REGULATOR})
@require_POST
def change_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _move_change(
        request,
        pk,
        ChangeRequest.Status.REFUSED,
        t("已拒绝变更，原信息继续有效。", "Refused: nothing changed."),
    )


@page(roles=access.AGENCY_ADMINS)
@require_POST
def change_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _move_change(
        request, pk, ChangeRequest.Status.WITHDRAWN, t("申请已撤回。", "The request is withdrawn.")
    )
