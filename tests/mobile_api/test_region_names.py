"""Issue 23: a person reads region names, not codes. Every answer that gives a region code gives its
name beside it (310104 → 上海市徐汇区); the statistics group by the code and label by the name; the
regulator's pages show the name and never the bare code."""

import re

import pytest

from server.violations.models import Violation
from tests.support.side_objects import violation_of
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text

pytestmark = pytest.mark.django_db
XUHUI = "上海市徐汇区"


def bare_code(text: str, code: str = "310104") -> bool:
    """The code alone, not inside a longer number (a credit code) nor in brackets after its name
    (上海市徐汇区（310104）, the filing's page)."""
    return re.search(rf"(?<![0-9A-Za-z（(]){code}(?![0-9A-Za-z）)])", text) is not None


def test_agencies_and_enterprises_name_their_region(world, client_for):
    side = world.shanghai
    client = client_for(side.regulator)
    agency = client.get(f"/api/v1/agencies/{side.agency.pk}").json()
    assert (agency["region_code"], agency["region_name"]) == ("310104", XUHUI)
    enterprise = client.get(f"/api/v1/enterprises/{side.enterprise.pk}").json()
    assert enterprise["region_name"].startswith("上海市")
    assert enterprise["pending_region_name"] == ""


def test_violations_name_their_region(world, client_for):
    side = world.shanghai
    violation = violation_of(side)
    assert isinstance(violation, Violation)
    row = client_for(side.regulator).get(f"/api/v1/violations/{violation.pk}").json()
    assert row["region_name"].startswith("上海市")
    assert row["region_code"] != row["region_name"]


def test_the_statistics_label_regions_by_name(world, client_for):
    side = world.shanghai
    body = client_for(side.regulator).get("/api/v1/statistics", {"by": "region"}).json()
    groups = body["measures"]["projects"]["groups"]
    assert groups, body
    by_key = {g["key"]: g["label"] for g in groups}
    assert by_key[side.project.region_code].startswith("上海市")
    assert all(g["label"] != g["key"] for g in groups)


def test_audit_entries_name_their_region(world, client_for):
    side = world.shanghai
    violation_of(side)  # writes audit entries in the region
    rows = client_for(side.regulator).get("/api/v1/audit").json()["results"]
    named = [r for r in rows if r["region_code"]]
    assert named
    assert all(r["region_name"].startswith("上海市") for r in named)


def test_the_regulators_pages_show_names_not_bare_codes(world):
    side = world.shanghai
    client = signed_in(side.regulator)
    for path in (
        "/regulator/",
        "/regulator/filings/",
        f"/regulator/filings/{side.agency.pk}/",
        "/certificates/",
    ):
        text = visible_text(client.get(path))
        assert not bare_code(text), path
    assert XUHUI in visible_text(client.get(f"/regulator/filings/{side.agency.pk}/"))
    assert XUHUI in visible_text(client.get("/certificates/"))


def test_the_statistics_export_names_each_region_with_its_code_beside(world, client_for):
    import csv
    import io

    side = world.shanghai
    client = client_for(side.regulator)
    response = client.get("/api/v1/statistics/export", {"by": "region", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["地区", "行政区划代码", "监测项目"]
    by_code = {row[1]: row for row in rows[1:-1]}
    region = side.project.region_code
    assert by_code[region][0].startswith("上海市")
    assert by_code[region][0] != region
    counts = client.get("/api/v1/statistics", {"by": "region"}).json()["measures"]
    assert rows[-1][0] == "合计"
    assert int(rows[-1][2]) == counts["projects"]["total"]
    assert not any(row[1].startswith("32") for row in rows[1:])  # Jiangsu is not the regulator's
    assert client_for(side.field_user).get("/api/v1/statistics/export").status_code == 403


def test_projects_and_their_export_name_the_region(world, client_for):
    import csv
    import io

    side = world.shanghai
    client = client_for(side.main)
    project = client.get(f"/api/v1/projects/{side.project.pk}").json()
    assert project["region_name"].startswith("上海市")
    response = client.get("/api/v1/projects/export", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    column = rows[0].index("项目区域")
    assert rows[1][column] == project["region_name"]
    assert not bare_code(rows[1][column], side.project.region_code)


def test_the_regulators_home_links_the_statistics_export_by_region(world):
    import io

    from openpyxl import load_workbook

    client = signed_in(world.shanghai.regulator)
    page = client.get("/regulator/").content.decode()
    assert "/api/v1/statistics/export?by=region&amp;format=xlsx" in page
    book = client.get("/api/v1/statistics/export", {"by": "region", "format": "xlsx"})
    assert book.status_code == 200
    rows = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("地区", "行政区划代码")
    assert all(str(row[0]).startswith("上海市") for row in rows[1:-1])
    assert rows[-1][0] == "合计"


def test_the_public_agency_lookup_names_the_region(world, api):
    rows = api.get("/api/v1/public/agencies", {"name": world.shanghai.agency.name}).json()["results"]
    assert rows
    assert rows[0]["region_name"] == XUHUI
