"""Regulators in the admin (server/admin_scope.py): they sign in, view only, and only what lies in
their region, through the scopes of server/access.py; other non-staff roles stay out."""

from __future__ import annotations

import uuid

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from server.admin_scope import scopes
from server.fieldwork.models import MonitoringTask
from server.registry.models import Agency, Certificate, Enterprise
from server.violations.models import Rectification, Violation
from tests.conftest import full_resident_ids
from tests.factories import PASSWORD
from tests.violations.helpers import opened, rectify

pytestmark = pytest.mark.django_db

SCOPED = sorted(scopes(), key=lambda model: model._meta.label)


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def shown(response) -> str:
    text = response.content.decode()
    assert not full_resident_ids(text), "a whole resident ID number was shown"
    return text


def pairs(world) -> dict[type, tuple]:
    """A scoped model -> (a Shanghai object, a Jiangsu object)."""
    sh, js = world.shanghai, world.jiangsu
    found = {}
    for name in ("agency", "enterprise", "wastewater", "instrument", "monitoring_contract"):
        found[type(getattr(sh, name))] = (getattr(sh, name), getattr(js, name))
    for name in ("sampler", "project", "om_task"):
        found[type(getattr(sh, name))] = (getattr(sh, name), getattr(js, name))
    found[Certificate] = tuple(
        Certificate.objects.filter(person=side.sampler.person).first() for side in (sh, js)
    )
    return found


@pytest.fixture
def populated(world, client_for):
    """A monitoring task, a violation and its rectification in each region."""
    for side in (world.shanghai, world.jiangsu):
        MonitoringTask.objects.create(
            id=uuid.uuid4(), project=side.project, name="采样任务", created_by=side.field_user
        )
        violation = opened(client_for(side.regulator), side.project)
        assert rectify(client_for(side.main), violation["id"]).status_code in (200, 201)
    return world


@pytest.fixture
def regulator(world) -> Client:
    client = Client()
    client.force_login(world.shanghai.regulator)
    return client


def test_the_index_lists_only_the_scoped_models(regulator):
    response = regulator.get(reverse("admin:index"))
    assert response.status_code == 200
    apps = response.context["app_list"]
    listed = {(m["object_name"], app["app_label"]) for app in apps for m in app["models"]}
    expected = {(m._meta.object_name, m._meta.app_label) for m in SCOPED if m in admin.site._registry}
    assert listed == expected
    for app in response.context["app_list"]:
        for model in app["models"]:
            assert model["perms"] == {"add": False, "change": False, "delete": False, "view": True}
    # An unscoped model's pages are refused.
    assert regulator.get(reverse("admin:registry_person_changelist")).status_code == 403
    assert regulator.get(reverse("admin:accounts_user_changelist")).status_code == 403


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m._meta.label)
def test_changelists_show_the_scope_and_nothing_else(regulator, populated, model):
    world = populated
    response = regulator.get(url(model, "changelist"))
    assert response.status_code == 200
    shown(response)
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert listed == set(scopes()[model](world.shanghai.regulator).values_list("pk", flat=True))
    assert response.context["cl"].model_admin.get_actions(response.wsgi_request) == {}
    if model in (MonitoringTask, Violation, Rectification):
        assert len(listed) == 1
        assert model.objects.count() == 2
    pair = pairs(world).get(model)
    if pair:
        assert pair[0].pk in listed
        assert pair[1].pk not in listed


def test_change_pages_show_shanghai_read_only_and_not_jiangsu(regulator, world):
    for model, (mine, theirs) in pairs(world).items():
        mine_page = regulator.get(url(model, "change", mine.pk))
        assert mine_page.status_code == 200, model
        shown(mine_page)
        assert mine_page.context["has_change_permission"] is False
        fields = [field for fieldset in mine_page.context["adminform"] for line in fieldset for field in line]
        assert all(field.is_readonly for field in fields), model
        for inline in mine_page.context["inline_admin_formsets"]:
            for form in inline:
                assert form.original.pk in set(
                    scopes()[inline.opts.model](world.shanghai.regulator).values_list("pk", flat=True)
                )
        theirs_page = regulator.get(url(model, "change", theirs.pk))
        assert theirs_page.status_code in (302, 404), model
        assert str(theirs) not in theirs_page.content.decode()
        assert regulator.get(url(model, "history", theirs.pk)).status_code in (302, 404)


def test_inlines_of_unscoped_models_are_left_out(regulator, world):
    agency = regulator.get(url(Agency, "change", world.shanghai.agency.pk))
    assert [i.opts.model for i in agency.context["inline_admin_formsets"]] == []  # filing history
    enterprise = regulator.get(url(Enterprise, "change", world.shanghai.enterprise.pk))
    outlets = [form.original for i in enterprise.context["inline_admin_formsets"] for form in i]
    assert {o.pk for o in outlets} == {world.shanghai.wastewater.pk, world.shanghai.gas.pk}


def test_nothing_is_added_changed_or_deleted(regulator, world):
    mine = world.shanghai.agency
    for model, (obj, _) in pairs(world).items():
        assert regulator.get(url(model, "add")).status_code == 403, model
        assert regulator.get(url(model, "delete", obj.pk)).status_code == 403, model
        assert regulator.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, model

    response = regulator.post(url(Agency, "change", mine.pk), {"name": "改名机构"})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.name != "改名机构"

    regulator.post(
        url(Agency, "changelist"), {"action": "delete_selected", "_selected_action": [mine.pk], "post": "yes"}
    )
    assert Agency.objects.filter(pk=mine.pk).exists()


def test_autocomplete_stays_in_the_region(regulator, world):
    def search(term, model_name="outlet", field_name="enterprise"):
        return regulator.get(
            reverse("admin:autocomplete"),
            {"term": term, "app_label": "registry", "model_name": model_name, "field_name": field_name},
        )

    mine = search(world.shanghai.enterprise.name)
    assert [r["id"] for r in mine.json()["results"]] == [str(world.shanghai.enterprise.pk)]
    assert search(world.jiangsu.enterprise.name).json()["results"] == []
    agencies = search(world.jiangsu.agency.name, "contract", "agency")
    assert agencies.json()["results"] == []
    # People have no scope: not searched at all.
    assert search(world.jiangsu.sampler.person.name, "employment", "person").status_code == 403


def test_a_regulator_signs_in_with_the_admin_form(world):
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": world.shanghai.regulator.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("role", ["agency_main", "agency_manager", "agency_field", "enterprise"])
def test_other_roles_stay_out(world, role):
    user = world.shanghai.users[role]
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    assert client.get(url(Agency, "changelist")).status_code == 302

    signed_in = Client().post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 200  # the form refuses: not a staff account


def test_an_inactive_regulator_stays_out(world):
    regulator = world.shanghai.regulator
    regulator.is_active = False
    regulator.save(update_fields=["is_active"])
    client = Client()
    client.force_login(regulator)
    assert client.get(reverse("admin:index")).status_code == 302


def test_platform_admins_still_see_everything(world):
    client = Client()
    client.force_login(world.platform)
    response = client.get(url(Agency, "changelist"))
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert {world.shanghai.agency.pk, world.jiangsu.agency.pk} <= listed
    assert client.get(reverse("admin:registry_person_changelist")).status_code == 200
