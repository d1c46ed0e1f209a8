"""The filing dossier's forms on the agency's filing page (备案材料: 营业执照、质量手册, 资质证书,
分支场所, 设施设备) and the downloads of its files for whoever reads the dossier (the agency, the
regulators of its region, platform staff). Each form posts to one service of
``server/registry/dossier.py``; a refusal is said beside its field on the filing page, what was typed
kept. Files are served here only, after the scope check: no public URL."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from server import access
from server.accounts.models import Role
from server.errors import NOT_FOUND, DomainError
from server.registry import dossier
from workspace import agency_selectors as reads
from workspace.dossier_forms import DocumentForm, FacilityForm, QualificationForm, SiteForm
from workspace.forms import show_domain_error
from workspace.i18n import message_language, t
from workspace.pages import page
from workspace.views.agency import render_filing

ADMINS = access.AGENCY_ADMINS
READERS = {*ADMINS, Role.REGULATOR, Role.PLATFORM}


def _back(anchor: str) -> HttpResponse:
    response = redirect("workspace:agency-filing")
    response["Location"] += f"#{anchor}"
    return response


def _post(request: HttpRequest, form_class, key: str, act, said: str, anchor: str) -> HttpResponse:
    """A dossier form: valid and accepted → back to the filing page; otherwise the page again with
    the form's errors in place (400), or the rule's refusal (its status)."""
    agency = reads.own_agency(request.user)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            act(agency, form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error, form_class.ERROR_FIELDS)
            return render_filing(request, status=error.error.status, forms={key: form})
        messages.success(request, said)
        return _back(anchor)
    return render_filing(request, status=400, forms={key: form})


def _delete(request: HttpRequest, act, said: str, anchor: str) -> HttpResponse:
    try:
        act()
    except DomainError as error:
        messages.error(request, error.error.message(message_language(), **error.params))
    else:
        messages.success(request, said)
    return _back(anchor)


@page(roles=ADMINS)
@require_POST
def document_add(request: HttpRequest) -> HttpResponse:
    def act(agency, data):
        dossier.document_add(
            agency=agency, kind=data["kind"], upload=data["file"], actor=request.user, note=data["note"]
        )

    return _post(
        request, DocumentForm, "document", act, t("材料已上传。", "The document is uploaded."), "documents"
    )


@page(roles=ADMINS)
@require_POST
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    agency = reads.own_agency(request.user)
    document = access.get_visible(access.agency_documents_for(request.user).filter(agency=agency), pk)
    return _delete(
        request,
        lambda: dossier.document_delete(document=document, actor=request.user),
        t("材料已删除。", "The document is deleted."),
        "documents",
    )


@page(roles=READERS)
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    """A dossier document as uploaded, for the agency, its region's regulators and platform staff."""
    document = reads.visible_document(request.user, pk)
    return _file(document)


@page(roles=ADMINS)
@require_POST
def qualification_add(request: HttpRequest) -> HttpResponse:
    def act(agency, data):
        dossier.qualification_add(
            agency=agency,
            kind=data["kind"],
            number=data["number"],
            scope=data["scope"],
            issuer=data["issuer"],
            first_granted_on=data["first_granted_on"],
            valid_until=data["valid_until"],
            upload=data["file"],
            actor=request.user,
        )

    said = t("资质证书已登记。", "The certificate is recorded.")
    return _post(request, QualificationForm, "qualification", act, said, "qualifications")


@page(roles=ADMINS)
@require_POST
def qualification_delete(request: HttpRequest, pk: int) -> HttpResponse:
    agency = reads.own_agency(request.user)
    row = access.get_visible(access.qualifications_for(request.user).filter(agency=agency), pk)
    return _delete(
        request,
        lambda: dossier.qualification_delete(qualification=row, actor=request.user),
        t("资质证书已删除。", "The certificate is deleted."),
        "qualifications",
    )


@page(roles=READERS)
def qualification_file(request: HttpRequest, pk: int) -> FileResponse:
    return _file(reads.visible_qualification(request.user, pk))


@page(roles=ADMINS)
@require_POST
def site_add(request: HttpRequest) -> HttpResponse:
    def act(agency, data):
        dossier.site_add(agency=agency, actor=request.user, **data)

    return _post(request, SiteForm, "site", act, t("分支场所已添加。", "The site is added."), "sites")


@page(roles=ADMINS)
@require_POST
def site_delete(request: HttpRequest, pk: int) -> HttpResponse:
    site = reads.own_site(request.user, pk)
    return _delete(
        request,
        lambda: dossier.site_delete(site=site, actor=request.user),
        t("分支场所已删除。", "The site is deleted."),
        "sites",
    )


@page(roles=ADMINS)
@require_POST
def facility_add(request: HttpRequest) -> HttpResponse:
    def act(agency, data):
        dossier.facility_add(agency=agency, actor=request.user, **data)

    said = t("设施设备已添加。", "The equipment is added.")
    return _post(request, FacilityForm, "facility", act, said, "facilities")


@page(roles=ADMINS)
@require_POST
def facility_delete(request: HttpRequest, pk: int) -> HttpResponse:
    facility = reads.own_facility(request.user, pk)
    return _delete(
        request,
        lambda: dossier.facility_delete(facility=facility, actor=request.user),
        t("设施设备已删除。", "The equipment is deleted."),
        "facilities",
    )


def _file(row) -> FileResponse:
    if not row.file:
        raise DomainError(NOT_FOUND)
    handle, content_type = dossier.open_stored(row)
    return FileResponse(
        handle, as_attachment=True, filename=row.file_name or "file", content_type=content_type
    )
