"""Notifications in the admin: listed, filtered, searched and shown, never edited there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from server.notifications.models import Notification
from server.notifications.services import mark_read, notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(world):
    side = world.shanghai
    notify(
        recipients=[side.main],
        kind="project_returned",
        title="项目已退回",
        body="缺少签字页",
        subject_type="project",
        subject_id=side.project.pk,
    )
    notify(recipients=[side.manager], kind="task_reminder", title="任务提醒", body="明日采样")
    mark_read(side.manager, Notification.objects.filter(recipient=side.manager).values_list("pk", flat=True))
    return side


def test_the_list_filters_searches_and_shows_read_only(admin_client, rows):
    url = reverse("admin:notifications_notification_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "项目已退回" in text
    assert "任务提醒" in text
    assert f"project {rows.project.pk}" in text
    unread = admin_client.get(url, {"read": "0"}).content.decode()
    assert "项目已退回" in unread
    assert "任务提醒" not in unread
    by_kind = admin_client.get(url, {"kind": "task_reminder"}).content.decode()
    assert "任务提醒" in by_kind
    assert "项目已退回" not in by_kind
    found = admin_client.get(url, {"q": "签字"}).content.decode()
    assert "项目已退回" in found
    assert "任务提醒" not in found
    row = Notification.objects.get(kind="project_returned")
    assert (
        admin_client.get(reverse("admin:notifications_notification_change", args=[row.pk])).status_code == 200
    )
    assert admin_client.get(reverse("admin:notifications_notification_add")).status_code == 403
