"""Seed 002 项目登记 through the API ([F13]): the registration's own fields (监测信息, 委托类别 and
the client's contact, 是否分包 with the subcontractor, 培训信息), editing and deleting while
unfinished or returned (kept in history, gone from lists and pulls), attachments downloaded and
deleted, the required attachments per monitoring type (data), and no submission without an ended
task. Each test reads what is stored; another agency finds none of it."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from server.audit.models import AuditEntry
from server.fieldwork.models import (
    MonitoringProject,
    MonitoringTask,
    ProjectAttachment,
    ProjectAttachmentRequirement,
    ProjectEvent,
)
from server.fieldwork.services import project_transition, task_create
from sync.models import Change
from tests.factories import credit_code
from tests.fieldwork.helpers import ended_task

pytestmark = pytest.mark.django_db
API = "/api/v1"
S = MonitoringProject.Status


def a_pdf(name: str = "委托合同.pdf", content: bytes = b"%PDF-1.4 contract\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def register(client, side, **fields):
    body = {
        "number": "HW-2026-001",
        "name": "污泥危险特性鉴别",
        "monitoring_type": "hazardous_waste",
        "contract": side.monitoring_contract.pk,
        **fields,
    }
    return client.post(f"{API}/projects", body, format="json")


def attach(client, project_id: int, kind: str, name: str, content: bytes | None = None):
    upload = a_pdf(name, content or f"%PDF-1.4 {kind} {name}".encode())
    return client.post(
        f"{API}/projects/{project_id}/attachments", {"kind": kind, "file": upload}, format="multipart"
    )


def test_registration_stores_the_seeds_fields(world, client_for):
    side = world.shanghai
    code = credit_code("91510100MA")
    response = register(
        client_for(side.main),
        side,
        monitoring_items=["浸出毒性", " 腐蚀性 ", "浸出毒性"],
        commission_category="hazardous_identification",
        client_contact="王经理",
        client_phone="028-86123456",
        subcontracted=True,
        subcontractor_name="四川某检测有限公司",
        subcontractor_credit_code=code.lower(),
        training_on="2026-05-06",
        training_content="危险废物鉴别采样规范（HJ 298）培训",
    )
    assert response.status_code == 201, response.json()
    project = MonitoringProject.objects.get(pk=response.json()["id"])
    assert project.monitoring_items == ["浸出毒性", "腐蚀性"]
    assert project.commission_category == "hazardous_identification"
    assert (project.client_contact, project.client_phone) == ("王经理", "028-86123456")
    assert (project.subcontracted, project.subcontractor_name) == (True, "四川某检测有限公司")
    assert project.subcontractor_credit_code == code  # stored as GB 32100 writes it
    assert project.training_on.isoformat() == "2026-05-06"
    body = response.json()
    assert body["commission_category_label"] == "危险废物鉴别"
    # The checklist: the contract, the type's 鉴别方案 and 鉴别报告, the subcontractor's qualification.
    assert [(r["kind"], r["present"]) for r in body["required_attachments"]] == [
        ("contract", False),
        ("identification_plan", False),
        ("identification_report", False),
        ("subcontractor_qualification", False),
    ]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"subcontracted": True, "subcontractor_name": "某检测公司"}, "subcontractor_required"),
        (
            {
                "subcontracted": True,
                "subcontractor_name": "某检测公司",
                "subcontractor_credit_code": "91510100MA61234567",
            },
            "invalid_credit_code",
        ),
        ({"client_phone": "12345"}, "client_phone_invalid"),
        ({"commission_category": "bribery"}, "validation_failed"),
    ],
)
def test_what_the_registration_refuses_stores_nothing(world, client_for, fields, code):
    side = world.shanghai
    response = register(client_for(side.main), side, **fields)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not MonitoringProject.objects.filter(number="HW-2026-001").exists()


def test_not_subcontracted_keeps_no_subcontractor(world, client_for):
    side = world.shanghai
    response = register(
        client_for(side.main),
        side,
        subcontracted=False,
        subcontractor_name="残留的名称",
        subcontractor_credit_code="x",
    )
    project = MonitoringProject.objects.get(pk=response.json()["id"])
    assert (project.subcontractor_name, project.subcontractor_credit_code) == ("", "")


def test_edit_while_unfinished_or_returned_and_not_after(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    project = side.project
    url = f"{API}/projects/{project.pk}"
    response = main.patch(
        url, {"name": " 二季度废水监测 ", "monitoring_items": ["COD", "氨氮"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    assert (project.name, project.monitoring_items) == ("二季度废水监测", ["COD", "氨氮"])
    entry = AuditEntry.objects.filter(action="project.updated", subject_id=str(project.pk)).get()
    assert entry.changes["name"] == ["季度废水监测", "二季度废水监测"]
    # Another project's number is taken; the stored one stays.
    other = register(main, side, number="HW-9").json()["id"]
    assert main.patch(url, {"number": "HW-9"}, format="json").json()["code"] == "project_number_taken"
    # The type fixes its tasks' photo types: not changed once it has one.
    ended_task(side)
    assert (
        main.patch(url, {"monitoring_type": "noise"}, format="json").json()["code"]
        == "project_type_has_tasks"
    )
    # Submitted: locked; returned: editable again.
    attach(main, project.pk, "contract", "合同.pdf")
    project_transition(project=project, to=S.SUBMITTED, actor=side.main)
    response = main.patch(url, {"client_contact": "张三"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "project_locked")
    project_transition(project=project, to=S.RETURNED, actor=side.regulator, reason="补充联系人")
    assert main.patch(url, {"client_contact": "张三"}, format="json").json()["client_contact"] == "张三"
    project.refresh_from_db()
    assert (project.number, project.monitoring_type, project.client_contact) == (
        side.project.number,
        "water",
        "张三",
    )
    assert MonitoringProject.objects.get(pk=other).number == "HW-9"


def test_delete_keeps_the_history_and_leaves_lists_and_pulls(world, client_for):
    side = world.shanghai
    main, phone = client_for(side.main), client_for(side.field_user)
    project = side.project
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=project, name="还没开始的任务")
    response = main.delete(f"{API}/projects/{project.pk}", {"reason": "重复登记"}, format="json")
    assert response.status_code == 204
    project.refresh_from_db()
    assert project.status == S.DELETED
    event = ProjectEvent.objects.get(project=project)
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        "unfinished",
        "deleted",
        side.main,
        "重复登记",
    )
    assert AuditEntry.objects.filter(action="project.deleted", subject_id=str(project.pk)).exists()
    # Gone from the lists and pages; the task only created goes with it, as a tombstone phones pull.
    for client in (main, phone, client_for(side.regulator)):
        assert project.pk not in [p["id"] for p in client.get(f"{API}/projects").json()["results"]]
        assert client.get(f"{API}/projects/{project.pk}").status_code == 404
    task.refresh_from_db()
    assert task.deleted_at is not None
    assert Change.objects.get(entity_type="task", entity_id=str(task.pk)).deleted
    pulled = phone.get(f"{API}/sync/pull", {"cursor": 0}).json()["changes"]
    assert {"entity": "task", "id": str(task.pk), "deleted": True} in [
        {k: c[k] for k in ("entity", "id", "deleted")} for c in pulled
    ]
    # Gone, it is not deleted twice nor edited.
    assert main.delete(f"{API}/projects/{project.pk}").status_code == 404
    # Its history stays readable by those who saw it, never by another agency.
    actions = [e["action"] for e in main.get(f"{API}/audit/project/{project.pk}").json()["results"]]
    assert actions[0] == "project.deleted"
    assert "project.created" in actions
    assert client_for(world.jiangsu.main).get(f"{API}/audit/project/{project.pk}").status_code == 404


def test_a_project_with_field_work_or_submitted_is_not_deleted(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    project = side.project
    running, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=project, name="采样中")
    MonitoringTask.objects.filter(pk=running.pk).update(status=MonitoringTask.Status.RUNNING)
    response = main.delete(f"{API}/projects/{project.pk}")
    assert (response.status_code, response.json()["code"]) == (409, "project_has_work")
    assert response.json()["details"] == {"count": 1}
    assert "不能删除" in response.json()["message"]
    ended_task(side)
    attach(main, project.pk, "contract", "合同.pdf")
    project_transition(project=project, to=S.SUBMITTED, actor=side.main)
    response = main.delete(f"{API}/projects/{project.pk}")
    assert (response.status_code, response.json()["code"]) == (409, "project_transition_not_allowed")
    project.refresh_from_db()
    assert project.status == S.SUBMITTED
    assert not ProjectEvent.objects.filter(project=project, to_status=S.DELETED).exists()


def test_attachments_download_and_delete_with_history(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    project = side.project
    content = b"%PDF-1.4 the report, first version\n"
    body = attach(main, project.pk, "report", "监测报告.pdf", content).json()
    (row,) = body["attachments"]
    file_url = f"{API}/projects/{project.pk}/attachments/{row['id']}/file"
    for user in (side.main, side.regulator, side.field_user):
        download = client_for(user).get(file_url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == content
    response = main.delete(f"{API}/projects/{project.pk}/attachments/{row['id']}")
    assert response.status_code == 200
    assert response.json()["attachments"] == []
    stored = ProjectAttachment.objects.get(pk=row["id"])
    assert stored.deleted_at is not None
    assert stored.deleted_by == side.main
    entry = AuditEntry.objects.get(action="project.attachment_deleted")
    assert entry.changes["name"] == "监测报告.pdf"
    assert main.get(file_url).status_code == 404
    # 监测报告可以删除后重新上传: the same file again is a new, live row.
    again = attach(main, project.pk, "report", "监测报告.pdf", content).json()["attachments"]
    assert len(again) == 1
    assert again[0]["id"] != row["id"]
    # Only the agency's administrators delete; not once submitted.
    field = client_for(side.field_user).delete(f"{API}/projects/{project.pk}/attachments/{again[0]['id']}")
    assert field.status_code in (403, 404)
    attach(main, project.pk, "contract", "合同.pdf")
    ended_task(side)
    project_transition(project=project, to=S.SUBMITTED, actor=side.main)
    response = main.delete(f"{API}/projects/{project.pk}/attachments/{again[0]['id']}")
    assert (response.status_code, response.json()["code"]) == (409, "project_locked")
    assert ProjectAttachment.objects.get(pk=again[0]["id"]).deleted_at is None


def test_submission_needs_the_types_attachments_and_an_ended_task(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    pid = register(main, side).json()["id"]
    attach(main, pid, "contract", "合同.pdf")
    response = main.post(f"{API}/projects/{pid}/submit")
    assert (response.status_code, response.json()["code"]) == (409, "project_attachments_missing")
    assert response.json()["details"] == {"missing": ["identification_plan", "identification_report"]}
    assert "危险废物鉴别方案、危险废物鉴别报告" in response.json()["message"]
    attach(main, pid, "identification_plan", "鉴别方案.pdf")
    report = attach(main, pid, "identification_report", "鉴别报告.pdf").json()["attachments"][-1]
    response = main.post(f"{API}/projects/{pid}/submit")
    assert response.json()["code"] == "project_no_task_done"
    assert "项目还没有已结束的监测任务" in response.json()["message"]
    project = MonitoringProject.objects.get(pk=pid)
    ended_task(side, project)
    # A deleted attachment no longer counts.
    main.delete(f"{API}/projects/{pid}/attachments/{report['id']}")
    assert main.post(f"{API}/projects/{pid}/submit").json()["details"] == {
        "missing": ["identification_report"]
    }
    attach(main, pid, "identification_report", "鉴别报告（修订）.pdf")
    assert main.post(f"{API}/projects/{pid}/submit").json()["status"] == "submitted"
    assert list(ProjectEvent.objects.filter(project=project).values_list("to_status", flat=True)) == [
        "submitted"
    ]


def test_the_requirements_are_data(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    ProjectAttachmentRequirement.objects.create(monitoring_type="water", kind="plan")
    ended_task(side)
    attach(main, side.project.pk, "contract", "合同.pdf")
    response = main.post(f"{API}/projects/{side.project.pk}/submit")
    assert response.json()["details"] == {"missing": ["plan"]}
    checklist = main.get(f"{API}/projects/{side.project.pk}").json()["required_attachments"]
    assert [(r["label"], r["present"]) for r in checklist] == [("合同", True), ("监测方案", False)]


def test_a_subcontracted_project_needs_the_subcontractors_qualification(world, client_for):
    side = world.shanghai
    main = client_for(side.main)
    url = f"{API}/projects/{side.project.pk}"
    main.patch(
        url,
        {
            "subcontracted": True,
            "subcontractor_name": "分包检测公司",
            "subcontractor_credit_code": credit_code(),
        },
        format="json",
    )
    ended_task(side)
    attach(main, side.project.pk, "contract", "合同.pdf")
    response = main.post(f"{url}/submit")
    assert response.json()["details"] == {"missing": ["subcontractor_qualification"]}
    attach(main, side.project.pk, "subcontractor_qualification", "分包资质.pdf")
    assert main.post(f"{url}/submit").json()["status"] == "submitted"


@pytest.mark.parametrize("role", ["agency_main", "agency_manager", "agency_field", "regulator", "enterprise"])
def test_another_agencys_project_and_attachments_are_not_found(world, client_for, role):
    own, other = world.shanghai, world.jiangsu
    attachment = attach(client_for(other.main), other.project.pk, "contract", "南京合同.pdf").json()[
        "attachments"
    ][0]
    client = client_for(own.users[role])
    url = f"{API}/projects/{other.project.pk}"
    assert client.patch(url, {"name": "改名"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get(f"{url}/attachments/{attachment['id']}/file").status_code == 404
    assert client.delete(f"{url}/attachments/{attachment['id']}").status_code == 404
    # Nor through the caller's own project's address.
    assert (
        client.get(f"{API}/projects/{own.project.pk}/attachments/{attachment['id']}/file").status_code == 404
    )
    other.project.refresh_from_db()
    assert (other.project.name, other.project.status) == ("季度废水监测", S.UNFINISHED)
    assert ProjectAttachment.objects.get(pk=attachment["id"]).deleted_at is None


def test_a_task_only_created_but_holding_photos_and_check_ins_keeps_its_project(world, client_for):
    """A phone may send a photo or a check-in before 开始: that is field work too (F13)."""
    from tests.maps.helpers import field_day

    side = world.shanghai
    scene = field_day(side, name="未开始但已拍照")
    assert scene.task.status == MonitoringTask.Status.CREATED
    response = client_for(side.main).delete(f"{API}/projects/{side.project.pk}")
    assert (response.status_code, response.json()["code"]) == (409, "project_has_work")
    side.project.refresh_from_db()
    scene.task.refresh_from_db()
    assert (side.project.status, scene.task.deleted_at) == (S.UNFINISHED, None)
