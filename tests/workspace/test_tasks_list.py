"""监测任务 (/tasks/): the monitoring tasks a user sees, filtered by the API's own GET /tasks filters,
20 a page in a stable order, exported through GET /tasks/export with the same filters and scope."""

from __future__ import annotations

import io
import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from server.fieldwork.services import task_create
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text


def test_each_side_lists_its_own_tasks_and_the_regulator_its_regions(busy):
    own, other = busy.world.shanghai, busy.world.jiangsu
    mine, theirs = busy.scenes["shanghai"].task, busy.scenes["jiangsu"].task
    for user in (own.main, own.field_user, own.regulator):
        text = visible_text(signed_in(user).get("/tasks/"))
        assert mine.name in text
        assert theirs.name not in text
        assert other.agency.name not in text
    assert signed_in(own.enterprise_user).get("/tasks/").status_code == 404


def test_the_filters_are_the_apis_and_a_wrong_one_is_said_in_place(busy):
    side = busy.world.shanghai
    task = busy.scenes["shanghai"].task
    client = signed_in(side.main)
    assert task.name in visible_text(client.get("/tasks/", {"state": "running", "search": task.name[:4]}))
    assert task.name not in visible_text(client.get("/tasks/", {"state": "finished"}))
    assert task.name not in visible_text(client.get("/tasks/", {"search": "没有这个名字"}))
    response = client.get("/tasks/", {"since": "2026-12-01", "until": "2026-11-01"})
    assert response.status_code == 200
    text = visible_text(response)
    assert "结束日期早于开始日期" in text
    assert task.name not in text  # a wrong filter lists nothing
    others = busy.world.jiangsu.project.pk
    response = client.get("/tasks/", {"project": others})
    assert "请选择列表中的项目" in visible_text(response)


def test_pages_are_stable_and_the_export_gives_what_is_filtered(busy):
    side = busy.world.shanghai
    for n in range(24):
        task_create(
            actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name=f"批量任务{n:02d}"
        )
    client = signed_in(side.main)
    first = visible_text(client.get("/tasks/", {"search": "批量"}))
    second = visible_text(client.get("/tasks/", {"search": "批量", "page": 2}))
    names = [f"批量任务{n:02d}" for n in range(24)]
    on_first = {n for n in names if n in first}
    on_second = {n for n in names if n in second}
    assert len(on_first) == 20
    assert on_first.isdisjoint(on_second)
    assert on_first | on_second == set(names)
    page = client.get("/tasks/", {"search": "批量"}).content.decode()
    start = page.index("/api/v1/tasks/export?")
    link = page[start : page.index('"', start)].replace("&amp;", "&")
    assert "search=" in link
    assert "format=xlsx" in link
    exported = client.get(link)
    assert exported.status_code == 200
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 24


def test_a_page_is_a_bounded_number_of_queries(busy):
    side = busy.world.shanghai
    client = signed_in(side.main)
    client.get("/tasks/")
    with CaptureQueriesContext(connection) as few:
        client.get("/tasks/")
    for n in range(15):
        task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name=f"任务{n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/tasks/")
    assert len(many) == len(few)
