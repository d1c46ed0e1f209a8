"""Issue F9.2: a contract grants nothing until the enterprise (or a regulator of its region) accepts
it, and no agency edits an enterprise's record or moves its outlets.

The attack is the issue's: the Jiangsu agency proposes a contract to the Shanghai enterprise and
tries to rename the enterprise and move its outlet 1,600 km.
"""

from __future__ import annotations

import datetime as dt

import pytest

from server.audit.models import AuditEntry
from server.registry.models import Contract, ContractAcceptanceEvent, Enterprise, Outlet

pytestmark = pytest.mark.django_db
API = "/api/v1"
URUMQI = {"longitude": 87.6168, "latitude": 43.8256, "coordinate_system": "wgs84"}


def propose(client, enterprise, number="JS-ATTACK-1", nature="monitoring"):
    response = client.post(
        f"{API}/contracts",
        {
            "enterprise": enterprise.pk,
            "nature": nature,
            "number": number,
            "title": "跨省委托",
            "amount": "1000.00",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def stored(outlet: Outlet) -> tuple:
    outlet.refresh_from_db()
    return (round(outlet.location.x, 6), round(outlet.location.y, 6), outlet.given_system)


def test_a_proposed_contract_gives_the_agency_nothing(world, client_for):
    shanghai, attacker = world.shanghai, client_for(world.jiangsu.main)
    before_outlet, before_name = stored(shanghai.wastewater), shanghai.enterprise.name
    contract = propose(attacker, shanghai.enterprise)
    assert contract["acceptance"] == "proposed"
    assert Contract.objects.get(pk=contract["id"]).acceptance == Contract.Acceptance.PROPOSED

    # The agency follows its own proposal, but sees nothing of the enterprise through it.
    assert attacker.get(f"{API}/contracts/{contract['id']}").json()["acceptance"] == "proposed"
    assert attacker.get(f"{API}/enterprises/{shanghai.enterprise.pk}").status_code == 404
    assert attacker.get(f"{API}/outlets/{shanghai.wastewater.pk}").status_code == 404
    moved = attacker.patch(f"{API}/outlets/{shanghai.wastewater.pk}", URUMQI, format="json")
    renamed = attacker.patch(
        f"{API}/enterprises/{shanghai.enterprise.pk}", {"name": "改名", "contact_phone": "1"}, format="json"
    )
    assert (moved.status_code, renamed.status_code) == (404, 404)
    assert stored(shanghai.wastewater) == before_outlet
    assert Enterprise.objects.get(pk=shanghai.enterprise.pk).name == before_name

    # No work is registered under it, and no regulator counts the agency as working in Shanghai.
    project = attacker.post(
        f"{API}/projects",
        {"number": "X-1", "name": "越权项目", "monitoring_type": "water", "contract": contract["id"]},
        format="json",
    )
    assert project.status_code == 409
    assert project.json()["code"] == "contract_not_accepted"
    regulator = client_for(shanghai.regulator)
    assert regulator.get(f"{API}/agencies/{world.jiangsu.agency.pk}").status_code == 404


def test_the_proposing_agency_cannot_accept_its_own_contract(world, client_for):
    contract = propose(client_for(world.jiangsu.main), world.shanghai.enterprise)
    own = client_for(world.jiangsu.main).post(f"{API}/contracts/{contract['id']}/accept")
    assert own.status_code == 403
    assert own.json()["code"] == "contract_actor_not_allowed"
    # The other province's regulator does not even see it; another enterprise neither.
    assert (
        client_for(world.jiangsu.regulator).post(f"{API}/contracts/{contract['id']}/accept").status_code
        == 404
    )
    assert (
        client_for(world.jiangsu.enterprise_user).post(f"{API}/contracts/{contract['id']}/accept").status_code
        == 404
    )
    assert Contract.objects.get(pk=contract["id"]).acceptance == Contract.Acceptance.PROPOSED
    assert not ContractAcceptanceEvent.objects.filter(contract_id=contract["id"]).exists()


def test_the_enterprise_accepts_and_the_agency_then_records_but_never_edits(world, client_for):
    shanghai, agency = world.shanghai, client_for(world.jiangsu.main)
    contract = propose(agency, shanghai.enterprise)
    accepted = client_for(shanghai.enterprise_user).post(f"{API}/contracts/{contract['id']}/accept")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["acceptance"] == "accepted"
    event = ContractAcceptanceEvent.objects.get(contract_id=contract["id"])
    assert (event.from_status, event.to_status, event.actor_id) == (
        "proposed",
        "accepted",
        shanghai.enterprise_user.pk,
    )
    history = client_for(shanghai.enterprise_user).get(f"{API}/audit/contract/{contract['id']}")
    assert history.status_code == 200, history.json()
    actions = [e["action"] for e in history.json()["results"]]
    assert sorted(actions) == ["contract.accepted", "contract.proposed"]

    # Now the agency sees the enterprise and its outlets, and may register work under the contract...
    assert agency.get(f"{API}/enterprises/{shanghai.enterprise.pk}").status_code == 200
    project = agency.post(
        f"{API}/projects",
        {"number": "X-2", "name": "委托监测", "monitoring_type": "water", "contract": contract["id"]},
        format="json",
    )
    assert project.status_code == 201, project.json()
    assert project.json()["region_code"] == shanghai.enterprise.region_code
    # ...but moving the outlet or renaming the enterprise stays the enterprise's.
    before = stored(shanghai.wastewater)
    moved = agency.patch(f"{API}/outlets/{shanghai.wastewater.pk}", URUMQI, format="json")
    renamed = agency.patch(f"{API}/enterprises/{shanghai.enterprise.pk}", {"name": "改名"}, format="json")
    assert (moved.status_code, renamed.status_code) == (403, 403)
    assert moved.json()["code"] == "permission_denied"
    assert stored(shanghai.wastewater) == before
    assert Enterprise.objects.get(pk=shanghai.enterprise.pk).name == shanghai.enterprise.name


def test_an_agency_with_an_accepted_contract_no_longer_moves_outlets(world, client_for):
    shanghai = world.shanghai
    before = stored(shanghai.wastewater)
    for user in (shanghai.main, shanghai.manager):
        response = client_for(user).patch(f"{API}/outlets/{shanghai.wastewater.pk}", URUMQI, format="json")
        assert response.status_code == 403
    assert stored(shanghai.wastewater) == before


def test_refusing_needs_a_reason_and_a_refused_contract_can_be_proposed_again(world, client_for):
    agency, enterprise = client_for(world.jiangsu.main), client_for(world.shanghai.enterprise_user)
    contract = propose(agency, world.shanghai.enterprise)
    bare = enterprise.post(f"{API}/contracts/{contract['id']}/refuse", {}, format="json")
    assert bare.status_code == 400
    assert bare.json()["code"] == "contract_refusal_reason_required"
    refused = enterprise.post(f"{API}/contracts/{contract['id']}/refuse", {"reason": "未签约"}, format="json")
    assert refused.status_code == 200
    assert (refused.json()["acceptance"], refused.json()["refusal_reason"]) == ("refused", "未签约")
    assert agency.get(f"{API}/enterprises/{world.shanghai.enterprise.pk}").status_code == 404
    again = agency.post(f"{API}/contracts/{contract['id']}/propose")
    assert again.status_code == 200
    assert Contract.objects.get(pk=contract["id"]).acceptance == Contract.Acceptance.PROPOSED
    moves = ContractAcceptanceEvent.objects.filter(contract_id=contract["id"]).order_by("id")
    assert [(m.from_status, m.to_status) for m in moves] == [("proposed", "refused"), ("refused", "proposed")]


def test_a_regulator_of_the_enterprise_region_may_accept(world, client_for):
    contract = propose(client_for(world.jiangsu.main), world.shanghai.enterprise, nature="om")
    response = client_for(world.shanghai.regulator).post(f"{API}/contracts/{contract['id']}/accept")
    assert response.status_code == 200
    assert Contract.objects.get(pk=contract["id"]).acceptance == Contract.Acceptance.ACCEPTED
    # Accepted once is accepted: a second accept is a conflict, not a second history row.
    again = client_for(world.shanghai.enterprise_user).post(f"{API}/contracts/{contract['id']}/accept")
    assert again.status_code == 409
    assert again.json()["code"] == "contract_transition_not_allowed"
    assert ContractAcceptanceEvent.objects.filter(contract_id=contract["id"]).count() == 1


def test_no_om_task_under_a_proposed_contract(world):
    from server.errors import DomainError
    from server.om.services import om_task_create
    from server.registry.services import contract_create

    side = world.shanghai
    contract = contract_create(
        agency=side.agency,
        enterprise=side.enterprise,
        nature="om",
        number="YW-NEW",
        title="新运维合同",
        amount=1,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    with pytest.raises(DomainError) as caught:
        om_task_create(
            agency=side.agency,
            contract=contract,
            number="T-NEW",
            name="越权运维",
            kind="wastewater",
            starts_on=dt.date(2026, 1, 1),
            ends_on=dt.date(2026, 2, 1),
            points=[side.wastewater],
        )
    assert caught.value.error.code == "contract_not_accepted"


def test_the_enterprise_moves_its_outlet_and_the_move_is_audited(world, client_for):
    shanghai = world.shanghai
    fix = {"longitude": 121.4375, "latitude": 31.1890, "coordinate_system": "wgs84"}
    response = client_for(shanghai.enterprise_user).patch(
        f"{API}/outlets/{shanghai.wastewater.pk}", fix, format="json"
    )
    assert response.status_code == 200, response.json()
    assert stored(shanghai.wastewater) == (121.4375, 31.189, "wgs84")
    entry = AuditEntry.objects.get(action="outlet.moved", subject_id=str(shanghai.wastewater.pk))
    assert entry.actor_id == shanghai.enterprise_user.pk
    assert entry.changes["location"][1] == [121.4375, 31.189]
    assert 0 < entry.changes["distance_m"] < 1000
    assert entry.region_code == shanghai.enterprise.region_code
