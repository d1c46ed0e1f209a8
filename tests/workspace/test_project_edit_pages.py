"""The projects pages' [F13] forms with Django's test client: registering with the seed's fields,
编辑 while unfinished or returned, 删除 with its confirmation (kept in history, gone from the list),
attachments deleted, the required attachments as a checklist, and the submission's refusals said on
the page. Each test reads what is stored; what a service refuses leaves it as it was."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from server.fieldwork.models import MonitoringProject, MonitoringTask, ProjectAttachment, ProjectEvent
from server.fieldwork.services import project_attach, project_create, project_transition, task_create
from tests.factories import build_world, credit_code
from tests.fieldwork.helpers import ended_task
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import machine_words, visible_text

pytestmark = pytest.mark.django_db
S = MonitoringProject.Status


@pytest.fixture
def world(db):
    return build_world()


def a_file(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content or f"%PDF-1.4 {name}".encode(), content_type="application/pdf")


def form_data(side, **fields) -> dict:
    return {
        "contract": side.monitoring_contract.pk,
        "number": "HW-001",
        "name": "污泥危险特性鉴别",
        "monitoring_type": "hazardous_waste",
        "monitoring_items": "浸出毒性、腐蚀性，反应性",
        "commission_category": "hazardous_identification",
        "client_contact": "王经理",
        "client_phone": "13812345678",
        "subcontracted": "no",
        "subcontractor_name": "",
        "subcontractor_credit_code": "",
        "training_on": "2026-05-06",
        "training_content": "鉴别采样培训",
        **fields,
    }


def test_registering_stores_the_seeds_fields_and_the_page_shows_them(world):
    side = world.shanghai
    client = signed_in(side.main)
    code = credit_code("91510100MA")
    response = client.post(
        "/projects/new/",
        form_data(
            side, subcontracted="yes", subcontractor_name="分包检测公司", subcontractor_credit_code=code
        ),
    )
    project = MonitoringProject.objects.get(number="HW-001")
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.monitoring_items == ["浸出毒性", "腐蚀性", "反应性"]
    assert (project.commission_category, project.client_phone) == ("hazardous_identification", "13812345678")
    assert (project.subcontracted, project.subcontractor_name, project.subcontractor_credit_code) == (
        True,
        "分包检测公司",
        code,
    )
    assert project.training_content == "鉴别采样培训"
    page = client.get(f"/projects/{project.pk}/")
    text = visible_text(page)
    for shown in (
        "浸出毒性、腐蚀性、反应性",
        "危险废物鉴别",
        "王经理 13812345678",
        "分包检测公司",
        code,
        "鉴别采样培训",
    ):
        assert shown in text, shown
    # The checklist: the contract, the type's plan and report, the subcontractor's qualification.
    checklist = page.content.decode().split('id="required-attachments"')[1].split("</ul>")[0]
    for kind in ("contract", "identification_plan", "identification_report", "subcontractor_qualification"):
        assert f'class="missing" data-kind="{kind}"' in checklist
    for typed in (code, project.number, side.monitoring_contract.number):
        text = text.replace(typed, "")
    assert machine_words(text) == []


def test_what_the_service_refuses_is_said_beside_the_field_and_kept(world):
    side = world.shanghai
    client = signed_in(side.main)
    response = client.post(
        "/projects/new/", form_data(side, subcontracted="yes", subcontractor_name="分包公司")
    )
    assert response.status_code == 200
    assert "选择分包时须填写分包单位的名称和统一社会信用代码" in visible_text(response)
    assert 'value="分包公司"'.encode() in response.content
    response = client.post("/projects/new/", form_data(side, client_phone="12345"))
    assert "联系电话格式不正确" in visible_text(response)
    response = client.post(
        "/projects/new/",
        form_data(
            side,
            subcontracted="yes",
            subcontractor_name="分包公司",
            subcontractor_credit_code="91510100MA6123456X",
        ),
    )
    assert "统一社会信用代码无效" in visible_text(response)
    assert not MonitoringProject.objects.filter(number="HW-001").exists()


def test_edit_while_unfinished_or_returned(world):
    side = world.shanghai
    client = signed_in(side.main)
    project = side.project
    url = f"/projects/{project.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="{project.number}"'.encode() in page.content
    data = {
        "number": project.number,
        "name": "二季度废水监测",
        "monitoring_type": "water",
        "monitoring_items": "pH、化学需氧量",
        "commission_category": "self_monitoring",
        "client_contact": "",
        "client_phone": "",
        "subcontracted": "no",
        "training_on": "",
        "training_content": "",
    }
    response = client.post(url, data)
    assert response["Location"] == f"/projects/{project.pk}/"
    project.refresh_from_db()
    assert (project.name, project.monitoring_items, project.commission_category) == (
        "二季度废水监测",
        ["pH", "化学需氧量"],
        "self_monitoring",
    )
    assert "项目信息已保存" in visible_text(client.get(response["Location"]))
    # A refusal is said in the form, what was typed kept, nothing stored.
    response = client.post(url, {**data, "name": "又改名", "client_phone": "110"})
    assert response.status_code == 400
    assert "联系电话格式不正确" in visible_text(response)
    assert 'value="又改名"'.encode() in response.content
    project.refresh_from_db()
    assert project.name == "二季度废水监测"
    # Submitted: locked, said, and a post stores nothing.
    project_attach(project=project, kind="contract", upload=a_file("合同.pdf"), actor=side.main)
    ended_task(side)
    project_transition(project=project, to=S.SUBMITTED, actor=side.main)
    assert "不能修改" in visible_text(client.get(url))
    assert (
        "编辑"
        not in visible_text(client.get(f"/projects/{project.pk}/")).split("附件资料")[0].split("监测状态")[-1]
    )
    response = client.post(url, {**data, "name": "提交后改名"})
    assert response.status_code == 409
    project.refresh_from_db()
    assert project.name == "二季度废水监测"
    # Returned: editable again.
    project_transition(project=project, to=S.RETURNED, actor=side.regulator, reason="补充委托类别")
    assert client.post(url, {**data, "commission_category": "other"}).status_code == 302
    project.refresh_from_db()
    assert project.commission_category == "other"


def test_delete_is_confirmed_kept_in_history_and_gone_from_the_list(world):
    side = world.shanghai
    client = signed_in(side.main)
    project = project_create(
        agency=side.agency,
        actor=side.main,
        number="DEL-1",
        name="登记错了的项目",
        monitoring_type="noise",
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
    )
    page = client.get(f"/projects/{project.pk}/")
    assert b'id="project-delete"' in page.content
    assert "确定删除此项目" in visible_text(page)
    response = client.post(f"/projects/{project.pk}/delete", {"reason": "重复登记"})
    assert response["Location"] == "/projects/"
    project.refresh_from_db()
    assert project.status == S.DELETED
    event = ProjectEvent.objects.get(project=project)
    assert (event.from_status, event.to_status, event.reason, event.actor) == (
        "unfinished",
        "deleted",
        "重复登记",
        side.main,
    )
    listing = client.get("/projects/")
    assert "已删除，其记录仍保留" in visible_text(listing)
    assert "DEL-1" not in visible_text(listing)
    assert client.get(f"/projects/{project.pk}/").status_code == 404


def test_a_project_with_field_work_is_not_deleted_and_says_why(world):
    side = world.shanghai
    client = signed_in(side.main)
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="采样中")
    MonitoringTask.objects.filter(pk=task.pk).update(status=MonitoringTask.Status.RUNNING)
    assert b'id="project-delete"' not in client.get(f"/projects/{side.project.pk}/").content
    response = client.post(f"/projects/{side.project.pk}/delete")
    assert response.status_code == 409
    assert "现场记录须留存，不能删除" in visible_text(response)
    side.project.refresh_from_db()
    assert side.project.status == S.UNFINISHED


def test_an_attachment_is_deleted_while_editable_and_kept(world):
    side = world.shanghai
    client = signed_in(side.main)
    project = side.project
    report = project_attach(project=project, kind="report", upload=a_file("监测报告.pdf"), actor=side.main)
    page = client.get(f"/projects/{project.pk}/")
    delete_url = f"/projects/{project.pk}/attachments/{report.pk}/delete"
    assert delete_url.encode() in page.content
    response = client.post(delete_url)
    assert response["Location"] == f"/projects/{project.pk}/"
    report.refresh_from_db()
    assert (report.deleted_by, report.deleted_at is not None) == (side.main, True)
    page = client.get(f"/projects/{project.pk}/")
    assert "附件“监测报告.pdf”已删除" in visible_text(page)
    assert b'id="attachment-' not in page.content
    assert client.get(f"/projects/{project.pk}/attachments/{report.pk}/file").status_code == 404
    # Submitted: the attachments stay as they are.
    contract = project_attach(project=project, kind="contract", upload=a_file("合同.pdf"), actor=side.main)
    ended_task(side)
    project_transition(project=project, to=S.SUBMITTED, actor=side.main)
    assert b"/delete" not in client.get(f"/projects/{project.pk}/").content
    response = client.post(f"/projects/{project.pk}/attachments/{contract.pk}/delete")
    assert response.status_code == 409
    assert "不能修改" in visible_text(response)
    assert ProjectAttachment.objects.get(pk=contract.pk).deleted_at is None


def test_submitting_names_the_missing_attachments_then_the_missing_task(world):
    side = world.shanghai
    client = signed_in(side.main)
    project = project_create(
        agency=side.agency,
        actor=side.main,
        number="HW-2",
        name="废活性炭鉴别",
        monitoring_type="hazardous_waste",
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
    )
    project_attach(project=project, kind="contract", upload=a_file("合同.pdf"), actor=side.main)
    response = client.post(f"/projects/{project.pk}/submit")
    assert response.status_code == 409
    assert "提交前须上传以下附件：危险废物鉴别方案、危险废物鉴别报告" in visible_text(response)
    for kind, name in (("identification_plan", "鉴别方案.pdf"), ("identification_report", "鉴别报告.pdf")):
        project_attach(project=project, kind=kind, upload=a_file(name), actor=side.main)
    response = client.post(f"/projects/{project.pk}/submit")
    assert "项目还没有已结束的监测任务" in visible_text(response)
    checklist = response.content.decode().split('id="required-attachments"')[1].split("</ul>")[0]
    assert checklist.count('class="done"') == 3
    ended_task(side, project)
    assert client.post(f"/projects/{project.pk}/submit").status_code == 302
    project.refresh_from_db()
    assert project.status == S.SUBMITTED


def test_the_regulator_gets_no_edit_or_delete(world):
    side = world.shanghai
    attachment = project_attach(
        project=side.project, kind="contract", upload=a_file("合同.pdf"), actor=side.main
    )
    client = signed_in(side.regulator)
    content = client.get(f"/projects/{side.project.pk}/").content.decode()
    assert "/edit/" not in content
    assert "/delete" not in content
    assert "必传附件" in content  # the checklist is read by the regulator too
    assert client.get(f"/projects/{side.project.pk}/edit/").status_code == 404
    assert client.post(f"/projects/{side.project.pk}/delete").status_code == 404
    assert client.post(f"/projects/{side.project.pk}/attachments/{attachment.pk}/delete").status_code == 404
    side.project.refresh_from_db()
    assert side.project.status == S.UNFINISHED
    assert ProjectAttachment.objects.get(pk=attachment.pk).deleted_at is None
