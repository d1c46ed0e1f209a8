"""An O&M record whose computed judgement fails is evidence (issue 23, seed 003 表单详情): the
regulator's queue (GET /evidence, kind judgement, and its home page) and the agency's home list it
with the value, the limit and the standard's clause, 待核实 when the limit set is provisional. Only
records past draft count, a voided record leaves, and nobody sees another side's."""

from __future__ import annotations

import copy
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from media_rules.signatures import store_signature
from server.evidence import judgements as qc
from server.evidence.selectors import encode_cursor
from server.om import records
from server.om.models import OmRecord, Review
from server.tracks.models import CheckIn
from tests.om.fill import groups_of, valid_answers
from tests.om.helpers import signature_b64
from tests.regulator.helpers import API
from tests.workspace.conftest import signed_in
from tests.workspace.om_scene import _checkin, _template, confirmed_by_enterprise, om_day, work_photo
from workspace.selectors import evidence_page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def judgement_items(client, **params) -> list[dict]:
    response = client.get(f"{API}/evidence", {"kind": "judgement", "page_size": 200, **params})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def failing_std_check(record: OmRecord) -> dict:
    return next(j for j in record.judgements if j["passed"] is False)


def test_a_failing_calibration_is_in_its_regulators_queue_with_value_limit_and_clause(world, client_for):
    side = world.shanghai
    day = om_day(side)
    failing = failing_std_check(day.calibration)
    assert failing["kind"] == "relative_error"
    assert [r.pk for r in OmRecord.objects.filter(qc.HasFailedJudgement())] == [day.calibration.pk]

    results = judgement_items(client_for(side.regulator))
    assert [item["evidence"]["om_record"] for item in results] == [str(day.calibration.pk)]
    item = results[0]
    assert item["kind"] == "judgement"
    assert item["agency"] == {"id": side.agency.pk, "name": side.agency.name}
    assert item["enterprise"]["id"] == side.enterprise.pk
    assert item["subject"] == {
        "type": "om_task",
        "id": side.om_task.pk,
        "label": f"{side.om_task.number} {side.om_task.name}",
    }
    evidence = item["evidence"]
    assert evidence["template_name"] == day.calibration.template.name
    assert evidence["status"] == "submitted"
    assert evidence["outlet"]["id"] == side.wastewater.pk
    assert evidence["judged"] == len(day.calibration.judgements)
    (shown,) = evidence["failed"]
    # 12 against 10: a relative error of 20 %, out of its ±limit; the clause is the limit set's.
    assert shown["value"] == pytest.approx(0.2)
    assert shown["value_text"] == "20%"
    assert shown["limit"] == failing["limit"]
    assert shown["limit_text"] == f"±{failing['limit'] * 100:g}%"
    assert shown["source"] == failing["source"] != ""
    assert shown["provisional"] is failing["provisional"]
    assert shown["label"].startswith(side.instrument.display_name)
    assert failing["label"] in shown["label"]
    assert "20%，限值 ±" in shown["text"]
    assert failing["source"] in shown["text"]
    # The regulator may open a rectification order from it, with the record as its evidence.
    body = item["open_violation"]
    assert body["om_task"] == side.om_task.pk
    assert body["om_record"] == str(day.calibration.pk)
    assert "计算判定不合格" in body["description"]
    assert "20%" in body["description"]


def test_nobody_sees_another_sides_failing_record(world, client_for):
    shanghai = om_day(world.shanghai)
    jiangsu = om_day(world.jiangsu, seed=2)
    for side, mine, theirs in (
        (world.shanghai, shanghai, jiangsu),
        (world.jiangsu, jiangsu, shanghai),
    ):
        for user in (side.regulator, side.main, side.manager):
            shown = [item["evidence"]["om_record"] for item in judgement_items(client_for(user))]
            assert shown == [str(mine.calibration.pk)], user.role
            assert str(theirs.calibration.pk) not in shown
            assert all(item["open_violation"] is None for item in judgement_items(client_for(side.main)))
    platform = {item["evidence"]["om_record"] for item in judgement_items(client_for(world.platform))}
    assert platform == {str(shanghai.calibration.pk), str(jiangsu.calibration.pk)}
    # Another agency asked for by id gives nothing either.
    other = judgement_items(client_for(world.shanghai.regulator), agency=world.jiangsu.agency.pk)
    assert other == []


def _draft_failing(side) -> OmRecord:
    template = _template("ww_standard_check_calibration")
    instruments = [side.instrument]
    groups = groups_of(template)
    answers = copy.deepcopy(valid_answers(template, instruments, groups))
    block = answers["check_cod"][str(side.instrument.pk)]
    block["std_reference"], block["std_measured"] = 10.0, 13.0
    return records.record_save(
        actor=side.technician_user,
        record_id=uuid.uuid4(),
        task=side.om_task,
        outlet=side.wastewater,
        template=template,
        instruments=instruments,
        groups=groups,
        answers=answers,
        start_checkin=_checkin(side.technician_user, side, CheckIn.Kind.START, timezone.now()),
        submit=False,
    ).record


def test_a_draft_does_not_count_and_a_voided_record_leaves_the_queue(world, client_for):
    side = world.shanghai
    draft = _draft_failing(side)
    assert draft.status == OmRecord.Status.DRAFT
    assert any(j["passed"] is False for j in draft.judgements)
    main = client_for(side.main)
    assert judgement_items(main) == []  # the agency sees its drafts elsewhere, not as evidence

    day = om_day(side)
    confirmed_by_enterprise(side, day)
    shown = judgement_items(main)
    assert [item["evidence"]["status"] for item in shown] == ["confirmed"]
    records.records_review(
        actor=side.reviewer,
        review_id=uuid.uuid4(),
        records=[day.calibration],
        decision=Review.Decision.VOID,
        reason="标样读数抄错",
        work_photo=work_photo(side.reviewer, side.wastewater, 9),
        signature=store_signature(signature_b64(9)),
    )
    assert OmRecord.objects.get(pk=day.calibration.pk).status == OmRecord.Status.VOIDED
    assert judgement_items(main) == []
    assert judgement_items(client_for(side.regulator)) == []


def test_the_queue_reads_the_same_queries_for_one_record_or_many(world, client_for):
    side = world.shanghai
    client = client_for(side.regulator)
    om_day(side, days_ago=1, seed=1)
    with CaptureQueriesContext(connection) as one:
        assert len(judgement_items(client)) == 1
    om_day(side, days_ago=2, seed=2)
    om_day(side, days_ago=3, seed=3)
    with CaptureQueriesContext(connection) as three:
        assert len(judgement_items(client)) == 3
    assert len(three) == len(one)


def test_pages_of_the_queue_go_through_every_failing_record_once(world, client_for):
    side = world.shanghai
    days = [om_day(side, days_ago=n, seed=n) for n in (1, 2, 3)]
    client = client_for(side.regulator)
    seen, url = [], f"{API}/evidence?kind=judgement&page_size=2"
    while url:
        body = client.get(url).json()
        seen += [item["evidence"]["om_record"] for item in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(str(d.calibration.pk) for d in days)
    assert len(seen) == 3


# --- The pages ------------------------------------------------------------------------------------
def test_the_agency_home_lists_its_failing_records_with_limit_and_clause(world):
    side = world.shanghai
    day = om_day(side)
    failing = failing_std_check(day.calibration)
    page = signed_in(side.main).get("/agency/").content.decode()
    section = page.split('id="judgements"')[1].split("</section>")[0]
    assert day.calibration.template.name in section
    assert f"/om/records/{day.calibration.pk}/" in section
    assert "20%" in section
    assert f"±{failing['limit'] * 100:g}%" in section
    assert failing["source"] in section
    assert ("待核实" in section) is failing["provisional"]
    assert day.inspection.template.name not in section  # it passes all its computed checks
    other = signed_in(world.jiangsu.main).get("/agency/").content.decode()
    assert str(day.calibration.pk) not in other
    assert "没有判定不合格的运维记录" in other


def test_the_agency_home_reads_the_same_queries_for_one_failing_record_or_many(world):
    side = world.shanghai
    client = signed_in(side.main)
    om_day(side, days_ago=1, seed=1)
    client.get("/agency/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/agency/").status_code == 200
    om_day(side, days_ago=2, seed=2)
    om_day(side, days_ago=3, seed=3)
    with CaptureQueriesContext(connection) as three:
        page = client.get("/agency/").content.decode()
    assert page.count("/om/records/") >= 3
    assert len(three) == len(one)


def test_the_regulators_home_shows_the_failing_record_in_its_queue(world):
    side = world.shanghai
    day = om_day(side)
    page = signed_in(side.regulator).get("/regulator/").content.decode()
    assert "计算判定不合格" in page
    assert f"/om/records/{day.calibration.pk}/" in page
    assert "20%" in page
    assert failing_std_check(day.calibration)["source"] in page
    other = signed_in(world.jiangsu.regulator).get("/regulator/").content.decode()
    assert str(day.calibration.pk) not in other


# --- 证据队列, the whole queue a page at a time ------------------------------------------------------
def test_the_evidence_page_filters_by_kind_and_shows_only_its_side(world):
    side = world.shanghai
    day = om_day(side)
    client = signed_in(side.regulator)
    home = client.get("/regulator/").content.decode()
    assert 'href="/evidence/"' in home  # the navigation and the home's queue lead to it
    page = client.get("/evidence/", {"kind": "judgement"}).content.decode()
    listed = page.split('id="evidence"')[1].split("</ul>")[0]
    assert f"/om/records/{day.calibration.pk}/" in listed
    assert "计算判定不合格" in listed
    assert "20%" in listed
    assert "运维计划超期" not in listed  # the world's overdue plans are another kind
    overdue = client.get("/evidence/", {"kind": "overdue"}).content.decode()
    assert str(day.calibration.pk) not in overdue
    assert "运维计划超期" in overdue
    # A cursor that is not the queue's own starts from the newest, rather than failing.
    again = client.get("/evidence/", {"kind": "judgement", "cursor": "not-a-cursor"}).content.decode()
    assert f"/om/records/{day.calibration.pk}/" in again
    for user in (world.jiangsu.regulator, world.jiangsu.main):
        theirs = signed_in(user).get("/evidence/", {"kind": "judgement"})
        assert theirs.status_code == 200
        assert str(day.calibration.pk) not in theirs.content.decode()
    assert signed_in(side.main).get("/evidence/", {"kind": "judgement"}).status_code == 200
    assert signed_in(side.reviewer).get("/evidence/").status_code == 404


def test_the_evidence_pages_go_on_from_the_last_item_shown(world):
    side = world.shanghai
    days = [om_day(side, days_ago=n, seed=n) for n in (1, 2, 3)]
    first = evidence_page(side.regulator, kinds=frozenset({"judgement"}), limit=2)
    assert len(first.items) == 2
    assert first.next is not None
    rest = evidence_page(side.regulator, kinds=frozenset({"judgement"}), cursor=encode_cursor(first.next))
    shown = [i.evidence["om_record"] for i in first.items + rest.items]
    # Newest submitted first (the third day's records were sent last), each once.
    assert shown == [str(d.calibration.pk) for d in reversed(days)]
    assert rest.next is None
