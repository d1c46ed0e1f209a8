"""Issue F13 (seed 003 合同管理 / 运维任务管理 / 运维计划): plans name the forms that fulfil them, plans
are edited and deleted, a task is finished (已完结), and contracts and tasks are edited, directly or
through a 信息变更申请 that the enterprise (or a regulator of its region) decides."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from server.audit.models import AuditEntry
from server.errors import DomainError
from server.om import changes, plans
from server.om.models import (
    ChangeRequest,
    ChangeRequestEvent,
    FormTemplate,
    OmPlan,
    OmRecord,
    OmTask,
    OmTaskEvent,
)
from server.om.services import om_plan_add, om_plan_delete, om_plan_update, om_task_move
from server.registry.models import Contract
from tests.om.helpers import checkin_payload, record_payload

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def side(world):
    return world.shanghai


def record(side, day: dt.date, code: str, status: str = "submitted") -> OmRecord:
    task = side.om_task
    return OmRecord.objects.create(
        id=uuid.uuid4(),
        task=task,
        outlet=side.wastewater,
        template=FormTemplate.objects.filter(code=code).order_by("-version").first(),
        agency=task.agency,
        enterprise=task.contract.enterprise,
        filled_by=side.technician_user,
        status=status,
        om_date=day,
        submitted_at=timezone.now(),
    )


def quarterly_calibration(side) -> OmPlan:
    task = side.om_task
    return om_plan_add(
        task=task,
        title="每季度校准",
        frequency="quarterly",
        window_start=task.starts_on,
        window_end=task.ends_on,
        template_codes=["ww_standard_check_calibration"],
    )


# --- A plan names its forms -------------------------------------------------------------------------
def test_a_daily_inspection_does_not_fulfil_a_quarterly_calibration_plan(side):
    calibration = quarterly_calibration(side)
    today = timezone.localdate()
    day = today - dt.timedelta(days=2)
    inspection = record(side, day, "ww_daily_inspection")
    found = plans.occurrences(calibration, day, day, today=today)
    assert (len(found), found[0].records) == (1, [])
    assert found[0].state != "done"
    # The daily inspection plan of the same task is done by it.
    daily = side.om_task.plans.get(title="日常巡检")
    assert plans.occurrences(daily, day, day, today=today)[0].records == [inspection]


def test_a_calibration_record_fulfils_the_quarterly_calibration_plan(side):
    calibration = quarterly_calibration(side)
    today = timezone.localdate()
    day = today - dt.timedelta(days=2)
    calibrated = record(side, day, "ww_standard_check_calibration")
    found = plans.occurrences(calibration, day, day, today=today)
    assert (found[0].state, found[0].records) == ("done", [calibrated])


def test_the_overdue_list_no_longer_counts_another_form(side):
    task = side.om_task
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    OmPlan.objects.filter(task=task).delete()
    om_plan_add(
        task=task,
        title="每日标样核查",
        frequency="daily",
        window_start=yesterday,
        window_end=yesterday,
        template_codes=["ww_standard_check_calibration"],
    )
    record(side, yesterday, "ww_daily_inspection")
    overdue = plans.overdue_list(OmTask.objects.filter(pk=task.pk), today=today)
    assert [(o.plan.title, o.window_start) for o in overdue] == [("每日标样核查", yesterday)]
    record(side, yesterday, "ww_standard_check_calibration")
    assert plans.overdue_list(OmTask.objects.filter(pk=task.pk), today=today) == []


def test_a_plan_needs_a_form_of_the_tasks_kind(side):
    task = side.om_task
    args = {"task": task, "title": "x", "frequency": "weekly", "window_start": task.starts_on}
    args["window_end"] = task.starts_on
    for codes, code in (([], "om_plan_needs_template"), (["gas_calibration"], "om_template_not_for_outlet")):
        with pytest.raises(DomainError) as caught:
            om_plan_add(**args, template_codes=codes)
        assert caught.value.error.code == code
    assert not task.plans.filter(title="x").exists()


# --- Plans edited and deleted -----------------------------------------------------------------------
def test_a_plan_is_edited_with_the_rules_of_adding_one_and_audited(side):
    plan = side.om_task.plans.get(title="日常巡检")
    om_plan_update(
        plan=plan,
        actor=side.main,
        title="日常巡检与维护",
        template_codes=["ww_daily_inspection", "ww_maintenance_repair"],
    )
    plan.refresh_from_db()
    assert (plan.title, plan.template_codes) == (
        "日常巡检与维护",
        ["ww_daily_inspection", "ww_maintenance_repair"],
    )
    entry = AuditEntry.objects.get(action="om_plan.updated")
    assert entry.changes["template_codes"][1] == ["ww_daily_inspection", "ww_maintenance_repair"]
    with pytest.raises(DomainError) as caught:
        om_plan_update(plan=plan, actor=side.main, window_end=side.om_task.ends_on + dt.timedelta(days=1))
    assert caught.value.error.code == "om_plan_outside_task"
    plan.refresh_from_db()
    assert plan.window_end == side.om_task.ends_on


def test_a_plan_with_records_counted_is_kept_one_without_is_deleted(side):
    plan = side.om_task.plans.get(title="日常巡检")
    record(side, timezone.localdate() - dt.timedelta(days=1), "ww_daily_inspection")
    with pytest.raises(DomainError) as caught:
        om_plan_delete(plan=plan, actor=side.main)
    assert (caught.value.error.code, caught.value.details) == ("om_plan_has_records", {"records": 1})
    assert OmPlan.objects.filter(pk=plan.pk).exists()
    # A draft or another form's record does not count: the calibration plan goes.
    record(side, timezone.localdate() - dt.timedelta(days=1), "ww_standard_check_calibration", "draft")
    calibration = quarterly_calibration(side)
    om_plan_delete(plan=calibration, actor=side.main)
    assert not OmPlan.objects.filter(pk=calibration.pk).exists()
    assert AuditEntry.objects.filter(action="om_plan.deleted", subject_id=str(side.om_task.pk)).count() == 1


def test_plans_over_the_api_and_not_across_agencies(world, client_for):
    side, other = world.shanghai, world.jiangsu
    plan = side.om_task.plans.get()
    url = f"{API}/om-plans/{plan.pk}"
    for user in (other.main, other.manager, other.enterprise_user):
        assert client_for(user).patch(url, {"title": "改"}, format="json").status_code == 404
        assert client_for(user).delete(url).status_code == 404
    # The enterprise and the technician see the task, but do not manage it.
    assert client_for(side.enterprise_user).patch(url, {"title": "改"}, format="json").status_code in (
        403,
        404,
    )
    assert client_for(side.field_user).delete(url).status_code in (403, 404)
    main = client_for(side.main)
    answer = main.patch(url, {"template_codes": ["ww_daily_inspection", "ww_consumables"]}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["template_codes"] == ["ww_daily_inspection", "ww_consumables"]
    assert answer.json()["title"] == "日常巡检"
    answer = main.patch(url, {"template_codes": []}, format="json")
    assert answer.status_code == 400
    plan.refresh_from_db()
    assert plan.template_codes == ["ww_daily_inspection", "ww_consumables"]
    assert main.delete(url).status_code == 204
    assert not OmPlan.objects.filter(pk=plan.pk).exists()


# --- A task is finished (已完结) -----------------------------------------------------------------------
def test_a_finished_task_takes_no_new_records_and_leaves_the_active_lists(world, client_for):
    side = world.shanghai
    task = side.om_task
    tech = client_for(side.technician_user)
    start = uuid.uuid4()
    body = {"id": str(start), **checkin_payload(side, "start", timezone.now() - dt.timedelta(minutes=30))}
    assert tech.post(f"{API}/checkins", body, format="json").status_code == 201
    # Not across agencies, and not by the technician.
    assert client_for(world.jiangsu.main).post(f"{API}/om-tasks/{task.pk}/finish").status_code == 404
    assert tech.post(f"{API}/om-tasks/{task.pk}/finish").status_code in (403, 404)
    answer = client_for(side.main).post(f"{API}/om-tasks/{task.pk}/finish", {}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "finished"
    event = OmTaskEvent.objects.get(task=task)
    assert (event.from_status, event.to_status, event.actor) == ("active", "finished", side.main)
    record_id = uuid.uuid4()
    answer = tech.post(
        f"{API}/om/records", {"id": str(record_id), **record_payload(side, start=start)}, format="json"
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "om_task_finished")
    assert not OmRecord.objects.filter(pk=record_id).exists()
    # 进行中 lists (the phones ask status=active) no longer hold it; 已完结 does.
    active = tech.get(f"{API}/om-tasks", {"status": "active"}).json()["results"]
    assert task.pk not in [t["id"] for t in active]
    assert plans.overdue_list(OmTask.objects.filter(pk=task.pk)) == []
    # Finishing twice is refused; reopening needs a reason, then writes a second history row.
    assert client_for(side.main).post(f"{API}/om-tasks/{task.pk}/finish").json()["code"] == (
        "om_task_transition_not_allowed"
    )
    answer = client_for(side.main).post(f"{API}/om-tasks/{task.pk}/reopen", {}, format="json")
    assert answer.json()["code"] == "om_task_reopen_reason_required"
    answer = client_for(side.main).post(
        f"{API}/om-tasks/{task.pk}/reopen", {"reason": "误操作"}, format="json"
    )
    assert answer.json()["status"] == "active"
    assert list(OmTaskEvent.objects.filter(task=task).values_list("to_status", "reason")) == [
        ("finished", ""),
        ("active", "误操作"),
    ]


def test_a_finished_task_takes_no_plan_changes(side):
    om_task_move(task=side.om_task, to="finished", actor=side.manager)
    with pytest.raises(DomainError) as caught:
        om_plan_update(plan=side.om_task.plans.get(), actor=side.main, title="改")
    assert caught.value.error.code == "om_task_finished"


# --- Contracts: edited, or a 信息变更申请 -------------------------------------------------------------
def test_a_proposed_contract_is_edited_directly(world, client_for):
    side = world.shanghai
    contract = side.om_contract
    Contract.objects.filter(pk=contract.pk).update(acceptance=Contract.Acceptance.PROPOSED)
    answer = client_for(side.main).post(
        f"{API}/contracts/{contract.pk}/edit", {"amount": "98000.50", "title": "新标题"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"applied": True, "change_request": None}
    contract.refresh_from_db()
    assert (contract.amount, contract.title) == (Decimal("98000.50"), "新标题")
    assert not ChangeRequest.objects.exists()


def test_an_accepted_contract_changes_only_when_the_enterprise_accepts(world, client_for):
    side, other = world.shanghai, world.jiangsu
    contract = side.om_contract
    old_amount = contract.amount
    answer = client_for(side.main).post(
        f"{API}/contracts/{contract.pk}/edit",
        {"amount": "150000", "ends_on": str(contract.ends_on + dt.timedelta(days=30)), "explanation": "增补"},
        format="json",
    )
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert body["applied"] is False
    request_id = body["change_request"]["id"]
    assert {c["field"]: c["after"] for c in body["change_request"]["changes"]} == {
        "amount": "150000.00",
        "ends_on": str(contract.ends_on + dt.timedelta(days=30)),
    }
    contract.refresh_from_db()
    assert contract.amount == old_amount  # the accepted values stay in force
    # A second edit while one waits is refused.
    answer = client_for(side.main).post(
        f"{API}/contracts/{contract.pk}/edit", {"title": "再改"}, format="json"
    )
    assert answer.json()["code"] == "om_change_pending"
    # Another side's enterprise or regulator never finds it; the agency cannot accept its own.
    url = f"{API}/change-requests/{request_id}"
    for user in (other.enterprise_user, other.regulator, other.main):
        assert client_for(user).get(url).status_code == 404
        assert client_for(user).post(f"{url}/accept").status_code == 404
    assert client_for(side.main).post(f"{url}/accept").json()["code"] == "om_change_actor_not_allowed"
    # Refusing needs a reason.
    assert client_for(side.enterprise_user).post(f"{url}/refuse").json()["code"] == (
        "om_change_refusal_reason_required"
    )
    answer = client_for(side.enterprise_user).post(f"{url}/accept")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "accepted"
    contract.refresh_from_db()
    assert contract.amount == Decimal("150000")
    assert list(
        ChangeRequestEvent.objects.filter(request_id=request_id).values_list("to_status", flat=True)
    ) == [
        "pending",
        "accepted",
    ]
    listed = client_for(side.regulator).get(f"{API}/change-requests", {"subject": "contract"}).json()
    assert [r["id"] for r in listed["results"]] == [request_id]
    assert client_for(other.regulator).get(f"{API}/change-requests").json()["count"] == 0


def test_a_refused_or_withdrawn_request_changes_nothing(side):
    contract = side.om_contract
    asked = changes.contract_update(contract=contract, actor=side.main, title="改名")
    changes.change_request_move(request=asked, to="refused", actor=side.regulator, reason="与原件不符")
    contract.refresh_from_db()
    assert contract.title != "改名"
    asked.refresh_from_db()
    assert (asked.status, asked.refusal_reason) == ("refused", "与原件不符")
    again = changes.contract_update(contract=contract, actor=side.main, title="改名")
    changes.change_request_move(request=again, to="withdrawn", actor=side.manager)
    contract.refresh_from_db()
    assert contract.title != "改名"


# --- Tasks: edited, or a 信息变更申请 once records exist -----------------------------------------------
def test_a_task_without_records_is_edited_directly_with_records_by_request(side):
    task = side.om_task
    result = changes.om_task_update(task=task, actor=side.main, name="新名称", geofence_policy="block")
    assert result == task
    task.refresh_from_db()
    assert (task.name, task.geofence_policy) == ("新名称", "block")
    # A period that would leave a plan outside it is refused.
    with pytest.raises(DomainError) as caught:
        changes.om_task_update(task=task, actor=side.main, ends_on=task.ends_on - dt.timedelta(days=5))
    assert caught.value.error.code == "om_task_period_excludes_plans"
    record(side, timezone.localdate(), "ww_daily_inspection")
    asked = changes.om_task_update(task=task, actor=side.main, name="再改")
    assert isinstance(asked, ChangeRequest)
    task.refresh_from_db()
    assert task.name == "新名称"
    assert changes.pending_for(task=task) == asked
    changes.change_request_move(request=asked, to="accepted", actor=side.enterprise_user)
    task.refresh_from_db()
    assert task.name == "再改"


def test_a_task_change_over_the_api_decided_by_the_regional_regulator(world, client_for):
    side, other = world.shanghai, world.jiangsu
    task = side.om_task
    main = client_for(side.main)
    url = f"{API}/om-tasks/{task.pk}/edit"
    # Another agency, the enterprise, the technician: not theirs to edit.
    assert client_for(other.main).post(url, {"name": "改"}, format="json").status_code == 404
    assert client_for(side.technician_user).post(url, {"name": "改"}, format="json").status_code in (403, 404)
    answer = main.post(url, {"name": "废水运维（调整）"}, format="json")
    assert (answer.status_code, answer.json()["applied"]) == (200, True)
    record(side, timezone.localdate(), "ww_daily_inspection")
    answer = main.post(url, {"geofence_policy": "block", "explanation": "企业要求严格签到"}, format="json")
    assert answer.status_code == 202, answer.json()
    asked = answer.json()["change_request"]
    assert (asked["subject"], asked["task"], asked["explanation"]) == ("om_task", task.pk, "企业要求严格签到")
    task.refresh_from_db()
    assert (task.name, task.geofence_policy) == ("废水运维（调整）", "flag")
    assert client_for(other.regulator).post(f"{API}/change-requests/{asked['id']}/accept").status_code == 404
    answer = client_for(side.regulator).post(f"{API}/change-requests/{asked['id']}/accept")
    assert answer.json()["status"] == "accepted"
    task.refresh_from_db()
    assert task.geofence_policy == "block"
    # A withdrawn request is the agency's: the enterprise cannot withdraw, the agency can.
    again = main.post(url, {"name": "再调整"}, format="json").json()["change_request"]["id"]
    refused = client_for(side.enterprise_user).post(f"{API}/change-requests/{again}/withdraw")
    assert refused.json()["code"] == "om_change_actor_not_allowed"
    assert main.post(f"{API}/change-requests/{again}/withdraw").json()["status"] == "withdrawn"
    task.refresh_from_db()
    assert task.name == "废水运维（调整）"
