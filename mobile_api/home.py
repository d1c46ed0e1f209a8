"""The home screen (首页, seed 002): the user's agency, where they are, how many tasks are running and
finished, and their notifications."""

from __future__ import annotations

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.notifications import NotificationOut
from mobile_api.tasks import STATES
from mobile_api.tracks import CheckInOut
from server import access
from server.accounts.models import User
from server.notifications import services as notifications
from server.tracks import checkins


class AgencyRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TaskCountsOut(serializers.Serializer):
    running = serializers.IntegerField(help_text="在行: visible tasks not ended (GET /tasks?state=running).")
    finished = serializers.IntegerField(help_text="已完成: visible tasks ended (GET /tasks?state=finished).")


class HomeNotificationsOut(serializers.Serializer):
    unread = serializers.IntegerField()
    latest = NotificationOut(many=True, help_text="The 5 newest, read or not.")


class HomeOut(serializers.Serializer):
    agency = AgencyRef(allow_null=True, help_text="The user's agency; null for regulators and others.")
    location = CheckInOut(allow_null=True, help_text="The latest check-in (GET /checkins/latest), or null.")
    tasks = TaskCountsOut()
    notifications = HomeNotificationsOut()


def task_counts(user: User) -> dict[str, int]:
    """Running and finished tasks in one query, by the task list's own rules (``tasks_for``, STATES)."""
    return access.tasks_for(user).aggregate(**{state: Count("pk", filter=q) for state, q in STATES.items()})


def home(user: User) -> dict:
    return {
        "agency": user.agency,
        "location": checkins.latest_checkin(user),
        "tasks": task_counts(user),
        "notifications": {
            "unread": notifications.unread_count(user),
            "latest": notifications.latest(user),
        },
    }


class HomeView(APIView):
    @extend_schema(responses=HomeOut, summary="The home screen: agency, location, task counts, notifications")
    def get(self, request: Request) -> Response:
        return Response(HomeOut(home(request.user)).data)
