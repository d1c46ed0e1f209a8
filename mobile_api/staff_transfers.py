"""重复人员报备 endpoints (issue F9 item 6): ``/api/v1/staff/transfers``.

The new agency files a request with the departure proof (``POST``, multipart); the old agency and the
regulators of either agency's region see it; the old agency's main account or a regulator of its region
confirms or refuses it. The rules are in ``server/registry/transfers.py``.
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import AttachmentField, FilterSet, MaskedIdField, ReasonIn, parse
from mobile_api.registry import StaffIn
from server import access
from server.errors import NOT_FOUND, DomainError
from server.fields import DayField
from server.registry import transfers
from server.registry.models import TransferFiling


class TransferIn(StaffIn):
    """The new staff record, as for ``POST /staff`` (certificates excepted: a person's certificates are
    added once they are on the staff), with the date they left the old agency and the proof."""

    certificates = None
    departed_on = DayField(help_text="原单位离职时间")
    proof = AttachmentField(help_text="人员签字的离职证明（必填）")


class TransferOut(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name")
    id_number = MaskedIdField(source="person.id_number")
    from_agency = serializers.SerializerMethodField(help_text="原单位；报备方看不到（null）。")
    to_agency = serializers.CharField(source="to_agency.name")
    status_label = serializers.CharField(source="get_status_display")
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    new_employment_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = TransferFiling
        fields = [
            "id",
            "person_name",
            "id_number",
            "from_agency",
            "to_agency",
            "departed_on",
            "proof_name",
            "status",
            "status_label",
            "decision_reason",
            "decided_by",
            "decided_at",
            "new_employment_id",
            "filed_at",
        ]

    def get_from_agency(self, filing: TransferFiling) -> str | None:
        viewer = self.context["request"].user
        return filing.from_agency.name if transfers.shows_old_agency(filing, viewer) else None


class TransferFilter(FilterSet):
    class Meta:
        model = TransferFiling
        fields = ["status"]


class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = TransferFiling.objects.none()  # for the schema; requests use get_queryset
    serializer_class = TransferOut
    filterset_class = TransferFilter

    def get_queryset(self):
        return (
            access.transfers_for(self.request.user)
            .select_related("person", "from_agency", "to_agency", "decided_by")
            .order_by("-filed_at", "id")
        )

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    def _render(self, filing: TransferFiling, code: int = status.HTTP_200_OK) -> Response:
        fresh = access.get_visible(self.get_queryset(), filing.pk)
        return Response(TransferOut(fresh, context={"request": self.request}).data, status=code)

    @extend_schema(request={"multipart/form-data": TransferIn}, responses={201: TransferOut})
    def create(self, request: Request) -> Response:
        """File a request; nothing changes at the old agency until it (or a regulator) confirms."""
        agency = access.require_agency_admin(request.user)
        data = parse(TransferIn, request.data)
        filing = transfers.transfer_request(to_agency=agency, actor=request.user, **data)
        return self._render(filing, status.HTTP_201_CREATED)

    def _decide(self, request: Request, to: str) -> Response:
        filing = self.get_object()
        reason = parse(ReasonIn, request.data)["reason"]
        filing = transfers.transfer_decide(filing=filing, to=to, actor=request.user, reason=reason)
        return self._render(filing)

    @extend_schema(request=None, responses=TransferOut)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk=None) -> Response:
        """The old agency's main account or a regulator of its region: ends the old staff record and
        starts the new one."""
        return self._decide(request, TransferFiling.Status.CONFIRMED)

    @extend_schema(request=ReasonIn, responses=TransferOut)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk=None) -> Response:
        return self._decide(request, TransferFiling.Status.REFUSED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def proof(self, request: Request, pk=None) -> FileResponse:
        """The departure proof as uploaded, for those who decide."""
        filing = self.get_object()
        if not filing.proof:
            raise DomainError(NOT_FOUND)
        name = filing.proof_name or filing.proof.name.rsplit("/", 1)[-1]
        return FileResponse(filing.proof.open("rb"), as_attachment=True, filename=name)
