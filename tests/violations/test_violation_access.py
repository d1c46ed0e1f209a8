"""Who sees violations and rectifications: agency accounts their agency's, regulators those of the
projects in their region, enterprises and everyone else nothing; outside the scope it is 404."""

from __future__ import annotations

import pytest

from server.violations.models import Violation
from tests.violations.helpers import API, opened, rectify, review

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(world, client_for):
    """A violation with a pending rectification on each side; {region: (violation id, rectification id)}."""
    ids = {}
    for name, side in (("shanghai", world.shanghai), ("jiangsu", world.jiangsu)):
        vid = opened(client_for(side.regulator), side.project)["id"]
        body = rectify(client_for(side.main), vid).json()
        ids[name] = (vid, body["rectifications"][0]["id"])
    return ids


def test_another_regions_regulator_gets_404_and_changes_nothing(world, both, client_for):
    jiangsu_regulator = client_for(world.jiangsu.regulator)
    vid, rid = both["shanghai"]
    for path in (f"violations/{vid}", f"rectifications/{rid}", f"rectifications/{rid}/file"):
        response = jiangsu_regulator.get(f"{API}/{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    for verdict, reason in (("accept", None), ("reject", "不合格")):
        response = review(jiangsu_regulator, vid, verdict, reason)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert Violation.objects.get(pk=vid).status == "rectified"
    # Opening one on a project outside the region: the project is not found.
    response = jiangsu_regulator.post(
        f"{API}/violations",
        {"project": world.shanghai.project.pk, "description": "越权开具", "deadline": "2099-01-01"},
        format="json",
    )
    assert (response.status_code, set(response.json()["details"])) == (400, {"project"})  # F10 item 6
    assert Violation.objects.count() == 2
    # Its lists hold its own region's rows only.
    assert [v["id"] for v in jiangsu_regulator.get(f"{API}/violations").json()["results"]] == [
        both["jiangsu"][0]
    ]
    assert [r["id"] for r in jiangsu_regulator.get(f"{API}/rectifications").json()["results"]] == [
        both["jiangsu"][1]
    ]


def test_another_agency_gets_404_and_changes_nothing(world, both, client_for):
    vid, _ = both["jiangsu"]
    shanghai_main = client_for(world.shanghai.main)
    response = review(client_for(world.jiangsu.regulator), vid, "reject", "请补充材料")
    assert response.status_code == 200
    response = rectify(shanghai_main, vid, "替别人整改")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Violation.objects.get(pk=vid).status == "open"
    assert Violation.objects.get(pk=vid).rectifications.count() == 1


def test_an_enterprise_sees_nothing(world, both, client_for):
    enterprise = client_for(world.shanghai.enterprise_user)
    for path in ("violations", "rectifications"):
        response = enterprise.get(f"{API}/{path}")
        assert response.status_code == 200
        assert response.json()["count"] == 0
    vid, rid = both["shanghai"]
    for path in (f"violations/{vid}", f"rectifications/{rid}", f"rectifications/{rid}/file"):
        assert enterprise.get(f"{API}/{path}").status_code == 404, path
    assert rectify(enterprise, vid).status_code == 404


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("platform", {"shanghai", "jiangsu"}),
        ("regulator", {"shanghai"}),
        ("agency_main", {"shanghai"}),
        ("agency_manager", {"shanghai"}),
        ("agency_reviewer", {"shanghai"}),
        ("agency_field", {"shanghai"}),  # the sampler is on the project
        ("enterprise", set()),
    ],
)
def test_lists_and_details_by_role(world, both, client_for, role, sees):
    user = world.platform if role == "platform" else world.shanghai.users[role]
    client = client_for(user)
    violations = {v["id"] for v in client.get(f"{API}/violations").json()["results"]}
    rectifications = {r["id"] for r in client.get(f"{API}/rectifications").json()["results"]}
    assert violations == {both[name][0] for name in sees}
    assert rectifications == {both[name][1] for name in sees}
    for name, (vid, rid) in both.items():
        expected = 200 if name in sees else 404
        assert client.get(f"{API}/violations/{vid}").status_code == expected, (role, name)
        assert client.get(f"{API}/rectifications/{rid}").status_code == expected, (role, name)


def test_field_staff_see_only_the_projects_they_are_on(world, client_for):
    from server.fieldwork.services import project_create

    side = world.shanghai
    other_project = project_create(
        agency=side.agency,
        actor=side.main,
        number="P-UNASSIGNED",
        name="未分派人员的项目",
        monitoring_type="water",
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
        region_code="310104",
    )
    vid = opened(client_for(side.regulator), other_project)["id"]
    assert client_for(side.main).get(f"{API}/violations/{vid}").status_code == 200
    assert client_for(side.field_user).get(f"{API}/violations/{vid}").status_code == 404


def test_anonymous_reads_nothing(both, api):
    vid, rid = both["shanghai"]
    for path in ("violations", f"violations/{vid}", "rectifications", f"rectifications/{rid}"):
        response = api.get(f"{API}/{path}")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
