"""notify(): one row per recipient, once per event while unread; reading; what is counted."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from server.notifications.models import Notification
from server.notifications.services import mark_all_read, mark_read, notify, unread_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    side = world.shanghai
    return side.main, side.manager, side.field_user


def returned(recipients, project_id=7, **kw):
    return notify(
        recipients=recipients,
        kind="project_returned",
        title="项目已退回",
        body="监测报告缺少签字页，请补充后重新提交。",
        subject_type="project",
        subject_id=project_id,
        **kw,
    )


def test_notify_writes_one_row_per_recipient_with_the_subject(people):
    main, manager, field_user = people
    notified = returned([main, manager, main.pk])  # users or ids; the repeat counts once
    assert notified == sorted([main.pk, manager.pk])
    rows = Notification.objects.order_by("recipient_id")
    assert [r.recipient_id for r in rows] == sorted([main.pk, manager.pk])
    for row in rows:
        assert (row.kind, row.title, row.subject_type, row.subject_id) == (
            "project_returned",
            "项目已退回",
            "project",
            "7",
        )
        assert row.body == "监测报告缺少签字页，请补充后重新提交。"
        assert row.read_at is None
        assert row.created_at is not None
    assert unread_count(field_user) == 0
    assert notify(recipients=[], kind="reminder", title="提醒", body="") == []


def test_a_retried_event_notifies_once_while_unread_and_again_once_read(people):
    main, manager, _ = people
    assert returned([main]) == [main.pk]
    # The same event again (a retried job, a replayed operation): only the new recipient is notified.
    assert returned([main, manager]) == [manager.pk]
    assert Notification.objects.filter(recipient=main).count() == 1
    # Another subject, or another kind, is another event.
    assert returned([main], project_id=8) == [main.pk]
    assert notify(
        recipients=[main],
        kind="violation_opened",
        title="违规待整改",
        body="",
        subject_type="project",
        subject_id=7,
    ) == [main.pk]
    assert unread_count(main) == 3
    # Once read, the same event notifies again: it is news again.
    first = Notification.objects.get(recipient=main, kind="project_returned", subject_id="7")
    assert mark_read(main, [first.pk]) == 1
    assert returned([main]) == [main.pk]
    assert Notification.objects.filter(recipient=main, kind="project_returned", subject_id="7").count() == 2


def test_subject_ids_are_stored_as_strings_and_a_subject_is_whole(people):
    main, *_ = people
    task_id = uuid.uuid4()
    notify(
        recipients=[main],
        kind="task_reminder",
        title="任务提醒",
        body="",
        subject_type="task",
        subject_id=task_id,
    )
    assert Notification.objects.get().subject_id == str(task_id)
    with pytest.raises(ValueError, match="subject"):
        notify(recipients=[main], kind="task_reminder", title="任务提醒", body="", subject_type="task")
    with pytest.raises(ValueError, match="slug"):
        notify(recipients=[main], kind="Project Returned", title="项目已退回", body="")
    with pytest.raises(ValueError, match="title"):
        notify(recipients=[main], kind="reminder", title="  ", body="")
    with pytest.raises(ValueError, match="title"):
        notify(recipients=[main], kind="reminder", title="长" * 201, body="")
    assert Notification.objects.count() == 1


def test_a_rolled_back_event_leaves_no_notification(people):
    main, *_ = people

    class EventRefusedError(Exception):
        pass

    def event():
        with transaction.atomic():
            returned([main])
            raise EventRefusedError

    with pytest.raises(EventRefusedError):
        event()
    assert not Notification.objects.exists()


def test_mark_read_touches_only_the_users_own_and_keeps_the_first_read_time(people):
    main, manager, _ = people
    returned([main, manager])
    mine = Notification.objects.get(recipient=main)
    theirs = Notification.objects.get(recipient=manager)
    assert mark_read(main, [mine.pk, theirs.pk]) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None
    first_read = mine.read_at
    assert mark_read(main, [mine.pk]) == 0
    mine.refresh_from_db()
    assert mine.read_at == first_read
    assert (unread_count(main), unread_count(manager)) == (0, 1)


def test_mark_all_read(people):
    main, manager, _ = people
    for project_id in (1, 2, 3):
        returned([main, manager], project_id=project_id)
    assert unread_count(main) == 3
    assert mark_all_read(main) == 3
    assert mark_all_read(main) == 0
    assert (unread_count(main), unread_count(manager)) == (0, 3)
    assert not Notification.objects.filter(recipient=main, read_at__isnull=True).exists()
