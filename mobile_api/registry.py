"""Registry endpoints: agencies and their filing, sub-accounts, staff and certificates.

Each view parses with an input serializer, fetches through ``server.access``, calls one service
and renders with an output serializer. Enterprises, outlets, instruments and contracts are in
``mobile_api/sites.py``.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.http import FileResponse, HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import (
    XLSX,
    AttachmentField,
    FilterSet,
    ImportIn,
    MaskedIdField,
    ReasonIn,
    RegionNameField,
    RegisterThrottle,
    import_response,
    parse,
    xlsx_response,
)
from server import access
from server.accounts import services as account_services
from server.accounts.models import Role, User
from server.errors import NOT_FOUND, DomainError
from server.fields import DayField, IdField
from server.registry import dossier, excel, services
from server.registry import errors as registry_errors
from server.registry.identifiers import validate_resident_id
from server.registry.models import (
    Agency,
    AgencyDocument,
    AgencyFacility,
    AgencyFilingEvent,
    AgencyNature,
    AgencyQualification,
    AgencySite,
    Certificate,
    Employment,
    MonitoringCategory,
    OmCategory,
    Person,
    PersonDocument,
    Post,
)

# --- Agencies -------------------------------------------------------------------------------------


class AgencyOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    filing_status_label = serializers.CharField(source="get_filing_status_display", read_only=True)
    region_name = RegionNameField(source="region_code")

    class Meta:
        model = Agency
        fields = [
            "id",
            "credit_code",
            "name",
            "kind",
            "kind_label",
            "nature",
            "monitoring_categories",
            "om_categories",
            "legal_representative",
            "legal_representative_phone",
            "contact_name",
            "contact_phone",
            "address",
            "region_code",
            "region_name",
            "filing_status",
            "filing_status_label",
            "return_reason",
            "pending_changes",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "pending_changes": {
                "help_text": "待审变更：已提交、待监管方审核的备案字段新值（机构名称、机构类别、法定代表人、"
                "运维类别、监测类别；seed 001 §3.3）。"
            }
        }

    monitoring_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=MonitoringCategory.choices),
        help_text="监测类别（已备案的值）。",
    )
    om_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=OmCategory.choices), help_text="运维类别（已备案的值）。"
    )


class AgencyRegisterIn(serializers.Serializer):
    credit_code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Agency.Kind.choices)
    legal_representative = serializers.CharField(max_length=50)
    legal_representative_phone = serializers.CharField(max_length=30, required=False, default="")
    contact_name = serializers.CharField(max_length=50, required=False, default="")
    contact_phone = serializers.CharField(max_length=30, required=False, default="")
    address = serializers.CharField(max_length=300)
    region_code = serializers.CharField(max_length=6)
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    phone = serializers.CharField(max_length=30, required=False, default="")


class AgencyUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=Agency.Kind.choices, required=False)
    nature = serializers.ChoiceField(choices=AgencyNature.choices, required=False, allow_blank=True)
    monitoring_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=MonitoringCategory.choices),
        required=False,
        help_text="监测类别，可多选；已备案机构的变更待审查通过后生效。",
    )
    om_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=OmCategory.choices),
        required=False,
        help_text="运维类别，可多选；已备案机构的变更待审查通过后生效。",
    )
    legal_representative = serializers.CharField(max_length=50, required=False)
    legal_representative_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False)
    region_code = serializers.CharField(max_length=6, required=False)


class FilingEventOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = AgencyFilingEvent
        fields = ["from_status", "to_status", "actor", "reason", "at"]


AGENCY_CAPABILITIES = {
    # 检测能力 / 运维能力 (seed 003 §4.2 机构查询): read from the agency's kind; 检测运维机构 has both.
    "monitoring": (Agency.Kind.MONITORING, Agency.Kind.BOTH),
    "om": (Agency.Kind.OM, Agency.Kind.BOTH),
}


class AgencyFilter(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    region = filters.CharFilter(field_name="region_code", lookup_expr="startswith")
    keyword = filters.CharFilter(
        method="filter_keyword", help_text="关键字: part of the name, the credit code or the contact's name."
    )
    capability = filters.ChoiceFilter(
        choices=[("monitoring", "检测能力"), ("om", "运维能力")],
        method="filter_capability",
        help_text="monitoring: 监测机构 and 检测运维机构; om: 运维机构 and 检测运维机构.",
    )

    class Meta:
        model = Agency
        fields = ["kind", "filing_status", "credit_code", "capability", "keyword"]

    def filter_keyword(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(credit_code__icontains=value) | Q(contact_name__icontains=value)
        )

    def filter_capability(self, queryset, name, value):
        return queryset.filter(kind__in=AGENCY_CAPABILITIES[value])


# --- The filing dossier (seed 001 §3.1; server/registry/dossier.py) -----------------------------------
FILE_FIELDS = ["file_name", "size", "sha256", "uploaded_at"]


class AgencyDocumentOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = AgencyDocument
        fields = ["id", "kind", "kind_label", "note", *FILE_FIELDS]


class AgencyDocumentIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgencyDocument.Kind.choices)
    file = AttachmentField(help_text="PDF、JPG 或 PNG。")
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class QualificationOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    has_file = serializers.SerializerMethodField(help_text="是否上传了证书扫描件。")

    class Meta:
        model = AgencyQualification
        fields = [
            "id",
            "kind",
            "kind_label",
            "number",
            "scope",
            "issuer",
            "first_granted_on",
            "valid_until",
            *FILE_FIELDS,
            "has_file",
        ]

    def get_has_file(self, row) -> bool:
        return bool(row.file)


class QualificationIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgencyQualification.Kind.choices)
    number = serializers.CharField(max_length=64)
    scope = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    issuer = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    first_granted_on = DayField(required=False, allow_null=True, default=None)
    valid_until = DayField(required=False, allow_null=True, default=None)
    file = AttachmentField(required=False, allow_null=True, default=None, help_text="CMA 证书须上传扫描件。")


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgencySite
        fields = ["id", "name", "address", "region_code", "area_m2"]
        read_only_fields = ["id"]


class FacilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = AgencyFacility
        fields = ["id", "name", "model", "quantity", "area_m2"]
        read_only_fields = ["id"]


class DossierOut(serializers.Serializer):
    missing = serializers.ListField(
        child=serializers.ChoiceField(choices=list(dossier.MISSING_LABELS)),
        help_text="提交前还缺的材料（空：可以提交）；与 filing_incomplete 错误的 details.missing 相同。",
    )
    documents = AgencyDocumentOut(many=True)
    qualifications = QualificationOut(many=True)
    sites = SiteSerializer(many=True)
    facilities = FacilitySerializer(many=True)


def _stored_file(row) -> FileResponse:
    if not row.file:
        raise DomainError(NOT_FOUND)
    handle, content_type = dossier.open_stored(row)
    return FileResponse(
        handle, as_attachment=True, filename=row.file_name or "file", content_type=content_type
    )


# Served as the type the content was recognised as at upload (PDF, JPEG or PNG).
BINARY_FILE = {
    (200, media_type): OpenApiTypes.BINARY
    for media_type in (*dossier.CONTENT_TYPES.values(), "application/octet-stream")
}


class AgencyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Agency.objects.none()  # for the schema; requests use get_queryset
    serializer_class = AgencyOut
    filterset_class = AgencyFilter

    def get_queryset(self):
        return access.agencies_for(self.request.user).order_by("name", "id")

    def get_object(self):
        return access.access_agency(self.request.user, self.kwargs["pk"])

    @extend_schema(request=AgencyRegisterIn, responses={201: AgencyOut}, auth=[])
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[AllowAny],
        authentication_classes=[],
        throttle_classes=[RegisterThrottle],
    )
    def register(self, request: Request) -> Response:
        """First registration (新用户注册): a draft agency and its main account."""
        agency, _ = services.agency_register(**parse(AgencyRegisterIn, request.data))
        return Response(AgencyOut(agency).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AgencyUpdateIn, responses=AgencyOut)
    def partial_update(self, request: Request, pk=None) -> Response:
        agency = self.get_object()
        access.require_agency_admin(request.user, agency)
        data = parse(AgencyUpdateIn, request.data)
        return Response(AgencyOut(services.agency_update(agency=agency, actor=request.user, **data)).data)

    def _transition(self, request: Request, to: str) -> Response:
        agency = self.get_object()
        reason = parse(ReasonIn, request.data)["reason"]
        agency = services.agency_transition(agency=agency, to=to, actor=request.user, reason=reason)
        return Response(AgencyOut(agency).data)

    @extend_schema(request=None, responses=AgencyOut)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk=None) -> Response:
        return self._transition(request, Agency.FilingStatus.SUBMITTED)

    @extend_schema(request=None, responses=AgencyOut)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        return self._transition(request, Agency.FilingStatus.APPROVED)

    @extend_schema(request=ReasonIn, responses=AgencyOut)
    @action(detail=True, methods=["post"], url_path="return")
    def return_filing(self, request: Request, pk=None) -> Response:
        return self._transition(request, Agency.FilingStatus.RETURNED)

    @extend_schema(request=None, responses=AgencyOut)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        return self._transition(request, Agency.FilingStatus.CANCELLED)

    @extend_schema(responses=FilingEventOut(many=True))
    @action(detail=True, methods=["get"], url_path="filing-events", pagination_class=None)
    def filing_events(self, request: Request, pk=None) -> Response:
        agency = self.get_object()
        events = agency.filing_events.select_related("actor").order_by("at", "id")
        return Response(FilingEventOut(events, many=True).data)

    # The dossier: read by the agency, the regulators of its region and platform staff; changed by
    # the agency's main and manager accounts while the filing is open (server/registry/dossier.py).
    def _dossier_agency(self) -> Agency:
        return access.get_visible(access.dossier_agencies_for(self.request.user), self.kwargs["pk"])

    def _own_agency(self) -> Agency:
        agency = self._dossier_agency()
        access.require_agency_admin(self.request.user, agency)
        return agency

    @extend_schema(responses=DossierOut)
    @action(detail=True, methods=["get"], pagination_class=None)
    def dossier(self, request: Request, pk=None) -> Response:
        """备案材料: documents, qualification certificates, branch sites, equipment, and what is still
        missing for submission."""
        agency = self._dossier_agency()
        return Response(
            DossierOut(
                {
                    "missing": dossier.missing_for_submission(agency),
                    "documents": agency.documents.order_by("kind", "uploaded_at", "id"),
                    "qualifications": agency.qualifications.order_by("kind", "id"),
                    "sites": agency.sites.order_by("id"),
                    "facilities": agency.facilities.order_by("id"),
                }
            ).data
        )

    @extend_schema(request={"multipart/form-data": AgencyDocumentIn}, responses={201: AgencyDocumentOut})
    @action(detail=True, methods=["post"], url_path="documents", parser_classes=[MultiPartParser])
    def document_add(self, request: Request, pk=None) -> Response:
        agency = self._own_agency()
        data = parse(AgencyDocumentIn, request.data)
        row = dossier.document_add(
            agency=agency, kind=data["kind"], upload=data["file"], note=data["note"], actor=request.user
        )
        return Response(AgencyDocumentOut(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=BINARY_FILE)
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_id>\d+)/file")
    def document_file(self, request: Request, pk=None, document_id=None) -> FileResponse:
        agency = self._dossier_agency()
        return _stored_file(access.get_visible(agency.documents.all(), document_id))

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"documents/(?P<document_id>\d+)")
    def document_delete(self, request: Request, pk=None, document_id=None) -> Response:
        agency = self._own_agency()
        row = access.get_visible(agency.documents.all(), document_id)
        dossier.document_delete(document=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request={"multipart/form-data": QualificationIn}, responses={201: QualificationOut})
    @action(detail=True, methods=["post"], url_path="qualifications", parser_classes=[MultiPartParser])
    def qualification_add(self, request: Request, pk=None) -> Response:
        agency = self._own_agency()
        data = parse(QualificationIn, request.data)
        row = dossier.qualification_add(agency=agency, upload=data.pop("file"), actor=request.user, **data)
        return Response(QualificationOut(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=BINARY_FILE)
    @action(detail=True, methods=["get"], url_path=r"qualifications/(?P<qualification_id>\d+)/file")
    def qualification_file(self, request: Request, pk=None, qualification_id=None) -> FileResponse:
        agency = self._dossier_agency()
        return _stored_file(access.get_visible(agency.qualifications.all(), qualification_id))

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"qualifications/(?P<qualification_id>\d+)")
    def qualification_delete(self, request: Request, pk=None, qualification_id=None) -> Response:
        agency = self._own_agency()
        row = access.get_visible(agency.qualifications.all(), qualification_id)
        dossier.qualification_delete(qualification=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SiteSerializer, responses={201: SiteSerializer})
    @action(detail=True, methods=["post"], url_path="sites")
    def site_add(self, request: Request, pk=None) -> Response:
        agency = self._own_agency()
        data = parse(SiteSerializer, request.data)
        row = dossier.site_add(agency=agency, actor=request.user, **data)
        return Response(SiteSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"sites/(?P<site_id>\d+)")
    def site_delete(self, request: Request, pk=None, site_id=None) -> Response:
        agency = self._own_agency()
        dossier.site_delete(site=access.get_visible(agency.sites.all(), site_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=FacilitySerializer, responses={201: FacilitySerializer})
    @action(detail=True, methods=["post"], url_path="facilities")
    def facility_add(self, request: Request, pk=None) -> Response:
        agency = self._own_agency()
        data = parse(FacilitySerializer, request.data)
        row = dossier.facility_add(agency=agency, actor=request.user, **data)
        return Response(FacilitySerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"facilities/(?P<facility_id>\d+)")
    def facility_delete(self, request: Request, pk=None, facility_id=None) -> Response:
        agency = self._own_agency()
        row = access.get_visible(agency.facilities.all(), facility_id)
        dossier.facility_delete(facility=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Sub-accounts ---------------------------------------------------------------------------------


class AccountOut(serializers.ModelSerializer):
    # Plain text: the model's validator becomes a pattern whose \w is ASCII to a JSON-schema reader,
    # and 待审核 is a username the server takes (the fuzzer found the answer contradicting the schema).
    username = serializers.CharField(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    person_name = serializers.CharField(source="person.name", default=None, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "role", "role_label", "person_name", "phone", "is_active", "date_joined"]


class AccountIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    role = serializers.ChoiceField(choices=[Role.AGENCY_MANAGER, Role.AGENCY_REVIEWER, Role.AGENCY_FIELD])
    employment_id = IdField(required=False, help_text="现场人员/审核人员所对应的技术人员记录。")
    phone = serializers.CharField(max_length=30, required=False, default="")


class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The accounts under an agency's main account (子账号管理, seed 001 §3.7.2)."""

    queryset = User.objects.none()  # for the schema; requests use get_queryset
    serializer_class = AccountOut

    def get_queryset(self):
        access.require_role(self.request.user, access.AGENCY_ADMINS)
        return (
            User.objects.filter(agency_id=self.request.user.agency_id).select_related("person").order_by("id")
        )

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(request=AccountIn, responses={201: AccountOut})
    def create(self, request: Request) -> Response:
        access.require_role(request.user, {Role.AGENCY_MAIN})
        data = parse(AccountIn, request.data)
        person = None
        if "employment_id" in data:
            person = access.access_employment(
                request.user, data["employment_id"], field="employment_id"
            ).person
        user = account_services.sub_account_create(
            main=request.user,
            username=data["username"],
            password=data["password"],
            role=data["role"],
            person=person,
            phone=data["phone"],
        )
        return Response(AccountOut(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AccountOut)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        access.require_role(request.user, {Role.AGENCY_MAIN})
        user = account_services.account_close(user=self.get_object(), actor=request.user)
        return Response(AccountOut(user).data)


# --- Staff and certificates -----------------------------------------------------------------------


class PostOut(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["code", "name", "requires_certificate", "field_work"]


class CertificateOut(serializers.ModelSerializer):
    post = serializers.CharField(source="post.code")
    post_name = serializers.CharField(source="post.name")

    class Meta:
        model = Certificate
        fields = ["id", "post", "post_name", "number", "issuer", "valid_from", "valid_until"]


class PersonOut(serializers.ModelSerializer):
    id_number = MaskedIdField()

    class Meta:
        model = Person
        fields = ["id", "name", "id_number", "gender", "birth_date", "phone"]


class EmploymentOut(serializers.ModelSerializer):
    person = PersonOut()
    agency = serializers.CharField(source="agency.name")
    posts = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    certificates = CertificateOut(source="person.certificates", many=True)

    class Meta:
        model = Employment
        fields = [
            "id",
            "person",
            "agency",
            "status",
            "education",
            "major",
            "title",
            "position",
            "relation",
            "posts",
            "certificates",
            "hired_on",
            "departed_on",
        ]


class CertificateIn(serializers.Serializer):
    post_code = serializers.SlugField()
    number = serializers.CharField(max_length=64)
    issuer = serializers.CharField(max_length=100, required=False, default="")
    valid_from = DayField()
    valid_until = DayField()


class StaffIn(serializers.Serializer):
    id_number = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=30, required=False, default="")
    education = serializers.ChoiceField(choices=Employment.Education.choices)
    major = serializers.CharField(max_length=100, required=False, default="")
    title = serializers.ChoiceField(choices=Employment.Title.choices, default=Employment.Title.NONE)
    position = serializers.CharField(max_length=50, required=False, default="")
    relation = serializers.ChoiceField(
        choices=Employment.Relation.choices, default=Employment.Relation.EMPLOYEE
    )
    posts = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    hired_on = DayField()
    certificates = CertificateIn(many=True, required=False, default=list)


class StaffUpdateIn(serializers.Serializer):
    education = serializers.ChoiceField(choices=Employment.Education.choices, required=False)
    major = serializers.CharField(max_length=100, required=False, allow_blank=True)
    title = serializers.ChoiceField(choices=Employment.Title.choices, required=False)
    position = serializers.CharField(max_length=50, required=False, allow_blank=True)
    relation = serializers.ChoiceField(choices=Employment.Relation.choices, required=False)
    posts = serializers.ListField(child=serializers.SlugField(), required=False)


class DepartIn(serializers.Serializer):
    departed_on = DayField()


class PersonDocumentOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = PersonDocument
        fields = ["id", "kind", "kind_label", "note", *FILE_FIELDS]


class PersonDocumentIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PersonDocument.Kind.choices)
    file = AttachmentField(help_text="PDF、JPG 或 PNG。")
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class StaffSearchIn(serializers.Serializer):
    id_number = serializers.CharField(max_length=32, help_text="完整的 18 位身份证号。")


class StaffFilter(FilterSet):
    # No id_number here: a query string is logged whole (F9 item 11); POST /staff/search takes it.
    name = filters.CharFilter(field_name="person__name", lookup_expr="icontains")
    post = filters.CharFilter(field_name="posts__code")
    gender = filters.ChoiceFilter(field_name="person__gender", choices=Person.Gender.choices)

    class Meta:
        model = Employment
        fields = ["status", "title", "education"]


class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Technical staff (技术人员) of the user's agency, with their certificates."""

    queryset = Employment.objects.none()  # for the schema; requests use get_queryset
    serializer_class = EmploymentOut
    filterset_class = StaffFilter

    def get_queryset(self):
        return (
            access.employments_for(self.request.user)
            .select_related("person", "agency")
            .prefetch_related(
                "posts",
                Prefetch("person__certificates", queryset=Certificate.objects.select_related("post")),
            )
            .order_by("person__name", "id")
        )

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if "id_number" in request.query_params:
            # URLs end up in access logs and browser histories (F9 item 11): refuse, and say where to go.
            raise DomainError(registry_errors.ID_NUMBER_IN_QUERY)

    def _fresh(self, employment: Employment) -> Response:
        return Response(EmploymentOut(access.get_visible(self.get_queryset(), employment.pk)).data)

    @extend_schema(request=StaffIn, responses={201: EmploymentOut})
    def create(self, request: Request) -> Response:
        agency = access.require_agency_admin(request.user)
        data = parse(StaffIn, request.data)
        employment = services.staff_hire(agency=agency, **data)
        response = self._fresh(employment)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=StaffUpdateIn, responses=EmploymentOut)
    def partial_update(self, request: Request, pk=None) -> Response:
        employment = self.get_object()
        access.require_agency_admin(request.user, employment.agency)
        employment = services.staff_update(employment=employment, **parse(StaffUpdateIn, request.data))
        return self._fresh(employment)

    @extend_schema(request=DepartIn, responses=EmploymentOut)
    @action(detail=True, methods=["post"])
    def depart(self, request: Request, pk=None) -> Response:
        employment = self.get_object()
        access.require_agency_admin(request.user, employment.agency)
        employment = services.staff_depart(employment=employment, **parse(DepartIn, request.data))
        return self._fresh(employment)

    @extend_schema(request=CertificateIn, responses={201: CertificateOut})
    @action(detail=True, methods=["post"])
    def certificates(self, request: Request, pk=None) -> Response:
        employment = self.get_object()
        access.require_agency_admin(request.user, employment.agency)
        certificate = services.certificate_add(person=employment.person, **parse(CertificateIn, request.data))
        return Response(CertificateOut(certificate).data, status=status.HTTP_201_CREATED)

    # A person's documents (人员材料): the current employer and its region's regulators only.
    def _person_documents(self, employment: Employment):
        return access.person_documents_for(self.request.user).filter(person_id=employment.person_id)

    @extend_schema(methods=["GET"], responses=PersonDocumentOut(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": PersonDocumentIn},
        responses={201: PersonDocumentOut},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="documents",
        parser_classes=[MultiPartParser],
        pagination_class=None,
        filterset_class=None,
    )
    def documents(self, request: Request, pk=None) -> Response:
        employment = self.get_object()
        if request.method == "GET":
            rows = self._person_documents(employment).order_by("kind", "uploaded_at", "id")
            return Response(PersonDocumentOut(rows, many=True).data)
        access.require_agency_admin(request.user, employment.agency)
        data = parse(PersonDocumentIn, request.data)
        row = dossier.person_document_add(
            person=employment.person,
            kind=data["kind"],
            upload=data["file"],
            note=data["note"],
            actor=request.user,
        )
        return Response(PersonDocumentOut(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=BINARY_FILE)
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_id>\d+)/file")
    def document_file(self, request: Request, pk=None, document_id=None) -> FileResponse:
        employment = self.get_object()
        return _stored_file(access.get_visible(self._person_documents(employment), document_id))

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"documents/(?P<document_id>\d+)")
    def document_delete(self, request: Request, pk=None, document_id=None) -> Response:
        employment = self.get_object()
        access.require_agency_admin(request.user, employment.agency)
        row = access.get_visible(self._person_documents(employment), document_id)
        dossier.person_document_delete(document=row, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=StaffSearchIn, responses=EmploymentOut(many=True))
    @action(detail=False, methods=["post"])
    def search(self, request: Request) -> Response:
        """Find staff by a whole ID number, sent in the body (never in a URL); the list's other
        filters apply from the query string."""
        number = validate_resident_id(parse(StaffSearchIn, request.data)["id_number"])
        queryset = self.filter_queryset(self.get_queryset()).filter(person__id_number=number)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(EmploymentOut(page, many=True).data)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"])
    def template(self, request: Request) -> HttpResponse:
        """下载模板: the staff import template, with drop-downs and notes."""
        return xlsx_response(excel.staff_template(), "技术人员导入模板.xlsx")

    @extend_schema(request={"multipart/form-data": ImportIn}, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request: Request) -> Response:
        """导入: nothing is imported from a file with errors unless ``partial`` is true."""
        agency = access.require_agency_admin(request.user)
        data = parse(ImportIn, request.data)
        return import_response(excel.staff_import(agency=agency, file=data["file"], partial=data["partial"]))

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        """导出: the filtered list; ID numbers masked like everywhere else."""
        queryset = self.filter_queryset(self.get_queryset())
        return xlsx_response(excel.staff_export(queryset), "技术人员.xlsx")


class PostViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The post catalogue and which posts need a competency certificate."""

    serializer_class = PostOut
    queryset = Post.objects.order_by("id")
    pagination_class = None
