"""The audit trail (F7): what regulators and agency back offices see of who did what, when, from
which phone and which sync operation; who may read it; and that nobody can rewrite it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from server.audit.models import AppendOnlyError, AuditEntry
from server.registry.services import outlet_update, staff_depart
from tests.factories import hire
from tests.fieldwork.helpers import ended_task
from tests.om.helpers import checkin_payload, face_jpeg, photo_payload, record_payload, signature_b64
from tests.om.test_om_day import signed_photo
from tests.sync.helpers import Phone
from tests.violations.helpers import opened, rectify, review

pytestmark = pytest.mark.django_db
API = "/api/v1"


def history(client, subject_type: str, subject_id) -> list[dict]:
    response = client.get(f"{API}/audit/{subject_type}/{subject_id}")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def submit_project(client, project, side) -> None:
    pdf = SimpleUploadedFile("合同.pdf", b"%PDF-1.4 contract", content_type="application/pdf")
    client.post(
        f"{API}/projects/{project.pk}/attachments", {"kind": "contract", "file": pdf}, format="multipart"
    )
    ended_task(side, project)
    assert client.post(f"{API}/projects/{project.pk}/submit").json()["status"] == "submitted"


def test_a_project_returned_online_names_the_regulator_the_reason_and_the_phone(world, client_for):
    side = world.shanghai
    submit_project(client_for(side.main), side.project, side)
    phone = Phone.enrol(side.regulator)
    answer = phone.client().post(
        f"{API}/projects/{side.project.pk}/return", {"reason": "缺少监测报告"}, format="json"
    )
    assert answer.status_code == 200, answer.json()

    returned, submitted, created = history(client_for(side.regulator), "project", side.project.pk)
    assert [returned["action"], submitted["action"], created["action"]] == [
        "project.returned",
        "project.submitted",
        "project.created",
    ]
    assert returned["actor"]["id"] == side.regulator.pk
    assert returned["changes"] == {"status": ["submitted", "returned"], "reason": "缺少监测报告"}
    assert returned["device"]["id"] == phone.device_id
    assert returned["device"]["platform"] == "wechat"
    assert returned["operation"] is None  # online, not pushed
    assert returned["summary"] == f"退回：{side.project.name}"
    assert (returned["agency"], returned["region_code"]) == (side.agency.pk, "310104")
    # The submission came through the back office's session: no phone.
    assert submitted["device"] is None
    assert submitted["actor"]["id"] == side.main.pk


def test_a_task_transition_pushed_offline_names_the_device_and_the_operation(world, client_for):
    side = world.shanghai
    sampler = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    create = sampler.op("task.create", task_id, {"project": side.project.pk, "name": "进水口采样"})
    start = sampler.op("task.transition", task_id, {"to": "running"})
    queue = list(sampler.queue)
    pushed = sampler.push()
    assert {r["status"] for r in pushed.json()["results"]} == {"applied"}, pushed.json()
    assert sampler.push(queue).status_code == 200  # a retry: applied once, recorded once

    moved, made = history(client_for(side.main), "task", task_id)
    assert (moved["action"], made["action"]) == ("task.transition", "task.created")
    assert moved["changes"]["status"] == ["created", "running"]
    assert moved["changes"]["applied"] is True
    assert moved["actor"]["id"] == side.field_user.pk
    assert moved["actor"]["name"] == side.sampler.person.name
    assert moved["device"]["id"] == sampler.device_id
    assert moved["operation"]["op_id"] == start["op_id"]
    assert moved["operation"]["op_type"] == "task.transition"
    assert made["operation"]["op_id"] == create["op_id"]
    assert AuditEntry.objects.filter(subject_type="task", subject_id=str(task_id)).count() == 2


def test_task_edits_and_deletion_pushed_offline_are_recorded(world, client_for):
    side = world.shanghai
    sampler = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    sampler.op("task.create", task_id, {"project": side.project.pk, "name": "进水口采样"})
    edit = sampler.op("task.update", task_id, {"name": "进水口采样（改）", "note": "雨天"}, base_version=1)
    sampler.op("task.delete", task_id, {})
    pushed = sampler.push()
    assert {r["status"] for r in pushed.json()["results"]} == {"applied"}, pushed.json()

    deleted, updated, _created = history(client_for(side.main), "task", task_id)
    assert (deleted["action"], updated["action"]) == ("task.deleted", "task.updated")
    assert updated["changes"] == {"name": "进水口采样（改）", "note": "雨天"}
    assert updated["operation"]["op_id"] == edit["op_id"]
    assert deleted["device"]["id"] == sampler.device_id


def test_an_om_record_submitted_offline_confirmed_and_voided_is_recorded_in_order(
    world, client_for, django_capture_on_commit_callbacks
):
    side = world.shanghai
    t0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=5)
    day = timezone.localdate(t0)
    tech = Phone.enrol(side.technician_user)
    start, end, photo, record_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tech.op("checkin.record", start, checkin_payload(side, "start", t0), device_time=t0)
    tech.op("photo.record", photo, photo_payload(side.wastewater, face_jpeg(1), t0), device_time=t0)
    t_end = t0 + dt.timedelta(hours=1)
    tech.op("checkin.record", end, checkin_payload(side, "end", t_end), device_time=t_end)
    save = tech.op(
        "om_record.save",
        record_id,
        record_payload(side, start=start, end=end, work_photo=photo, signature=signature_b64(1), submit=True),
        device_time=t_end,
    )
    assert {r["status"] for r in tech.push().json()["results"]} == {"applied"}

    ent_photo = signed_photo(
        Phone.enrol(side.enterprise_user), side, 2, t_end, django_capture_on_commit_callbacks
    )
    confirm = {
        "id": str(uuid.uuid4()),
        "enterprise": side.enterprise.pk,
        "date": day.isoformat(),
        "records": [{"id": str(record_id), "version": 1}],
        "work_photo": str(ent_photo),
        "signature": signature_b64(2),
    }
    assert (
        client_for(side.enterprise_user).post(f"{API}/om/days/confirm", confirm, format="json").status_code
        == 201
    )
    rev_photo = signed_photo(Phone.enrol(side.reviewer), side, 3, t_end, django_capture_on_commit_callbacks)
    void = {
        "id": str(uuid.uuid4()),
        "records": [str(record_id)],
        "decision": "void",
        "reason": "巡检项目漏填",
        "work_photo": str(rev_photo),
        "signature": signature_b64(3),
    }
    assert client_for(side.reviewer).post(f"{API}/om/reviews", void, format="json").status_code == 201

    entries = history(client_for(side.regulator), "om_record", record_id)
    assert [e["action"] for e in reversed(entries)] == [
        "om_record.submitted",
        "om_day.confirmed",
        "om_record.reviewed",
    ]
    submitted, confirmed, voided = reversed(entries)
    assert submitted["actor"]["id"] == side.technician_user.pk
    assert submitted["device"]["id"] == tech.device_id
    assert submitted["operation"]["op_id"] == save["op_id"]
    assert submitted["changes"]["status"] == ["draft", "submitted"]
    assert confirmed["actor"]["id"] == side.enterprise_user.pk
    assert confirmed["changes"]["status"] == ["submitted", "confirmed"]
    assert voided["actor"]["id"] == side.reviewer.pk
    assert voided["changes"]["status"] == ["confirmed", "voided"]
    assert voided["changes"]["reason"] == "巡检项目漏填"
    assert voided["operation"] is None
    assert all(e["enterprise"] == side.enterprise.pk and e["region_code"] == "310104" for e in entries)


def test_a_violation_its_rectification_and_the_rejection_are_recorded(world, client_for):
    side = world.shanghai
    main, regulator = client_for(side.main), client_for(side.regulator)
    violation = opened(regulator, side.project, description="采样点位与方案不符")
    assert rectify(main, violation["id"], text="已重新采样").status_code == 201
    assert review(regulator, violation["id"], "reject", "照片不清晰").status_code == 200

    rejected, rectified, opened_ = history(main, "violation", violation["id"])
    assert [opened_["action"], rectified["action"], rejected["action"]] == [
        "violation.opened",
        "violation.rectified",
        "rectification.rejected",
    ]
    assert rejected["changes"]["reason"] == "照片不清晰"
    assert rejected["changes"]["status"] == ["rectified", "open"]
    assert rectified["actor"]["id"] == side.main.pk
    assert opened_["changes"]["description"] == "采样点位与方案不符"


def test_registry_changes_staff_and_outlets_are_recorded_with_what_changed(world, client_for):
    side = world.shanghai
    employment = hire(side.agency, ["courier"])
    staff_depart(employment=employment, departed_on=timezone.localdate())
    outlet_update(outlet=side.wastewater, geofence_radius_m=300)

    left, hired = history(client_for(side.main), "staff", employment.pk)
    assert (hired["action"], left["action"]) == ("staff.hired", "staff.departed")
    assert hired["changes"]["posts"] == ["courier"]
    assert left["changes"]["status"] == ["active", "departed"]
    assert hired["actor"] is None  # made outside any request: the system
    (moved,) = history(client_for(side.regulator), "outlet", side.wastewater.pk)
    assert moved["changes"] == {"geofence_radius_m": [150, 300]}
    # The agency's history also holds its dossier's uploads (agency.document_added …): the moves here.
    filing = [e for e in history(client_for(side.main), "agency", side.agency.pk) if "status" in e["changes"]]
    assert {e["action"] for e in history(client_for(side.main), "agency", side.agency.pk)} >= {
        "agency.document_added",
        "agency.qualification_added",
    }
    assert [e["changes"]["status"] for e in reversed(filing)] == [
        ["draft", "submitted"],
        ["submitted", "approved"],
    ]


# --- Who reads what ---------------------------------------------------------------------------------


def listed(client, **params) -> list[dict]:
    response = client.get(f"{API}/audit", {"page_size": 200, **params})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_a_regulator_sees_its_region_only(world, client_for):
    jiangsu = client_for(world.jiangsu.regulator)
    entries = listed(jiangsu)
    assert entries
    assert all(e["region_code"].startswith("32") for e in entries)
    assert {e["agency"] for e in entries if e["agency"]} == {world.jiangsu.agency.pk}
    # Shanghai's objects are not found, so that their existence does not leak.
    assert jiangsu.get(f"{API}/audit/project/{world.shanghai.project.pk}").status_code == 404
    shanghai = listed(client_for(world.shanghai.regulator))
    assert not {e["id"] for e in entries} & {e["id"] for e in shanghai}


def test_an_agency_main_account_sees_its_own_agency_only(world, client_for):
    side = world.shanghai
    for user in (side.main, side.manager):
        entries = listed(client_for(user))
        assert entries
        assert {e["agency"] for e in entries} == {side.agency.pk}
    assert client_for(side.main).get(f"{API}/audit/project/{world.jiangsu.project.pk}").status_code == 404


@pytest.mark.parametrize("role", ["agency_field", "agency_reviewer", "enterprise"])
def test_field_staff_reviewers_and_enterprises_may_not_list_the_trail(world, client_for, role):
    response = client_for(world.shanghai.users[role]).get(f"{API}/audit")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_field_staff_see_the_history_of_a_project_they_are_on(world, client_for):
    side = world.shanghai
    assert [e["action"] for e in history(client_for(side.field_user), "project", side.project.pk)] == [
        "project.created"
    ]
    assert client_for(side.field_user).get(f"{API}/audit/nonsense/1").status_code == 404
    assert client_for(side.field_user).get(f"{API}/audit/task/not-a-uuid").status_code == 404


def test_the_list_filters_by_subject_action_actor_and_time(world, client_for):
    side = world.shanghai
    platform = client_for(world.platform)
    submit_project(client_for(side.main), side.project, side)
    everything = listed(platform)
    assert {e["region_code"][:2] for e in everything} >= {"31", "32"}
    assert [e["action"] for e in listed(platform, subject_type="project", subject_id=side.project.pk)] == [
        "project.submitted",
        "project.created",
    ]
    assert {e["action"] for e in listed(platform, action="project.")} == {
        "project.created",
        "project.submitted",
    }
    assert {e["actor"]["id"] for e in listed(platform, actor=side.main.pk)} == {side.main.pk}
    future = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert listed(platform, since=future) == []
    assert len(listed(platform, until=future)) == len(everything)
    ats = [e["at"] for e in everything]
    assert ats == sorted(ats, reverse=True)  # newest first
    bad = platform.get(f"{API}/audit", {"since": "yesterday"})
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_failed")


# --- Append-only ------------------------------------------------------------------------------------


def test_the_api_has_no_write(world, client_for):
    platform = client_for(world.platform)
    entry = AuditEntry.objects.first()
    for url in (f"{API}/audit", f"{API}/audit/project/{world.shanghai.project.pk}"):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(platform, method)(url, {}, format="json").status_code == 405
    assert AuditEntry.objects.get(pk=entry.pk).summary == entry.summary


def test_entries_cannot_be_changed_or_deleted(world):
    entry = AuditEntry.objects.first()
    entry.summary = "改写"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(summary="改写")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_the_admin_lists_and_shows_but_never_adds_changes_or_deletes(world, admin_client):
    entry = AuditEntry.objects.filter(action="project.created").first()
    listing = admin_client.get(reverse("admin:audit_auditentry_changelist"), {"q": entry.subject_id})
    assert listing.status_code == 200
    assert "project.created" in listing.content.decode()
    assert (
        admin_client.get(
            reverse("admin:audit_auditentry_changelist"), {"action__exact": "staff.hired"}
        ).status_code
        == 200
    )
    change = admin_client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert change.status_code == 200
    assert admin_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:audit_auditentry_change", args=[entry.pk]), {}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


# --- Query counts -----------------------------------------------------------------------------------


def test_the_list_runs_a_fixed_number_of_queries(world, client_for):
    platform = client_for(world.platform)
    sampler = Phone.enrol(world.shanghai.field_user)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = platform.get(f"{API}/audit", {"page_size": 200})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(5):  # entries with actors, devices and operations
        task_id = uuid.uuid4()
        sampler.op("task.create", task_id, {"project": world.shanghai.project.pk, "name": f"任务{n}"})
        sampler.op("task.transition", task_id, {"to": "running"})
    sampler.push()
    more = count()
    assert more == few <= 3  # the count, the page (actors, people, devices, operations joined)
    with CaptureQueriesContext(connection) as ctx:
        history(platform, "task", task_id)
    assert len(ctx.captured_queries) <= 4  # the object's access check, the count, the page
