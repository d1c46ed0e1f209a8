"""The regulator's lists (seed 003 §4 备案管理 / 合同管理 / 运维任务管理, seed 002 查询统计): each shows
the regulator's region only, filters the way the seeds' pages do, and refuses writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from server.registry.models import Agency
from server.registry.services import agency_register, agency_transition
from server.violations.services import violation_open
from tests.factories import PASSWORD, approved_agency, complete_dossier, credit_code
from tests.om.test_records import submitted
from tests.regulator.helpers import API

pytestmark = pytest.mark.django_db

LISTS = {
    # endpoint -> what names a row's side
    "agencies": lambda row: row["id"],
    "enterprises": lambda row: row["id"],
    "outlets": lambda row: row["enterprise"],
    "contracts": lambda row: row["agency"],
    "projects": lambda row: row["agency"],
    "tasks": lambda row: row["project"],
    "om-tasks": lambda row: row["agency"],
    "om/records": lambda row: row["task"],
    "photos": lambda row: row["task"] or row["outlet"],
    "checkins": lambda row: row["om_task"] or row["task"],
    "violations": lambda row: row["agency"],
}


def rows(client, path: str, **params) -> list[dict]:
    response = client.get(f"{API}/{path}", {"page_size": 200, **params})
    assert response.status_code == 200, (path, response.json())
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def _owned(side, evidence) -> dict[str, set]:
    """What of each list belongs to the side."""
    return {
        "agencies": {side.agency.pk},
        "enterprises": {side.enterprise.pk},
        "outlets": {side.enterprise.pk},
        "contracts": {side.agency.pk},
        "projects": {side.agency.pk},
        "tasks": {side.project.pk},
        "om-tasks": {side.agency.pk},
        "om/records": {side.om_task.pk},
        "photos": {str(evidence.task), str(evidence.reused.task_id), side.wastewater.pk},
        "checkins": {side.om_task.pk},
        "violations": {side.agency.pk},
    }


@pytest.fixture
def busy(world, evidence, client_for):
    """Each side with a submitted O&M record and an open violation besides its flagged evidence."""
    for side in (world.shanghai, world.jiangsu):
        submitted(side, client_for(side.technician_user))
        violation_open(
            project=side.project,
            actor=side.regulator,
            description="采样记录缺少采样人签字",
            deadline=timezone.localdate() + dt.timedelta(days=7),
        )
    return evidence


def test_every_list_shows_the_regulators_region_only(world, busy, client_for):
    for name in ("shanghai", "jiangsu"):
        side = getattr(world, name)
        owned = _owned(side, busy[name])
        client = client_for(side.regulator)
        for path, side_of in LISTS.items():
            found = rows(client, path)
            assert found, (name, path)
            assert {side_of(row) for row in found} <= owned[path], (name, path)


def test_agencies_filter_by_kind_filing_status_and_capability(world, client_for):
    monitoring, _ = approved_agency(kind=Agency.Kind.MONITORING, name="万子健检测技术(上海)有限公司")
    om, _ = approved_agency(kind=Agency.Kind.OM, name="上海乾玛环保工程有限公司")
    submitted_agency, main = agency_register(
        credit_code=credit_code("91310104MA"),
        name="上海咨苏环保工程有限公司",
        kind=Agency.Kind.OM,
        legal_representative="於伟琴",
        address="西大盈港一路75号",
        region_code="310118",
        username="zisu",
        password=PASSWORD,
    )
    complete_dossier(submitted_agency, main)
    agency_transition(agency=submitted_agency, to=Agency.FilingStatus.SUBMITTED, actor=main)
    client = client_for(world.shanghai.regulator)

    def ids(**params) -> set[int]:
        return {row["id"] for row in rows(client, "agencies", **params)}

    both = world.shanghai.agency.pk  # the world's agencies are 检测运维机构
    assert ids(kind="monitoring") == {monitoring.pk}
    assert ids(capability="monitoring") == {monitoring.pk, both}
    assert ids(capability="om") == {om.pk, submitted_agency.pk, both}
    assert ids(filing_status="submitted") == {submitted_agency.pk}
    assert ids(filing_status="approved", capability="om") == {om.pk, both}
    assert ids(keyword="乾玛") == {om.pk}
    assert ids(keyword=submitted_agency.credit_code[:12]) >= {submitted_agency.pk}
    assert client.get(f"{API}/agencies", {"capability": "lab"}).status_code == 400
    assert world.jiangsu.agency.pk not in ids()


def test_contracts_filter_by_nature_agency_enterprise_and_period(world, client_for):
    side = world.shanghai
    client = client_for(side.regulator)
    today = timezone.localdate()

    def ids(**params) -> set[int]:
        return {row["id"] for row in rows(client, "contracts", **params)}

    assert ids(nature="om") == {side.om_contract.pk}
    assert ids(agency=side.agency.pk) == {side.om_contract.pk, side.monitoring_contract.pk}
    assert ids(enterprise=side.enterprise.pk, nature="monitoring") == {side.monitoring_contract.pk}
    assert ids(enterprise_name=side.enterprise.name[-4:]) == {
        side.om_contract.pk,
        side.monitoring_contract.pk,
    }
    assert ids(since=today.isoformat(), until=today.isoformat()) == {
        side.om_contract.pk,
        side.monitoring_contract.pk,
    }
    assert ids(since=(today + dt.timedelta(days=301)).isoformat()) == set()
    assert ids(until=(today - dt.timedelta(days=61)).isoformat()) == set()
    assert ids(agency=world.jiangsu.agency.pk) == set()


def test_projects_tasks_and_om_tasks_filter_by_agency_enterprise_status_and_date(world, busy, client_for):
    side = world.shanghai
    client = client_for(side.regulator)
    today = timezone.localdate().isoformat()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    def ids(path: str, **params) -> set:
        return {row["id"] for row in rows(client, path, **params)}

    assert ids("projects", agency=side.agency.pk, enterprise=side.enterprise.pk, status="unfinished") == {
        side.project.pk
    }
    assert ids("projects", since=today, until=today) == {side.project.pk}
    assert ids("projects", since=tomorrow) == set()
    assert ids("projects", status="done") == set()

    tasks = ids("tasks", agency=side.agency.pk, enterprise=side.enterprise.pk)
    assert str(busy["shanghai"].task) in tasks
    assert ids("tasks", since=today) == tasks
    assert ids("tasks", until=(timezone.localdate() - dt.timedelta(days=1)).isoformat()) == set()
    assert ids("tasks", agency=world.jiangsu.agency.pk) == set()

    assert ids("om-tasks", agency=side.agency.pk, enterprise=side.enterprise.pk, status="active") == {
        side.om_task.pk
    }
    assert ids("om-tasks", since=today, until=today) == {side.om_task.pk}
    assert ids("om-tasks", since=(timezone.localdate() + dt.timedelta(days=81)).isoformat()) == set()
    assert ids("om-tasks", enterprise=world.jiangsu.enterprise.pk) == set()

    # The record's day is its check-in's (an hour ago): yesterday in the first hour after midnight.
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    records = rows(client, "om/records", enterprise=side.enterprise.pk, status="submitted", since=yesterday)
    assert len(records) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "contracts",
            {
                "enterprise": 1,
                "nature": "om",
                "number": "X",
                "title": "t",
                "amount": 1,
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
            },
        ),
        (
            "projects",
            {"number": "X", "name": "n", "monitoring_type": "water", "contract": 1, "region_code": "310104"},
        ),
        (
            "om-tasks",
            {
                "contract": 1,
                "number": "X",
                "name": "n",
                "kind": "wastewater",
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
                "points": [1],
            },
        ),
        ("staff", {}),
        ("enterprises", {}),
    ],
)
def test_regulators_read_only(world, client_for, path, body):
    response = client_for(world.shanghai.regulator).post(f"{API}/{path}", body, format="json")
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "permission_denied"
