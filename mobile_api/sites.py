"""Where field work happens: enterprises, their outlets (with geofences) and instruments, and the
contracts between agencies and enterprises."""

from __future__ import annotations

from django.http import HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_gis.fields import GeometryField

from mobile_api.common import (
    XLSX,
    FilterSet,
    IdFilter,
    ImportIn,
    ReasonIn,
    RegionNameField,
    import_response,
    parse,
    xlsx_response,
)
from server import access
from server.accounts.models import Role
from server.accounts.services import account_create
from server.errors import PERMISSION_DENIED, DomainError
from server.fields import DayField, IdField
from server.geo import CoordinateSystem, from_wgs84
from server.registry import excel, services
from server.registry.models import Analyte, Contract, Enterprise, Instrument, Outlet, OutletKind

# --- Enterprises ----------------------------------------------------------------------------------


class EnterpriseOut(serializers.ModelSerializer):
    region_name = RegionNameField(source="region_code")
    pending_region_name = RegionNameField(source="pending_region_code")

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "credit_code",
            "name",
            "address",
            "region_code",
            "region_name",
            "pending_region_code",
            "pending_region_name",
            "contact_name",
            "contact_phone",
        ]


class EnterpriseIn(serializers.Serializer):
    credit_code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=300)
    region_code = serializers.CharField(max_length=6)
    contact_name = serializers.CharField(max_length=50, required=False, default="")
    contact_phone = serializers.CharField(max_length=30, required=False, default="")


class EnterpriseUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    address = serializers.CharField(max_length=300, required=False)
    region_code = serializers.CharField(
        max_length=6,
        required=False,
        help_text="A request to move the enterprise to another region: kept in pending_region_code "
        "until a regulator of its current region approves it (region-change/approve); sending the "
        "current code withdraws it.",
    )
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class ConfirmerIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=30, required=False, default="")


class ConfirmerOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="first_name")
    phone = serializers.CharField()
    is_active = serializers.BooleanField()


class EnterpriseFilter(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    region = filters.CharFilter(field_name="region_code", lookup_expr="startswith")

    class Meta:
        model = Enterprise
        fields = ["credit_code"]


class EnterpriseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Enterprise.objects.none()  # for the schema; requests use get_queryset
    serializer_class = EnterpriseOut
    filterset_class = EnterpriseFilter

    def get_queryset(self):
        return access.enterprises_for(self.request.user).order_by("name", "id")

    def get_object(self):
        return access.access_enterprise(self.request.user, self.kwargs["pk"])

    @extend_schema(request=EnterpriseIn, responses={201: EnterpriseOut})
    def create(self, request: Request) -> Response:
        access.require_role(request.user, {Role.PLATFORM, *access.AGENCY_ADMINS})
        enterprise = services.enterprise_create(**parse(EnterpriseIn, request.data))
        return Response(EnterpriseOut(enterprise).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EnterpriseUpdateIn, responses=EnterpriseOut)
    def partial_update(self, request: Request, pk=None) -> Response:
        enterprise = self.get_object()
        access.require_enterprise_editor(request.user, enterprise)
        enterprise = services.enterprise_update(
            enterprise=enterprise, actor=request.user, **parse(EnterpriseUpdateIn, request.data)
        )
        return Response(EnterpriseOut(enterprise).data)

    @extend_schema(request=None, responses=EnterpriseOut)
    @action(detail=True, methods=["post"], url_path="region-change/approve")
    def region_change_approve(self, request: Request, pk=None) -> Response:
        """批准行政区划变更: a regulator of the enterprise's current region applies its pending region
        code; its projects and O&M records move to the new region's regulator with it."""
        return self._decide(request, approve=True)

    @extend_schema(request=ReasonIn, responses=EnterpriseOut)
    @action(detail=True, methods=["post"], url_path="region-change/refuse")
    def region_change_refuse(self, request: Request, pk=None) -> Response:
        """不批准行政区划变更 (a reason is required): the pending region code is dropped."""
        return self._decide(request, approve=False)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        enterprise = self.get_object()
        reason = "" if approve else parse(ReasonIn, request.data)["reason"]
        enterprise = services.enterprise_region_decide(
            enterprise=enterprise, actor=request.user, approve=approve, reason=reason
        )
        return Response(EnterpriseOut(enterprise).data)

    @extend_schema(methods=["get"], responses=ConfirmerOut(many=True))
    @extend_schema(methods=["post"], request=ConfirmerIn, responses={201: ConfirmerOut})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def confirmers(self, request: Request, pk=None) -> Response:
        """The enterprise's confirmer accounts (确认人), who confirm each day's O&M records.
        Created by a platform administrator or by one of the enterprise's own confirmers."""
        enterprise = self.get_object()
        if request.user.role not in (Role.PLATFORM, Role.ENTERPRISE):
            raise DomainError(PERMISSION_DENIED)
        if request.method == "GET":
            return Response(ConfirmerOut(enterprise.confirmers.order_by("id"), many=True).data)
        data = parse(ConfirmerIn, request.data)
        user = account_create(
            username=data["username"],
            password=data["password"],
            role=Role.ENTERPRISE,
            enterprise=enterprise,
            phone=data["phone"],
            first_name=data["name"],
            created_by=request.user,
        )
        return Response(ConfirmerOut(user).data, status=status.HTTP_201_CREATED)


# --- Outlets --------------------------------------------------------------------------------------

COORDS_PARAM = OpenApiParameter(
    "coords",
    enum=[c.value for c in CoordinateSystem],
    description="Also give each position in this system (`display`), e.g. gcj02 for Chinese maps.",
)


class OutletOut(serializers.ModelSerializer):
    location = GeometryField(help_text="GeoJSON point, WGS-84.")
    given = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField()
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Outlet
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "kind",
            "name",
            "code",
            "location",
            "given",
            "display",
            "geofence_radius_m",
            "photo_thresholds",
        ]

    def get_given(self, outlet: Outlet) -> dict:
        return {
            "longitude": outlet.given_longitude,
            "latitude": outlet.given_latitude,
            "system": outlet.given_system,
        }

    def get_display(self, outlet: Outlet) -> dict | None:
        system = self.context.get("coords")
        if not system:
            return None
        lon, lat = from_wgs84(outlet.location.x, outlet.location.y, system)
        return {"longitude": round(lon, 7), "latitude": round(lat, 7), "system": system}


class PositionIn(serializers.Serializer):
    longitude = serializers.FloatField()
    latitude = serializers.FloatField()
    coordinate_system = serializers.CharField(
        max_length=8, help_text="wgs84, gcj02 (WeChat/Gaode) or bd09 (Baidu)."
    )


class OutletIn(PositionIn):
    enterprise = IdField()
    kind = serializers.ChoiceField(choices=OutletKind.choices)
    name = serializers.CharField(max_length=100)
    code = serializers.CharField(max_length=50, required=False, default="")
    geofence_radius_m = serializers.IntegerField(required=False, default=200)


class OutletUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    code = serializers.CharField(max_length=50, required=False, allow_blank=True)
    geofence_radius_m = serializers.IntegerField(required=False)
    photo_thresholds = serializers.DictField(
        required=False,
        help_text="Photo rule thresholds for this site (keys of media_rules.rules.Thresholds), "
        'e.g. {"geofence_m": 500} for a large plant.',
    )
    longitude = serializers.FloatField(required=False)
    latitude = serializers.FloatField(required=False)
    coordinate_system = serializers.CharField(max_length=8, required=False)


class OutletFilter(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Outlet
        fields = ["enterprise", "kind"]


class OutletViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Outlet.objects.none()  # for the schema; requests use get_queryset
    serializer_class = OutletOut
    filterset_class = OutletFilter

    def get_queryset(self):
        return (
            access.outlets_for(self.request.user)
            .select_related("enterprise")
            .order_by("enterprise_id", "name", "id")
        )

    def get_object(self):
        return access.access_outlet(self.request.user, self.kwargs["pk"])

    def get_serializer_context(self):
        context = super().get_serializer_context()
        coords = self.request.query_params.get("coords")
        if coords:
            from server.geo import coordinate_system

            context["coords"] = coordinate_system(coords).value
        return context

    @extend_schema(parameters=[COORDS_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[COORDS_PARAM])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=OutletIn, responses={201: OutletOut})
    def create(self, request: Request) -> Response:
        data = parse(OutletIn, request.data)
        enterprise = access.access_enterprise(request.user, data.pop("enterprise"), field="enterprise")
        access.require_enterprise_editor(request.user, enterprise)
        outlet = services.outlet_create(enterprise=enterprise, **data)
        return Response(
            OutletOut(outlet, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=OutletUpdateIn, responses=OutletOut)
    def partial_update(self, request: Request, pk=None) -> Response:
        outlet = self.get_object()
        access.require_enterprise_editor(request.user, outlet.enterprise)
        outlet = services.outlet_update(
            outlet=outlet, actor=request.user, **parse(OutletUpdateIn, request.data)
        )
        return Response(OutletOut(outlet, context=self.get_serializer_context()).data)


# --- Instruments ----------------------------------------------------------------------------------


class InstrumentOut(serializers.ModelSerializer):
    outlet_name = serializers.CharField(source="outlet.name", read_only=True)
    enterprise = serializers.IntegerField(source="outlet.enterprise_id", read_only=True)
    name = serializers.CharField(source="display_name", read_only=True, help_text="设备名称.")
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Instrument
        fields = [
            "id",
            "outlet",
            "outlet_name",
            "enterprise",
            "name",
            "kind",
            "kind_label",
            "analytes",
            "maker",
            "model",
            "serial_number",
            "range_low",
            "range_high",
            "unit",
        ]


class InstrumentIn(serializers.Serializer):
    outlet = IdField()
    kind = serializers.ChoiceField(choices=Instrument.Kind.choices)
    analytes = serializers.ListField(
        child=serializers.CharField(max_length=20), max_length=len(Analyte.values)
    )
    maker = serializers.CharField(max_length=100)
    model = serializers.CharField(max_length=100)
    serial_number = serializers.CharField(max_length=100)
    range_low = serializers.DecimalField(
        max_digits=12, decimal_places=4, required=False, allow_null=True, default=None
    )
    range_high = serializers.DecimalField(
        max_digits=12, decimal_places=4, required=False, allow_null=True, default=None
    )
    unit = serializers.CharField(max_length=20, required=False, default="")


class InstrumentUpdateIn(serializers.Serializer):
    analytes = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    model = serializers.CharField(max_length=100, required=False)
    range_low = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    range_high = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True)


class InstrumentFilter(FilterSet):
    enterprise = IdFilter(field_name="outlet__enterprise_id")

    class Meta:
        model = Instrument
        fields = ["outlet", "kind"]


class InstrumentImportIn(ImportIn):
    enterprise = IdField(help_text="排口按名称在该企业内查找。")


class InstrumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Instrument.objects.none()  # for the schema; requests use get_queryset
    serializer_class = InstrumentOut
    filterset_class = InstrumentFilter

    def get_queryset(self):
        return access.instruments_for(self.request.user).select_related("outlet").order_by("outlet_id", "id")

    def get_object(self):
        return access.access_instrument(self.request.user, self.kwargs["pk"])

    @extend_schema(request=InstrumentIn, responses={201: InstrumentOut})
    def create(self, request: Request) -> Response:
        data = parse(InstrumentIn, request.data)
        outlet = access.access_outlet(request.user, data.pop("outlet"), field="outlet")
        access.require_enterprise_editor(request.user, outlet.enterprise)
        instrument = services.instrument_create(outlet=outlet, **data)
        return Response(InstrumentOut(instrument).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InstrumentUpdateIn, responses=InstrumentOut)
    def partial_update(self, request: Request, pk=None) -> Response:
        instrument = self.get_object()
        access.require_enterprise_editor(request.user, instrument.outlet.enterprise)
        instrument = services.instrument_update(
            instrument=instrument, **parse(InstrumentUpdateIn, request.data)
        )
        return Response(InstrumentOut(instrument).data)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"])
    def template(self, request: Request) -> HttpResponse:
        """下载模板: the instrument import template."""
        return xlsx_response(excel.instrument_template(), "自动监控设备导入模板.xlsx")

    @extend_schema(request={"multipart/form-data": InstrumentImportIn}, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request: Request) -> Response:
        """导入: nothing is imported from a file with errors unless ``partial`` is true."""
        data = parse(InstrumentImportIn, request.data)
        enterprise = access.access_enterprise(request.user, data["enterprise"], field="enterprise")
        access.require_enterprise_editor(request.user, enterprise)
        report = excel.instrument_import(enterprise=enterprise, file=data["file"], partial=data["partial"])
        return import_response(report)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        """导出: the filtered list."""
        return xlsx_response(
            excel.instrument_export(self.filter_queryset(self.get_queryset())), "自动监控设备.xlsx"
        )


# --- Contracts ------------------------------------------------------------------------------------


class ContractOut(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "agency",
            "agency_name",
            "enterprise",
            "enterprise_name",
            "nature",
            "number",
            "title",
            "amount",
            "starts_on",
            "ends_on",
            "status",
            "acceptance",
            "refusal_reason",
        ]


class ContractIn(serializers.Serializer):
    enterprise = IdField()
    nature = serializers.ChoiceField(choices=Contract.Nature.choices)
    number = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    starts_on = DayField()
    ends_on = DayField()


class ContractFilter(FilterSet):
    title = filters.CharFilter(lookup_expr="icontains")
    enterprise_name = filters.CharFilter(
        field_name="enterprise__name", lookup_expr="icontains", help_text="甲方筛选: part of the name."
    )
    # The performance period (履行开始/结束) overlaps [since, until].
    since = filters.DateFilter(field_name="ends_on", lookup_expr="gte", help_text="In force on or after.")
    until = filters.DateFilter(field_name="starts_on", lookup_expr="lte", help_text="In force on or before.")

    class Meta:
        model = Contract
        fields = [
            "nature",
            "status",
            "acceptance",
            "enterprise",
            "agency",
            "enterprise_name",
            "since",
            "until",
        ]


class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Contract.objects.none()  # for the schema; requests use get_queryset
    serializer_class = ContractOut
    filterset_class = ContractFilter

    def get_queryset(self):
        return (
            access.contracts_for(self.request.user)
            .select_related("agency", "enterprise")
            .order_by("-starts_on", "id")
        )

    def get_object(self):
        return access.access_contract(self.request.user, self.kwargs["pk"])

    @extend_schema(request=ContractIn, responses={201: ContractOut})
    def create(self, request: Request) -> Response:
        agency = access.require_agency_admin(request.user)
        data = parse(ContractIn, request.data)
        # Any registered enterprise can be contracted (enterprises are shared); it need not be visible yet.
        enterprise = access.get_visible(Enterprise.objects.all(), data.pop("enterprise"), field="enterprise")
        contract = services.contract_create(agency=agency, enterprise=enterprise, actor=request.user, **data)
        return Response(ContractOut(contract).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ContractOut)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk=None) -> Response:
        """确认合同: the enterprise's account or a regulator of its region accepts a proposed contract;
        only then does it let the agency see the enterprise and register work under it."""
        return self._move(request, Contract.Acceptance.ACCEPTED, reason="")

    @extend_schema(request=ReasonIn, responses=ContractOut)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk=None) -> Response:
        """拒绝合同 (a reason is required)."""
        return self._move(
            request, Contract.Acceptance.REFUSED, reason=parse(ReasonIn, request.data)["reason"]
        )

    @extend_schema(request=None, responses=ContractOut)
    @action(detail=True, methods=["post"])
    def propose(self, request: Request, pk=None) -> Response:
        """重新提交: the agency proposes a refused contract again."""
        return self._move(request, Contract.Acceptance.PROPOSED, reason="")

    def _move(self, request: Request, to: str, *, reason: str) -> Response:
        contract = services.contract_transition(
            contract=self.get_object(), to=to, actor=request.user, reason=reason
        )
        return Response(ContractOut(contract).data)
