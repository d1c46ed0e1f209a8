"""om 0007 (issue F13): a database whose forms were loaded before 实际水样比对 version 2 existed gets
version 2 beside version 1 (records keep the version they were filled with) and the HJ 355 limit sets
as corrected, by migrating; a database that has them already is left as it is."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from server.om.forms_load import limit_sets
from server.om.models import FormTemplate, LimitSet

BEFORE = ("om", "0006_plan_templates_and_changes")
CODE = "ww_real_sample_comparison"


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target if target is not None else executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_loads_the_second_comparison_form_and_the_corrected_limits():
    current = FormTemplate.objects.get(code=CODE, version=2)
    spec = next(s for s in limit_sets() if s["id"] == "hj355_real_sample_cod")
    _migrate([BEFORE])
    try:
        # As an older database holds them: version 1 only, the COD limits as they were.
        FormTemplate.objects.filter(pk=current.pk).delete()
        FormTemplate.objects.create(
            code=CODE, version=1, outlet_kind="wastewater", name=current.name, definition={"version": 1}
        )
        LimitSet.objects.filter(key=spec["id"]).update(definition={"bands": [], "band_on": "lab"})
    finally:
        _migrate(None)
    assert sorted(FormTemplate.objects.filter(code=CODE).values_list("version", flat=True)) == [1, 2]
    assert FormTemplate.objects.get(code=CODE, version=2).definition == current.definition
    assert LimitSet.objects.get(key=spec["id"]).definition["bands"] == spec["bands"]
    # Nothing left to load: migrating again changes nothing.
    before = list(FormTemplate.objects.order_by("pk").values_list("pk", "code", "version"))
    _migrate([BEFORE])
    _migrate(None)
    assert list(FormTemplate.objects.order_by("pk").values_list("pk", "code", "version")) == before
