"""运维管理 (seed 003 §2.4): what plans expect (本周 / 本月 / 全部 / 超期) and whether it was done."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.om import plans
from server.om.models import FormTemplate, OmPlan, OmRecord, OmTask

pytestmark = pytest.mark.django_db
API = "/api/v1"
D = dt.date.fromisoformat


def record(side, day: dt.date, status: str = "submitted", *, outlet=None, code="ww_daily_inspection", **kw):
    """A record of the side's O&M task, made directly (the record services are tested elsewhere)."""
    task = side.om_task
    return OmRecord.objects.create(
        id=uuid.uuid4(),
        task=task,
        outlet=outlet or side.wastewater,
        template=FormTemplate.objects.filter(code=code).order_by("-version").first(),
        agency=task.agency,
        enterprise=task.contract.enterprise,
        filled_by=side.technician_user,
        status=status,
        om_date=day,
        submitted_at=None if status == "draft" else timezone.now(),
        **kw,
    )


def plan(side, frequency: str, start: str | dt.date, end: str | dt.date, **kw) -> OmPlan:
    start = D(start) if isinstance(start, str) else start
    end = D(end) if isinstance(end, str) else end
    kw.setdefault("template_codes", ["ww_daily_inspection"])
    return OmPlan.objects.create(
        task=side.om_task,
        title=f"{frequency} plan",
        frequency=frequency,
        window_start=start,
        window_end=end,
        **kw,
    )


def windows(occurrences) -> list[tuple[str, str]]:
    return [(o.window_start.isoformat(), o.window_end.isoformat()) for o in occurrences]


@pytest.fixture
def side(world):
    return world.shanghai


# --- Periods --------------------------------------------------------------------------------------
def test_daily_plans_have_one_occurrence_a_day_clipped_to_the_plan_window(side):
    daily = plan(side, "daily", "2026-03-30", "2026-04-02")
    found = plans.occurrences(daily, D("2026-03-01"), D("2026-04-30"), today=D("2026-05-01"))
    assert windows(found) == [(d, d) for d in ("2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02")]
    # A range inside the window selects its days only.
    found = plans.occurrences(daily, D("2026-03-31"), D("2026-04-01"), today=D("2026-05-01"))
    assert windows(found) == [("2026-03-31", "2026-03-31"), ("2026-04-01", "2026-04-01")]
    assert plans.occurrences(daily, D("2026-04-03"), D("2026-04-30"), today=D("2026-05-01")) == []


def test_weekly_plans_follow_iso_weeks_monday_to_sunday(side):
    weekly = plan(side, "weekly", "2026-03-25", "2026-04-15")  # a Wednesday to a Wednesday
    found = plans.occurrences(weekly, D("2026-01-01"), D("2026-12-31"), today=D("2026-01-01"))
    assert windows(found) == [
        ("2026-03-25", "2026-03-29"),  # clipped: the plan starts on a Wednesday
        ("2026-03-30", "2026-04-05"),
        ("2026-04-06", "2026-04-12"),
        ("2026-04-13", "2026-04-15"),  # clipped: the plan ends on a Wednesday
    ]
    # ISO week 53 of 2026 runs from Monday 28 December to Sunday 3 January 2027: one occurrence.
    year_end = plan(side, "weekly", "2026-12-20", "2027-01-10")
    found = plans.occurrences(year_end, D("2026-12-31"), D("2027-01-01"), today=D("2026-01-01"))
    assert windows(found) == [("2026-12-28", "2027-01-03")]


def test_monthly_plans_follow_calendar_months(side):
    monthly = plan(side, "monthly", "2026-01-15", "2026-03-10")
    found = plans.occurrences(monthly, D("2025-01-01"), D("2027-01-01"), today=D("2025-01-01"))
    assert windows(found) == [
        ("2026-01-15", "2026-01-31"),
        ("2026-02-01", "2026-02-28"),
        ("2026-03-01", "2026-03-10"),
    ]
    leap = plan(side, "monthly", "2028-02-01", "2028-02-29")
    assert windows(plans.occurrences(leap, D("2028-02-10"), D("2028-02-10"))) == [
        ("2028-02-01", "2028-02-29")
    ]


def test_quarterly_plans_follow_calendar_quarters(side):
    quarterly = plan(side, "quarterly", "2026-02-10", "2026-10-05")
    found = plans.occurrences(quarterly, D("2026-01-01"), D("2026-12-31"), today=D("2025-01-01"))
    assert windows(found) == [
        ("2026-02-10", "2026-03-31"),
        ("2026-04-01", "2026-06-30"),
        ("2026-07-01", "2026-09-30"),
        ("2026-10-01", "2026-10-05"),
    ]
    across = plan(side, "quarterly", "2026-11-01", "2027-04-01")
    found = plans.occurrences(across, D("2026-01-01"), D("2027-12-31"), today=D("2025-01-01"))
    assert windows(found) == [
        ("2026-11-01", "2026-12-31"),
        ("2027-01-01", "2027-03-31"),
        ("2027-04-01", "2027-04-01"),
    ]


def test_custom_plans_are_blocks_of_interval_days_from_the_first_day(side):
    custom = plan(side, "custom", "2026-01-01", "2026-01-25", interval_days=10)
    found = plans.occurrences(custom, D("2025-12-01"), D("2026-02-28"), today=D("2025-01-01"))
    assert windows(found) == [
        ("2026-01-01", "2026-01-10"),
        ("2026-01-11", "2026-01-20"),
        ("2026-01-21", "2026-01-25"),
    ]
    # The blocks count from the plan's first day, not from the range's.
    found = plans.occurrences(custom, D("2026-01-15"), D("2026-01-22"), today=D("2025-01-01"))
    assert windows(found) == [("2026-01-11", "2026-01-20"), ("2026-01-21", "2026-01-25")]


def test_an_occurrence_overlapping_the_range_is_judged_over_its_whole_period(side):
    """A monthly plan seen in a week's view: done by a record earlier in the month."""
    monthly = plan(side, "monthly", "2026-03-01", "2026-03-31")
    done = record(side, D("2026-03-02"))
    (found,) = plans.occurrences(monthly, D("2026-03-16"), D("2026-03-22"), today=D("2026-03-18"))
    assert (found.window_start, found.window_end) == (D("2026-03-01"), D("2026-03-31"))
    assert (found.state, found.records) == ("done", [done])


# --- States ---------------------------------------------------------------------------------------
def test_states_done_open_overdue_upcoming(side):
    today = D("2026-06-10")
    daily = plan(side, "daily", "2026-06-07", "2026-06-11")
    submitted = record(side, D("2026-06-07"))
    approved = record(side, D("2026-06-08"), "approved")
    record(side, D("2026-06-09"), "draft")
    record(side, D("2026-06-09"), "voided", void_reason="数据有误")
    found = plans.occurrences(daily, D("2026-06-01"), D("2026-06-30"), today=today)
    assert [(o.window_start.day, o.state) for o in found] == [
        (7, "done"),
        (8, "done"),
        (9, "overdue"),  # a draft and a voided record do not count
        (10, "open"),
        (11, "upcoming"),
    ]
    assert [o.records for o in found[:2]] == [[submitted], [approved]]
    confirmed = record(side, today, "confirmed")
    found = plans.occurrences(daily, today, today, today=today)
    assert [(o.state, o.records) for o in found] == [("done", [confirmed])]


def test_a_plan_with_an_outlet_or_a_form_counts_only_matching_records(side):
    at_gas = plan(side, "weekly", "2026-06-01", "2026-06-07", outlet=side.gas)
    at_gas.template_codes = ["gas_fault_repair"]
    at_gas.save()
    repair = plan(side, "weekly", "2026-06-01", "2026-06-07", template_codes=["ww_maintenance_repair"])
    anything = plan(side, "weekly", "2026-06-01", "2026-06-07", template_codes=["ww_daily_inspection"])
    inspection = record(side, D("2026-06-03"))  # the wastewater outlet, the daily inspection form
    today = D("2026-06-20")
    assert plans.occurrences(at_gas, D("2026-06-01"), D("2026-06-07"), today=today)[0].state == "overdue"
    assert plans.occurrences(repair, D("2026-06-01"), D("2026-06-07"), today=today)[0].state == "overdue"
    assert plans.occurrences(anything, D("2026-06-01"), D("2026-06-07"), today=today)[0].records == [
        inspection
    ]
    repaired = record(side, D("2026-06-05"), code="ww_maintenance_repair")
    assert plans.occurrences(repair, D("2026-06-01"), D("2026-06-07"), today=today)[0].records == [repaired]
    gas = record(side, D("2026-06-06"), outlet=side.gas, code="gas_fault_repair")
    assert plans.occurrences(at_gas, D("2026-06-01"), D("2026-06-07"), today=today)[0].records == [gas]


def test_another_tasks_records_do_not_count(world):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    daily = plan(shanghai, "daily", "2026-06-01", "2026-06-01")
    record(jiangsu, D("2026-06-01"))
    assert (
        plans.occurrences(daily, D("2026-06-01"), D("2026-06-01"), today=D("2026-06-02"))[0].state
        == "overdue"
    )


# --- Views ----------------------------------------------------------------------------------------
@pytest.fixture
def managed(side):
    """A task of its own with a daily and a weekly plan, from Monday 1 June to Sunday 28 June 2026."""
    task = side.om_task
    OmPlan.objects.filter(task=task).delete()
    daily = plan(side, "daily", "2026-06-01", "2026-06-28")
    weekly = plan(side, "weekly", "2026-06-01", "2026-06-28")
    record(side, D("2026-06-02"))  # both the day and the first week are done
    return task, daily, weekly


def rows(task, view: str, **kw):
    return plans.management_rows(OmTask.objects.filter(pk=task.pk), view=view, today=D("2026-06-10"), **kw)


def test_views_this_week_this_month_all_and_overdue(managed):
    task, daily, weekly = managed
    week = rows(task, "week")  # Monday 8 June to Sunday 14 June
    assert [(o.plan.pk, o.window_start.day) for o in week] == [
        (daily.pk, 8),
        (weekly.pk, 8),  # ordered by window, then plan
        (daily.pk, 9),
        (daily.pk, 10),
        (daily.pk, 11),
        (daily.pk, 12),
        (daily.pk, 13),
        (daily.pk, 14),
    ]
    assert windows(rows(task, "this_week")) == windows(week)
    month = rows(task, "month")
    assert len(month) == 28 + 4
    assert len(rows(task, "all")) == 28 + 4
    overdue = rows(task, "overdue")
    # Days 1 and 3 to 9 of the daily plan; the weekly plan's first week is done, the second is open.
    assert [(o.plan.pk, o.window_start.day) for o in overdue] == [(daily.pk, 1)] + [
        (daily.pk, d) for d in range(3, 10)
    ]
    assert {o.state for o in overdue} == {"overdue"}


def test_views_narrow_to_a_plan_and_to_start_and_end(managed):
    task, daily, weekly = managed
    only_weekly = rows(task, "all", plan_id=weekly.pk)
    assert windows(only_weekly) == [
        ("2026-06-01", "2026-06-07"),
        ("2026-06-08", "2026-06-14"),
        ("2026-06-15", "2026-06-21"),
        ("2026-06-22", "2026-06-28"),
    ]
    assert [o.state for o in only_weekly] == ["done", "open", "upcoming", "upcoming"]
    narrowed = rows(task, "all", plan_id=daily.pk, start=D("2026-06-20"), end=D("2026-06-22"))
    assert windows(narrowed) == [(d, d) for d in ("2026-06-20", "2026-06-21", "2026-06-22")]
    assert rows(task, "week", start=D("2026-06-20")) == []


def test_bad_views_plans_and_ranges_are_refused(managed, world, monkeypatch):
    from server.errors import DomainError

    task, _, _ = managed
    with pytest.raises(DomainError) as refused:
        rows(task, "yesterday")
    assert refused.value.error.code == "validation_failed"
    with pytest.raises(DomainError) as refused:
        rows(task, "all", start=D("2026-06-20"), end=D("2026-06-10"))
    assert refused.value.error.code == "validation_failed"
    other_plan = world.jiangsu.om_task.plans.get()
    with pytest.raises(DomainError) as refused:
        rows(task, "all", plan_id=other_plan.pk)
    assert refused.value.error.code == "not_found"
    monkeypatch.setattr(plans, "MAX_OCCURRENCES", 10)
    with pytest.raises(DomainError) as refused:
        rows(task, "all")
    assert refused.value.error.code == "om_range_too_large"


# --- The management endpoint ----------------------------------------------------------------------
def test_the_management_table_over_http(side, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from server.om.reports import report_upload

    today = timezone.localdate()
    inspection = record(
        side, today - dt.timedelta(days=1), answers={"om_time": "2026-06-09T09:30", "remark": "更换试剂"}
    )
    inspection.instruments.set([side.instrument])
    report = report_upload(
        task=side.om_task,
        actor=side.main,
        name="6月运维月报",
        category="monthly",
        file=SimpleUploadedFile("report.pdf", b"%PDF-1.7\n% monthly report\n"),
        description="",
        record_ids=[inspection.pk],
    )
    client = client_for(side.main)
    response = client.get(f"{API}/om-tasks/{side.om_task.pk}/manage", {"view": "all", "page_size": 200})
    assert response.status_code == 200, response.json()
    body = response.json()
    # The world's daily plan runs from 10 days ago to 80 days ahead.
    assert body["count"] == 91
    row = next(r for r in body["results"] if r["record_ids"])
    assert row["window_start"] == row["window_end"] == (today - dt.timedelta(days=1)).isoformat()
    assert row["plan_title"] == "日常巡检"
    assert row["period"] == f"{row['window_start']}至{row['window_end']}"
    assert (row["state"], row["state_label"]) == ("done", "已完成")
    assert row["outlet_names"] == [side.wastewater.name]
    assert row["contents"] == ["日常巡检"]
    assert row["staff"] == [side.technician.person.name]
    assert row["instruments"] == [{"id": side.instrument.pk, "name": str(side.instrument)}]
    assert row["attachments"] == [
        {"id": report.pk, "name": "6月运维月报", "category": "monthly", "file_name": "report.pdf"}
    ]
    assert row["descriptions"] == ["更换试剂"]
    assert row["record_ids"] == [str(inspection.pk)]
    (cell,) = row["records"]
    assert (cell["om_time"], cell["remark"], cell["reports"]) == ("2026-06-09T09:30", "更换试剂", [report.pk])
    states = [r["state"] for r in body["results"]]
    assert (states.count("overdue"), states.count("open")) == (9, 1)

    overdue = client.get(f"{API}/om-tasks/{side.om_task.pk}/manage", {"view": "overdue"}).json()
    assert overdue["count"] == 9
    assert client.get(f"{API}/om-tasks/{side.om_task.pk}/manage", {"view": "soon"}).status_code == 400


def test_the_management_table_runs_a_bounded_number_of_queries(side, client_for):
    client = client_for(side.main)
    today = timezone.localdate()
    url = f"{API}/om-tasks/{side.om_task.pk}/manage"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"view": "all", "page_size": 200}).status_code == 200
        return len(ctx.captured_queries)

    record(side, today - dt.timedelta(days=1)).instruments.set([side.instrument])
    few = count()
    for days in range(2, 9):
        record(side, today - dt.timedelta(days=days), outlet=side.gas).instruments.set([side.instrument])
    assert count() == few


def test_the_management_table_of_another_agencys_task_is_not_found(world, client_for):
    response = client_for(world.shanghai.main).get(f"{API}/om-tasks/{world.jiangsu.om_task.pk}/manage")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    regulator = client_for(world.jiangsu.regulator)
    assert regulator.get(f"{API}/om-tasks/{world.shanghai.om_task.pk}/manage").status_code == 404
    assert regulator.get(f"{API}/om-tasks/{world.jiangsu.om_task.pk}/manage").status_code == 200


# --- The overdue list -----------------------------------------------------------------------------
def test_overdue_occurrences_of_all_active_tasks(world):
    today = timezone.localdate()
    found = plans.overdue_occurrences()
    # Each side's daily plan started 10 days ago and has no records: 10 overdue days each.
    by_task = {}
    for o in found:
        by_task.setdefault(o.plan.task_id, []).append(o.window_start)
    expected = [today - dt.timedelta(days=d) for d in range(10, 0, -1)]
    assert by_task == {world.shanghai.om_task.pk: expected, world.jiangsu.om_task.pk: expected}
    assert {o.state for o in found} == {"overdue"}

    record(world.shanghai, today - dt.timedelta(days=3))
    OmTask.objects.filter(pk=world.jiangsu.om_task.pk).update(status=OmTask.Status.FINISHED)
    found = plans.overdue_occurrences()
    assert {o.plan.task_id for o in found} == {world.shanghai.om_task.pk}
    assert today - dt.timedelta(days=3) not in [o.window_start for o in found]
    assert len(found) == 9
    # Given tasks: those, finished or not.
    only = plans.overdue_occurrences(tasks=OmTask.objects.filter(pk=world.jiangsu.om_task.pk))
    assert {o.plan.task_id for o in only} == {world.jiangsu.om_task.pk}


def test_overdue_occurrences_look_back_a_bounded_span(world, settings):
    settings.OM_OVERDUE_LOOKBACK_DAYS = 3
    today = timezone.localdate()
    found = plans.overdue_occurrences(tasks=OmTask.objects.filter(pk=world.shanghai.om_task.pk))
    assert [o.window_start for o in found] == [today - dt.timedelta(days=d) for d in (3, 2, 1)]
    later = today + dt.timedelta(days=5)
    found = plans.overdue_occurrences(tasks=OmTask.objects.filter(pk=world.shanghai.om_task.pk), today=later)
    assert [o.window_start for o in found] == [later - dt.timedelta(days=d) for d in (3, 2, 1)]


def overdue_tasks(client) -> dict[int, int]:
    response = client.get(f"{API}/om/overdue", {"page_size": 200})
    assert response.status_code == 200, response.json()
    counted: dict[int, int] = {}
    for row in response.json()["results"]:
        counted[row["task"]] = counted.get(row["task"], 0) + 1
    return counted


def test_the_overdue_list_is_scoped(world, client_for):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    assert overdue_tasks(client_for(shanghai.main)) == {shanghai.om_task.pk: 10}
    assert overdue_tasks(client_for(shanghai.manager)) == {shanghai.om_task.pk: 10}
    assert overdue_tasks(client_for(shanghai.regulator)) == {shanghai.om_task.pk: 10}
    assert overdue_tasks(client_for(jiangsu.regulator)) == {jiangsu.om_task.pk: 10}
    assert overdue_tasks(client_for(world.platform)) == {shanghai.om_task.pk: 10, jiangsu.om_task.pk: 10}
    for user in (shanghai.technician_user, shanghai.reviewer, shanghai.enterprise_user):
        response = client_for(user).get(f"{API}/om/overdue")
        assert response.status_code == 403, user.role
        assert response.json()["code"] == "permission_denied"


def test_the_overdue_rows_say_what_was_missed(world, client_for):
    side = world.shanghai
    today = timezone.localdate()
    body = client_for(side.regulator).get(f"{API}/om/overdue").json()
    first = body["results"][0]  # the most recently ended first
    assert first["window_end"] == (today - dt.timedelta(days=1)).isoformat()
    assert first["days_overdue"] == 1
    assert (first["task"], first["task_name"], first["agency"]) == (
        side.om_task.pk,
        side.om_task.name,
        side.agency.pk,
    )
    assert first["plan_title"] == "日常巡检"
    narrowed = (
        client_for(side.regulator)
        .get(f"{API}/om/overdue", {"start": (today - dt.timedelta(days=2)).isoformat()})
        .json()
    )
    assert narrowed["count"] == 2


# --- Plans name their form (运维内容) -------------------------------------------------------------
def test_a_plan_names_a_form_for_the_tasks_kind_of_outlet(side, client_for):
    client = client_for(side.main)
    url = f"{API}/om-tasks/{side.om_task.pk}/plans"
    body = {
        "title": "每月维护保养",
        "frequency": "monthly",
        "window_start": side.om_task.starts_on.isoformat(),
        "window_end": side.om_task.ends_on.isoformat(),
    }
    response = client.post(url, {**body, "template_codes": ["gas_calibration"]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "om_template_not_for_outlet"
    response = client.post(url, {**body, "template_codes": ["no_such_form"]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "om_template_unknown"
    # Required (issue F13): a plan that names no form would count any record.
    response = client.post(url, {**body, "template_codes": []}, format="json")
    assert response.status_code == 400
    assert not side.om_task.plans.filter(title="每月维护保养").exists()
    codes = ["ww_maintenance_repair", "ww_consumables"]
    response = client.post(url, {**body, "template_codes": codes}, format="json")
    assert response.status_code == 201, response.json()
    stored = side.om_task.plans.get(title="每月维护保养")
    assert stored.template_codes == codes
    assert [p["template_codes"] for p in response.json()["plans"]] == [["ww_daily_inspection"], codes]
