"""GET /evidence: the regulator's queue of flagged evidence, newest first, scoped like every list,
each item carrying its evidence and the body that opens a violation from it."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.om.services import om_plan_add
from server.violations.models import Violation
from sync import engine
from sync.models import Operation
from tests.regulator.helpers import API, backdate, now, task_on
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db


def queue(client, **params) -> dict:
    response = client.get(f"{API}/evidence", {"page_size": 200, **params})
    assert response.status_code == 200, response.json()
    return response.json()


def items(client, kind: str | None = None, **params) -> list[dict]:
    body = queue(client, **({"kind": kind} if kind else {}), **params)
    return body["results"]


def by_id(results: list[dict], key: str) -> dict[str, dict]:
    return {str(item["evidence"][key]): item for item in results}


# --- Who sees what --------------------------------------------------------------------------------
def test_a_regulator_sees_its_region_and_nothing_of_the_other(world, evidence, client_for):
    for mine, other in (("shanghai", "jiangsu"), ("jiangsu", "shanghai")):
        side = getattr(world, mine)
        results = items(client_for(side.regulator))
        kinds = {item["kind"] for item in results}
        assert kinds == {"photo", "checkin", "held", "conflict", "overdue"}, mine
        assert {item["agency"]["id"] for item in results} == {side.agency.pk}
        enterprises = {item["enterprise"]["id"] for item in results if item["enterprise"]}
        assert enterprises == {side.enterprise.pk}
        theirs = evidence[other]
        shown = {str(value) for item in results for value in item["evidence"].values() if value}
        for value in (theirs.photo.pk, theirs.reused.pk, theirs.checkin["id"], theirs.conflict.op_id):
            assert str(value) not in shown, (mine, value)


def test_an_agency_admin_sees_its_agency_and_may_not_open_violations(world, evidence, client_for):
    side = world.shanghai
    for user in (side.main, side.manager):
        results = items(client_for(user))
        assert {item["kind"] for item in results} == {"photo", "checkin", "held", "conflict", "overdue"}
        assert {item["agency"]["id"] for item in results} == {side.agency.pk}
        assert all(item["open_violation"] is None for item in results)


@pytest.mark.parametrize("role", ["agency_field", "agency_reviewer", "enterprise"])
def test_field_staff_reviewers_and_enterprises_are_refused(world, client_for, role):
    for path in ("evidence", "statistics"):
        response = client_for(world.shanghai.users[role]).get(f"{API}/{path}")
        assert response.status_code == 403, (path, response.json())
        assert response.json()["code"] == "permission_denied"
    response = client_for(world.shanghai.technician_user).get(f"{API}/evidence")
    assert response.status_code == 403


def test_the_platform_sees_both_regions(world, evidence, client_for):
    results = items(client_for(world.platform), "conflict")
    assert {item["agency"]["id"] for item in results} == {world.shanghai.agency.pk, world.jiangsu.agency.pk}


# --- What each item carries -----------------------------------------------------------------------
def test_a_photo_6_km_away_shows_its_distance_thumbnail_and_the_duplicate(world, evidence, client_for):
    mine = evidence["shanghai"]
    client = client_for(world.shanghai.regulator)
    photos = by_id(items(client, "photo"), "photo")
    assert set(photos) == {str(mine.photo.pk), str(mine.reused.pk)}
    item = photos[str(mine.photo.pk)]
    assert item["subject"] == {
        "type": "project",
        "id": world.shanghai.project.pk,
        "label": f"{world.shanghai.project.number} {world.shanghai.project.name}",
    }
    assert item["enterprise"] == {"id": world.shanghai.enterprise.pk, "name": world.shanghai.enterprise.name}
    evidence_ = item["evidence"]
    assert evidence_["verdict"] == "fail"
    assert evidence_["task"]["id"] == str(mine.task)
    outside = next(f for f in evidence_["findings"] if f["code"] == "outside_geofence")
    assert 5900 < outside["evidence"]["distance_m"] < 6100
    assert outside["evidence"]["geofence_m"] == 150
    assert all(f["severity"] != "pass" for f in evidence_["findings"])
    assert evidence_["thumbnail"] == f"{API}/photos/{mine.photo.pk}/thumbnail"
    thumbnail = client.get(evidence_["thumbnail"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    # The same file on another task: the finding names the first photo.
    reused = photos[str(mine.reused.pk)]["evidence"]
    assert reused["duplicates"] == [str(mine.photo.pk)]
    same_file = next(f for f in reused["findings"] if f["code"] == "same_file_reused")
    assert same_file["evidence"]["photo_ids"] == [str(mine.photo.pk)]
    assert item["open_violation"]["project"] == world.shanghai.project.pk
    assert item["open_violation"]["photo"] == str(mine.photo.pk)
    assert "超出电子围栏" in item["open_violation"]["description"]


def test_a_checkin_3_km_away_shows_distance_geofence_and_accuracy(world, evidence, client_for):
    mine = evidence["shanghai"]
    checkins = by_id(items(client_for(world.shanghai.regulator), "checkin"), "checkin")
    item = checkins[mine.checkin["id"]]
    assert item["subject"]["type"] == "om_task"
    assert item["subject"]["id"] == world.shanghai.om_task.pk
    assert item["evidence"]["verdict"] == "outside"
    assert 2900 < item["evidence"]["distance_m"] < 3100
    assert item["evidence"]["geofence_m"] == 150
    assert item["evidence"]["accuracy_m"] == 8
    assert item["evidence"]["given"]["system"] == "gcj02"
    assert item["evidence"]["outlet"]["id"] == world.shanghai.wastewater.pk
    assert item["open_violation"]["om_task"] == world.shanghai.om_task.pk
    assert item["open_violation"]["checkin"] == mine.checkin["id"]


def test_a_conflict_from_a_real_push_shows_reason_and_both_values(world, evidence, client_for):
    mine = evidence["shanghai"]
    conflicts = by_id(items(client_for(world.shanghai.regulator), "conflict"), "op_id")
    item = conflicts[str(mine.conflict.op_id)]
    assert item["subject"]["type"] == "project"
    assert item["evidence"]["reason"] == "same_field"
    assert item["evidence"]["op_type"] == "task.update"
    assert item["evidence"]["entity_id"] == str(mine.task)
    (field,) = item["evidence"]["fields"]
    assert field["field"] == "note"
    assert {field["kept"], field["other"]} == {"现场有雨", "采样时晴"}
    assert item["open_violation"] == {
        "project": world.shanghai.project.pk,
        "description": item["open_violation"]["description"],
        "deadline": item["open_violation"]["deadline"],
    }


def test_held_work_past_its_deadline_then_flagged_or_processed_late(world, evidence, client_for, settings):
    side, mine = world.shanghai, evidence["shanghai"]
    client = client_for(side.regulator)
    held = by_id(items(client, "held"), "op_id")
    assert set(held) == {str(mine.held.op_id)}
    item = held[str(mine.held.op_id)]
    assert item["evidence"]["state"] == "held_past_deadline"
    assert item["evidence"]["waits_for"] == {
        "kind": "entity",
        "entity": "task",
        "id": item["evidence"]["entity_id"],
    }
    assert item["evidence"]["held_hours"] >= settings.SYNC_HOLD_DEADLINE_HOURS
    assert item["subject"] is None  # the task never reached the server
    assert item["agency"]["id"] == side.agency.pk
    assert item["open_violation"] is None

    # A phone lost operation 2 of its queue; 3 (a task on the project) waits for it, then is
    # processed without it by the hourly job.
    phone = Phone.enrol(side.field_user)
    phone.next_seq = 2
    late = phone.op("task.create", uuid.uuid4(), {"project": side.project.pk, "name": "缺口之后"})
    assert phone.push().json()["results"][0]["status"] == "held"
    backdate(Operation.objects.get(op_id=late["op_id"]), hours=settings.SYNC_HOLD_DEADLINE_HOURS + 1)
    assert engine.expire_holds() == {"forced": 1, "flagged": 2}  # and Jiangsu's held edit

    held = by_id(items(client, "held"), "op_id")
    assert held[str(mine.held.op_id)]["evidence"]["state"] == "flagged_for_review"
    assert held[str(mine.held.op_id)]["evidence"]["waits_for"]["entity"] == "task"
    assert held[str(mine.held.op_id)]["evidence"]["result"]["code"] == "hold_expired"
    processed = held[late["op_id"]]
    assert processed["evidence"]["state"] == "processed_late"
    assert processed["evidence"]["status"] == "applied"
    assert processed["subject"]["type"] == "project"
    assert processed["open_violation"]["project"] == side.project.pk
    # Nothing of this reaches the other region.
    theirs = by_id(items(client_for(world.jiangsu.regulator), "held"), "op_id")
    assert set(theirs) == {str(evidence["jiangsu"].held.op_id)}


def test_overdue_plan_occurrences(world, evidence, client_for):
    side = world.shanghai
    overdue = items(client_for(side.regulator), "overdue")
    # The world's daily plan began ten days ago and nobody filled it: one occurrence per past day.
    assert len(overdue) == 10
    newest = overdue[0]
    yesterday = timezone.localdate() - timezone.timedelta(days=1)
    assert newest["evidence"]["window_end"] == yesterday.isoformat()
    assert newest["evidence"]["days_overdue"] == 1
    assert newest["evidence"]["plan"]["title"] == "日常巡检"
    assert newest["subject"] == {
        "type": "om_task",
        "id": side.om_task.pk,
        "label": f"{side.om_task.number} {side.om_task.name}",
    }
    assert newest["enterprise"]["id"] == side.enterprise.pk
    assert newest["open_violation"]["om_task"] == side.om_task.pk
    assert [i["at"] for i in overdue] == sorted((i["at"] for i in overdue), reverse=True)


def test_an_operation_on_another_region_is_hidden_even_from_an_agency_working_in_both(
    world, evidence, client_for
):
    """The Shanghai agency takes a contract in Jiangsu: the Jiangsu regulator now sees the agency,
    but still none of its work in Shanghai."""
    from server.registry.models import Contract
    from tests.factories import accepted_contract

    accepted_contract(
        agency=world.shanghai.agency,
        enterprise=world.jiangsu.enterprise,
        nature=Contract.Nature.MONITORING,
        number="JS-1",
        title="江苏委托监测",
        amount=1000,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timezone.timedelta(days=30),
    )
    results = items(client_for(world.jiangsu.regulator), "conflict")
    assert str(evidence["shanghai"].conflict.op_id) not in by_id(results, "op_id")
    assert {item["agency"]["id"] for item in results} == {world.jiangsu.agency.pk}


# --- Filters, order, pages ------------------------------------------------------------------------
def test_filters_by_kind_agency_and_time(world, evidence, client_for):
    client = client_for(world.platform)
    assert {i["kind"] for i in items(client, "photo,checkin")} == {"photo", "checkin"}
    shanghai = items(client, agency=world.shanghai.agency.pk)
    assert {i["agency"]["id"] for i in shanghai} == {world.shanghai.agency.pk}
    recent = items(client, "photo", since=(now() - timezone.timedelta(minutes=30)).isoformat())
    assert len(recent) == 4
    assert items(client, "photo", until=(now() - timezone.timedelta(hours=1)).isoformat()) == []
    today = timezone.localdate().isoformat()
    assert len(items(client, "photo", since=today, until=today)) == 4
    bad = client.get(f"{API}/evidence", {"kind": "photo,selfie"})
    assert bad.status_code == 400
    assert "kind" in bad.json()["details"]
    assert client.get(f"{API}/evidence", {"cursor": "not-a-cursor"}).json()["code"] == "validation_failed"
    assert client.get(f"{API}/evidence", {"since": "yesterday"}).status_code == 400


def test_pages_are_newest_first_and_never_repeat_or_skip(world, evidence, client_for):
    client = client_for(world.platform)
    everything = items(client)
    seen, url, pages = [], f"{API}/evidence?page_size=3", 0
    while url:
        body = client.get(url).json()
        seen.extend(body["results"])
        url, pages = body["next"], pages + 1
        assert pages < 50
    key = [
        (
            i["kind"],
            str(
                i["evidence"].get("photo")
                or i["evidence"].get("checkin")
                or i["evidence"].get("operation")
                or i["evidence"].get("window_start")
            ),
            i["subject"] and i["subject"]["id"],
        )
        for i in seen
    ]
    assert len(key) == len(set(key))
    assert [i["at"] for i in seen] == [i["at"] for i in everything]
    assert len(seen) == len(everything)
    assert [i["at"] for i in seen] == sorted((i["at"] for i in seen), reverse=True)


# --- Acting on an item ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["photo", "checkin", "conflict", "overdue"])
def test_open_violation_is_the_body_that_opens_one(world, evidence, client_for, kind):
    client = client_for(world.shanghai.regulator)
    item = items(client, kind)[0]
    response = client.post(f"{API}/violations", item["open_violation"], format="json")
    assert response.status_code == 201, response.json()
    violation = Violation.objects.get(pk=response.json()["id"])
    assert violation.description == item["open_violation"]["description"]
    if item["subject"]["type"] == "project":
        assert violation.project_id == item["subject"]["id"]
    else:
        assert violation.om_task_id == item["subject"]["id"]
    if kind == "photo":
        assert str(violation.photo_id) == item["evidence"]["photo"]
    if kind == "checkin":
        assert str(violation.checkin_id) == item["evidence"]["checkin"]


def test_a_flagged_work_photo_points_at_its_om_record(world, client_for):
    """A work photo is a site photo: its order goes on the O&M task of the record it was taken for."""
    from media_rules.models import Photo
    from server.om.models import OmRecord
    from tests.om.test_records import submitted

    side = world.shanghai
    record = OmRecord.objects.get(pk=submitted(side, client_for(side.technician_user)))
    no_face = {
        "code": "face_missing",
        "severity": "warn",
        "message": {"zh-hans": "工作照片中没有清晰的人脸", "en": "No clear face in the work photo"},
        "evidence": {"face_count": 0},
    }
    Photo.objects.filter(pk=record.work_photo_id).update(verdict="warn", findings=[no_face])
    client = client_for(side.regulator)
    item = by_id(items(client, "photo"), "photo")[str(record.work_photo_id)]
    assert item["subject"]["type"] == "om_task"
    assert item["subject"]["id"] == side.om_task.pk
    assert item["evidence"]["om_record"] == str(record.pk)
    assert item["evidence"]["findings"] == [no_face]
    assert item["open_violation"]["om_record"] == str(record.pk)
    assert "photo" not in item["open_violation"]  # photos are evidence of monitoring tasks only
    response = client.post(f"{API}/violations", item["open_violation"], format="json")
    assert response.status_code == 201, response.json()
    assert Violation.objects.get(pk=response.json()["id"]).om_record_id == record.pk


def test_english_descriptions_when_asked(world, evidence, client_for):
    results = items(client_for(world.shanghai.regulator, language="en"), "checkin")
    assert results[0]["open_violation"]["description"].startswith("Check-in outside")


# --- Cost -----------------------------------------------------------------------------------------
def _clone(row, **changes):
    row.pk = None
    for name, value in changes.items():
        setattr(row, name, value)
    row._state.adding = True
    row.save(force_insert=True)


def _more_of_everything(side, mine, times: int) -> None:
    from media_rules.models import Photo
    from server.tracks.models import CheckIn

    for n in range(times):
        _clone(Photo.objects.get(pk=mine.photo.pk), id=uuid.uuid4(), recorded_at=timezone.now())
        _clone(CheckIn.objects.get(pk=mine.checkin["id"]), id=uuid.uuid4(), recorded_at=timezone.now())
        for op in (mine.conflict, mine.held):
            _clone(
                Operation.objects.get(pk=op.pk), op_id=uuid.uuid4(), seq=10_000 + n * 2 + (op is mine.held)
            )
        om_plan_add(
            task=side.om_task,
            title=f"巡检{n}",
            frequency="daily",
            template_codes=["ww_daily_inspection"],
            window_start=timezone.localdate() - timezone.timedelta(days=5),
            window_end=timezone.localdate(),
        )
    task_on(Phone.enrol(side.field_user), side, "再来一个")


def test_the_queue_costs_the_same_queries_whatever_it_holds(
    world, evidence, client_for, django_assert_max_num_queries
):
    side, mine = world.shanghai, evidence["shanghai"]
    client = client_for(side.regulator)

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{API}/evidence", {"page_size": 200}).status_code == 200
        return len(queries)

    before = counted()
    _more_of_everything(side, mine, 4)
    assert len(items(client, "photo")) == 2 + 4
    after = counted()
    assert after == before
    # One query per kind, one for the work photos' records, at most five to resolve the operations
    # (records, tasks, projects, O&M tasks, outlets) and two more for overdue plans.
    with django_assert_max_num_queries(13):
        client.get(f"{API}/evidence", {"page_size": 5})
