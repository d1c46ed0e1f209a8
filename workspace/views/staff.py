"""Staff (监测人员 / 运维人员; seeds 002 and 003, certificates per seed 000): the list with its
filters, search by a whole ID number (posted, never in a URL), export of what is filtered, adding one
person, a person's page (ID number masked, posts, certificates, records at this agency) with its
actions (edit, add a certificate, depart), and the Excel import (template, upload, per-row report).

Every write calls the service ``/api/v1/staff…`` calls (``server.registry.services``,
``server.registry.excel``) after the same checks (``access.require_agency_admin``); a regulator of
the region reads. What a service refuses is said beside the field it is about."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from mobile_api.common import xlsx_response
from server import access
from server.accounts.models import Role
from server.errors import DomainError
from server.registry import dossier, excel, services
from server.registry.identifiers import mask_resident_id, validate_resident_id
from server.registry.models import Employment
from workspace import staff_selectors as selectors
from workspace.dossier_forms import PersonDocumentForm
from workspace.forms import show_domain_error, submit
from workspace.i18n import message_language, t
from workspace.pages import page, render_page
from workspace.staff_forms import (
    CertificateForm,
    DepartForm,
    IdSearchForm,
    ImportForm,
    StaffEditForm,
    StaffFilterForm,
    StaffForm,
)

# Who reads the staff pages: the agency's main and manager accounts (who also change them) and the
# regulators, for the agencies of their region (server.access.employments_for).
STAFF_ROLES = {*access.AGENCY_ADMINS, Role.REGULATOR}
# A file refused whole is said beside the file field.
IMPORT_ERROR_FIELDS = {
    excel.EXCEL_UNREADABLE.code: "file",
    excel.EXCEL_WRONG_TEMPLATE.code: "file",
    excel.EXCEL_TOO_MANY_ROWS.code: "file",
}


def _partial(request: HttpRequest) -> bool:
    """An htmx request for the filters and results only (not htmx restoring a page from its history)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _filtered(request: HttpRequest, id_form: IdSearchForm | None = None):
    """The filter form and the queryset it selects; with a valid ID number search, that person only."""
    user = request.user
    form = StaffFilterForm(request.GET or None, agencies=selectors.filter_agencies(user))
    valid = form.is_valid() or not form.is_bound
    filters = form.cleaned_data if form.is_bound and valid else {}
    id_number = ""
    if id_form is not None:
        if id_form.is_valid():
            try:
                id_number = validate_resident_id(id_form.cleaned_data["id_number"])
            except DomainError as error:
                show_domain_error(id_form, error, {"invalid_resident_id": "id_number"})
        valid = valid and id_form.is_valid()
    employments = selectors.staff_queryset(
        user,
        q=(filters.get("q") or "").strip(),
        status=filters.get("status") or "",
        post=filters.get("post"),
        certificate=filters.get("certificate") or "",
        title=filters.get("title") or "",
        education=filters.get("education") or "",
        gender=filters.get("gender") or "",
        agency=filters.get("agency"),
        id_number=id_number,
        # A filter that is wrong lists nothing: the error is said beside it.
        nothing=not valid,
    )
    return form, employments


@page(roles=STAFF_ROLES)
def staff_list(request: HttpRequest) -> HttpResponse:
    """GET: the filters in the address. POST: a whole ID number in the body (the API's POST
    /staff/search), the other filters still from the address; its few rows on one page."""
    user = request.user
    if "id_number" in request.GET:
        # An address is logged and kept in the history (F9 item 11): it is taken out, never echoed
        # into the page's links, and the person is asked to use the search box.
        query = request.GET.copy()
        del query["id_number"]
        messages.warning(
            request,
            t(
                "身份证号不能放在网址中（网址会被记录），请在“身份证号”查找框中输入。",
                "An ID number may not be put in the address (addresses are logged); type it in the ID "
                "number search box.",
            ),
        )
        return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)
    id_form = IdSearchForm(request.POST) if request.method == "POST" else IdSearchForm()
    form, employments = _filtered(request, id_form if request.method == "POST" else None)
    number = 1 if request.method == "POST" else request.GET.get("page") or 1
    searched = ""
    if request.method == "POST" and id_form.is_valid():
        # Found: the box is emptied, the number said masked (a page never shows one whole).
        searched = mask_resident_id(id_form.cleaned_data["id_number"])
        id_form = IdSearchForm()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "id_form": id_form,
        "id_search": request.method == "POST",
        "searched": searched,
        "results": selectors.staff_page(employments, number),
        "query": query.urlencode(),
        "manages": user.role in access.AGENCY_ADMINS,
        "regulator": user.role == Role.REGULATOR,
    }
    if _partial(request):
        return render_page(request, "workspace/staff/panel.html", context)
    return render_page(request, "workspace/staff/list.html", context, active="staff")


@page(roles=STAFF_ROLES)
def staff_export(request: HttpRequest) -> HttpResponse:
    """导出: what the list shows under the same filters (an ID number search posted), with the API's
    exporter: ID numbers masked."""
    id_form = IdSearchForm(request.POST) if request.method == "POST" else None
    _, employments = _filtered(request, id_form)
    return xlsx_response(excel.staff_export(employments), "技术人员.xlsx")


@page(roles=access.AGENCY_ADMINS)
def staff_new(request: HttpRequest) -> HttpResponse:
    """添加 (the API's POST /staff): ``staff_hire`` decides; its refusals beside the field."""
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employment = services.staff_hire(agency=access.require_agency_admin(request.user), **form.hire())
        except DomainError as error:
            show_domain_error(form, error, StaffForm.ERROR_FIELDS)
        else:
            messages.success(request, t("人员已添加。", "The staff member is added."))
            return redirect("workspace:staff-person", employment.pk)
    return render_page(request, "workspace/staff/new.html", {"form": form}, active="staff")


def _person(request: HttpRequest, pk: int, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    view = selectors.person_view(user, pk)
    employment = view.employment
    manages = user.role in access.AGENCY_ADMINS and employment.agency_id == user.agency_id
    context = {"view": view, "row": view.row, "employment": employment, "manages": manages}
    # The person's files, as far as the reader may see them (the current employer, its regulators).
    context["documents"] = list(dossier.visible_person_documents(user, employment.person))
    if manages and employment.status == Employment.Status.ACTIVE:
        context["document_form"] = forms.get("document_form") or PersonDocumentForm()
        context["edit_form"] = forms.get("edit_form") or StaffEditForm.of(employment)
        context["certificate_form"] = forms.get("certificate_form") or CertificateForm()
        context["depart_form"] = forms.get("depart_form") or DepartForm()
    else:
        # The record left the active state meanwhile (another tab, another manager): its forms are
        # gone, so what the service said is shown above the page.
        said = [
            message for form in forms.values() for messages in form.errors.values() for message in messages
        ]
        context["action_error"] = " ".join(said)
    return render_page(request, "workspace/staff/person.html", context, status=status, active="staff")


@page(roles=STAFF_ROLES)
def staff_person(request: HttpRequest, pk: int) -> HttpResponse:
    return _person(request, pk)


def _managed(request: HttpRequest, pk: int) -> Employment:
    """The record, for its agency's main or manager account (anyone else: not found)."""
    employment = selectors.visible_employment(request.user, pk)
    access.require_agency_admin(request.user, employment.agency)
    return employment


@page(roles=access.AGENCY_ADMINS)
@require_POST
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """编辑 (the API's PATCH /staff/<id>): ``staff_update``."""
    employment = _managed(request, pk)
    form = StaffEditForm(request.POST)

    def update(data):
        services.staff_update(employment=employment, **form.changes())
        return t("人员信息已保存。", "The staff record is saved."), redirect("workspace:staff-person", pk)

    done, _ = submit(request, form, update, StaffEditForm.ERROR_FIELDS)
    return done or _person(request, pk, edit_form=form)


@page(roles=access.AGENCY_ADMINS)
@require_POST
def certificate_add(request: HttpRequest, pk: int) -> HttpResponse:
    """能力证书 (the API's POST /staff/<id>/certificates): ``certificate_add``."""
    employment = _managed(request, pk)
    form = CertificateForm(request.POST)

    def record(data):
        services.certificate_add(person=employment.person, **form.certificate())
        return t("证书已登记。", "The certificate is recorded."), redirect("workspace:staff-person", pk)

    done, _ = submit(request, form, record, CertificateForm.ERROR_FIELDS)
    return done or _person(request, pk, certificate_form=form)


@page(roles=access.AGENCY_ADMINS)
@require_POST
def staff_depart(request: HttpRequest, pk: int) -> HttpResponse:
    """离职 (the API's POST /staff/<id>/depart): ``staff_depart``."""
    employment = _managed(request, pk)
    form = DepartForm(request.POST)

    def depart(data):
        services.staff_depart(employment=employment, departed_on=data["departed_on"])
        return t("已办理离职。", "The departure is recorded."), redirect("workspace:staff-person", pk)

    done, _ = submit(request, form, depart, DepartForm.ERROR_FIELDS)
    return done or _person(request, pk, depart_form=form)


# --- A person's documents (人员材料) ----------------------------------------------------------------
@page(roles=access.AGENCY_ADMINS)
@require_POST
def document_add(request: HttpRequest, pk: int) -> HttpResponse:
    """证书扫描件、学历证书… (the API's POST /staff/<id>/documents): ``person_document_add``."""
    employment = _managed(request, pk)
    form = PersonDocumentForm(request.POST, request.FILES)

    def upload(data):
        dossier.person_document_add(
            person=employment.person,
            kind=data["kind"],
            upload=data["file"],
            note=data["note"],
            actor=request.user,
        )
        return t("材料已上传。", "The document is uploaded."), redirect("workspace:staff-person", pk)

    done, _ = submit(request, form, upload, PersonDocumentForm.ERROR_FIELDS)
    return done or _person(request, pk, status=400, document_form=form)


def _document(request: HttpRequest, pk: int, document_id: int):
    employment = selectors.visible_employment(request.user, pk)
    scope = access.person_documents_for(request.user).filter(person_id=employment.person_id)
    return access.get_visible(scope.select_related("person"), document_id)


@page(roles=STAFF_ROLES)
def document_file(request: HttpRequest, pk: int, document_id: int) -> FileResponse:
    """The file as uploaded, for the current employer and its regulators (no public URL)."""
    document = _document(request, pk, document_id)
    handle, content_type = dossier.open_stored(document)
    return FileResponse(
        handle, as_attachment=True, filename=document.file_name or "file", content_type=content_type
    )


@page(roles=access.AGENCY_ADMINS)
@require_POST
def document_delete(request: HttpRequest, pk: int, document_id: int) -> HttpResponse:
    _managed(request, pk)
    document = _document(request, pk, document_id)
    try:
        dossier.person_document_delete(document=document, actor=request.user)
    except DomainError as error:
        messages.error(request, error.error.message(message_language(), **error.params))
    else:
        messages.success(request, t("材料已删除。", "The document is deleted."))
    return redirect("workspace:staff-person", pk)


# --- Excel import ---------------------------------------------------------------------------------
@page(roles=access.AGENCY_ADMINS)
def staff_template(request: HttpRequest) -> HttpResponse:
    """下载模板 (the API's GET /staff/template)."""
    return xlsx_response(excel.staff_template(), "技术人员导入模板.xlsx")


@page(roles=access.AGENCY_ADMINS)
def staff_import(request: HttpRequest) -> HttpResponse:
    """批量导入 (the API's POST /staff/import, never partial): ``excel.staff_import`` reads the whole
    workbook in this request, in one transaction, and keeps nothing when any row is wrong; its report
    lists each wrong row with its column and the message. The page's script (staff_import.js) shows
    the upload's progress, then that the server is importing, then swaps in this report."""
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = excel.staff_import(
                agency=access.require_agency_admin(request.user), file=form.cleaned_data["file"]
            )
        except DomainError as error:  # unreadable, not the template, too many rows
            show_domain_error(form, error, IMPORT_ERROR_FIELDS)
    context = {"form": form, "report": report, "limit": excel.MAX_ROWS}
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return render_page(request, "workspace/staff/import_panel.html", context)
    return render_page(request, "workspace/staff/import.html", context, active="staff")
