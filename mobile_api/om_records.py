"""O&M daily records on the phone and the web (seed 003 §2.3-§3): fill and submit, the enterprise's
days to confirm, the agency's review. Views parse and authorise; ``server/om/records.py`` decides.
The offline path is the sync operations of ``server/om/operations.py`` (same payloads, same services).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from media_rules.services import photo_data
from mobile_api.common import FilterSet, parse, parse_query
from mobile_api.exports import (
    FORMAT_PARAMETER,
    PDF,
    TABLE_RESPONSES,
    ExportIn,
    FileFormatNegotiation,
    om_records_export,
    pdf_response,
)
from mobile_api.photos import CONTENT_TYPES, open_stored
from mobile_api.tracks import CheckInOut
from server import access
from server.errors import NOT_FOUND, DomainError
from server.fields import DayField, IdField, check_day
from server.om import forms, printing
from server.om.models import ConfirmedVersion, OmRecord, OmRecordEvent, OmRecordVersion, ReviewedVersion
from server.om.operations import (
    DayConfirmPayload,
    RecordSavePayload,
    ReviewPayload,
    confirm_day,
    review_records,
    save_record,
)


def _device(request: Request):
    token = getattr(request, "device_token", None)
    return token.device if token is not None else None


class RecordRowOut(serializers.ModelSerializer):
    template = serializers.CharField(source="template.code")
    template_name = serializers.CharField(source="template.name")
    outlet_name = serializers.CharField(source="outlet.name")
    filled_by_name = serializers.CharField(source="filled_by.person.name", default="")
    longitude = serializers.FloatField(source="start_checkin.location.x", default=None)
    latitude = serializers.FloatField(source="start_checkin.location.y", default=None)
    instrument_names = serializers.SerializerMethodField()

    class Meta:
        model = OmRecord
        fields = [
            "id",
            "task",
            "outlet",
            "outlet_name",
            "template",
            "template_name",
            "status",
            "version",
            "om_date",
            "filled_by",
            "filled_by_name",
            "longitude",
            "latitude",
            "instrument_names",
            "submitted_at",
            "void_reason",
        ]

    def get_instrument_names(self, record: OmRecord) -> list[str]:
        return [f"{i.get_kind_display()} {i.model}" for i in record.instruments.all()]


def record_detail(record: OmRecord) -> dict:
    """The record as the seed's 表单详情 shows it, with the evidence behind it."""
    instruments = list(record.instruments.all())
    return {
        **RecordRowOut(record).data,
        "template_version": record.template.version,
        "groups": record.groups,
        "answers": record.answers,
        "judgements": record.judgements,
        "sections": forms.present(record.template, record.answers, record.judgements, instruments),
        "instruments": [
            {
                "id": i.pk,
                "kind": i.kind,
                "model": i.model,
                "serial_number": i.serial_number,
                "analytes": i.analytes,
            }
            for i in instruments
        ],
        "start_checkin": CheckInOut(record.start_checkin).data if record.start_checkin else None,
        "end_checkin": CheckInOut(record.end_checkin).data if record.end_checkin else None,
        "work_photo": photo_data(record.work_photo) if record.work_photo else None,
        "signature": record.signature_id,
        "versions": [
            {"number": v.number, "saved_at": v.saved_at, "saved_by": v.saved_by_id, "note": v.note}
            for v in record.versions.all()
        ],
        "events": [
            {"from": e.from_status, "to": e.to_status, "actor": e.actor_id, "reason": e.reason, "at": e.at}
            for e in record.events.all()
        ],
        "confirmations": [
            {
                "confirmation": str(c.confirmation_id),
                "version": c.version,
                "at": c.confirmation.at,
                "by": c.confirmation.actor_id,
                "invalidated_at": c.invalidated_at,
                "invalidated_by_version": c.invalidated_by_version,
            }
            for c in record.confirmations.all()
        ],
        "reviews": [
            {
                "review": str(r.review_id),
                "version": r.version,
                "decision": r.review.decision,
                "reason": r.review.reason,
                "at": r.review.at,
                "by": r.review.actor_id,
            }
            for r in record.reviews.all()
        ],
    }


class RecordFilter(FilterSet):
    om_date = filters.DateFilter()
    since = filters.DateFilter(field_name="om_date", lookup_expr="gte")
    until = filters.DateFilter(field_name="om_date", lookup_expr="lte")
    template = filters.CharFilter(field_name="template__code")

    class Meta:
        model = OmRecord
        fields = ["task", "outlet", "status", "enterprise", "om_date", "template"]


class RecordSaveIn(RecordSavePayload):
    id = serializers.UUIDField(help_text="The record's id, made by the phone.")


class OmRecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """O&M records (运维记录)."""

    queryset = OmRecord.objects.none()  # for the schema; requests use get_queryset
    serializer_class = RecordRowOut
    filterset_class = RecordFilter

    def get_queryset(self):
        return (
            access.om_records_for(self.request.user)
            .select_related("template", "outlet", "filled_by__person", "start_checkin")
            .prefetch_related("instruments")
            .order_by("-om_date", "-created_at")
        )

    def _detail(self, pk) -> dict:
        qs = (
            self.get_queryset()
            .select_related("end_checkin", "work_photo__photo_type", "work_photo__blob", "enterprise")
            .prefetch_related(
                Prefetch("versions", queryset=OmRecordVersion.objects.order_by("number")),
                Prefetch("events", queryset=OmRecordEvent.objects.order_by("at", "id")),
                Prefetch("confirmations", queryset=ConfirmedVersion.objects.select_related("confirmation")),
                Prefetch("reviews", queryset=ReviewedVersion.objects.select_related("review")),
            )
        )
        return record_detail(access.get_visible(qs, pk))

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(self._detail(pk))

    @extend_schema(
        request=RecordSaveIn,
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
        description=(
            "Fill (draft), submit (submit: true, after the end check-in, with the work photo and a "
            "handwritten signature) or edit a record. The same content again changes nothing (200). "
            "An edit of a record the enterprise confirmed makes a new version, takes it back to 待企业确认 "
            "and lists the confirmations it invalidated in confirmation_invalidated. "
            "Offline: the om_record.save operation."
        ),
    )
    def create(self, request: Request) -> Response:
        data = parse(RecordSaveIn, request.data)
        saved = save_record(user=request.user, device=_device(request), record_id=data["id"], data=data)
        body = {**self._detail(saved.record.pk), "confirmation_invalidated": saved.invalidated}
        return Response(body, status=status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)")
    def version(self, request: Request, pk=None, number=None) -> Response:
        record = access.get_visible(self.get_queryset(), pk)
        v = OmRecordVersion.objects.filter(record=record, number=number).first()
        if v is None:
            raise DomainError(NOT_FOUND)
        return Response(
            {
                "number": v.number,
                "groups": v.groups,
                "instrument_ids": v.instrument_ids,
                "answers": v.answers,
                "judgements": v.judgements,
                "saved_at": v.saved_at,
                "saved_by": v.saved_by_id,
                "note": v.note,
            }
        )

    @extend_schema(responses={(200, "image/png"): bytes})
    @action(detail=True, methods=["get"])
    def signature(self, request: Request, pk=None) -> FileResponse:
        record = access.get_visible(self.get_queryset(), pk)
        if record.signature is None:
            raise DomainError(NOT_FOUND)
        blob = record.signature
        return FileResponse(open_stored(blob), content_type=CONTENT_TYPES.get(blob.format))

    @extend_schema(
        responses={(200, PDF): OpenApiTypes.BINARY},
        description="打印: the record as the signed form (PDF, A4): the template's sections with the "
        "answers and the computed judgements (value, limit, 合格/不合格, 待核实, clause), the check-ins "
        "(time, distance to the point), the technician's signature and work photo, the enterprise's "
        "confirmations and the agency's reviews with their signers, times, signatures and photos. "
        "Whoever sees the record may print it; anyone else gets 404.",
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileFormatNegotiation)
    def pdf(self, request: Request, pk=None) -> HttpResponse:
        doc = printing.printable(request.user, pk)
        return pdf_response(printing.record_pdf(doc), printing.filename(doc.record))

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=TABLE_RESPONSES, filters=True)
    @action(detail=False, methods=["get"], content_negotiation_class=FileFormatNegotiation)
    def export(self, request: Request) -> HttpResponse | StreamingHttpResponse:
        """导出: the records the list shows for the same filters, as Excel or CSV, each with its answers
        (by item label) and its computed judgements (value, limit, 合格/不合格, 待核实, clause). The
        workbook adds a sheet of answers and one of judgements, one row each."""
        file_format = parse_query(ExportIn, request.query_params)["format"]
        records = self.filter_queryset(self.get_queryset().select_related("task", "enterprise"))
        return om_records_export(records.iterator(chunk_size=500), file_format)


class DaysView(APIView):
    """The enterprise's days to confirm (待确认日期): each day with records awaiting confirmation."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "OmDayOut",
                {
                    "date": DayField(),
                    "enterprise": serializers.IntegerField(),
                    "records": serializers.IntegerField(),
                },
                many=True,
            )
        }
    )
    def get(self, request: Request) -> Response:
        rows = (
            access.om_records_for(request.user)
            .filter(status=OmRecord.Status.SUBMITTED)
            .values("enterprise", "om_date")
            .annotate(records=Count("id"))
            .order_by("om_date", "enterprise")
        )
        return Response(
            [{"date": r["om_date"], "enterprise": r["enterprise"], "records": r["records"]} for r in rows]
        )


class DayQuery(serializers.Serializer):
    enterprise = IdField(required=False, help_text="One enterprise's records only.")


class DayView(APIView):
    """One day's records awaiting confirmation, in detail, for the confirmer to check."""

    @extend_schema(parameters=[DayQuery], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, date: str) -> Response:
        day = _date(date)
        qs = (
            access.om_records_for(request.user)
            .filter(status=OmRecord.Status.SUBMITTED, om_date=day)
            .select_related(
                "template",
                "outlet",
                "filled_by",
                "start_checkin",
                "end_checkin",
                "work_photo__photo_type",
                "work_photo__blob",
            )
            .prefetch_related("instruments", "versions", "events", "confirmations", "reviews")
            .order_by("created_at")
        )
        enterprise = parse_query(DayQuery, request.query_params).get("enterprise")
        if enterprise is not None:
            qs = qs.filter(enterprise_id=enterprise)
        return Response({"date": day, "records": [record_detail(r) for r in qs]})


class DayConfirmIn(DayConfirmPayload):
    id = serializers.UUIDField(help_text="The confirmation's id, made by the phone.")


class DayConfirmView(APIView):
    @extend_schema(
        request=DayConfirmIn,
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
        description=(
            "The enterprise confirms the day's records (签字确认 with a work photo), at the versions it saw. "
            "Records edited since are listed in stale and stay to be confirmed. Offline: om_day.confirm."
        ),
    )
    def post(self, request: Request) -> Response:
        data = parse(DayConfirmIn, request.data)
        done = confirm_day(user=request.user, device=_device(request), confirmation_id=data["id"], data=data)
        body = {
            "id": str(done.confirmation.pk),
            "date": done.confirmation.om_date,
            "confirmed": done.confirmed,
            "stale": done.stale,
        }
        return Response(body, status=status.HTTP_201_CREATED if done.created else status.HTTP_200_OK)


class ReviewIn(ReviewPayload):
    id = serializers.UUIDField(help_text="The review's id, made by the phone.")


class ReviewView(APIView):
    @extend_schema(
        request=ReviewIn,
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
        description=(
            "The agency's reviewer confirms or voids enterprise-confirmed records, one or a batch (all or "
            "none), with a signature and a work photo. The filler of a record cannot review it. "
            "Offline: om_record.review."
        ),
    )
    def post(self, request: Request) -> Response:
        data = parse(ReviewIn, request.data)
        review, created = review_records(
            user=request.user, device=_device(request), review_id=data["id"], data=data
        )
        body = {
            "id": str(review.pk),
            "decision": review.decision,
            "reason": review.reason,
            "records": [str(i.record_id) for i in review.items.all()],
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _date(value: str) -> dt.date:
    try:
        return check_day(dt.date.fromisoformat(value))
    except (ValueError, serializers.ValidationError):  # no such day, or none the API takes
        raise DomainError(NOT_FOUND) from None
