"""GET /om/records/export carries what was answered and what was judged (issue 23, seed 003 表单详情):
each answer by its item's label (never a JSON key), each computed value with its limit, 合格/不合格,
待核实 and the standard's clause; CSV as one table, the workbook with a sheet of answers and one of
judgements besides. Same scope as the list, and the same queries for one record or many."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.regulator.helpers import API
from tests.workspace.om_scene import om_day

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def content(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(client, **params) -> list[dict[str, str]]:
    response = client.get(f"{API}/om/records/export", {"format": "csv", **params})
    return list(csv.DictReader(io.StringIO(content(response).decode("utf-8-sig"))))


def workbook(client, **params):
    response = client.get(f"{API}/om/records/export", {"format": "xlsx", **params})
    book = load_workbook(io.BytesIO(content(response)))
    return {
        sheet.title: [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
        for sheet in book.worksheets
        for rows in [list(sheet.iter_rows(values_only=True))]
    }


def failing(record) -> dict:
    return next(j for j in record.judgements if j["passed"] is False)


def test_the_csv_says_each_judgement_and_each_answer_in_words(world, client_for):
    side = world.shanghai
    day = om_day(side)
    j = failing(day.calibration)
    rows = {r["记录ID"]: r for r in csv_rows(client_for(side.main))}
    calibration, inspection = rows[str(day.calibration.pk)], rows[str(day.inspection.pk)]

    assert calibration["不合格判定数"] == "1"
    lines = calibration["计算判定"].split("\n")
    assert len(lines) == len(day.calibration.judgements)
    flag = "（待核实）" if j["provisional"] else ""
    limit = f"±{j['limit'] * 100:g}%"
    instrument = f"{side.instrument.display_name} {side.instrument.model}（{side.instrument.serial_number}）"
    expected = f"{instrument} {j['label']} 20%，限值 {limit}，不合格{flag}，依据：{j['source']}"
    assert expected in lines
    assert any("，合格" in line for line in lines)  # the others pass, and say so

    assert inspection["不合格判定数"] == "0"
    answers = inspection["填报内容"]
    assert "【日检查维护：系统与站房】" in answers
    assert "检查站房温湿度、供电、照明及安全设施：不正常（站房漏雨）" in answers
    assert "标准样品测定值：12 mg/L" in calibration["填报内容"]
    for key in ("station_environment", "std_measured", "check_cod", '"status"', "{"):
        assert key not in answers + calibration["填报内容"], key


def test_the_workbook_has_a_row_per_answer_and_per_judgement(world, client_for):
    side = world.shanghai
    day = om_day(side)
    j = failing(day.calibration)
    sheets = workbook(client_for(side.main))
    assert list(sheets) == ["运维记录", "填报内容", "计算判定"]
    assert {r["记录ID"] for r in sheets["运维记录"]} == {str(r.pk) for r in day.records}

    judged = [r for r in sheets["计算判定"] if r["记录ID"] == str(day.calibration.pk)]
    assert len(judged) == len(day.calibration.judgements)
    (row,) = [r for r in judged if r["判定"] == "不合格"]
    assert row["计算项"] == j["label"]
    assert row["仪器"].startswith(side.instrument.display_name)
    assert row["计算值"] == "20%"
    assert row["限值"] == f"±{j['limit'] * 100:g}%"
    assert row["依据条款"] == j["source"]
    assert (row["待核实"] == "待核实") is j["provisional"]
    assert row["章节"] == "化学需氧量（CODCr） 标样核查及校准"

    (answer,) = [
        r
        for r in sheets["填报内容"]
        if r["记录ID"] == str(day.inspection.pk) and r["检查项目"] == "检查站房温湿度、供电、照明及安全设施"
    ]
    assert answer["填报内容"] == "不正常（站房漏雨）"
    assert answer["检查维护频次"] == "日检查维护"


def test_another_side_exports_none_of_it(world, client_for):
    om_day(world.shanghai)
    for user in (world.jiangsu.main, world.jiangsu.enterprise_user, world.jiangsu.regulator):
        assert csv_rows(client_for(user)) == []
        sheets = workbook(client_for(user))
        assert all(rows == [] for rows in sheets.values())
    assert len(csv_rows(client_for(world.shanghai.regulator))) == 2


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_export_reads_the_same_queries_for_one_day_or_three(world, client_for, file_format):
    side = world.shanghai
    client = client_for(side.main)
    url = f"{API}/om/records/export"
    om_day(side, days_ago=1, seed=1)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            content(client.get(url, {"format": file_format}))
        return len(ctx.captured_queries)

    one = count()
    om_day(side, days_ago=2, seed=2)
    om_day(side, days_ago=3, seed=3)
    assert count() == one
