"""Monitoring projects (项目登记, 查询统计; seed 002): the list with its filters, registering a
project, its page (data, attachments, staff, tasks, status history with return reasons), and what
the agency's administrators do there: upload and download attachments, assign staff by post, submit
and resubmit after a return. Regulators of the region read the same pages.

Every write goes to the service ``POST /api/v1/projects…`` calls (``server.fieldwork.services``),
after the same scope and role checks (``server.access``); what a service refuses is said in the form."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from server import access
from server.accounts.models import Role
from server.errors import DomainError
from server.fieldwork import services
from server.fieldwork.models import MonitoringProject
from workspace import project_selectors as selectors
from workspace.forms import show_domain_error
from workspace.i18n import message_language, t
from workspace.nav import PROJECT_ROLES
from workspace.pages import page, render_page
from workspace.project_forms import (
    AssignmentForm,
    AttachmentForm,
    ProjectDetailsForm,
    ProjectFilterForm,
    ProjectForm,
)


def _partial(request: HttpRequest) -> bool:
    """An htmx request for the filters and results only (not htmx restoring a page from its history)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


@page(roles=PROJECT_ROLES)
def project_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProjectFilterForm(request.GET or None, enterprises=selectors.filter_enterprises(user))
    valid = form.is_valid() or not form.is_bound
    filters = form.cleaned_data if form.is_bound and valid else {}
    results = selectors.project_page(
        user,
        q=(filters.get("q") or "").strip(),
        status=filters.get("status") or "",
        enterprise=filters.get("enterprise"),
        number=request.GET.get("page") or 1,
        # A filter that is wrong lists nothing: the error is said beside it.
        nothing=not valid,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "results": results,
        "query": query.urlencode(),
        "can_register": user.role in access.AGENCY_ADMINS,
    }
    if _partial(request):
        return render_page(request, "workspace/partials/project_panel.html", context)
    return render_page(request, "workspace/projects.html", context, active="projects")


@page(roles=access.AGENCY_ADMINS)
def project_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProjectForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        contract = form.cleaned_data["contract"]
        try:
            project = services.project_create(
                agency=access.require_agency_admin(user),
                actor=user,
                enterprise=contract.enterprise,
                contract=contract,
                **form.details(),
            )
        except DomainError as error:
            show_domain_error(form, error, ProjectForm.ERROR_FIELDS)
        else:
            messages.success(
                request,
                t(
                    "项目已登记。请上传必传附件、分配人员，然后提交。",
                    "The project is registered. Upload the required attachments, assign the staff, "
                    "then submit it.",
                ),
            )
            return redirect("workspace:project", project.pk)
    return render_page(request, "workspace/project_new.html", {"form": form}, active="projects")


def _detail(request: HttpRequest, pk, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    view = selectors.project_view(user, pk)
    manages = user.role in access.AGENCY_ADMINS and view.project.agency_id == user.agency_id
    # A regulator decides on the project on its review page (workspace/views/regulator.py).
    reviews = user.role == Role.REGULATOR
    context = {"view": view, "project": view.project, "manages": manages, "reviews": reviews}
    if manages and view.editable:
        context["attachment_form"] = forms.get("attachment_form") or AttachmentForm()
        context["assignment_form"] = forms.get("assignment_form") or AssignmentForm(
            user=user, project=view.project
        )
    context["submit_error"] = forms.get("submit_error", "")
    context["delete_error"] = forms.get("delete_error", "")
    context["attachment_error"] = forms.get("attachment_error", "")
    active = "review" if reviews else "projects"
    return render_page(request, "workspace/project.html", context, status=status, active=active)


@page(roles=PROJECT_ROLES)
def project(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


def _managed(request: HttpRequest, pk: int) -> MonitoringProject:
    """The project, for its agency's main or manager account (anyone else: not found)."""
    project = selectors.visible_project(request.user, pk)
    access.require_agency_admin(request.user, project.agency)
    return project


@page(roles=access.AGENCY_ADMINS)
@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managed(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.project_attach(
                project=project,
                kind=data["kind"],
                upload=data["file"],
                actor=request.user,
                number=data["number"],
                issued_on=data["issued_on"],
            )
        except DomainError as error:
            show_domain_error(form, error, AttachmentForm.ERROR_FIELDS)
        else:
            messages.success(request, t("附件已上传。", "The attachment is uploaded."))
            return redirect("workspace:project", project.pk)
    return _detail(request, pk, attachment_form=form)


@page(roles=PROJECT_ROLES)
def attachment_file(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """The file as it was uploaded (seed 002: 附件可以下载), for whoever sees the project."""
    attachment = selectors.visible_attachment(request.user, pk, attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@page(roles=access.AGENCY_ADMINS)
@require_POST
def assignment_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managed(request, pk)
    form = AssignmentForm(request.POST, user=request.user, project=project)
    if form.is_valid():
        try:
            services.project_assign(
                project=project,
                employment=form.cleaned_data["employment"],
                post_code=form.cleaned_data["post"].code,
            )
        except DomainError as error:
            show_domain_error(form, error, AssignmentForm.ERROR_FIELDS)
        else:
            messages.success(request, t("人员已分配。", "The staff member is assigned."))
            return redirect("workspace:project", project.pk)
    return _detail(request, pk, assignment_form=form)


@page(roles=access.AGENCY_ADMINS)
@require_POST
def project_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """提交 (or 再提交 after a return): the service checks the move and that the contract is attached."""
    project = _managed(request, pk)
    resubmit = project.status == MonitoringProject.Status.RETURNED
    try:
        services.project_transition(
            project=project, to=MonitoringProject.Status.SUBMITTED, actor=request.user
        )
    except DomainError as error:
        message = error.error.message(message_language(), **error.params)
        return _detail(request, pk, submit_error=message, status=error.error.status)
    messages.success(
        request,
        t("项目已重新提交审核。", "The project is resubmitted for review.")
        if resubmit
        else t("项目已提交审核。", "The project is submitted for review."),
    )
    return redirect("workspace:project", project.pk)


@page(roles=access.AGENCY_ADMINS)
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """编辑 (seed 002: 未完成 or 退回): the registration's fields, through ``project_update``."""
    project = _managed(request, pk)
    form = ProjectDetailsForm(request.POST or None, initial=ProjectDetailsForm.initial_of(project))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.project_update(project=project, actor=request.user, **form.details())
            except DomainError as error:
                show_domain_error(form, error, ProjectDetailsForm.ERROR_FIELDS)
                status = error.error.status
            else:
                messages.success(request, t("项目信息已保存。", "The project is saved."))
                return redirect("workspace:project", project.pk)
    context = {"form": form, "project": project, "editable": project.status in selectors.EDITABLE}
    return render_page(request, "workspace/project_edit.html", context, status=status, active="projects")


@page(roles=access.AGENCY_ADMINS)
@require_POST
def project_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """删除 (seed 002: 只能删除监测状态为未完成或退回的项目), confirmed on the project's page; the
    service refuses a project with field work, said on the page."""
    project = _managed(request, pk)
    try:
        services.project_delete(project=project, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        message = error.error.message(message_language(), **error.params)
        return _detail(request, pk, delete_error=message, status=error.error.status)
    messages.success(
        request,
        t(
            f"项目“{project.name}”已删除，其记录仍保留。",
            f"The project {project.name} is deleted; its history is kept.",
        ),
    )
    return redirect("workspace:projects")


@page(roles=access.AGENCY_ADMINS)
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    """删除附件 while the project can change (seed 002: 附件…进行删除附件); kept, marked, audited."""
    _managed(request, pk)
    attachment = selectors.visible_attachment(request.user, pk, attachment_id)
    try:
        services.project_attachment_delete(attachment=attachment, actor=request.user)
    except DomainError as error:
        message = error.error.message(message_language(), **error.params)
        return _detail(request, pk, attachment_error=message, status=error.error.status)
    messages.success(
        request, t(f"附件“{attachment.name}”已删除。", f"The attachment {attachment.name} is deleted.")
    )
    return redirect("workspace:project", pk)
