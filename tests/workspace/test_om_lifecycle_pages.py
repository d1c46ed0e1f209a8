"""Issue F13's pages with Django's test client: a task edited (directly, or as a 信息变更申请 once it
has records) and finished, a plan's forms edited and a plan with records kept, a contract edited and
the enterprise deciding the request. Refusals are said beside the field with what was typed kept;
stored data is what the services wrote."""

from __future__ import annotations

import datetime as dt

import pytest

from server.om.models import ChangeRequest, OmPlan, OmRecord, OmTask
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text

pytestmark = pytest.mark.django_db


def test_a_task_is_edited_by_request_once_it_has_records_and_finished(busy):
    side = busy.world.shanghai
    task = side.om_task
    assert OmRecord.objects.filter(task=task).exists()  # the busy world's records
    client = signed_in(side.main)
    url = f"/om/tasks/{task.pk}/edit"
    page = visible_text(client.get(url))
    assert "修改将作为信息变更申请提交" in page
    # An end before the start: said beside the field, the name typed kept, nothing stored.
    bad = {
        "name": "废水运维（二期）",
        "starts_on": task.starts_on.isoformat(),
        "ends_on": (task.starts_on - dt.timedelta(days=1)).isoformat(),
        "geofence_policy": "flag",
    }
    response = client.post(url, bad)
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"]
    assert "废水运维（二期）" in response.content.decode()
    assert not ChangeRequest.objects.exists()
    response = client.post(url, bad | {"ends_on": task.ends_on.isoformat()})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.name != "废水运维（二期）"
    asked = ChangeRequest.objects.get(task=task)
    assert asked.changes == {"name": "废水运维（二期）"}
    assert "信息变更申请待企业确认" in visible_text(client.get(f"/om/tasks/{task.pk}/"))
    # Finishing: the page says so, the plan and staff forms are gone, reopening needs a reason.
    assert client.post(f"/om/tasks/{task.pk}/finish").status_code == 302
    task.refresh_from_db()
    assert task.status == OmTask.Status.FINISHED
    page = client.get(f"/om/tasks/{task.pk}/")
    assert "plan_form" not in page.context
    assert "staff_form" not in page.context
    response = client.post(f"/om/tasks/{task.pk}/reopen", {"reason": ""})
    assert response.status_code == 400
    assert response.context["reopen_form"].errors["reason"]
    assert client.post(f"/om/tasks/{task.pk}/reopen", {"reason": "误点完结"}).status_code == 302
    task.refresh_from_db()
    assert task.status == OmTask.Status.ACTIVE


def test_a_plans_forms_are_edited_and_a_plan_with_records_is_kept(busy):
    side = busy.world.shanghai
    plan = side.om_task.plans.get()
    client = signed_in(side.main)
    url = f"/om/plans/{plan.pk}/edit"
    page = client.get(url)
    assert page.context["counted"] >= 1
    body = {
        "title": "日常巡检",
        "frequency": "daily",
        "window_start": plan.window_start.isoformat(),
        "window_end": plan.window_end.isoformat(),
    }
    response = client.post(url, body)
    assert response.status_code == 400
    assert "至少选择一个运维内容" in visible_text(response)
    response = client.post(url, body | {"template_codes": ["ww_daily_inspection", "ww_consumables"]})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.template_codes == ["ww_daily_inspection", "ww_consumables"]
    response = client.post(f"/om/plans/{plan.pk}/delete", follow=True)
    assert "不能删除" in visible_text(response)
    assert OmPlan.objects.filter(pk=plan.pk).exists()
    # Another agency's plan is not found.
    other = busy.world.jiangsu.om_task.plans.get()
    assert client.get(f"/om/plans/{other.pk}/edit").status_code == 404
    assert client.post(f"/om/plans/{other.pk}/delete").status_code == 404
    assert OmPlan.objects.filter(pk=other.pk).exists()


def test_a_contract_change_is_refused_with_a_reason_and_changes_nothing(busy):
    side = busy.world.shanghai
    contract = side.om_contract
    title = contract.title
    agency = signed_in(side.main)
    response = agency.post(
        f"/om/contracts/{contract.pk}/edit",
        {
            "number": contract.number,
            "title": "新的合同标题",
            "amount": str(contract.amount),
            "starts_on": contract.starts_on.isoformat(),
            "ends_on": contract.ends_on.isoformat(),
        },
    )
    asked = ChangeRequest.objects.get(contract=contract)
    assert response.status_code == 302
    assert response["Location"] == f"/om/changes/{asked.pk}/"
    enterprise = signed_in(side.enterprise_user)
    assert "新的合同标题" in visible_text(enterprise.get(f"/contracts/{contract.pk}/"))
    response = enterprise.post(f"/om/changes/{asked.pk}/refuse", {"reason": ""})
    assert response.status_code == 400
    assert "拒绝信息变更申请须填写原因" in visible_text(response)
    assert enterprise.post(f"/om/changes/{asked.pk}/refuse", {"reason": "标题与原件不符"}).status_code == 302
    asked.refresh_from_db()
    contract.refresh_from_db()
    assert (asked.status, asked.refusal_reason, contract.title) == ("refused", "标题与原件不符", title)
    # The other side's enterprise never finds it.
    other = signed_in(busy.world.jiangsu.enterprise_user)
    assert other.get(f"/om/changes/{asked.pk}/").status_code == 404
    assert asked.pk not in [r.pk for r in other.get("/om/changes/").context["results"].object_list]
    # The request's history holds the asking and the refusal.
    assert list(asked.events.values_list("to_status", flat=True)) == ["pending", "refused"]
