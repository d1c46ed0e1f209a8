"""持证查询 in the workspace (seed 000; issue 23): the regulator's search of its region's certificate
holders by post and name, a whole ID number posted (never in the address), masked numbers, the
holder's agency and its region by name; the export follows the filters."""

import csv
import io

import pytest

from server.registry.identifiers import mask_resident_id
from server.registry.models import Certificate
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text

pytestmark = pytest.mark.django_db


def test_the_regulator_searches_by_post_and_sees_masked_numbers_and_region_names(world):
    shanghai, jiangsu = world.shanghai, world.jiangsu
    client = signed_in(shanghai.regulator)
    page = client.get("/certificates/", {"post": "sampler"})
    assert page.status_code == 200
    text = visible_text(page)
    person = shanghai.sampler.person
    assert person.name in text
    assert mask_resident_id(person.id_number) in text
    assert person.id_number not in page.content.decode()
    assert Certificate.objects.get(person=person).number in text
    assert shanghai.agency.name in text
    assert "上海市徐汇区" in text
    assert "有效" in text
    everything = visible_text(client.get("/certificates/"))
    assert jiangsu.sampler.person.name not in everything
    assert "共 3 张" in everything


def test_a_whole_id_number_is_posted_and_never_echoed(world):
    side = world.shanghai
    client = signed_in(side.regulator)
    number = side.sampler.person.id_number
    response = client.post("/certificates/", {"id_number": number})
    assert response.status_code == 200
    text = visible_text(response)
    assert "共 1 张" in text
    assert mask_resident_id(number) in text
    assert number not in response.content.decode()
    other = client.post("/certificates/", {"id_number": world.jiangsu.sampler.person.id_number})
    assert "没有符合条件的证书" in visible_text(other)
    in_address = client.get("/certificates/", {"id_number": number, "post": "sampler"})
    assert in_address.status_code == 302
    assert number not in in_address["Location"]


def test_the_export_follows_the_filters(world):
    side = world.shanghai
    response = signed_in(side.regulator).get("/certificates/export", {"post": "sampler", "format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert rows[1][1] == mask_resident_id(side.sampler.person.id_number)
    assert rows[1][9] == "上海市徐汇区"


def test_an_agency_sees_its_own_staffs_certificates(world):
    side = world.shanghai
    text = visible_text(signed_in(side.main).get("/certificates/"))
    assert side.sampler.person.name in text
    assert world.jiangsu.sampler.person.name not in text
    assert "持证查询" in text
