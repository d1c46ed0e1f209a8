"""The back office shows violations, their history and rectifications; it never writes them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from server.violations.models import Rectification, Violation, ViolationEvent
from server.violations.services import rectification_review, rectification_submit, violation_open
from tests.violations.helpers import in_days

pytestmark = pytest.mark.django_db
MODELS = (Violation, ViolationEvent, Rectification)


def url(model, page: str, *args) -> str:
    return reverse(f"admin:violations_{model._meta.model_name}_{page}", args=args)


def make_violations(side, count: int) -> None:
    for n in range(count):
        violation = violation_open(
            project=side.project, actor=side.regulator, description=f"违规{n}", deadline=in_days(3)
        )
        rectification_submit(violation=violation, actor=side.main, text=f"整改{n}")
        rectification_review(violation=violation, actor=side.regulator, accept=False, reason="不合格")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_pages_render_and_nothing_is_added_here(admin_client, world, model):
    make_violations(world.shanghai, 1)
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "add")).status_code == 403
    obj = model.objects.first()
    change = admin_client.get(url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["adminform"].form.fields == {}  # read-only


def test_overdue_column_and_filter(admin_client, world):
    make_violations(world.shanghai, 2)
    late = Violation.objects.order_by("id").first()
    Violation.objects.filter(pk=late.pk).update(deadline=in_days(-1))
    overdue = admin_client.get(url(Violation, "changelist"), {"overdue": "1"})
    assert [v.pk for v in overdue.context["cl"].result_list] == [late.pk]
    in_time = admin_client.get(url(Violation, "changelist"), {"overdue": "0"})
    assert late.pk not in [v.pk for v in in_time.context["cl"].result_list]
    found = admin_client.get(url(Violation, "changelist"), {"q": world.shanghai.project.number})
    assert found.context["cl"].result_count == 2


def test_list_pages_run_a_bounded_number_of_queries(admin_client, world):
    def counts() -> list[int]:
        result = []
        for model in MODELS:
            with CaptureQueriesContext(connection) as ctx:
                assert admin_client.get(url(model, "changelist")).status_code == 200
            result.append(len(ctx.captured_queries))
        return result

    make_violations(world.shanghai, 1)
    counts()  # the session's first request
    few = counts()
    make_violations(world.shanghai, 4)
    make_violations(world.jiangsu, 3)
    assert counts() == few
    assert max(few) <= 10
