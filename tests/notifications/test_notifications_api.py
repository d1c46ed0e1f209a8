"""GET /notifications, POST /notifications/{id}/read, POST /notifications/read-all: a user's own only."""

from __future__ import annotations

import pytest

from server.notifications.models import Notification
from server.notifications.services import notify

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def side(world):
    return world.shanghai


def send(user, n: int, kind: str = "task_reminder") -> list[Notification]:
    for i in range(n):
        notify(
            recipients=[user],
            kind=kind,
            title=f"提醒 {i}",
            body=f"第 {i} 条",
            subject_type="project",
            subject_id=i,
        )
    return list(Notification.objects.filter(recipient=user).order_by("-created_at", "-id"))


def test_the_list_is_the_users_own_newest_first_paginated_with_the_unread_count(side, client_for):
    mine = send(side.field_user, 3)
    send(side.main, 2)
    client = client_for(side.field_user)
    body = client.get(f"{API}/notifications", {"page_size": 2}).json()
    assert body["count"] == 3
    assert body["unread_count"] == 3
    assert [row["id"] for row in body["results"]] == [n.pk for n in mine[:2]]
    first = body["results"][0]
    assert first == {
        "id": mine[0].pk,
        "kind": "task_reminder",
        "title": mine[0].title,
        "body": mine[0].body,
        "subject": {"type": "project", "id": mine[0].subject_id},
        "created_at": first["created_at"],
        "read": False,
        "read_at": None,
    }
    page2 = client.get(f"{API}/notifications", {"page_size": 2, "page": 2}).json()
    assert [row["id"] for row in page2["results"]] == [mine[2].pk]
    assert page2["previous"] is not None
    assert page2["next"] is None


def test_reading_one_drops_the_unread_count_and_is_stored(side, client_for):
    mine = send(side.field_user, 3)
    client = client_for(side.field_user)
    response = client.post(f"{API}/notifications/{mine[1].pk}/read")
    assert response.status_code == 200, response.json()
    assert response.json()["read"] is True
    mine[1].refresh_from_db()
    assert mine[1].read_at is not None
    assert response.json()["read_at"] is not None
    # Again: still read, the first read time kept.
    first_read = mine[1].read_at
    assert client.post(f"{API}/notifications/{mine[1].pk}/read").status_code == 200
    mine[1].refresh_from_db()
    assert mine[1].read_at == first_read

    unread = client.get(f"{API}/notifications", {"unread": "true"}).json()
    assert unread["unread_count"] == 2
    assert [row["id"] for row in unread["results"]] == [mine[0].pk, mine[2].pk]
    read = client.get(f"{API}/notifications", {"unread": "false"}).json()
    assert [row["id"] for row in read["results"]] == [mine[1].pk]


def test_read_all(side, client_for):
    send(side.field_user, 4)
    send(side.main, 1)
    client = client_for(side.field_user)
    response = client.post(f"{API}/notifications/read-all")
    assert response.status_code == 200
    assert response.json() == {"marked": 4, "unread_count": 0}
    assert not Notification.objects.filter(recipient=side.field_user, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=side.main).read_at is None  # another's is untouched
    assert client.post(f"{API}/notifications/read-all").json() == {"marked": 0, "unread_count": 0}
    assert client.get(f"{API}/notifications", {"unread": "true"}).json()["count"] == 0


def test_another_users_notification_is_not_found_in_chinese_and_english(world, client_for):
    theirs = send(world.shanghai.main, 1)[0]
    for user in (world.shanghai.field_user, world.jiangsu.main, world.platform):
        client = client_for(user)
        for response in (
            client.get(f"{API}/notifications/{theirs.pk}"),
            client.post(f"{API}/notifications/{theirs.pk}/read"),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
            assert response.json()["message"] == "请求的资源不存在。"
        assert client.get(f"{API}/notifications").json()["count"] == 0
    response = client_for(world.shanghai.field_user, "en").post(f"{API}/notifications/{theirs.pk}/read")
    assert response.status_code == 404
    assert response.json()["message"] == "The requested resource does not exist."
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client_for(world.shanghai.field_user).get(f"{API}/notifications/not-a-number").status_code == 404


def test_anonymous_reads_nothing(side, api):
    theirs = send(side.main, 1)[0]
    assert api.get(f"{API}/notifications").status_code == 401
    response = api.post(f"{API}/notifications/{theirs.pk}/read")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_list_runs_a_fixed_number_of_queries(side, client_for, django_assert_max_num_queries):
    client = client_for(side.field_user)
    send(side.field_user, 1)
    with django_assert_max_num_queries(3):  # page count, page, unread count
        assert client.get(f"{API}/notifications").json()["count"] == 1
    send(side.field_user, 30, kind="violation_opened")
    with django_assert_max_num_queries(3):
        assert client.get(f"{API}/notifications").json()["count"] == 31
