"""The audit trail for regulators and agency back offices (F7): who created, changed, confirmed,
reviewed or returned what, when, from which phone and which sync operation.

Read-only: entries are written by the domain services (``server.audit.services.record``). Who sees
which entries is ``server.audit.selectors``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import Pagination, RegionNameField, parse_query
from server.audit import selectors
from server.audit.models import AuditEntry
from server.fields import IdField, InstantField


class AuditActorOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField(help_text="人员姓名（机构人员），否则为用户名。")
    role = serializers.CharField()

    def get_name(self, user) -> str:
        if user.person_id is not None:
            return user.person.name
        return user.get_full_name() or user.username


class AuditDeviceOut(serializers.Serializer):
    id = serializers.UUIDField()
    platform = serializers.CharField()
    model_name = serializers.CharField()
    app_version = serializers.CharField()


class AuditOperationOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="服务器上的操作编号。")
    op_id = serializers.UUIDField(help_text="手机生成的操作 UUID。")
    op_type = serializers.CharField()
    device_time = InstantField()
    received_at = InstantField()


class AuditEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = InstantField()
    action = serializers.CharField(
        help_text="What happened, a stable slug: project.returned, task.transition…"
    )
    subject_type = serializers.CharField(
        help_text="project, task, om_record, violation, agency, staff, outlet, photo…"
    )
    subject_id = serializers.CharField()
    summary = serializers.CharField()
    changes = serializers.JSONField(help_text='What changed: {"field": [old, new]}, the reason, the version…')
    actor = AuditActorOut(allow_null=True, help_text="null: the system.")
    device = AuditDeviceOut(allow_null=True, help_text="The phone it came from, when it came from one.")
    operation = AuditOperationOut(
        allow_null=True, help_text="The sync operation, when it was pushed offline."
    )
    agency = serializers.IntegerField(source="agency_id", allow_null=True)
    enterprise = serializers.IntegerField(source="enterprise_id", allow_null=True)
    region_code = serializers.CharField()
    region_name = RegionNameField(source="region_code")

    def to_representation(self, entry: AuditEntry) -> dict:
        data = super().to_representation(entry)
        viewer = self.context["viewer"]
        if entry.device_id is not None and not selectors.shows_origin(viewer, entry.device.user):
            data["device"] = data["operation"] = None  # another tenant's phone (F9 item 3)
        return data


class AuditQuery(serializers.Serializer):
    subject_type = serializers.CharField(required=False, default="", allow_blank=True, max_length=32)
    subject_id = serializers.CharField(required=False, default="", allow_blank=True, max_length=64)
    action = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=40,
        help_text="An action (project.returned), or all of a kind when it ends with a dot (om_record.).",
    )
    actor = IdField(required=False, allow_null=True, default=None, help_text="A user id.")
    since = InstantField(required=False, allow_null=True, default=None)
    until = InstantField(required=False, allow_null=True, default=None)


class _EntriesView(GenericAPIView):
    queryset = AuditEntry.objects.none()  # for the schema; requests use the selectors
    serializer_class = AuditEntryOut
    pagination_class = Pagination
    filter_backends: list = []

    def _page(self, entries) -> Response:
        entries = entries.select_related("actor__person", "device__user", "operation").order_by("-at", "-id")
        page = self.paginate_queryset(entries)
        out = AuditEntryOut(page, many=True, context={"viewer": self.request.user})
        return self.get_paginated_response(out.data)


class AuditListView(_EntriesView):
    """审计日志, newest first: platform administrators everything; regulators their region; an
    agency's main and manager accounts their agency's entries; anyone else 403."""

    @extend_schema(parameters=[AuditQuery], responses=AuditEntryOut(many=True))
    def get(self, request: Request) -> Response:
        query = parse_query(AuditQuery, request.query_params)
        entries = selectors.entries_for(request.user)
        return self._page(selectors.search(entries, **query))


class SubjectHistoryView(_EntriesView):
    """One object's history, newest first, for whoever may see the object (404 otherwise)."""

    @extend_schema(operation_id="v1_audit_subject_history", responses=AuditEntryOut(many=True))
    def get(self, request: Request, subject_type: str, subject_id: str) -> Response:
        return self._page(selectors.history_of(request.user, subject_type, subject_id))
