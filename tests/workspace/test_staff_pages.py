"""The staff pages (监测人员) with Django's test client: the list (scope per role, filters, the ID
number posted and never shown whole, stable pages, htmx, export of what is filtered, query counts),
adding a person through ``staff_hire`` (its refusals beside the field, typed values kept, another
agency never named), a person's page (masked ID number, certificates, records at this agency only)
and its actions (edit, certificate, depart), the Excel import (template, all-or-nothing report per
row), who reaches what, CSRF and English."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from server.registry.excel import STAFF_COLUMNS
from server.registry.identifiers import mask_resident_id
from server.registry.models import Certificate, Employment, Person
from server.registry.services import certificate_add, staff_depart, staff_hire
from tests.factories import build_world, certificate, resident_id
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import machine_words, visible_text

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world(db):
    return build_world()


def new_person(side, name: str, posts=(), **fields) -> Employment:
    return staff_hire(
        agency=side.agency,
        id_number=fields.pop("id_number", None) or resident_id(),
        name=name,
        education=fields.pop("education", Employment.Education.BACHELOR),
        hired_on=fields.pop("hired_on", timezone.localdate() - dt.timedelta(days=60)),
        posts=list(posts),
        **fields,
    )


def names(response) -> str:
    return visible_text(response)


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in STAFF_COLUMNS])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def staff_row(name: str, id_number: str, **cells) -> list:
    values = {
        "name": name,
        "id_number": id_number,
        "phone": "13800138000",
        "education": "本科",
        "major": "环境工程",
        "title": "中级",
        "position": "",
        "relation": "正式员工",
        "posts": "送样人员",
        "hired_on": "2024-03-01",
    } | cells
    return [values[c.field] for c in STAFF_COLUMNS]


def upload(content: bytes, name: str = "人员.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


# --- The list -------------------------------------------------------------------------------------
def test_the_agency_and_its_regulator_see_its_staff_with_masked_ids(world):
    own, other = world.shanghai, world.jiangsu
    for user in (own.main, own.manager, own.regulator):
        response = signed_in(user).get("/staff/")
        assert response.status_code == 200
        text = visible_text(response)
        person = own.sampler.person
        assert person.name in text
        assert mask_resident_id(person.id_number) in text
        assert person.id_number not in response.content.decode()  # never whole
        assert other.sampler.person.name not in text
        assert f'href="/staff/{own.sampler.pk}/"'.encode() in response.content
        assert machine_words(text) == []
    assert "添加人员" in names(signed_in(own.main).get("/staff/"))
    regulator = signed_in(own.regulator).get("/staff/")
    assert "添加人员" not in names(regulator)
    assert own.agency.name in names(regulator)  # the regulator's list names each person's agency


@pytest.mark.parametrize("role", ["agency_reviewer", "agency_field", "enterprise"])
def test_other_roles_find_no_staff_pages(world, role):
    side = world.shanghai
    client = signed_in(side.users[role])
    for url in ("/staff/", f"/staff/{side.sampler.pk}/", "/staff/new/", "/staff/import/", "/staff/export"):
        assert client.get(url).status_code == 404, url


def test_the_navigation_links_the_staff_list_for_admins_and_regulators(world):
    side = world.shanghai
    for user, home in ((side.main, "/agency/"), (side.manager, "/agency/"), (side.regulator, "/regulator/")):
        assert b'href="/staff/"' in signed_in(user).get(home).content
    home = signed_in(side.field_user).get("/agency/")
    assert b'href="/staff/"' not in home.content


def test_the_filters(world):
    side = world.shanghai
    today = timezone.localdate()
    new_person(
        side,
        "过期证书者",
        certificates=[
            certificate(
                "sampler", valid_from=today - dt.timedelta(days=800), valid_until=today - dt.timedelta(days=5)
            )
        ],
        title=Employment.Title.SENIOR,
    )
    soon = new_person(
        side,
        "快到期者",
        ["sampler"],
        certificates=[certificate("sampler", valid_until=today + dt.timedelta(days=30))],
    )
    departed = new_person(side, "已离职者", ["courier"])
    staff_depart(employment=departed, departed_on=today)
    client = signed_in(side.main)

    def listed(**query) -> str:
        return names(client.get("/staff/", query))

    text = listed(status="departed")
    assert "已离职者" in text
    assert side.sampler.person.name not in text
    assert "已离职者" not in listed(status="active")
    text = listed(post="lab_analyst")
    assert "快到期者" not in text
    assert "过期证书者" not in text
    text = listed(certificate="expired")
    assert "过期证书者" in text
    assert "快到期者" not in text
    text = listed(certificate="expiring")
    assert "快到期者" in text
    assert side.sampler.person.name not in text  # a year left
    text = listed(certificate="none")
    assert "已离职者" in text
    assert "快到期者" not in text
    assert "过期证书者" in listed(title="senior")
    assert "过期证书者" not in listed(title="junior")
    assert "快到期者" in listed(q="快到")  # 姓名 fuzzy
    number = Certificate.objects.get(person=soon.person).number
    text = listed(q=number)  # or a certificate's number
    assert "快到期者" in text
    assert "过期证书者" not in text
    gender = soon.person.gender
    assert "快到期者" in listed(gender=gender)
    assert "快到期者" not in listed(gender={"male": "female"}.get(gender, "male"))
    assert "快到期者" in listed(education="bachelor")
    # A choice that is not one: said beside the field, nothing listed.
    response = client.get("/staff/", {"post": "astronaut"})
    assert "请选择列表中的岗位" in names(response)
    assert "没有符合条件的人员" in names(response)


def test_a_regulator_filters_by_agency_of_its_region_only(world):
    side = world.shanghai
    client = signed_in(side.regulator)
    assert side.sampler.person.name in names(client.get("/staff/", {"agency": side.agency.pk}))
    response = client.get("/staff/", {"agency": world.jiangsu.agency.pk})
    assert "请选择列表中的机构" in names(response)
    assert world.jiangsu.sampler.person.name not in names(response)
    assert world.jiangsu.agency.name not in names(response)


def test_an_id_number_is_searched_by_post_and_never_shown_whole(world):
    side = world.shanghai
    person = side.technician.person
    client = signed_in(side.main)
    response = client.post("/staff/", {"id_number": person.id_number.lower()})
    assert response.status_code == 200
    text = names(response)
    assert person.name in text
    assert side.sampler.person.name not in text
    assert "共 1 人" in text
    assert person.id_number not in response.content.decode()  # not even in the search box
    assert f"身份证号 {mask_resident_id(person.id_number)} 的查找结果" in text
    # Someone of another agency is not found by their number.
    other = world.jiangsu.technician.person
    assert "没有符合条件的人员" in names(client.post("/staff/", {"id_number": other.id_number}))
    # A wrong number is said beside the field; nothing listed.
    response = client.post("/staff/", {"id_number": "110105199001010000"})
    assert "居民身份证号码无效" in names(response)
    assert "没有符合条件的人员" in names(response)
    # The other filters still apply, from the address.
    response = client.post("/staff/?status=departed", {"id_number": person.id_number})
    assert "没有符合条件的人员" in names(response)


def test_an_id_number_in_the_address_is_taken_out_and_never_echoed(world):
    side = world.shanghai
    number = side.sampler.person.id_number
    client = signed_in(side.main)
    response = client.get("/staff/", {"id_number": number, "status": "active"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/?status=active"
    page = client.get(response["Location"])
    assert "身份证号不能放在网址中" in names(page)
    assert number not in page.content.decode()


def test_pages_are_stable_and_keep_the_filters(world):
    side = world.shanghai
    for _ in range(24):
        new_person(side, "同名")
    client = signed_in(side.main)

    def ids(number) -> list[str]:
        content = client.get("/staff/", {"q": "同名", "page": number}).content.decode()
        return re.findall(r'<tr id="staff-(\d+)"', content)

    first, second = ids(1), ids(2)
    assert len(first) == 20
    assert len(second) == 4
    assert len(set(first + second)) == 24  # same name: the id orders them, no row skipped or repeated
    assert ids(1) == first
    page_one = client.get("/staff/", {"q": "同名"}).content.decode()
    assert "?q=%E5%90%8C%E5%90%8D&amp;page=2" in page_one


def test_htmx_gets_the_filters_and_results_only(world):
    side = world.shanghai
    response = signed_in(side.main).get("/staff/", {"q": side.sampler.person.name}, HTTP_HX_REQUEST="true")
    content = response.content.decode().lstrip()
    assert content.startswith('<div id="staff-panel">')
    assert "<html" not in content
    assert side.sampler.person.name in visible_text(response)


def test_export_holds_what_is_filtered_with_masked_ids(world):
    side = world.shanghai
    client = signed_in(side.main)
    response = client.get("/staff/export", {"post": "om_technician"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "姓名"
    assert [row[0] for row in rows[1:]] == [side.technician.person.name]
    assert rows[1][1] == mask_resident_id(side.technician.person.id_number)
    # The posted ID number search exports its rows too.
    response = client.post("/staff/export", {"id_number": side.sampler.person.id_number})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [side.sampler.person.name]
    # Another agency's staff are never in it.
    rows = list(
        load_workbook(io.BytesIO(client.get("/staff/export").content)).active.iter_rows(values_only=True)
    )
    assert world.jiangsu.sampler.person.name not in [row[0] for row in rows]


def test_the_list_reads_a_bounded_number_of_queries(world):
    side = world.shanghai
    client = signed_in(side.main)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/staff/").status_code == 200
        return len(queries)

    before = count()
    for n in range(5):
        new_person(side, f"新人{n}", ["sampler"], certificates=[certificate("sampler")])
    assert count() == before
    assert before <= 20


# --- Adding one person ----------------------------------------------------------------------------
def hire_form(**fields) -> dict:
    return {
        "name": "赵敏",
        "id_number": resident_id("310104", "19920315"),
        "phone": "13900001111",
        "education": "postgraduate",
        "major": "环境科学",
        "title": "intermediate",
        "position": "采样组长",
        "relation": "employee",
        "hired_on": "2025-03-01",
        "posts": ["sampler", "courier"],
        "cert_post": "sampler",
        "number": "SH-JC-2025-0001",
        "issuer": "上海市环境科学学会",
        "valid_from": "2025-01-01",
        "valid_until": (timezone.localdate() + dt.timedelta(days=700)).isoformat(),
    } | fields


NO_CERTIFICATE = {"cert_post": "", "number": "", "issuer": "", "valid_from": "", "valid_until": ""}


def test_adding_a_person_stores_them_through_staff_hire(world):
    side = world.shanghai
    client = signed_in(side.manager)
    data = hire_form()
    response = client.post("/staff/new/", data)
    employment = Employment.objects.get(agency=side.agency, person__name="赵敏")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/{employment.pk}/"
    assert employment.person.id_number == data["id_number"]
    assert (employment.education, employment.title, employment.position) == (
        "postgraduate",
        "intermediate",
        "采样组长",
    )
    assert employment.hired_on == dt.date(2025, 3, 1)
    assert sorted(employment.posts.values_list("code", flat=True)) == ["courier", "sampler"]
    assert Certificate.objects.get(person=employment.person).number == "SH-JC-2025-0001"
    page = client.get(response["Location"])
    text = visible_text(page)
    assert "人员已添加" in text
    assert mask_resident_id(data["id_number"]) in text
    assert data["id_number"] not in page.content.decode()


def test_what_the_form_or_the_service_refuses_is_said_beside_the_field(world):
    side = world.shanghai
    client = signed_in(side.main)
    response = client.post(
        "/staff/new/",
        {
            "name": "",
            "id_number": "",
            "education": "",
            "hired_on": "",
            "title": "none",
            "relation": "employee",
        },
    )
    assert response.status_code == 200
    assert names(response).count("该字段是必填项") == 4
    # The service's own checks: the number's check digit, a post without its certificate.
    response = client.post("/staff/new/", hire_form(id_number="310104199203150000"))
    assert "居民身份证号码无效" in names(response)
    assert 'value="赵敏"'.encode() in response.content  # typed values kept
    assert b'value="SH-JC-2025-0001"' in response.content
    response = client.post(
        "/staff/new/",
        hire_form(posts=["sampler"], **NO_CERTIFICATE),
    )
    assert "“采样人员”岗位须持有效能力证书" in names(response)
    # A half-filled certificate is refused by the form.
    response = client.post("/staff/new/", hire_form(number=""))
    assert "填写证书时此项必填" in names(response)
    assert not Person.objects.filter(name="赵敏").exists()  # nothing half-stored


def test_someone_active_elsewhere_is_refused_without_naming_the_agency(world):
    side, other = world.shanghai, world.jiangsu
    person = other.sampler.person
    response = signed_in(side.main).post(
        "/staff/new/",
        hire_form(name=person.name, id_number=person.id_number, posts=["courier"], **NO_CERTIFICATE),
    )
    text = names(response)
    assert "该人员已在其他机构备案在职" in text
    assert other.agency.name not in text
    assert Employment.objects.filter(person=person).count() == 1


# --- A person's page ------------------------------------------------------------------------------
def test_the_person_page_shows_masked_id_posts_and_certificates(world):
    side = world.shanghai
    employment = side.sampler
    response = signed_in(side.main).get(f"/staff/{employment.pk}/")
    assert response.status_code == 200
    text = visible_text(response)
    person = employment.person
    assert mask_resident_id(person.id_number) in text
    assert person.id_number not in response.content.decode()
    for shown in (
        "采样人员",
        "送样人员",
        "本科",
        Certificate.objects.get(person=person).number,
        "有效",
        "在职",
    ):
        assert shown in text, shown
    assert "编辑" in text
    assert "办理离职" in text
    assert machine_words(text.replace(Certificate.objects.get(person=person).number, "")) == []
    # The regulator reads it, without the forms.
    text = names(signed_in(side.regulator).get(f"/staff/{employment.pk}/"))
    assert person.name in text
    assert "办理离职" not in text
    assert "登记证书" not in text


def test_the_history_holds_this_agencys_records_only(world):
    side, other = world.shanghai, world.jiangsu
    moving = new_person(other, "钱进", ["courier"], hired_on=timezone.localdate() - dt.timedelta(days=400))
    staff_depart(employment=moving, departed_on=timezone.localdate() - dt.timedelta(days=100))
    first = new_person(
        side,
        "钱进",
        ["courier"],
        id_number=moving.person.id_number,
        hired_on=timezone.localdate() - dt.timedelta(days=90),
    )
    staff_depart(employment=first, departed_on=timezone.localdate() - dt.timedelta(days=30))
    again = new_person(side, "钱进", ["courier"], id_number=moving.person.id_number)
    response = signed_in(side.main).get(f"/staff/{again.pk}/")
    history = response.content.decode().split('id="history"')[1]
    assert f'href="/staff/{first.pk}/"' in history
    assert f"/staff/{moving.pk}/" not in history
    assert other.agency.name not in visible_text(response)
    assert history.split("</section>")[0].count("<li>") == 2
    # The other agency's record is not found from here.
    assert signed_in(side.main).get(f"/staff/{moving.pk}/").status_code == 404


def test_another_sides_person_is_not_found(world):
    own, other = world.shanghai, world.jiangsu
    for user in (own.main, own.manager, own.regulator):
        client = signed_in(user)
        assert client.get(f"/staff/{other.sampler.pk}/").status_code == 404
        assert client.get("/staff/999999/").status_code == 404
    client = signed_in(own.main)
    for action, data in (
        ("edit", {"education": "college", "title": "none", "relation": "employee"}),
        ("depart", {"departed_on": timezone.localdate().isoformat()}),
        (
            "certificates",
            {
                "cert_post": "sampler",
                "number": "X-1",
                "valid_from": "2025-01-01",
                "valid_until": "2027-01-01",
            },
        ),
    ):
        assert client.post(f"/staff/{other.sampler.pk}/{action}", data).status_code == 404
    other.sampler.refresh_from_db()
    assert other.sampler.status == Employment.Status.ACTIVE
    assert not Certificate.objects.filter(number="X-1").exists()
    # A regulator reads but never writes.
    assert (
        signed_in(own.regulator)
        .post(f"/staff/{own.sampler.pk}/depart", {"departed_on": timezone.localdate().isoformat()})
        .status_code
        == 404
    )


def test_editing_calls_staff_update_and_says_its_refusals(world):
    side = world.shanghai
    employment = side.technician
    client = signed_in(side.main)
    data = {
        "education": "college",
        "major": "仪器仪表",
        "title": "junior",
        "position": "运维组长",
        "relation": "dispatched",
        "posts": ["om_technician", "om_reviewer"],
    }
    response = client.post(f"/staff/{employment.pk}/edit", data)
    assert response.status_code == 302
    employment.refresh_from_db()
    assert (employment.education, employment.title, employment.relation) == (
        "college",
        "junior",
        "dispatched",
    )
    assert sorted(employment.posts.values_list("code", flat=True)) == ["om_reviewer", "om_technician"]
    assert "人员信息已保存" in names(client.get(f"/staff/{employment.pk}/"))
    # A post that needs a certificate the person lacks: said beside the posts, nothing changed.
    response = client.post(
        f"/staff/{employment.pk}/edit", {**data, "posts": ["lab_analyst"], "title": "senior"}
    )
    assert response.status_code == 200
    assert "“实验室分析人员”岗位须持有效能力证书" in names(response)
    employment.refresh_from_db()
    assert employment.title == "junior"


def test_a_certificate_is_recorded_and_refused_in_place(world):
    side = world.shanghai
    employment = side.technician
    client = signed_in(side.main)
    url = f"/staff/{employment.pk}/certificates"
    cert = {
        "cert_post": "lab_analyst",
        "number": "LAB-2026-7",
        "issuer": "学会",
        "valid_from": "2026-01-01",
        "valid_until": "2025-01-01",
    }
    response = client.post(url, cert)
    assert "有效期至不能早于有效期起" in names(response)
    assert b'value="LAB-2026-7"' in response.content
    taken = Certificate.objects.get(person=side.sampler.person, post__code="sampler").number
    response = client.post(
        url, {**cert, "cert_post": "sampler", "number": taken, "valid_until": "2028-01-01"}
    )
    assert f"证书编号 {taken} 已登记在另一人名下" in names(response)
    response = client.post(url, {**cert, "valid_until": "2028-01-01"})
    assert response.status_code == 302
    assert Certificate.objects.filter(person=employment.person, number="LAB-2026-7").exists()
    assert "LAB-2026-7" in names(client.get(f"/staff/{employment.pk}/"))


def test_departing_calls_staff_depart(world):
    side = world.shanghai
    employment = side.sampler
    client = signed_in(side.main)
    early = (employment.hired_on - dt.timedelta(days=1)).isoformat()
    response = client.post(f"/staff/{employment.pk}/depart", {"departed_on": early})
    assert "离职时间不能早于入职时间" in names(response)
    response = client.post(
        f"/staff/{employment.pk}/depart", {"departed_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    employment.refresh_from_db()
    assert employment.status == Employment.Status.DEPARTED
    text = names(client.get(f"/staff/{employment.pk}/"))
    assert "已办理离职" in text
    assert "离职" in text
    page = client.get(f"/staff/{employment.pk}/").content
    assert b'id="depart"' not in page  # no second departure, no edit
    assert b'id="edit"' not in page
    # Posted again anyway (an old tab): the service's refusal on the page, no 500.
    response = client.post(
        f"/staff/{employment.pk}/depart", {"departed_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 200
    assert "该人员已不在职" in names(response)
    edit = {"education": "college", "title": "none", "relation": "employee"}
    assert "该人员已不在职" in names(client.post(f"/staff/{employment.pk}/edit", edit))


# --- Excel import ---------------------------------------------------------------------------------
def test_the_template_is_the_apis(world):
    response = signed_in(world.shanghai.main).get("/staff/import/template")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == [c.header for c in STAFF_COLUMNS]
    assert (
        "技术人员导入模板.xlsx" in response["Content-Disposition"]
        or "%E6%8A%80" in response["Content-Disposition"]
    )


def test_a_file_with_a_bad_row_imports_nothing_and_reports_the_row(world):
    side = world.shanghai
    client = signed_in(side.main)
    good, bad = resident_id("310104", "19880808"), resident_id("310104", "19870707")
    rows = [staff_row("孙一", good), staff_row("孙二", bad[:17] + ("0" if bad[17] != "0" else "1"))]
    response = client.post("/staff/import/", {"file": upload(workbook(rows))})
    assert response.status_code == 200
    text = visible_text(response)
    assert "未导入任何人员" in text
    report = response.content.decode().split('id="import-report"')[1]
    assert "第 3 行" in report
    assert "身份证号" in report
    assert "居民身份证号码无效" in report
    assert not Person.objects.filter(name__in=["孙一", "孙二"]).exists()  # all or nothing
    # Fixed and sent again: both imported.
    rows[1] = staff_row("孙二", bad)
    response = client.post("/staff/import/", {"file": upload(workbook(rows))})
    assert "已导入 2 名人员" in visible_text(response)
    assert Employment.objects.filter(agency=side.agency, person__name__in=["孙一", "孙二"]).count() == 2


def test_the_script_gets_the_panel_only(world):
    side = world.shanghai
    response = signed_in(side.main).post(
        "/staff/import/",
        {"file": upload(workbook([staff_row("周三", resident_id())]))},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    content = response.content.decode().lstrip()
    assert content.startswith('<div id="import-panel">')
    assert "已导入 1 名人员" in visible_text(response)


def test_a_file_refused_whole_is_said_beside_the_file(world, settings):
    side = world.shanghai
    client = signed_in(side.main)
    response = client.post("/staff/import/", {"file": upload(b"not a workbook", "人员.xlsx")})
    assert "无法读取该文件" in names(response)
    book = Workbook()
    book.active.append(["姓名", "电话"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post("/staff/import/", {"file": upload(buffer.getvalue())})
    assert "表头与模板不符" in names(response)
    assert "请选择要导入的文件" in names(client.post("/staff/import/", {}))
    settings.ATTACHMENT_MAX_BYTES = 100
    assert "附件过大" in names(client.post("/staff/import/", {"file": upload(workbook([]))}))


def test_the_writes_need_csrf(world):
    side = world.shanghai
    client = signed_in(side.main, csrf=True)
    pk = side.sampler.pk
    assert client.post("/staff/new/", hire_form()).status_code == 403
    assert (
        client.post(f"/staff/{pk}/depart", {"departed_on": timezone.localdate().isoformat()}).status_code
        == 403
    )
    assert client.post(f"/staff/{pk}/edit", {"education": "college"}).status_code == 403
    assert (
        client.post(
            "/staff/import/", {"file": upload(workbook([staff_row("吴四", resident_id())]))}
        ).status_code
        == 403
    )
    assert not Person.objects.filter(name__in=["赵敏", "吴四"]).exists()
    side.sampler.refresh_from_db()
    assert side.sampler.status == Employment.Status.ACTIVE


def test_english_when_chosen(world):
    side = world.shanghai
    client = signed_in(side.main)
    client.post("/i18n/setlang/", {"language": "en", "next": "/staff/"})
    text = visible_text(client.get("/staff/"))
    assert "Add a person" in text
    assert "Sampler" in text
    assert "Bachelor's degree" in text
    text = visible_text(client.get(f"/staff/{side.sampler.pk}/"))
    assert "Competency certificates" in text
    assert "Records at this agency" in text


def test_the_person_page_reads_a_bounded_number_of_queries(world):
    side = world.shanghai
    employment = side.technician
    client = signed_in(side.main)

    def count(pk) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/staff/{pk}/").status_code == 200
        return len(queries)

    before = count(employment.pk)
    for post in ("sampler", "lab_analyst"):
        certificate_add(person=employment.person, **certificate(post))
    staff_depart(employment=employment, departed_on=timezone.localdate())
    again = new_person(side, employment.person.name, ["courier"], id_number=employment.person.id_number)
    assert count(again.pk) <= before + 1  # its forms' post choices
    assert before <= 25
