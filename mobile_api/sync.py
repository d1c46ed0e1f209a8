"""Offline sync endpoints: push, pull, reconcile, limits, and a device's sync state."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from media_rules.holders import tenant_of
from media_rules.intake import media_status
from mobile_api.common import parse, parse_query
from server import access
from server.accounts.models import Device, Role
from server.errors import DomainError, request_language
from server.fields import MAX_ID, InstantField
from sync import engine, errors
from sync.models import DeviceSyncState, Operation
from sync.operations import op_types
from sync.pull import pull, reconcile


class OpIn(serializers.Serializer):
    op_id = serializers.UUIDField()
    seq = serializers.IntegerField(
        min_value=1, help_text="Position in the device's queue: 1, 2, 3… never reused."
    )
    type = serializers.CharField(max_length=64)
    entity_id = serializers.CharField(max_length=64, help_text="Client UUID for objects created offline.")
    base_version = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, required=False, allow_null=True, default=None
    )
    device_time = InstantField(help_text="When the phone recorded it, by its own clock.")
    payload = serializers.DictField(required=False, default=dict)


class PushIn(serializers.Serializer):
    device_id = serializers.UUIDField()
    device_time = InstantField(help_text="The phone's clock when it sends this push.")
    ops = OpIn(many=True, allow_empty=True)

    def validate(self, attrs):
        ops = attrs["ops"]
        if len({o["op_id"] for o in ops}) != len(ops) or len({o["seq"] for o in ops}) != len(ops):
            raise DomainError(errors.DUPLICATE_IN_BATCH)
        return attrs


class LimitsOut(serializers.Serializer):
    max_ops = serializers.IntegerField()
    max_bytes = serializers.IntegerField()
    pull_max_rows = serializers.IntegerField()
    pull_max_bytes = serializers.IntegerField()
    hold_deadline_hours = serializers.IntegerField()
    op_types = serializers.ListField(child=serializers.CharField())


def limits() -> dict:
    return {
        "max_ops": settings.SYNC_MAX_OPS,
        "max_bytes": settings.SYNC_MAX_BYTES,
        "pull_max_rows": settings.SYNC_PULL_MAX_ROWS,
        "pull_max_bytes": settings.SYNC_PULL_MAX_BYTES,
        "hold_deadline_hours": settings.SYNC_HOLD_DEADLINE_HOURS,
        "op_types": sorted(op_types()),
    }


def _phone(request: Request, device_id) -> Device:
    """Pushes come from an enrolled phone signed in with its own token, by the phone's own user: the
    journal is keyed on the device and read for its user only (F9 item 3)."""
    record = getattr(request, "device_token", None)
    if record is None or str(record.device_id) != str(device_id) or record.device.user_id != request.user.pk:
        raise DomainError(errors.DEVICE_MISMATCH)
    return record.device


def operations_for(user) -> QuerySet[Operation]:
    """The journal a user may read: its own operations; an agency's main and manager accounts their
    agency's users' operations; platform administrators all. Keyed on who pushed, not on whose the
    device is now, so that work never follows a device id to another account (F9 item 3)."""
    qs = Operation.objects.all()
    if user.role == Role.PLATFORM:
        return qs
    if user.role in access.AGENCY_ADMINS:
        return qs.filter(user__agency_id=user.agency_id)
    return qs.filter(user=user)


class LimitsView(APIView):
    @extend_schema(responses=LimitsOut)
    def get(self, request: Request) -> Response:
        return Response(LimitsOut(limits()).data)


class PushView(APIView):
    @extend_schema(
        request=PushIn,
        responses={200: OpenApiTypes.OBJECT},
        description=(
            "One result per operation, in the order sent: `applied` (version, change seq), `duplicate` "
            "(`first`: the first result), `held` (`waits_for`), `conflict` (`conflict`: what clashed, both "
            "values kept), `rejected` (`code`, `message`). The same op id with different content is rejected."
        ),
    )
    def post(self, request: Request) -> Response:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.SYNC_MAX_BYTES:
            raise DomainError(errors.BATCH_TOO_LARGE, **_limit_params())
        if isinstance(request.data, dict) and len(request.data.get("ops") or []) > settings.SYNC_MAX_OPS:
            raise DomainError(errors.BATCH_TOO_LARGE, **_limit_params())
        data = parse(PushIn, request.data)
        device = _phone(request, data["device_id"])
        ops = [
            engine.IncomingOp(
                op_id=str(o["op_id"]),
                seq=o["seq"],
                type=o["type"],
                entity_id=o["entity_id"],
                base_version=o["base_version"],
                device_time=o["device_time"],
                payload=o["payload"],
            )
            for o in data["ops"]
        ]
        results = engine.push(user=request.user, device=device, device_clock=data["device_time"], ops=ops)
        language = request_language(request)
        return Response({"results": [engine.render_result(r, language) for r in results], "limits": limits()})


def _limit_params() -> dict:
    return {"max_ops": settings.SYNC_MAX_OPS, "max_bytes": settings.SYNC_MAX_BYTES}


class PullIn(serializers.Serializer):
    cursor = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, default=None, allow_null=True)


class PullView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "cursor", int, description="The `cursor` of the previous page; 0 the first time."
            ),
            OpenApiParameter("limit", int, description="At most this many changes (capped by the server)."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        params = parse_query(PullIn, request.query_params)
        cursor, limit = params["cursor"], params["limit"]
        page = pull(user=request.user, cursor=cursor, limit=limit)
        return Response({"changes": page.changes, "cursor": page.cursor, "more": page.more})


class ReconcileOpIn(serializers.Serializer):
    op_id = serializers.UUIDField()
    content_hash = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ReconcileIn(serializers.Serializer):
    device_id = serializers.UUIDField()
    ops = ReconcileOpIn(many=True, max_length=5000)
    media = serializers.ListField(
        child=serializers.RegexField(r"^[0-9a-fA-F]{64}$"),
        required=False,
        default=list,
        max_length=5000,
        help_text="SHA-256 of the photo files the phone believes it sent: the answer's media.missing "
        "lists those the server lacks.",
    )


class ReconcileView(APIView):
    @extend_schema(request=ReconcileIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = parse(ReconcileIn, request.data)
        device = _phone(request, data["device_id"])
        answer = reconcile(device=device, user=request.user, ops=data["ops"])
        answer["media"] = media_status(data["media"], tenant=tenant_of(request.user))  # F9 item 1
        return Response(answer)


class DeviceStateView(APIView):
    """A device's sync state: its last push and clock offset, held, rejected and flagged operations.
    Shown to the phone's user and the agency's main and manager accounts."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, device_id) -> Response:
        device = access.get_visible(access.devices_for(request.user), device_id)
        state = DeviceSyncState.objects.select_related("last_push").filter(device=device).first()
        journal = operations_for(request.user).filter(device=device)
        counts = dict(journal.values_list("status").annotate(n=Count("id")).order_by())
        attention = journal.filter(
            status__in=[Operation.Status.HELD, Operation.Status.REJECTED, Operation.Status.EXPIRED],
        ).order_by("seq")[:200]
        language = request_language(request)
        return Response(
            {
                "device_id": str(device.pk),
                "user": device.user.username,
                "last_push_at": state.last_push.server_clock if state and state.last_push else None,
                "clock_offset_ms": state.last_offset_ms if state else None,
                "next_seq": state.next_seq if state else 1,
                "counts": counts,
                "needs_attention": [
                    {
                        "seq": op.seq,
                        "type": op.op_type,
                        "entity_id": op.entity_id,
                        "device_time": op.device_time,
                        "corrected_time": op.corrected_time,
                        "received_at": op.received_at,
                        **engine.render_result(op.result, language),
                    }
                    for op in attention
                ],
            }
        )


class AttentionOut(serializers.Serializer):
    """One held or flagged operation, with its stored result's keys (``status``, and ``code`` and
    ``message`` for a rejection, ``waits_for`` or ``conflict``) beside these."""

    device_id = serializers.UUIDField()
    user = serializers.CharField()
    seq = serializers.IntegerField()
    type = serializers.CharField()
    entity_id = serializers.CharField()
    received_at = InstantField()
    status = serializers.CharField()


class AttentionView(APIView):
    """Held and flagged operations of every phone the user oversees (its own; an agency's main and
    manager accounts: all the agency's phones), oldest first."""

    @extend_schema(responses={200: AttentionOut(many=True)})
    def get(self, request: Request) -> Response:
        rows = (
            operations_for(request.user)
            .filter(
                device__in=access.devices_for(request.user),
                status__in=[Operation.Status.HELD, Operation.Status.EXPIRED, Operation.Status.CONFLICT],
            )
            .select_related("device__user")
            .order_by("received_at", "id")[:500]
        )
        language = request_language(request)
        return Response(
            [
                {
                    "device_id": str(op.device_id),
                    "user": op.device.user.username,
                    "seq": op.seq,
                    "type": op.op_type,
                    "entity_id": op.entity_id,
                    "received_at": op.received_at,
                    **engine.render_result(op.result, language),
                }
                for op in rows
            ]
        )
