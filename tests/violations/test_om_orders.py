"""整改单 (seed 003 整改单管理): the regulator opens a rectification order on an O&M task in its region,
the agency rectifies, the regulator rejects or accepts — the violations flow, with a task as subject."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from server.notifications.models import Notification
from server.om.models import FormTemplate, OmRecord
from server.violations.models import Rectification, Violation
from tests.violations.helpers import API, in_days, rectify, review

pytestmark = pytest.mark.django_db


def om_record(side, status: str = "submitted") -> OmRecord:
    task = side.om_task
    return OmRecord.objects.create(
        id=uuid.uuid4(),
        task=task,
        outlet=side.wastewater,
        template=FormTemplate.objects.filter(code="ww_daily_inspection").order_by("-version").first(),
        agency=task.agency,
        enterprise=task.contract.enterprise,
        filled_by=side.technician_user,
        status=status,
        om_date=timezone.localdate(),
        submitted_at=None if status == "draft" else timezone.now(),
    )


def open_order(client, task, *, days: int = 7, description: str = "运维记录缺少标样核查", **extra):
    body = {"om_task": task.pk, "description": description, "deadline": in_days(days).isoformat(), **extra}
    return client.post(f"{API}/violations", body, format="json")


def notified(user, kind: str) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(recipient=user, kind=kind).values_list(
            "title", "subject_type", "subject_id"
        )
    )


def test_an_order_on_an_om_task_end_to_end(side, client_for):
    regulator, main, manager = (client_for(u) for u in (side.regulator, side.main, side.manager))
    task = side.om_task
    evidence = om_record(side)

    response = open_order(regulator, task, days=10, om_record=str(evidence.pk))
    assert response.status_code == 201, response.json()
    body = response.json()
    vid = body["id"]
    assert body["subject_type"] == "om_task"
    assert (body["om_task"], body["om_task_number"], body["om_task_name"]) == (
        task.pk,
        task.number,
        task.name,
    )
    assert (body["project"], body["project_number"], body["project_name"]) == (None, None, None)
    assert body["om_record"] == str(evidence.pk)
    assert (body["agency"], body["agency_name"]) == (side.agency.pk, side.agency.name)
    assert (body["enterprise_name"], body["region_code"]) == (
        side.enterprise.name,
        side.enterprise.region_code,
    )
    assert (body["status"], body["overdue"]) == ("open", False)
    stored = Violation.objects.get(pk=vid)
    assert (stored.project_id, stored.om_task_id, stored.om_record_id) == (None, task.pk, evidence.pk)
    for admin in (side.main, side.manager):
        assert notified(admin, "violation-opened") == [(f"整改单：{task.name}", "violation", str(vid))]

    # The agency rectifies with an attachment; the regulator is told.
    content = b"%PDF-1.4 standard check redone"
    upload = SimpleUploadedFile("整改说明.pdf", content, content_type="application/pdf")
    response = main.post(
        f"{API}/violations/{vid}/rectify", {"text": "已补做标样核查", "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "rectified"
    first = Rectification.objects.get(violation_id=vid)
    assert first.sha256 == hashlib.sha256(content).hexdigest()
    assert notified(side.regulator, "rectification-submitted") == [
        (f"整改待审核：{task.name}", "violation", str(vid))
    ]

    # Rejected with a reason, rectified again by the manager, accepted (销号).
    assert review(regulator, vid, "reject").json()["code"] == "rectification_reject_reason_required"
    response = review(regulator, vid, "reject", "核查记录缺少签字")
    assert (response.status_code, response.json()["status"]) == (200, "open")
    assert notified(side.main, "rectification-rejected") == [
        (f"整改被退回：{task.name}", "violation", str(vid))
    ]
    assert rectify(manager, vid, "已补签").status_code == 201
    response = review(regulator, vid, "accept")
    assert (response.status_code, response.json()["status"]) == (200, "closed")
    assert notified(side.manager, "rectification-accepted") == [
        (f"整改已销号：{task.name}", "violation", str(vid))
    ]
    detail = main.get(f"{API}/violations/{vid}").json()
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        ("open", "rectified"),
        ("rectified", "open"),
        ("open", "rectified"),
        ("rectified", "closed"),
    ]
    assert [r["outcome"] for r in detail["rectifications"]] == ["rejected", "accepted"]

    # 整改单管理: the lists, narrowed to orders on O&M tasks or to this task.
    project_violation = client_for(side.regulator).post(
        f"{API}/violations",
        {"project": side.project.pk, "description": "采样记录缺少签字", "deadline": in_days(3).isoformat()},
        format="json",
    )
    assert project_violation.status_code == 201
    listed = regulator.get(f"{API}/violations", {"subject": "om_task"}).json()
    assert [v["id"] for v in listed["results"]] == [vid]
    assert [v["id"] for v in regulator.get(f"{API}/violations", {"om_task": task.pk}).json()["results"]] == [
        vid
    ]
    projects = regulator.get(f"{API}/violations", {"subject": "project"}).json()["results"]
    assert [v["id"] for v in projects] == [project_violation.json()["id"]]
    assert projects[0]["subject_type"] == "project"
    history = main.get(f"{API}/rectifications", {"om_task": task.pk}).json()
    assert history["count"] == 2
    row = history["results"][0]
    assert row["om_task"] == {"id": task.pk, "number": task.number, "name": task.name}
    assert (row["violation"]["id"], row["violation"]["project"]) == (vid, None)
    download = regulator.get(f"{API}/rectifications/{first.pk}/file")
    assert b"".join(download.streaming_content) == content


def test_who_sees_and_acts_on_an_order(world, client_for):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    # A regulator opens orders only on tasks in its region: another region's task is not found.
    response = open_order(client_for(jiangsu.regulator), shanghai.om_task)
    assert response.status_code == 400  # the body's om_task is named (F10 item 6)
    assert set(response.json()["details"]) == {"om_task"}
    # Agency accounts and enterprises see the task but do not open orders.
    for user in (shanghai.main, shanghai.technician_user, shanghai.enterprise_user):
        response = open_order(client_for(user), shanghai.om_task)
        assert response.status_code == 403, user.role
        assert response.json()["code"] == "violation_actor_not_allowed"
    vid = open_order(client_for(shanghai.regulator), shanghai.om_task).json()["id"]
    # The task's technician sees the order but does not rectify; the other agency and the
    # enterprise do not see it.
    technician = client_for(shanghai.technician_user)
    assert technician.get(f"{API}/violations/{vid}").status_code == 200
    assert rectify(technician, vid).status_code == 403
    for user in (jiangsu.main, jiangsu.regulator, shanghai.enterprise_user):
        assert client_for(user).get(f"{API}/violations/{vid}").status_code == 404, user.role
        assert rectify(client_for(user), vid).status_code == 404
    # The sampler is on the project, not on the O&M task.
    assert client_for(shanghai.field_user).get(f"{API}/violations/{vid}").status_code == 404
    assert client_for(world.platform).get(f"{API}/violations/{vid}").status_code == 200
    assert Violation.objects.get(pk=vid).status == "open"


def test_an_order_names_exactly_one_subject_and_its_own_evidence(world, client_for):
    side = world.shanghai
    regulator = client_for(side.regulator)
    for extra in ({"project": side.project.pk}, {"om_task": None}):
        response = open_order(regulator, side.om_task, **extra)
        assert response.status_code == 400, extra
        assert response.json()["code"] == "violation_subject_required"
    # A record is evidence of its own task's order only.
    response = regulator.post(
        f"{API}/violations",
        {
            "project": side.project.pk,
            "description": "x",
            "deadline": in_days(3).isoformat(),
            "om_record": str(om_record(side).pk),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "violation_evidence_foreign"
    platform = client_for(world.platform)
    for evidence in (om_record(world.jiangsu), om_record(side, "draft")):
        response = open_order(platform, side.om_task, om_record=str(evidence.pk))
        assert response.status_code == 400
        assert response.json()["code"] == "violation_evidence_foreign"
    # A draft is not the regulator's to see.
    response = open_order(regulator, side.om_task, om_record=str(om_record(side, "draft").pk))
    assert (response.status_code, set(response.json()["details"])) == (400, {"om_record"})
    assert not Violation.objects.exists()


def test_the_database_holds_exactly_one_subject(side):
    common = {
        "description": "x",
        "deadline": in_days(1),
        "opened_by": side.regulator,
        "opened_at": timezone.now(),
    }
    for subjects in ({}, {"project": side.project, "om_task": side.om_task}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Violation.objects.create(**common, **subjects)
    with pytest.raises(IntegrityError), transaction.atomic():
        Violation.objects.create(**common, project=side.project, om_record=om_record(side))
