"""F10 item 7: a task created offline is dated when the phone created it. Its ``created_at`` was when
the server received it while its events carried the phone's corrected times, so an export showed the
task's last state change before its creation. Now ``created_at`` is the phone's time (corrected by the
push's measured offset, as the events), and ``received_at`` keeps when the server got it; the API and
the exports show both."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import uuid

import pytest
from django.apps import apps
from django.utils import timezone

from server.fields import instant
from server.fieldwork.models import MonitoringTask
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db

API = "/api/v1"
TOLERANCE = dt.timedelta(seconds=30)


def export_rows(client) -> dict[str, dict[str, str]]:
    response = client.get(f"{API}/tasks/export", {"format": "csv"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(content))
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_a_task_created_offline_is_dated_on_the_phone_and_keeps_its_receipt(world):
    side = world.shanghai
    # The phone's clock is 2 hours slow; the sampler created the task 3 hours ago, started it 10
    # minutes later, and pushes now.
    phone = Phone.enrol(side.field_user, clock_skew=-dt.timedelta(hours=2))
    created = timezone.now() - dt.timedelta(hours=3)
    started = created + dt.timedelta(minutes=10)
    task_id = uuid.uuid4()
    phone.op(
        "task.create",
        task_id,
        {"project": side.project.pk, "name": "进水口采样"},
        device_time=created + phone.clock_skew,
    )
    phone.op("task.transition", task_id, {"to": "running"}, device_time=started + phone.clock_skew)
    before = timezone.now()
    results = phone.push().json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]

    task = MonitoringTask.objects.get(pk=task_id)
    event = task.events.get()
    # Both corrected by the same measured offset (its error is the push's latency).
    assert event.at - task.created_at == started - created
    assert abs(task.created_at - created) < TOLERANCE
    assert before <= task.received_at <= timezone.now()

    client = phone.client()
    shown = client.get(f"{API}/tasks/{task_id}").json()
    assert shown["created_at"] == instant(task.created_at)
    assert shown["received_at"] == instant(task.received_at)

    row = export_rows(client)[str(task_id)]
    local = "%Y-%m-%d %H:%M:%S"
    assert row["创建时间"] == timezone.localtime(task.created_at).strftime(local)
    assert row["服务器接收时间"] == timezone.localtime(task.received_at).strftime(local)
    assert row["创建时间"] < row["最近状态变更"] < row["服务器接收时间"]


def test_a_task_created_online_was_created_when_received(world):
    side = world.shanghai
    client = Phone.enrol(side.field_user).client()
    body = {"project": side.project.pk, "name": "雨水排口采样"}
    response = client.post(f"{API}/tasks", body, format="json")
    assert response.status_code == 201, response.json()
    task = MonitoringTask.objects.get(pk=response.json()["id"])
    assert task.created_at == task.received_at
    assert response.json()["created_at"] == response.json()["received_at"] == instant(task.created_at)


def test_a_phone_clock_ahead_never_dates_a_task_after_its_receipt(world):
    # A corrected time can still fall after the receipt (a clock stepped between the operation and the
    # push): the task was not created after the server had it.
    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    phone.op(
        "task.create",
        task_id,
        {"project": side.project.pk, "name": "采样"},
        device_time=phone.now() + dt.timedelta(hours=1),
    )
    assert phone.push().json()["results"][0]["status"] == "applied"
    task = MonitoringTask.objects.get(pk=task_id)
    assert task.created_at == task.received_at


def test_the_migration_dates_earlier_offline_tasks_on_the_phone(world):
    # Tasks stored before the fix: created_at was the receipt; their task.create operation kept the
    # phone's corrected time. The migration keeps the receipt and dates the task by the phone.
    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    phone.op("task.create", task_id, {"project": side.project.pk, "name": "采样"}, device_time=phone.now())
    assert phone.push().json()["results"][0]["status"] == "applied"
    offline = MonitoringTask.objects.get(pk=task_id)
    on_phone, received = offline.created_at, offline.received_at
    assert on_phone < received
    MonitoringTask.objects.filter(pk=task_id).update(created_at=received, received_at=received - TOLERANCE)
    body = {"project": side.project.pk, "name": "在线创建"}
    online = phone.client().post(f"{API}/tasks", body, format="json").json()["id"]

    migration = importlib.import_module("server.fieldwork.migrations.0008_task_received_at")
    migration.created_on_the_phone(apps, None)

    offline.refresh_from_db()
    assert (offline.created_at, offline.received_at) == (on_phone, received)
    online = MonitoringTask.objects.get(pk=online)
    assert online.created_at == online.received_at
