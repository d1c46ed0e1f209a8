"""What the agency and the regulator are told, in the app, when the other side acts: a project
returned or accepted, a violation opened, a rectification submitted, rejected or accepted."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.fieldwork.helpers import ended_task
from tests.violations.helpers import opened, rectify, review

pytestmark = pytest.mark.django_db
API = "/api/v1"


def inbox(client) -> list[tuple[str, str, str]]:
    rows = client.get(f"{API}/notifications").json()["results"]
    return [(n["kind"], n["title"], n["body"]) for n in rows]


def test_a_returned_project_tells_the_agency_why(world, client_for):
    side = world.shanghai
    main, regulator = client_for(side.main), client_for(side.regulator)
    pid = side.project.pk
    pdf = SimpleUploadedFile("合同.pdf", b"%PDF-1.4 contract", content_type="application/pdf")
    main.post(f"{API}/projects/{pid}/attachments", {"kind": "contract", "file": pdf}, format="multipart")
    ended_task(side)
    assert main.post(f"{API}/projects/{pid}/submit").json()["status"] == "submitted"
    regulator.post(f"{API}/projects/{pid}/return", {"reason": "缺少监测报告"}, format="json")

    assert inbox(main) == [("project-returned", f"项目被退回：{side.project.name}", "缺少监测报告")]
    assert main.get(f"{API}/home").json()["notifications"]["unread"] == 1
    # The other agency and the field staff are not told; the regulator neither.
    assert inbox(client_for(world.jiangsu.main)) == []
    assert inbox(client_for(side.field_user)) == []
    assert inbox(regulator) == []


def test_a_violation_and_its_rectifications_notify_each_side(world, client_for):
    side = world.shanghai
    main, regulator = client_for(side.main), client_for(side.regulator)
    violation = opened(regulator, side.project, description="采样点位与方案不符")
    assert inbox(main)[0][:2] == ("violation-opened", f"违规待整改：{side.project.name}")
    assert "采样点位与方案不符" in inbox(main)[0][2]

    assert rectify(main, violation["id"], text="已重新采样").status_code == 201
    assert inbox(regulator) == [("rectification-submitted", f"整改待审核：{side.project.name}", "已重新采样")]

    assert review(regulator, violation["id"], "reject", "照片不清晰").status_code == 200
    assert inbox(main)[0] == ("rectification-rejected", f"整改被退回：{side.project.name}", "照片不清晰")
    assert inbox(client_for(world.jiangsu.main)) == []
