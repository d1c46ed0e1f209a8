"""Back-office admin for the registry: agencies and their filing, people, staff, certificates,
enterprises, outlets, instruments and contracts.

Rules live in ``server/registry/services.py``; the admin calls them. Status fields (the filing
status, a staff record's status) are read-only here and change only through the services, from the
admin actions. A person's resident ID number is never shown whole: lists and forms show it masked,
and a person is found by typing the full number into the search box.

The helpers at the top (``domain_message``, ``add_domain_error``, ``run_for_each``, the read-only
bases) are shared by the other apps' admin modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Model, Q
from django.http import HttpRequest
from django.utils import timezone

from server.errors import VALIDATION_FAILED, DomainError
from server.geo import CoordinateSystem
from server.maps.widgets import MapAdminMixin
from server.registry import errors
from server.registry.identifiers import mask_resident_id, validate_credit_code, validate_resident_id
from server.registry.models import (
    Agency,
    AgencyDocument,
    AgencyFacility,
    AgencyFilingEvent,
    AgencyQualification,
    AgencySite,
    Analyte,
    Certificate,
    Contract,
    ContractAcceptanceEvent,
    Employment,
    Enterprise,
    Instrument,
    Outlet,
    Person,
    PersonDocument,
    Post,
    TransferFiling,
    TransferFilingEvent,
)
from server.registry.services import (
    _birth_date,
    _check_instrument,
    _gender,
    agency_transition,
    check_can_join,
    contract_transition,
    ensure_agency_approved,
    ensure_post_allowed,
    enterprise_region_set,
    outlet_update,
    staff_depart,
    validate_region_code,
)

# --- Shared helpers -------------------------------------------------------------------------------


def domain_message(exc: DomainError) -> str:
    """The Chinese message of a domain error, as the API would show it."""
    return exc.error.message("zh-hans", **exc.params)


def add_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a domain error on a form: a validation error's field messages on their fields when the
    form has them, anything else as the error's message on top of the form."""
    placed = False
    if exc.error is VALIDATION_FAILED and isinstance(exc.details, dict):
        for name, field_messages in exc.details.items():
            if name in form.fields and name not in (form.errors or {}) and isinstance(field_messages, list):
                for message in field_messages:
                    form.add_error(name, str(message))
                placed = True
    if not placed:
        form.add_error(None, domain_message(exc))


def run_for_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    objects: Iterable[Model],
    service: Callable[[Any], Any],
    done: str,
) -> None:
    """Call ``service`` for each object; report each refusal (a ``DomainError``) as an error message
    and the successes as one message (``done`` may use ``{count}``)."""
    count = 0
    for obj in objects:
        try:
            service(obj)
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}：{domain_message(exc)}", messages.ERROR)
        else:
            count += 1
    if count:
        modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)


def check_period(form: forms.BaseForm, start: str, end: str, message: str) -> None:
    first, last = form.cleaned_data.get(start), form.cleaned_data.get(end)
    if first and last and last < first:
        form.add_error(end, message)


def check_number_free(form: forms.ModelForm, model: type[Model], agency: Agency | None, error) -> None:
    """Numbers are unique per agency. The agency is read-only on existing objects, which takes the
    database constraint out of the form's own validation, so the form checks it here (a new
    object's form has the agency, and the constraint is checked by the form itself)."""
    number = (form.cleaned_data.get("number") or "").strip()
    if form.instance.pk is None or agency is None or not number:
        return
    taken = model.objects.filter(agency=agency, number=number).exclude(pk=form.instance.pk).exists()
    if taken:
        form.add_error("number", domain_message(DomainError(error, number=number)))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services only (history, tokens…): listed and shown, never edited here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# A full resident ID number typed into a search box: looked up exactly, never by substring.
_RESIDENT_ID_TERM = re.compile(r"^\d{17}[\dX]$")


def resident_id_term(search_term: str) -> str | None:
    term = (search_term or "").strip().upper()
    return term if _RESIDENT_ID_TERM.match(term) else None


class ResidentIdSearchMixin:
    """Search by the exact, full resident ID number (``resident_id_lookup``), besides the usual
    ``search_fields``. Partial numbers find nothing: the number is not a substring index."""

    resident_id_lookup = "id_number"

    def get_search_results(self, request, queryset, search_term):
        number = resident_id_term(search_term)
        if number is not None:
            return queryset.filter(**{self.resident_id_lookup: number}), False
        return super().get_search_results(request, queryset, search_term)


class CreditCodeRegionForm(forms.ModelForm):
    """Validates a credit code and a region code as the services do."""

    def clean_credit_code(self) -> str:
        try:
            return validate_credit_code(self.cleaned_data["credit_code"])
        except DomainError as exc:
            raise forms.ValidationError(domain_message(exc)) from None

    def clean_region_code(self) -> str:
        try:
            return validate_region_code(self.cleaned_data["region_code"])
        except DomainError as exc:
            raise forms.ValidationError(domain_message(exc)) from None


# --- Agencies -------------------------------------------------------------------------------------


class HistoryInline(ReadOnlyInline):
    """A state machine's history rows (server/transitions.py writes them): read-only, newest last."""

    fields = ("at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class AgencyFilingEventInline(HistoryInline):
    model = AgencyFilingEvent
    verbose_name_plural = "备案记录（只读）"


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = CreditCodeRegionForm
    ordering = ("name", "id")  # stable pages, the autocomplete's too
    list_display = (
        "name",
        "credit_code",
        "kind",
        "region_code",
        "filing_status",
        "legal_representative",
        "contact_phone",
        "staff_count",
        "updated_at",
    )
    list_filter = ("filing_status", "kind")
    search_fields = ("name", "credit_code", "^region_code", "legal_representative", "contact_name")
    search_help_text = "按机构名称、统一社会信用代码、行政区划代码（前缀）或联系人搜索。"
    date_hierarchy = "created_at"
    fieldsets = (
        ("机构信息", {"fields": ("name", "credit_code", "kind", "region_code", "address")}),
        (
            "联系人",
            {
                "fields": (
                    "legal_representative",
                    "legal_representative_phone",
                    "contact_name",
                    "contact_phone",
                )
            },
        ),
        ("备案", {"fields": ("filing_status", "return_reason", "created_at", "updated_at")}),
    )
    inlines = (AgencyFilingEventInline,)
    actions = ("approve_filings",)

    STATUS_FIELDS = ("filing_status", "return_reason", "created_at", "updated_at")
    EDITABLE_FIELDS = (
        "name",
        "credit_code",
        "kind",
        "region_code",
        "address",
        "legal_representative",
        "legal_representative_phone",
        "contact_name",
        "contact_phone",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _staff_count=Count("employments", filter=Q(employments__status=Employment.Status.ACTIVE))
            )
        )

    @admin.display(description="在职人员", ordering="_staff_count")
    def staff_count(self, obj: Agency) -> int:
        return obj._staff_count

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.STATUS_FIELDS
        if obj.filing_status in (Agency.FilingStatus.SUBMITTED, Agency.FilingStatus.CANCELLED):
            # Under review or cancelled: the filing is locked (services.agency_update refuses too).
            return (*self.EDITABLE_FIELDS, *self.STATUS_FIELDS)
        # The credit code identifies the agency; a different code is a different agency.
        return ("credit_code", *self.STATUS_FIELDS)

    @admin.action(description="审查通过所选机构的备案", permissions=["change"])
    def approve_filings(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda agency: agency_transition(
                agency=agency, to=Agency.FilingStatus.APPROVED, actor=request.user
            ),
            "已审查通过 {count} 个机构的备案。",
        )


@admin.register(AgencyFilingEvent)
class AgencyFilingEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "agency", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status", "from_status")
    list_select_related = ("agency", "actor")
    search_fields = ("agency__name", "agency__credit_code", "actor__username", "reason")
    date_hierarchy = "at"


# --- Posts, people, staff, certificates -----------------------------------------------------------


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "requires_certificate", "field_work")
    list_editable = ("requires_certificate", "field_work")
    list_filter = ("requires_certificate", "field_work")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        # Code refers to posts by their code (om_technician, sampler…): it is fixed once created.
        return ("code",) if obj is not None else ()


class PersonAddForm(forms.ModelForm):
    """A new person: the ID number is validated, and gender and birth date are read from it."""

    class Meta:
        model = Person
        fields = ("id_number", "name", "phone")

    def clean_id_number(self) -> str:
        try:
            number = validate_resident_id(self.cleaned_data["id_number"])
        except DomainError as exc:
            raise forms.ValidationError(domain_message(exc)) from None
        # One person per number. The unique column is the blind index, which the form does not show,
        # so the model form's own uniqueness check cannot see it.
        if Person.objects.filter(id_number=number).exists():
            raise forms.ValidationError("已有此身份证号的人员。")
        return number

    def clean(self):
        cleaned = super().clean()
        number = cleaned.get("id_number")
        if number:
            self.instance.gender = _gender(number)
            self.instance.birth_date = _birth_date(number)
        return cleaned


class CertificateForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        check_period(self, "valid_from", "valid_until", "有效期至不能早于有效期起。")
        return cleaned


class CertificateInline(admin.TabularInline):
    model = Certificate
    form = CertificateForm
    extra = 0
    fields = ("post", "number", "issuer", "valid_from", "valid_until")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("post")


class PersonEmploymentInline(ReadOnlyInline):
    model = Employment
    fields = ("agency", "status", "hired_on", "departed_on", "position")
    readonly_fields = fields
    verbose_name_plural = "任职记录（只读）"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency", "person")


@admin.register(Person)
class PersonAdmin(ResidentIdSearchMixin, admin.ModelAdmin):
    list_display = ("name", "masked_id_number", "gender", "birth_date", "phone")
    list_filter = ("gender",)
    search_fields = ("name", "phone")
    search_help_text = "按姓名或手机号搜索；输入完整的 18 位身份证号可精确查找。"
    inlines = (CertificateInline, PersonEmploymentInline)

    @admin.display(description="身份证号")
    def masked_id_number(self, obj: Person) -> str:
        return mask_resident_id(obj.id_number)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PersonAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("id_number", "name", "phone")
        return ("masked_id_number", "name", "gender", "birth_date", "phone")

    def get_exclude(self, request, obj=None):
        # The full number never reaches a page about an existing person.
        return ("id_number",) if obj is not None else ()

    def get_readonly_fields(self, request, obj=None):
        # Gender and birth date are read from the ID number.
        return ("masked_id_number", "gender", "birth_date") if obj is not None else ()


class EmploymentForm(forms.ModelForm):
    """The rules of ``services.staff_hire`` / ``staff_update``: one person, one agency; a post that
    needs a certificate only with a valid one."""

    def clean(self):
        cleaned = super().clean()
        person = cleaned.get("person") or (self.instance.person if self.instance.person_id else None)
        agency = cleaned.get("agency") or (self.instance.agency if self.instance.agency_id else None)
        if person is None or agency is None:
            return cleaned
        today = timezone.localdate()
        if self.instance.pk is None:
            try:
                check_can_join(person=person, agency=agency)
            except DomainError as exc:
                add_domain_error(self, exc)
            current: set[int] = set()
            on = max(cleaned.get("hired_on") or today, today)
        else:
            current = set(self.instance.posts.values_list("pk", flat=True))
            on = today
        for post in cleaned.get("posts") or ():
            if post.pk in current:
                continue
            try:
                ensure_post_allowed(person=person, post=post, on=on)
            except DomainError as exc:
                self.add_error("posts", domain_message(exc))
        return cleaned


@admin.register(Employment)
class EmploymentAdmin(ResidentIdSearchMixin, admin.ModelAdmin):
    form = EmploymentForm
    resident_id_lookup = "person__id_number"
    list_display = (
        "person",
        "agency",
        "status",
        "post_names",
        "education",
        "title",
        "relation",
        "hired_on",
        "departed_on",
    )
    list_filter = ("status", "posts", "education", "title", "relation")
    list_select_related = ("person", "agency")
    search_fields = ("person__name", "agency__name", "agency__credit_code", "position")
    search_help_text = "按姓名、机构名称或信用代码、职务搜索；输入完整身份证号可精确查找。"
    date_hierarchy = "hired_on"
    autocomplete_fields = ("person", "agency")
    actions = ("depart_today",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "posts":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request):
        # Autocomplete results and every label use str(), which reads the person and the agency.
        return super().get_queryset(request).select_related("person", "agency").prefetch_related("posts")

    @admin.display(description="岗位")
    def post_names(self, obj: Employment) -> str:
        return "、".join(post.name for post in obj.posts.all())

    def get_readonly_fields(self, request, obj=None):
        status = ("status", "departed_on")
        if obj is None:
            return status
        if obj.status != Employment.Status.ACTIVE:
            # A closed record is history (services.staff_update refuses it too).
            return (
                "person",
                "agency",
                "education",
                "major",
                "title",
                "position",
                "relation",
                "posts",
                "hired_on",
                *status,
            )
        # Moving someone to another agency is a departure and a new hire, not an edit.
        return ("person", "agency", *status)

    @admin.action(description="登记离职（离职时间为今天）", permissions=["change"])
    def depart_today(self, request, queryset):
        today = timezone.localdate()
        run_for_each(
            self,
            request,
            queryset,
            lambda employment: staff_depart(employment=employment, departed_on=today),
            "已为 {count} 名人员登记离职。",
        )


class TransferFilingEventInline(HistoryInline):
    model = TransferFilingEvent
    verbose_name_plural = "确认记录（只读）"


@admin.register(TransferFilingEvent)
class TransferFilingEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "filing", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status", "from_status")
    list_select_related = ("filing__person", "filing__from_agency", "filing__to_agency", "actor")
    search_fields = ("filing__person__name", "actor__username", "reason")
    date_hierarchy = "at"


@admin.register(TransferFiling)
class TransferFilingAdmin(ResidentIdSearchMixin, ReadOnlyAdmin):
    inlines = (TransferFilingEventInline,)
    resident_id_lookup = "person__id_number"
    list_display = ("person", "from_agency", "to_agency", "departed_on", "status", "filed_by", "filed_at")
    list_select_related = ("person", "from_agency", "to_agency", "filed_by")
    list_filter = ("status",)
    search_fields = ("person__name", "from_agency__name", "to_agency__name")
    search_help_text = "按姓名、原单位或新单位搜索；输入完整身份证号可精确查找。"
    date_hierarchy = "filed_at"
    fields = (
        "person",
        "from_agency",
        "to_agency",
        "departed_on",
        "proof",
        "filed_by",
        "filed_at",
        "status",
        "decision_reason",
        "decided_by",
        "decided_at",
        "new_employment",
    )


class CertificateValidityFilter(admin.SimpleListFilter):
    title = "有效状态"
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return (("valid", "有效"), ("expired", "已过期"), ("future", "未生效"))

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.filter(valid_from__lte=today, valid_until__gte=today)
        if self.value() == "expired":
            return queryset.filter(valid_until__lt=today)
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        return queryset


@admin.register(Certificate)
class CertificateAdmin(ResidentIdSearchMixin, admin.ModelAdmin):
    form = CertificateForm
    resident_id_lookup = "person__id_number"
    list_display = ("number", "person", "post", "issuer", "valid_from", "valid_until", "is_valid")
    list_filter = (CertificateValidityFilter, "post")
    list_select_related = ("person", "post")
    search_fields = ("number", "person__name", "issuer")
    search_help_text = "按证书编号、姓名或发证单位搜索；输入完整身份证号可精确查找。"
    date_hierarchy = "valid_until"
    autocomplete_fields = ("person",)

    @admin.display(description="当前有效", boolean=True)
    def is_valid(self, obj: Certificate) -> bool:
        return obj.valid_from <= timezone.localdate() <= obj.valid_until


# --- Enterprises, outlets, instruments ------------------------------------------------------------


class EnterpriseOutletInline(ReadOnlyInline):
    model = Outlet
    fields = ("name", "kind", "code", "geofence_radius_m")
    readonly_fields = fields
    verbose_name_plural = "排口/点位（在排口页面编辑）"


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    form = CreditCodeRegionForm
    ordering = ("name", "id")  # stable pages, the autocomplete's too
    list_display = ("name", "credit_code", "region_code", "contact_name", "contact_phone", "outlet_count")
    search_fields = ("name", "credit_code", "^region_code", "contact_name")
    search_help_text = "按企业名称、统一社会信用代码、行政区划代码（前缀）或联系人搜索。"
    date_hierarchy = "created_at"
    inlines = (EnterpriseOutletInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_outlet_count=Count("outlets"))

    @admin.display(description="排口数", ordering="_outlet_count")
    def outlet_count(self, obj: Enterprise) -> int:
        return obj._outlet_count

    def get_readonly_fields(self, request, obj=None):
        return ("credit_code", "pending_region_code") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        # A new region goes through the service: the enterprise's projects move with it, audited
        # (issue F9.5).
        new_region = obj.region_code
        if change and "region_code" in form.changed_data:
            obj.region_code = form.initial["region_code"]
        super().save_model(request, obj, form, change)
        if change and "region_code" in form.changed_data:
            enterprise_region_set(enterprise=obj, actor=request.user, region_code=new_region)
            obj.refresh_from_db()


class OutletInstrumentInline(ReadOnlyInline):
    model = Instrument
    fields = ("kind", "maker", "model", "serial_number", "unit")
    readonly_fields = fields
    verbose_name_plural = "自动监控设备（在设备页面编辑）"


class OutletForm(forms.ModelForm):
    def clean_geofence_radius_m(self) -> int:
        radius = self.cleaned_data["geofence_radius_m"]
        if radius is not None and not 10 <= radius <= 5000:
            raise forms.ValidationError("电子围栏半径须在 10 至 5000 米之间。")
        return radius


@admin.register(Outlet)
class OutletAdmin(MapAdminMixin, admin.ModelAdmin):
    form = OutletForm
    # A new outlet's map opens on Shanghai; the tiles are the map page's (MAP_TILE_URL).
    settings_overrides = {"DEFAULT_CENTER": (31.23, 121.47), "DEFAULT_ZOOM": 9}
    list_display = (
        "name",
        "enterprise",
        "kind",
        "code",
        "longitude",
        "latitude",
        "given_system",
        "geofence_radius_m",
    )
    list_filter = ("kind", "given_system")
    list_select_related = ("enterprise",)
    search_fields = ("name", "code", "enterprise__name", "enterprise__credit_code")
    autocomplete_fields = ("enterprise",)
    fieldsets = (
        (None, {"fields": ("enterprise", "kind", "name", "code")}),
        ("位置", {"fields": ("location", "geofence_radius_m")}),
        (
            "录入坐标（审计）",
            {
                "fields": ("given_longitude", "given_latitude", "given_system"),
                "description": "客户端提交的原始坐标。在地图上移动位置后，记为 WGS-84 坐标。",
            },
        ),
    )
    readonly_fields = ("given_longitude", "given_latitude", "given_system")
    inlines = (OutletInstrumentInline,)

    def get_queryset(self, request):
        # str(outlet) reads the enterprise: autocomplete results and labels need it.
        return super().get_queryset(request).select_related("enterprise")

    @admin.display(description="经度")
    def longitude(self, obj: Outlet) -> str:
        return f"{obj.location.x:.6f}" if obj.location else "-"

    @admin.display(description="纬度")
    def latitude(self, obj: Outlet) -> str:
        return f"{obj.location.y:.6f}" if obj.location else "-"

    def save_model(self, request, obj, form, change):
        if not change:
            # Placed on the admin's map, which works in WGS-84: that is what was "given".
            obj.given_longitude = obj.location.x
            obj.given_latitude = obj.location.y
            obj.given_system = CoordinateSystem.WGS84.value
            super().save_model(request, obj, form, change)
            return
        # A change goes through the service, as the API's does: a moved outlet or a new geofence
        # has its photos judged again.
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "location"}
        if "location" in form.changed_data:
            fields.update(
                longitude=obj.location.x,
                latitude=obj.location.y,
                coordinate_system=CoordinateSystem.WGS84.value,
            )
        if fields:
            outlet_update(outlet=obj, actor=request.user, **fields)
            obj.refresh_from_db()


class InstrumentForm(forms.ModelForm):
    analytes = forms.MultipleChoiceField(
        label="监测因子", choices=Analyte.choices, widget=forms.CheckboxSelectMultiple
    )

    def clean(self):
        cleaned = super().clean()
        outlet, analytes = cleaned.get("outlet"), cleaned.get("analytes")
        if outlet is not None and analytes:
            try:
                cleaned["analytes"] = _check_instrument(
                    outlet, analytes, cleaned.get("range_low"), cleaned.get("range_high")
                )
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    form = InstrumentForm
    list_display = (
        "serial_number",
        "kind",
        "maker",
        "model",
        "outlet",
        "analyte_names",
        "measuring_range",
        "unit",
    )
    list_filter = ("kind", "outlet__kind")
    list_select_related = ("outlet__enterprise",)
    search_fields = ("serial_number", "maker", "model", "outlet__name", "outlet__enterprise__name")
    autocomplete_fields = ("outlet",)

    @admin.display(description="监测因子")
    def analyte_names(self, obj: Instrument) -> str:
        labels = dict(Analyte.choices)
        return "、".join(str(labels.get(code, code)) for code in obj.analytes)

    @admin.display(description="量程")
    def measuring_range(self, obj: Instrument) -> str:
        if obj.range_low is None and obj.range_high is None:
            return "-"
        return f"{obj.range_low if obj.range_low is not None else ''}～{obj.range_high or ''}"


# --- Contracts ------------------------------------------------------------------------------------


class ContractForm(forms.ModelForm):
    """The rules of ``services.contract_create``."""

    def clean(self):
        cleaned = super().clean()
        agency = cleaned.get("agency") or (self.instance.agency if self.instance.agency_id else None)
        nature = cleaned.get("nature")
        check_period(self, "starts_on", "ends_on", "履行结束不能早于履行开始。")
        if agency is None:
            return cleaned
        if self.instance.pk is None:
            try:
                ensure_agency_approved(agency)
            except DomainError as exc:
                add_domain_error(self, exc)
        does = {Contract.Nature.MONITORING: agency.does_monitoring, Contract.Nature.OM: agency.does_om}
        if nature in does and not does[nature]:
            error = DomainError(errors.CONTRACT_NATURE_NOT_FOR_AGENCY, nature=Contract.Nature(nature).label)
            self.add_error("nature", domain_message(error))
        check_number_free(self, Contract, agency, errors.CONTRACT_NUMBER_TAKEN)
        return cleaned


class ContractAcceptanceEventInline(HistoryInline):
    model = ContractAcceptanceEvent
    verbose_name_plural = "确认记录（只读）"


@admin.register(ContractAcceptanceEvent)
class ContractAcceptanceEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "contract", "from_status", "to_status", "actor", "reason")
    list_filter = ("to_status", "from_status")
    list_select_related = ("contract", "actor")
    search_fields = ("contract__number", "contract__title", "actor__username", "reason")
    date_hierarchy = "at"


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractForm
    list_display = (
        "number",
        "title",
        "agency",
        "enterprise",
        "nature",
        "amount",
        "starts_on",
        "ends_on",
        "status",
        "acceptance",
    )
    list_filter = ("nature", "status", "acceptance")
    list_select_related = ("agency", "enterprise")
    search_fields = ("number", "title", "agency__name", "enterprise__name", "enterprise__credit_code")
    date_hierarchy = "starts_on"
    autocomplete_fields = ("agency", "enterprise")
    inlines = (ContractAcceptanceEventInline,)
    actions = ("accept_contracts",)

    def get_readonly_fields(self, request, obj=None):
        # A contract binds its agency and its enterprise: both are fixed once created, so an
        # acceptance never carries over to another enterprise (issue F9.2).
        fixed = ("agency", "enterprise") if obj is not None else ()
        return (*fixed, "acceptance", "refusal_reason")

    @admin.action(description="确认所选合同（代委托企业）", permissions=["change"])
    def accept_contracts(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda contract: contract_transition(
                contract=contract, to=Contract.Acceptance.ACCEPTED, actor=request.user
            ),
            "已确认 {count} 份合同。",
        )


__all__ = [
    "ReadOnlyAdmin",
    "ReadOnlyInline",
    "ResidentIdSearchMixin",
    "add_domain_error",
    "check_number_free",
    "check_period",
    "domain_message",
    "run_for_each",
]


# --- The filing dossier and staff documents (written through server/registry/dossier.py) ----------
@admin.register(AgencyDocument)
class AgencyDocumentAdmin(ReadOnlyAdmin):
    list_display = ("agency", "kind", "file_name", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("agency", "uploaded_by")
    list_filter = ("kind",)
    search_fields = ("agency__name", "agency__credit_code", "file_name", "=sha256")


@admin.register(AgencyQualification)
class AgencyQualificationAdmin(ReadOnlyAdmin):
    list_display = ("agency", "kind", "number", "first_granted_on", "valid_until", "file_name")
    list_select_related = ("agency",)
    list_filter = ("kind",)
    search_fields = ("agency__name", "number")


@admin.register(AgencySite)
class AgencySiteAdmin(ReadOnlyAdmin):
    list_display = ("agency", "name", "address", "region_code", "area_m2")
    list_select_related = ("agency",)
    search_fields = ("agency__name", "name", "address")


@admin.register(AgencyFacility)
class AgencyFacilityAdmin(ReadOnlyAdmin):
    list_display = ("agency", "name", "model", "quantity", "area_m2")
    list_select_related = ("agency",)
    search_fields = ("agency__name", "name", "model")


@admin.register(PersonDocument)
class PersonDocumentAdmin(ReadOnlyAdmin):
    # No ID number here: the person's name and the uploading agency say whose file it is.
    list_display = ("person", "agency", "kind", "file_name", "uploaded_at")
    list_select_related = ("person", "agency")
    list_filter = ("kind",)
    search_fields = ("person__name", "agency__name", "file_name")
