"""GET /statistics (查询统计): counts grouped by agency, region, status or month, over what the caller
sees, one aggregate query per measure."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from server.violations.services import violation_open
from tests.regulator.helpers import API, task_on
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db

MEASURES = {"projects", "tasks", "om_records", "violations", "flagged_photos", "flagged_checkins"}


def stats(client, **params) -> dict:
    response = client.get(f"{API}/statistics", params)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body["measures"]) == MEASURES
    return body


def totals(body) -> dict[str, int]:
    return {name: measure["total"] for name, measure in body["measures"].items()}


@pytest.fixture
def flagged(world, evidence):
    violation_open(
        project=world.shanghai.project,
        actor=world.shanghai.regulator,
        description="照片定位超出电子围栏",
        deadline=timezone.localdate() + dt.timedelta(days=7),
    )
    return evidence


def test_by_agency_a_regulator_counts_its_region_only(world, flagged, client_for):
    for side in (world.shanghai, world.jiangsu):
        body = stats(client_for(side.regulator), by="agency")
        for name, measure in body["measures"].items():
            assert {g["key"] for g in measure["groups"]} <= {str(side.agency.pk)}, name
        assert body["measures"]["projects"]["groups"] == [
            {"key": str(side.agency.pk), "label": side.agency.name, "count": 1}
        ]
    shanghai = totals(stats(client_for(world.shanghai.regulator), by="agency"))
    # Two tasks (the photos' tasks), two flagged photos, the check-in 3 km away, one violation.
    assert shanghai == {
        "projects": 1,
        "tasks": 2,
        "om_records": 0,
        "violations": 1,
        "flagged_photos": 2,
        "flagged_checkins": 1,
    }
    assert totals(stats(client_for(world.jiangsu.regulator)))["violations"] == 0


def test_by_region_status_and_month(world, flagged, client_for):
    client = client_for(world.shanghai.regulator)
    region = stats(client, by="region")["measures"]
    assert region["projects"]["groups"] == [{"key": "310104", "label": "上海市徐汇区", "count": 1}]
    assert region["flagged_checkins"]["groups"][0]["key"] == "310104"

    status = stats(client, by="status")["measures"]
    assert status["projects"]["groups"] == [{"key": "unfinished", "label": "未完成", "count": 1}]
    assert status["violations"]["groups"] == [{"key": "open", "label": "待整改", "count": 1}]
    assert status["flagged_photos"]["groups"] == [{"key": "fail", "label": "不通过", "count": 2}]
    assert status["flagged_checkins"]["groups"] == [{"key": "outside", "label": "超出电子围栏", "count": 1}]

    month = timezone.localdate().strftime("%Y-%m")
    by_month = stats(client, by="month")["measures"]
    assert by_month["tasks"]["groups"] == [{"key": month, "label": month, "count": 2}]


def test_since_and_until(world, flagged, client_for):
    client = client_for(world.shanghai.regulator)
    today = timezone.localdate()
    assert totals(stats(client, since=today.isoformat(), until=today.isoformat()))["flagged_photos"] == 2
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert set(totals(stats(client, until=yesterday)).values()) == {0}
    assert set(totals(stats(client, since=(today + dt.timedelta(days=1)).isoformat())).values()) == {0}
    assert client.get(f"{API}/statistics", {"by": "week"}).status_code == 400


def test_an_agency_admin_counts_its_agency(world, flagged, client_for):
    body = stats(client_for(world.shanghai.main), by="agency")
    keys = {g["key"] for measure in body["measures"].values() for g in measure["groups"]}
    assert keys == {str(world.shanghai.agency.pk)}


def test_one_query_per_measure_whatever_the_rows(world, flagged, client_for, django_assert_num_queries):
    client = client_for(world.platform)
    for by in ("agency", "region", "status", "month"):
        with django_assert_num_queries(len(MEASURES)):
            client.get(f"{API}/statistics", {"by": by})
    phone = Phone.enrol(world.jiangsu.field_user)
    for n in range(5):
        task_on(phone, world.jiangsu, f"任务{n}")
    with django_assert_num_queries(len(MEASURES)):
        body = client.get(f"{API}/statistics", {"by": "agency"}).json()
    assert body["measures"]["tasks"]["total"] == 2 + 2 + 5
