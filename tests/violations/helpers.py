"""Calls of the violation endpoints, as a regulator's web page and the agency's back office make them."""

import datetime as dt

from django.utils import timezone

API = "/api/v1"


def in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def open_violation(client, project, *, days: int = 7, description: str = "采样记录缺少采样人签字", **extra):
    body = {"project": project.pk, "description": description, "deadline": in_days(days).isoformat(), **extra}
    return client.post(f"{API}/violations", body, format="json")


def opened(client, project, **kw) -> dict:
    response = open_violation(client, project, **kw)
    assert response.status_code == 201, response.json()
    return response.json()


def rectify(client, violation_id: int, text: str = "已补签并上传记录", **extra):
    return client.post(f"{API}/violations/{violation_id}/rectify", {"text": text, **extra}, format="json")


def review(client, violation_id: int, verdict: str, reason: str | None = None):
    body = {} if reason is None else {"reason": reason}
    return client.post(f"{API}/violations/{violation_id}/{verdict}", body, format="json")
