"""In-app notifications (消息通知): a user's own, newest first; read one, or all."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import FilterSet, Pagination
from server.fields import InstantField
from server.notifications import services
from server.notifications.models import Notification


class SubjectOut(serializers.Serializer):
    type = serializers.CharField(source="subject_type")
    id = serializers.CharField(source="subject_id")


class NotificationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="What happened, as a stable slug: project_returned, …")
    title = serializers.CharField()
    body = serializers.CharField()
    subject = serializers.SerializerMethodField(help_text="What it is about (type and id), or null.")
    created_at = InstantField()
    read = serializers.BooleanField(source="is_read")
    read_at = InstantField(allow_null=True)

    @extend_schema_field(SubjectOut(allow_null=True))
    def get_subject(self, notification: Notification) -> dict | None:
        return SubjectOut(notification).data if notification.subject_type else None


class NotificationPagination(Pagination):
    """The list's page, with the user's unread count beside it (the badge on the bell)."""

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        response.data["unread_count"] = services.unread_count(self.request.user)
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        page = super().get_paginated_response_schema(schema)
        page["properties"]["unread_count"] = {"type": "integer", "description": "All the user's unread ones."}
        page["required"] = [*page.get("required", []), "unread_count"]
        return page


class ReadAllOut(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread.")
    unread_count = serializers.IntegerField()


class NotificationFilter(FilterSet):
    unread = filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: only the unread ones."
    )

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A user sees only their own notifications; another user's id is 404."""

    queryset = Notification.objects.none()  # for the schema; requests use get_queryset
    serializer_class = NotificationOut
    filterset_class = NotificationFilter
    pagination_class = NotificationPagination

    def get_queryset(self):
        return services.notifications_for(self.request.user)

    def get_object(self):
        return services.access_notification(self.request.user, self.kwargs["pk"])

    @extend_schema(request=None, responses=NotificationOut, description="Mark it read (again: no change).")
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk=None) -> Response:
        notification = self.get_object()
        services.mark_read(request.user, [notification.pk])
        notification.refresh_from_db(fields=["read_at"])
        return Response(NotificationOut(notification).data)

    @extend_schema(request=None, responses=ReadAllOut, description="Mark every unread one read.")
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        marked = services.mark_all_read(request.user)
        return Response(
            ReadAllOut({"marked": marked, "unread_count": services.unread_count(request.user)}).data
        )
