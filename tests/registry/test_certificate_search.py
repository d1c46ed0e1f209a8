"""持证查询 (seed 000 §信息查询; issue 23): a regulator finds its region's certificate holders by name,
whole ID number (in the body, compared by its blind index, never echoed whole) and post category;
an agency its own staff; nobody another region's. Exported as CSV or XLSX; a page is a constant
number of queries."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from server.registry.identifiers import mask_resident_id
from server.registry.models import Certificate
from server.registry.services import certificate_add, staff_depart
from tests.factories import hire

pytestmark = pytest.mark.django_db
API = "/api/v1/certificates"


def numbers(body) -> set[str]:
    return {row["number"] for row in body["results"]}


def own_numbers(side) -> set[str]:
    return set(
        Certificate.objects.filter(person__employments__agency=side.agency).values_list("number", flat=True)
    )


def test_a_regulator_finds_its_regions_holders_and_none_of_another_region(world, client_for):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    body = client_for(shanghai.regulator).get(API).json()
    assert numbers(body) == own_numbers(shanghai)
    assert len(own_numbers(shanghai)) == 3
    assert not numbers(body) & own_numbers(jiangsu)
    row = next(r for r in body["results"] if r["holder"]["name"] == shanghai.sampler.person.name)
    assert row["holder"]["id_number"] == mask_resident_id(shanghai.sampler.person.id_number)
    assert row["post"] == {"code": "sampler", "name": "采样"} or row["post"]["code"] == "sampler"
    assert row["agency"]["id"] == shanghai.agency.pk
    assert row["agency"]["name"] == shanghai.agency.name
    assert row["agency"]["region_name"] == "上海市徐汇区"
    assert (row["state"], row["state_label"]) == ("valid", "有效")


def test_by_post_category_and_by_name(world, client_for):
    side = world.shanghai
    client = client_for(side.regulator)
    sampler_cert = Certificate.objects.get(person=side.sampler.person)
    body = client.get(API, {"post": "sampler"}).json()
    assert numbers(body) == {sampler_cert.number}
    body = client.get(API, {"name": side.sampler.person.name[-2:]}).json()
    assert sampler_cert.number in numbers(body)
    unknown = client.get(API, {"post": "astronaut"})
    assert unknown.status_code == 400
    assert "post" in unknown.json()["details"]


def test_by_a_whole_id_number_in_the_body_only(world, client_for):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    client = client_for(shanghai.regulator)
    found = client.post(f"{API}/search", {"id_number": shanghai.sampler.person.id_number}, format="json")
    assert found.status_code == 200
    assert numbers(found.json()) == {Certificate.objects.get(person=shanghai.sampler.person).number}
    assert shanghai.sampler.person.id_number not in found.content.decode()
    # Another region's holder is not found, as one that does not exist.
    other = client.post(f"{API}/search", {"id_number": jiangsu.sampler.person.id_number}, format="json")
    assert other.json()["count"] == 0
    in_url = client.get(API, {"id_number": shanghai.sampler.person.id_number})
    assert in_url.status_code == 400
    assert "id_number" in in_url.json()["details"]
    bad = client.post(f"{API}/search", {"id_number": "310104199001011234"}, format="json")
    assert bad.status_code == 400


def test_validity_is_valid_expiring_or_expired(world, client_for):
    side = world.shanghai
    today = timezone.localdate()
    person = side.sampler.person
    certificate_add(
        person=person,
        post_code="lab_analyst",
        number="OLD-2019-1",
        valid_from=today - dt.timedelta(days=2000),
        valid_until=today - dt.timedelta(days=1),
    )
    certificate_add(
        person=person,
        post_code="om_technician",
        number="SOON-2026-1",
        valid_from=today - dt.timedelta(days=300),
        valid_until=today + dt.timedelta(days=20),
    )
    client = client_for(side.regulator)
    states = {r["number"]: (r["state"], r["state_label"]) for r in client.get(API).json()["results"]}
    assert states["OLD-2019-1"] == ("expired", "已过期")
    assert states["SOON-2026-1"] == ("expiring", "即将到期")
    assert numbers(client.get(API, {"state": "expired"}).json()) == {"OLD-2019-1"}
    assert numbers(client.get(API, {"state": "expiring"}).json()) == {"SOON-2026-1"}


def test_an_agency_searches_its_own_staff_only(world, client_for):
    side = world.shanghai
    client = client_for(side.manager)
    assert numbers(client.get(API).json()) == own_numbers(side)
    other = client.post(f"{API}/search", {"id_number": world.jiangsu.sampler.person.id_number}, format="json")
    assert other.json()["count"] == 0
    by_agency = client.get(API, {"agency": world.jiangsu.agency.pk})
    assert by_agency.status_code == 400
    for user in (side.field_user, side.reviewer, side.enterprise_user):
        assert client_for(user).get(API).status_code == 403


def test_a_regulators_agency_filter_names_only_its_regions_agencies(world, client_for):
    client = client_for(world.shanghai.regulator)
    own = client.get(API, {"agency": world.shanghai.agency.pk})
    assert numbers(own.json()) == own_numbers(world.shanghai)
    other = client.get(API, {"agency": world.jiangsu.agency.pk})
    assert other.status_code == 400  # as one that does not exist: nothing leaks
    assert "agency" in other.json()["details"]


def test_a_departed_holder_leaves_the_regulators_search_and_the_platform_sees_no_agency(world, client_for):
    side = world.shanghai
    staff_depart(employment=side.sampler, departed_on=timezone.localdate())
    number = Certificate.objects.get(person=side.sampler.person).number
    assert number not in numbers(client_for(side.regulator).get(API).json())
    rows = client_for(world.platform).get(API, {"page_size": 200}).json()["results"]
    row = next(r for r in rows if r["number"] == number)
    assert row["agency"] is None
    assert own_numbers(world.jiangsu) <= {r["number"] for r in rows}


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(API).status_code == 200
    return len(captured)


def test_a_page_is_a_constant_number_of_queries(world, client_for):
    side = world.shanghai
    client = client_for(side.regulator)
    few = _queries(client)
    for _ in range(6):
        hire(side.agency, ["sampler", "lab_analyst"])
    assert client.get(API).json()["count"] == 3 + 12
    assert _queries(client) == few


def test_the_export_is_what_the_filters_select_with_names_and_masked_numbers(world, client_for):
    side = world.shanghai
    client = client_for(side.regulator)
    response = client.get(f"{API}/export", {"format": "csv", "post": "sampler"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["姓名", "身份证号（脱敏）", "岗位类别", "证书编号"]
    assert len(rows) == 2
    person = side.sampler.person
    assert rows[1][0] == person.name
    assert rows[1][1] == mask_resident_id(person.id_number)
    assert rows[1][3] == Certificate.objects.get(person=person).number
    assert rows[1][7] == "有效"
    assert rows[1][8] == side.agency.name
    assert rows[1][9] == "上海市徐汇区"
    assert person.id_number not in text
    book = client.get(f"{API}/export", {"format": "xlsx"})
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 1 + 3
    assert {v[3] for v in values[1:]} == own_numbers(side)
    assert all(v[9] == "上海市徐汇区" for v in values[1:])
