"""om 0006 (issue F13): a plan stored before plans named their forms keeps the one it named, and a
plan that named none ("any form counts") gets every form of its task's kind, so that nothing it
showed as done turns overdue. And back: a plan of one form names it again, of several names none."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from server.om.models import FormTemplate, OmPlan

BEFORE = ("om", "0005_chinese_labels")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_plans_get_their_form_or_every_form_of_their_kind(world):
    task = world.shanghai.om_task
    named = OmPlan.objects.create(
        task=task,
        title="季度校准",
        frequency="quarterly",
        window_start=task.starts_on,
        window_end=task.ends_on,
        template_codes=["ww_standard_check_calibration"],
    )
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state(BEFORE).apps.get_model("om", "OmPlan")
    try:
        old.objects.filter(pk=named.pk).update(template_code="ww_standard_check_calibration")
        anything = old.objects.create(
            task_id=task.pk,
            title="巡检（任何表单）",
            frequency="daily",
            window_start=task.starts_on,
            window_end=task.ends_on,
            template_code="",
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    wastewater = set(FormTemplate.objects.filter(outlet_kind="wastewater").values_list("code", flat=True))
    assert OmPlan.objects.get(pk=named.pk).template_codes == ["ww_standard_check_calibration"]
    migrated = OmPlan.objects.get(pk=anything.pk).template_codes
    assert set(migrated) == wastewater
    assert len(migrated) == len(wastewater)
    assert not any(code.startswith("gas_") for code in migrated)
