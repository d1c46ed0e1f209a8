"""Issue F9.5: jurisdiction follows the enterprise's registered location. A project's region is its
enterprise's; the enterprise's region moves only when a regulator of its region approves, and then
its projects and O&M work move with it, audited.
"""

from __future__ import annotations

import pytest

from server.audit.models import AuditEntry
from server.fieldwork.models import MonitoringProject
from server.registry.models import Enterprise

pytestmark = pytest.mark.django_db
API = "/api/v1"


def register(client, contract, **extra):
    body = {
        "number": "P-J-1",
        "name": "委托监测",
        "monitoring_type": "water",
        "contract": contract.pk,
        **extra,
    }
    return client.post(f"{API}/projects", body, format="json")


def test_a_project_cannot_name_another_region_than_its_enterprise(world, client_for):
    side = world.shanghai
    response = register(client_for(side.main), side.monitoring_contract, region_code="650100")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "project_region_not_enterprise"
    assert "310104" in body["message"]
    assert not MonitoringProject.objects.filter(number="P-J-1").exists()
    english = client_for(side.main, "en")
    assert "enterprise" in register(english, side.monitoring_contract, region_code="650100").json()["message"]


def test_a_project_takes_its_enterprise_region(world, client_for):
    side = world.shanghai
    response = register(client_for(side.main), side.monitoring_contract)
    assert response.status_code == 201, response.json()
    assert response.json()["region_code"] == "310104"
    assert MonitoringProject.objects.get(number="P-J-1").region_code == "310104"
    pk = response.json()["id"]
    assert client_for(side.regulator).get(f"{API}/projects/{pk}").status_code == 200
    assert client_for(world.jiangsu.regulator).get(f"{API}/projects/{pk}").status_code == 404


def test_a_project_stored_with_another_region_stays_with_its_enterprise_regulator(world, client_for):
    """A project registered before this rule with a code not its enterprise's (the issue's 650100)."""
    side = world.shanghai
    MonitoringProject.objects.filter(pk=side.project.pk).update(region_code="650100")
    assert client_for(side.regulator).get(f"{API}/projects/{side.project.pk}").status_code == 200
    listed = client_for(side.regulator).get(f"{API}/projects").json()["results"]
    assert side.project.pk in {p["id"] for p in listed}


def test_an_agency_cannot_move_an_enterprise_to_another_regulator(world, client_for):
    side = world.shanghai
    response = client_for(side.main).patch(
        f"{API}/enterprises/{side.enterprise.pk}", {"region_code": "320102"}, format="json"
    )
    assert response.status_code == 403
    enterprise = Enterprise.objects.get(pk=side.enterprise.pk)
    assert (enterprise.region_code, enterprise.pending_region_code) == ("310104", "")
    assert client_for(side.regulator).get(f"{API}/om-tasks/{side.om_task.pk}").status_code == 200
    assert client_for(world.jiangsu.regulator).get(f"{API}/om-tasks/{side.om_task.pk}").status_code == 404


def test_the_enterprise_asks_and_its_regulator_approves_a_move(world, client_for):
    side, jiangsu_regulator = world.shanghai, client_for(world.jiangsu.regulator)
    asked = client_for(side.enterprise_user).patch(
        f"{API}/enterprises/{side.enterprise.pk}",
        {"region_code": "320102", "contact_name": "周敏"},
        format="json",
    )
    assert asked.status_code == 200, asked.json()
    assert (asked.json()["region_code"], asked.json()["pending_region_code"]) == ("310104", "320102")
    assert asked.json()["contact_name"] == "周敏"
    # Nothing moved yet: the Shanghai regulator still has the work, Jiangsu's does not.
    assert client_for(side.regulator).get(f"{API}/om-tasks/{side.om_task.pk}").status_code == 200
    assert jiangsu_regulator.get(f"{API}/om-tasks/{side.om_task.pk}").status_code == 404
    # The receiving regulator cannot decide (it does not see the enterprise yet); the enterprise neither.
    assert (
        jiangsu_regulator.post(f"{API}/enterprises/{side.enterprise.pk}/region-change/approve").status_code
        == 404
    )
    own = client_for(side.enterprise_user).post(
        f"{API}/enterprises/{side.enterprise.pk}/region-change/approve"
    )
    assert own.status_code == 403
    assert own.json()["code"] == "region_change_actor_not_allowed"

    approved = client_for(side.regulator).post(
        f"{API}/enterprises/{side.enterprise.pk}/region-change/approve"
    )
    assert approved.status_code == 200, approved.json()
    assert (approved.json()["region_code"], approved.json()["pending_region_code"]) == ("320102", "")
    assert MonitoringProject.objects.get(pk=side.project.pk).region_code == "320102"
    assert jiangsu_regulator.get(f"{API}/om-tasks/{side.om_task.pk}").status_code == 200
    assert jiangsu_regulator.get(f"{API}/projects/{side.project.pk}").status_code == 200
    entries = AuditEntry.objects.filter(
        action="enterprise.region_changed", subject_id=str(side.enterprise.pk)
    )
    assert {e.region_code for e in entries} == {"310104", "320102"}
    assert {e.actor_id for e in entries} == {side.regulator.pk}


def test_a_refused_move_needs_a_reason_and_changes_nothing(world, client_for):
    side = world.shanghai
    client_for(side.enterprise_user).patch(
        f"{API}/enterprises/{side.enterprise.pk}", {"region_code": "320102"}, format="json"
    )
    regulator = client_for(side.regulator)
    bare = regulator.post(f"{API}/enterprises/{side.enterprise.pk}/region-change/refuse", {}, format="json")
    assert bare.status_code == 400
    assert bare.json()["code"] == "region_change_reason_required"
    refused = regulator.post(
        f"{API}/enterprises/{side.enterprise.pk}/region-change/refuse",
        {"reason": "营业执照未变更"},
        format="json",
    )
    assert refused.status_code == 200
    enterprise = Enterprise.objects.get(pk=side.enterprise.pk)
    assert (enterprise.region_code, enterprise.pending_region_code) == ("310104", "")
    assert MonitoringProject.objects.get(pk=side.project.pk).region_code == "310104"
    again = regulator.post(f"{API}/enterprises/{side.enterprise.pk}/region-change/approve")
    assert again.status_code == 409
    assert again.json()["code"] == "region_change_not_pending"
