"""持证查询 (seed 000 §信息查询; issue 23): certificate holders by name, by a whole ID number (posted,
never in a URL), by post category and validity, with the holder's current agency; exported as the
filters select (XLSX or CSV). Regulators search their region's agencies' staff, an agency's main
and manager accounts their own (``server.registry.certificate_search``, as ``GET /certificates``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from mobile_api.exports import table_response
from server import access
from server.accounts.models import Role
from server.errors import DomainError
from server.registry import certificate_search as selectors
from server.registry.identifiers import mask_resident_id, validate_resident_id
from server.registry.models import Agency, Post
from workspace.forms import show_domain_error
from workspace.i18n import t
from workspace.pages import page, render_page
from workspace.staff_forms import IdSearchForm, post_name

# Who searches here: regulators and an agency's main and manager accounts (the platform has the API).
CERTIFICATE_ROLES = {Role.REGULATOR, *access.AGENCY_ADMINS}
PAGE_SIZE = 20


class CertificateFilterForm(forms.Form):
    name = forms.CharField(required=False, max_length=50)
    post = forms.ModelChoiceField(queryset=Post.objects.order_by("id"), to_field_name="code", required=False)
    state = forms.ChoiceField(required=False)
    number = forms.CharField(required=False, max_length=64)
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), required=False)

    def __init__(self, *args, agencies: QuerySet[Agency] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["name"].label = t("姓名", "Name")
        fields["name"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["post"].label = t("岗位类别", "Post category")
        fields["post"].empty_label = t("全部", "All")
        fields["post"].label_from_instance = post_name
        fields["post"].error_messages["invalid_choice"] = t(
            "请选择列表中的岗位。", "Choose a post from the list."
        )
        fields["state"].label = t("证书状态", "Validity")
        fields["state"].choices = [("", t("全部", "All"))] + [
            (key, t(selectors.STATE_LABELS[key], selectors.STATE_LABELS_EN[key])) for key in selectors.STATES
        ]
        fields["number"].label = t("证书编号", "Certificate number")
        if agencies is None:
            del fields["agency"]  # an agency searches its own staff
        else:
            fields["agency"].queryset = agencies
            fields["agency"].label = t("当前机构", "Current agency")
            fields["agency"].empty_label = t("全部", "All")


def _filtered(request: HttpRequest, id_number: str = ""):
    user = request.user
    form = CertificateFilterForm(request.GET or None, agencies=selectors.agencies_to_filter(user))
    valid = form.is_valid() or not form.is_bound
    data = form.cleaned_data if form.is_bound and valid else {}
    queryset = selectors.search(
        user,
        name=data.get("name") or "",
        id_number=id_number,
        post=data.get("post"),
        state=data.get("state") or "",
        number=data.get("number") or "",
        agency=data.get("agency"),
    )
    # A filter that is wrong lists nothing: its error is said beside it.
    return form, queryset if valid else queryset.none()


@page(roles=CERTIFICATE_ROLES)
def certificate_list(request: HttpRequest) -> HttpResponse:
    if "id_number" in request.GET:
        # An address is logged (F9 item 11): taken out, and the search box named instead.
        query = request.GET.copy()
        del query["id_number"]
        messages.warning(
            request,
            t(
                "身份证号不能放在网址中（网址会被记录），请在“身份证号”查找框中输入。",
                "An ID number may not be put in the address (addresses are logged); use the ID number box.",
            ),
        )
        return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)
    id_form = IdSearchForm(request.POST) if request.method == "POST" else IdSearchForm()
    id_number, searched = "", ""
    if request.method == "POST" and id_form.is_valid():
        try:
            id_number = validate_resident_id(id_form.cleaned_data["id_number"])
        except DomainError as error:
            show_domain_error(id_form, error, {"invalid_resident_id": "id_number"})
        else:
            searched = mask_resident_id(id_number)  # said masked; the box is emptied
            id_form = IdSearchForm()
    form, queryset = _filtered(request, id_number)
    if request.method == "POST" and not id_number:
        queryset = queryset.none()
    results = Paginator(queryset, PAGE_SIZE).get_page(
        1 if request.method == "POST" else request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "id_form": id_form,
        "id_search": request.method == "POST",
        "searched": searched,
        "results": results,
        "hits": selectors.hits(results.object_list, timezone.localdate()),
        "query": query.urlencode(),
        "shows_agency": request.user.role == Role.REGULATOR,
    }
    return render_page(request, "workspace/certificates/list.html", context, active="certificates")


@page(roles=CERTIFICATE_ROLES)
def certificate_export(request: HttpRequest) -> HttpResponse:
    """证书的导出: the rows the page's filters select (never an ID number: the export of a posted
    search is the page's own rows, a handful)."""
    _, queryset = _filtered(request)
    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return table_response(
        file_format, title="持证查询", headers=selectors.EXPORT_HEADERS, rows=selectors.export_rows(queryset)
    )
