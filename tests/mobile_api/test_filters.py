"""List filters on ids (F9 item 9): an id past 64 bits was a 500 on twelve filters (SQLite cannot bind
it); now every id a query string names is a 400 validation_failed naming the parameter, as an id in
a body is (server/fields.py IdField). And OPTIONS on /om-tasks/{id}/reports was a 500 for anyone."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters import filters as django_filters

from mobile_api.common import FilterSet, IdFilter
from server.fields import MAX_ID
from server.om.models import OmTask
from tests.support.side_objects import om_record_of, task_of, with_side_objects

pytestmark = pytest.mark.django_db

PAST_64_BITS = "99999999999999999999"
# (who asks, path, parameter): every list filter that takes an id.
ID_FILTERS = [
    ("main", "/api/v1/tasks", "agency"),
    ("main", "/api/v1/tasks", "enterprise"),
    ("main", "/api/v1/tasks/export", "agency"),
    ("main", "/api/v1/tasks/export", "enterprise"),
    ("main", "/api/v1/audit", "actor"),
    ("main", "/api/v1/instruments", "enterprise"),
    ("main", "/api/v1/om-tasks", "enterprise"),
    ("main", "/api/v1/violations", "project"),
    ("main", "/api/v1/violations", "om_task"),
    ("main", "/api/v1/rectifications", "project"),
    ("main", "/api/v1/rectifications", "om_task"),
    ("main", "/api/v1/rectifications", "violation"),
    ("main", "/api/v1/checkins", "om_task"),
    ("main", "/api/v1/checkins", "outlet"),
    ("main", "/api/v1/projects", "enterprise"),
    ("main", "/api/v1/om/records", "task"),
    ("main", "/api/v1/outlets", "enterprise"),
    ("regulator", "/api/v1/tasks", "agency"),
]


@pytest.mark.parametrize(("role", "path", "parameter"), ID_FILTERS)
@pytest.mark.parametrize("value", [PAST_64_BITS, str(MAX_ID + 1), "0", "-3", "1e300", "1.5"])
def test_an_id_filter_refuses_what_no_row_can_have(world, client_for, role, path, parameter, value):
    answer = client_for(getattr(world.shanghai, role)).get(path, {parameter: value})

    assert answer.status_code == 400, (path, parameter, answer.content[:300])
    body = answer.json()
    assert body["code"] == "validation_failed"
    assert list(body["details"]) == [parameter]  # the parameter at fault is named


def test_an_id_filter_still_filters(world, client_for):
    with_side_objects(world)
    side = world.shanghai
    main = client_for(side.main)

    mine = main.get("/api/v1/tasks", {"agency": side.agency.pk})
    largest = main.get("/api/v1/tasks", {"agency": MAX_ID})

    assert mine.status_code == largest.status_code == 200
    assert mine.json()["count"] > 0
    assert largest.json()["count"] == 0


@pytest.mark.parametrize(
    ("path", "parameter", "foreign"),
    [
        ("/api/v1/checkins", "om_task", lambda side: om_record_of(side).task_id),
        ("/api/v1/om/records", "task", lambda side: om_record_of(side).task_id),
        ("/api/v1/projects", "enterprise", lambda side: side.enterprise.pk),
        ("/api/v1/outlets", "enterprise", lambda side: side.enterprise.pk),
        ("/api/v1/photos", "task", lambda side: str(task_of(side).pk)),
    ],
)
def test_another_tenants_id_answers_as_an_id_that_names_nothing(world, client_for, path, parameter, foreign):
    """Filtered on an object of the other side, a list answers exactly as for one that does not
    exist. These filters were ModelChoiceFilters, whose 400 'not a valid choice' for a missing id
    and 200 for a foreign one told that the foreign object existed."""
    with_side_objects(world)
    main = client_for(world.shanghai.main)
    nobody = str(uuid.uuid4()) if parameter == "task" and path.endswith("photos") else MAX_ID

    theirs = main.get(path, {parameter: foreign(world.jiangsu)})
    nothing = main.get(path, {parameter: nobody})

    assert theirs.status_code == nothing.status_code == 200, (theirs.content[:300], nothing.content[:300])
    assert theirs.json() == nothing.json()
    assert theirs.json()["count"] == 0


def _filtersets():
    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                view = getattr(entry.callback, "cls", None)
                filterset = getattr(view, "filterset_class", None)
                if filterset is not None:
                    yield filterset

    return sorted(set(walk(get_resolver().url_patterns)), key=lambda f: f.__name__)


@pytest.mark.parametrize("filterset", _filtersets(), ids=lambda f: f.__name__)
def test_every_filter_on_an_id_is_an_id_filter(filterset):
    """No filter can forget the bound: a number is an IdFilter, a relation is never a
    ModelChoiceFilter (whose answer tells whether another tenant's object exists)."""
    assert issubclass(filterset, FilterSet), filterset
    for name, field in filterset.base_filters.items():
        assert not isinstance(field, django_filters.QuerySetRequestMixin), (filterset, name)
        if isinstance(field, django_filters.NumberFilter):
            assert isinstance(field, IdFilter), (filterset, name)


@pytest.mark.parametrize("role", ["main", "field_user", "enterprise_user", "regulator"])
def test_options_on_an_om_tasks_reports(world, client_for, role):
    task = OmTask.objects.filter(agency=world.shanghai.agency).first()

    answer = client_for(getattr(world.shanghai, role)).options(f"/api/v1/om-tasks/{task.pk}/reports")

    assert answer.status_code == 200, answer.content[:300]
    assert answer["Allow"] == "GET, POST, HEAD, OPTIONS"
    body = answer.json()
    assert body["name"] == "Report List"
    if "actions" in body:  # described to those who may upload
        assert {"name", "category", "file"} <= set(body["actions"]["POST"])
