"""The agency office pages with Django's test client: the filing (data as filed, a change waiting for
review beside the approved value, editing through agency_update, submitting, the history with the
regulator's return reason), the accounts (list, create a sub-account with a role, close one) and
the contracts (list with filters, stable pages, htmx and export; proposing one; the enterprise
accepting or refusing it; the regulator reading its region's), and who reaches what."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from server.accounts.models import Role, User
from server.registry.models import Agency, AgencyFilingEvent, Contract, ContractAcceptanceEvent
from server.registry.services import agency_register, agency_transition, contract_create, contract_transition
from tests.factories import PASSWORD, build_world, complete_dossier, credit_code, hire, staff_account
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import machine_words, visible_text

pytestmark = pytest.mark.django_db
F = Agency.FilingStatus
A = Contract.Acceptance


@pytest.fixture
def world(db):
    return build_world()


def filing_data(agency: Agency, **changes) -> dict:
    data = {
        "name": agency.name,
        "kind": agency.kind,
        "legal_representative": agency.legal_representative,
        "legal_representative_phone": agency.legal_representative_phone,
        "contact_name": agency.contact_name,
        "contact_phone": agency.contact_phone,
        "address": agency.address,
        "region_code": agency.region_code,
        "nature": agency.nature,
        # Checkboxes: what is ticked is posted (the form sends the whole list every time).
        "monitoring_categories": list(agency.monitoring_categories),
        "om_categories": list(agency.om_categories),
    }
    return data | changes


def draft_agency(*, complete: bool = True) -> tuple[Agency, User]:
    """A registered agency, its dossier filled (complete=False: nothing but the registration)."""
    agency, main = agency_register(
        credit_code=credit_code("91310104MA"),
        name="新备案检测有限公司",
        kind=Agency.Kind.MONITORING,
        legal_representative="李明",
        address="漕溪路 100 号",
        region_code="310104",
        username="newmain",
        password=PASSWORD,
    )
    if complete:
        agency = complete_dossier(agency, main)
    return agency, main


def field_of(response, name: str, after: str = "") -> str:
    """A form field's HTML, its errors included (up to the next field); ``after``: the form's marker
    when a filter above it has a field of the same name."""
    content = response.content.decode().split(after)[1] if after else response.content.decode()
    return content.split(f'name="{name}"')[1].split('<div class="field')[0]


def machine_words_but(text: str, *numbers: str) -> list[str]:
    """machine_words, the contract numbers (HT-1, JC-…: data people read) set aside."""
    for number in numbers:
        text = text.replace(number, "")
    return machine_words(text)


def propose(side, enterprise, number: str = "HT-1", **fields) -> Contract:
    today = timezone.localdate()
    return contract_create(
        agency=side.agency,
        enterprise=enterprise,
        nature=fields.pop("nature", Contract.Nature.MONITORING),
        number=number,
        title=fields.pop("title", "年度委托监测协议"),
        amount=fields.pop("amount", 8000),
        starts_on=fields.pop("starts_on", today),
        ends_on=fields.pop("ends_on", today + dt.timedelta(days=200)),
        actor=side.main,
    )


# --- Who reaches what -----------------------------------------------------------------------------
def test_the_office_pages_are_the_agency_admins_and_the_navigation_says_so(world):
    side = world.shanghai
    for user in (side.main, side.manager):
        client = signed_in(user)
        home = client.get("/agency/").content.decode()
        assert 'id="filing-notice"' not in home  # approved: nothing to say
        for href in ('href="/agency/filing/"', 'href="/agency/accounts/"', 'href="/contracts/"'):
            assert href in home
        for path in ("/agency/filing/", "/agency/filing/edit/", "/agency/accounts/", "/contracts/"):
            assert client.get(path).status_code == 200, path
    for user in (side.field_user, side.reviewer, side.enterprise_user, side.regulator, world.platform):
        client = signed_in(user)
        for path in ("/agency/filing/", "/agency/filing/edit/", "/agency/accounts/", "/contracts/new/"):
            response = client.get(path)
            assert response.status_code == 404, (user.role, path)
            assert "找不到" in visible_text(response) or "不存在" in visible_text(response)
    # The enterprise and the regulator reach the contracts, each under its own name.
    assert "委托合同" in visible_text(signed_in(side.enterprise_user).get("/enterprise/"))
    assert "合同查看" in visible_text(signed_in(side.regulator).get("/regulator/"))
    assert signed_in(side.field_user).get("/contracts/").status_code == 404


# --- The filing -----------------------------------------------------------------------------------
def test_the_filing_reads_in_chinese_with_its_history(world):
    side = world.shanghai
    response = signed_in(side.main).get("/agency/filing/")
    text = visible_text(response)
    assert side.agency.name in text
    assert side.agency.credit_code in text
    for words in ("统一社会信用代码", "机构类别", "检测运维机构", "法定代表人", "王强", "审查通过"):
        assert words in text
    assert "上海市徐汇区（310104）" in text  # the region named for people, its code beside it
    assert "草稿 → 已提交" in text
    assert "已提交 → 审查通过" in text
    assert machine_words(text) == []
    assert world.jiangsu.agency.name not in text


def test_a_change_of_a_reviewed_field_waits_beside_the_approved_value(world):
    side = world.shanghai
    old_name = side.agency.name
    client = signed_in(side.main)
    response = client.post(
        "/agency/filing/edit/",
        filing_data(side.agency, name="徐汇环境检测有限公司", contact_phone="021-64000000"),
    )
    assert response.status_code == 302
    agency = Agency.objects.get(pk=side.agency.pk)
    assert agency.name == old_name  # the approved value stays until a regulator approves
    assert agency.pending_changes == {"name": "徐汇环境检测有限公司"}
    assert agency.contact_phone == "021-64000000"  # not reviewed: saved at once
    assert agency.filing_status == F.CHANGED
    page = client.get("/agency/filing/")
    text = visible_text(page)
    assert "须经监管方审查通过后生效" in text
    assert "待审变更" in text
    row = page.content.decode().split('class="pending"')[1].split("</tr>")[0]
    assert old_name in row
    assert "徐汇环境检测有限公司" in row
    assert "变更待审" in text
    assert "变更：机构名称" in text  # the service's reason, the field named by its label
    assert machine_words(text) == []
    # The form offers what was asked for; the regulator's page is where it is decided.
    assert 'value="徐汇环境检测有限公司"' in client.get("/agency/filing/edit/").content.decode()
    agency_transition(agency=agency, to=F.APPROVED, actor=side.regulator)
    text = visible_text(client.get("/agency/filing/"))
    assert "徐汇环境检测有限公司" in text
    assert "待审变更" not in text


def test_bad_filing_input_is_said_beside_the_field_and_keeps_what_was_typed(world):
    side = world.shanghai
    client = signed_in(side.manager)
    response = client.post(
        "/agency/filing/edit/", filing_data(side.agency, region_code="99x", contact_name="赵六", address="")
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert 'value="赵六"' in content
    assert 'value="99x"' in content
    assert "请填写注册地址" in visible_text(response)
    # The service's refusal (not a 6-digit code) beside the field, once the form itself passes.
    response = client.post("/agency/filing/edit/", filing_data(side.agency, region_code="00ABCD"))
    assert response.status_code == 400
    assert 'class="error"' in field_of(response, "region_code")
    agency = Agency.objects.get(pk=side.agency.pk)
    assert (agency.region_code, agency.contact_name) == (side.agency.region_code, side.agency.contact_name)


def test_a_draft_is_submitted_returned_with_a_reason_and_submitted_again(world):
    agency, main = draft_agency()
    regulator = world.shanghai.regulator
    client = signed_in(main)
    home = client.get("/agency/")
    assert "机构备案：草稿" in visible_text(home)  # the home page says what the filing waits for
    assert 'href="/agency/filing/"' in home.content.decode().split('id="filing-notice"')[1]
    text = visible_text(client.get("/agency/filing/"))
    assert "草稿" in text
    assert "提交备案" in text
    assert client.post("/agency/filing/submit").status_code == 302
    agency.refresh_from_db()
    assert agency.filing_status == F.SUBMITTED
    page = client.get("/agency/filing/")
    assert "等待监管方审查" in visible_text(page)
    assert "/agency/filing/edit/" not in page.content.decode()  # locked while under review
    locked = client.post("/agency/filing/edit/", filing_data(agency, contact_name="改不了"))
    assert locked.status_code == 400
    assert "不能修改" in visible_text(locked) or "已提交" in visible_text(locked)
    agency_transition(agency=agency, to=F.RETURNED, actor=regulator, reason="注册地址与营业执照不一致")
    text = visible_text(client.get("/agency/filing/"))
    assert "退回原因： 注册地址与营业执照不一致" in text
    assert "已提交 → 已退回" in text
    assert "再次提交备案" in text
    client.post("/agency/filing/edit/", filing_data(agency, address="漕溪路 200 号"))
    response = client.post("/agency/filing/submit", follow=True)
    assert "备案已重新提交" in visible_text(response)
    agency.refresh_from_db()
    assert (agency.filing_status, agency.address) == (F.SUBMITTED, "漕溪路 200 号")
    assert list(
        AgencyFilingEvent.objects.filter(agency=agency).order_by("at", "id").values_list("to_status", "actor")
    ) == [(F.SUBMITTED, main.pk), (F.RETURNED, regulator.pk), (F.SUBMITTED, main.pk)]


def test_only_the_main_account_submits(world):
    agency, _ = draft_agency()
    manager = User.objects.create_user(
        username="newmanager", password=PASSWORD, role=Role.AGENCY_MANAGER, agency=agency
    )
    client = signed_in(manager)
    text = visible_text(client.get("/agency/filing/"))
    assert "提交备案" not in text
    assert "备案由机构主账号提交" in text
    response = client.post("/agency/filing/submit")
    assert response.status_code == 403
    assert "<html" in response.content.decode()  # said on a page, not the API's JSON
    agency.refresh_from_db()
    assert agency.filing_status == F.DRAFT


# --- Accounts -------------------------------------------------------------------------------------
def test_the_accounts_list_names_roles_and_people(world):
    side = world.shanghai
    response = signed_in(side.main).get("/agency/accounts/")
    text = visible_text(response)
    for user in (side.main, side.manager, side.field_user, side.reviewer):
        assert user.username in text
    assert "机构主账号" in text
    assert "机构子账号（运维审核）" in text
    assert "现场人员" in text
    assert side.reviewer_staff.person.name in text
    assert world.jiangsu.main.username not in text
    assert machine_words(text) == []
    assert "新建子账号" in text
    assert f"/agency/accounts/{side.field_user.pk}/close" in response.content.decode()
    assert f"/agency/accounts/{side.main.pk}/close" not in response.content.decode()
    # The manager reads the list; creating and closing are the main account's (AccountViewSet).
    managed = signed_in(side.manager).get("/agency/accounts/")
    assert "新建子账号" not in visible_text(managed)
    assert "/close" not in managed.content.decode()
    client = signed_in(side.main)
    partial = client.get("/agency/accounts/", {"q": "main"}, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="account-panel">')
    assert "<html" not in partial
    wrong = client.get("/agency/accounts/", {"role": "platform"})
    assert "没有这个选项" in visible_text(wrong)
    assert "没有符合条件的账号" in visible_text(wrong)
    filtered = visible_text(client.get("/agency/accounts/", {"role": "agency_reviewer"}))
    assert side.reviewer.username in filtered
    assert side.field_user.username not in filtered


def test_the_main_account_creates_a_reviewer_for_a_staff_member(world):
    side = world.shanghai
    staff = hire(side.agency, ["om_reviewer"], name="钱审核")
    client = signed_in(side.main)
    response = client.post(
        "/agency/accounts/",
        {
            "username": "qian.review",
            "password": "Review-2026-pass!",
            "role": Role.AGENCY_REVIEWER,
            "employment": staff.pk,
            "phone": "13900000001",
        },
        follow=True,
    )
    assert "账号 qian.review 已创建" in visible_text(response)
    user = User.objects.get(username="qian.review")
    assert (user.role, user.person, user.agency, user.created_by) == (
        Role.AGENCY_REVIEWER,
        staff.person,
        side.agency,
        side.main,
    )
    assert user.check_password("Review-2026-pass!")
    assert "钱审核" in visible_text(client.get("/agency/accounts/"))


def test_a_refused_account_is_said_beside_the_field_and_keeps_what_was_typed(world):
    side = world.shanghai
    client = signed_in(side.main)

    def post(**fields):
        data = {"username": "new.one", "password": "Good-pass-2026!", "role": Role.AGENCY_FIELD} | fields
        response = client.post("/agency/accounts/", data)
        assert response.status_code == 400
        return response

    response = post(phone="13911112222")  # a field account without a staff member
    assert "须关联本机构的在职技术人员" in field_of(response, "employment")
    assert 'value="new.one"' in response.content.decode()
    assert 'value="13911112222"' in response.content.decode()
    response = post(username=side.manager.username, role=Role.AGENCY_MANAGER)
    assert "已被使用" in field_of(response, "username")
    response = post(password="123", role=Role.AGENCY_MANAGER)
    assert "密码不符合要求" in field_of(response, "password")
    response = post(employment=side.sampler.pk)  # the sampler has an account already
    assert "已分配账号" in field_of(response, "employment")
    response = post(employment=world.jiangsu.sampler.pk)  # another agency's staff is not a choice
    assert "请选择列表中的人员" in field_of(response, "employment")
    response = post(role=Role.AGENCY_MANAGER, employment=side.technician.pk)
    assert "管理子账号不关联人员" in field_of(response, "employment")
    response = post(role=Role.AGENCY_MAIN)
    assert "请选择列表中的角色" in field_of(response, "role", after='id="account-new"')
    assert not User.objects.filter(username="new.one").exists()


def test_the_main_account_closes_a_sub_account(world):
    side = world.shanghai
    client = signed_in(side.main)
    response = client.post(f"/agency/accounts/{side.field_user.pk}/close", follow=True)
    assert f"账号 {side.field_user.username} 已停用" in visible_text(response)
    side.field_user.refresh_from_db()
    assert side.field_user.is_active is False
    assert "已停用" in visible_text(client.get("/agency/accounts/", {"active": "no"}))
    # Another agency's account is not found; the manager may not close; the main account stays.
    assert client.post(f"/agency/accounts/{world.jiangsu.field_user.pk}/close").status_code == 404
    assert signed_in(side.manager).post(f"/agency/accounts/{side.reviewer.pk}/close").status_code == 403
    assert signed_in(side.manager).post("/agency/accounts/", {"username": "x"}).status_code == 403
    response = client.post(f"/agency/accounts/{side.main.pk}/close", follow=True)
    assert "主账号不能注销" in visible_text(response)
    world.jiangsu.field_user.refresh_from_db()
    side.reviewer.refresh_from_db()
    side.main.refresh_from_db()
    assert world.jiangsu.field_user.is_active
    assert side.reviewer.is_active
    assert side.main.is_active


# --- Contracts ------------------------------------------------------------------------------------
def test_the_contracts_of_each_side_and_the_filters(world):
    side, other = world.shanghai, world.jiangsu
    proposed = propose(side, other.enterprise, "HT-跨省", title="跨省委托检测")
    client = signed_in(side.main)
    response = client.get("/contracts/")
    text = visible_text(response)
    for contract in (side.monitoring_contract, side.om_contract, proposed):
        assert contract.number in text
    assert other.monitoring_contract.number not in text
    assert "待企业确认" in text
    assert "已确认" in text
    assert "履行中" in text
    assert "运维" in text
    assert machine_words_but(text, *(c.number for c in Contract.objects.all())) == []
    text = visible_text(client.get("/contracts/", {"acceptance": "proposed"}))
    assert proposed.number in text
    assert side.monitoring_contract.number not in text
    text = visible_text(client.get("/contracts/", {"q": "跨省"}))
    assert proposed.number in text
    assert side.om_contract.number not in text
    text = visible_text(client.get("/contracts/", {"enterprise": side.enterprise.pk, "nature": "om"}))
    assert side.om_contract.number in text
    assert side.monitoring_contract.number not in text
    assert proposed.number not in text
    response = client.get("/contracts/", {"enterprise": 10**9})
    assert "请选择列表中的企业" in visible_text(response)
    assert "没有符合条件的合同" in visible_text(response)
    # The enterprise and the regulator see what concerns them: the Jiangsu side sees the proposal.
    text = visible_text(signed_in(other.enterprise_user).get("/contracts/"))
    assert proposed.number in text
    assert other.monitoring_contract.number in text
    assert side.monitoring_contract.number not in text
    text = visible_text(signed_in(side.regulator).get("/contracts/"))
    assert side.monitoring_contract.number in text
    assert proposed.number not in text


def test_htmx_stable_pages_and_the_export_of_what_is_filtered(world):
    side = world.shanghai
    for n in range(23):
        propose(side, side.enterprise, f"Q-{n:02d}", starts_on=timezone.localdate())
    Contract.objects.filter(agency=side.agency).update(created_at=timezone.now())
    client = signed_in(side.main)

    def rows(number) -> list[str]:
        content = client.get("/contracts/", {"q": "Q-", "page": number}).content.decode()
        return [f"Q-{n:02d}" for n in range(23) if f">Q-{n:02d}<" in content]

    first, second = rows(1), rows(2)
    assert (len(first), len(second)) == (20, 3)
    assert sorted(first + second) == [f"Q-{n:02d}" for n in range(23)]
    assert rows(1) == first
    page = client.get("/contracts/", {"q": "Q-"}).content.decode()
    assert "?q=Q-&amp;page=2" in page
    assert 'href="/contracts/export?q=Q-"' in page
    partial = client.get("/contracts/", {"q": "Q-"}, HTTP_HX_REQUEST="true").content.decode().lstrip()
    assert partial.startswith('<div id="contract-panel">')
    assert "<html" not in partial
    export = client.get("/contracts/export", {"q": "Q-"})
    assert export.status_code == 200
    sheet = load_workbook(
        io.BytesIO(b"".join(export.streaming_content) if export.streaming else export.content)
    ).active
    values = list(sheet.values)
    assert values[0][:3] == ("合同编号", "合同标题", "合同性质")
    assert sorted(row[0] for row in values[1:]) == [f"Q-{n:02d}" for n in range(23)]
    assert {row[9] for row in values[1:]} == {"待企业确认"}


def test_the_list_is_a_bounded_number_of_queries(world):
    side = world.shanghai
    client = signed_in(side.main)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/contracts/").status_code == 200
        return len(queries)

    before = count()
    for n in range(5):
        propose(side, world.jiangsu.enterprise, f"R-{n}")
    assert count() == before
    assert before <= 15


def test_the_accounts_and_a_contracts_page_are_a_bounded_number_of_queries(world):
    side, other = world.shanghai, world.jiangsu
    client = signed_in(side.main)
    contract = propose(side, other.enterprise, "HT-Q")

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    accounts, page = count("/agency/accounts/"), count(f"/contracts/{contract.pk}/")
    for n in range(3):
        staff_account(side.main, hire(side.agency, ["sampler"], name=f"新员工{n}"))
    contract_transition(contract=contract, to=A.REFUSED, actor=other.enterprise_user, reason="重签")
    contract_transition(contract=contract, to=A.PROPOSED, actor=side.main)
    contract_transition(contract=contract, to=A.ACCEPTED, actor=other.enterprise_user)
    assert count("/agency/accounts/") == accounts
    assert count(f"/contracts/{contract.pk}/") == page
    assert max(accounts, page) <= 20


def test_a_contracts_page_lists_its_projects_and_the_enterprises_outlets(world):
    side = world.shanghai
    path = f"/contracts/{side.monitoring_contract.pk}/"
    for user in (side.main, side.regulator):
        response = signed_in(user).get(path)
        text = visible_text(response)
        assert side.project.name in text
        assert f'href="/projects/{side.project.pk}/"' in response.content.decode()
        assert side.wastewater.name in text
        assert "上海市徐汇区" in text
        assert machine_words_but(text, side.monitoring_contract.number, side.project.number) == []
    # The enterprise reads its projects' names; the projects pages are not its own.
    response = signed_in(side.enterprise_user).get(path)
    assert side.project.name in visible_text(response)
    assert f'href="/projects/{side.project.pk}/"' not in response.content.decode()
    assert "合同下的监测项目" not in visible_text(
        signed_in(side.main).get(f"/contracts/{side.om_contract.pk}/")
    )


def test_the_agency_proposes_a_contract_by_the_enterprises_credit_code(world):
    side, other = world.shanghai, world.jiangsu
    client = signed_in(side.main)
    data = {
        "credit_code": other.enterprise.credit_code.lower(),
        "nature": "monitoring",
        "number": "JC-2027-001",
        "title": "2027 年委托监测协议",
        "amount": "26000.50",
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
    }
    response = client.post("/contracts/new/", data, follow=True)
    assert "等待委托企业确认" in visible_text(response)
    contract = Contract.objects.get(agency=side.agency, number="JC-2027-001")
    assert (contract.enterprise, contract.acceptance, str(contract.amount)) == (
        other.enterprise,
        A.PROPOSED,
        "26000.50",
    )
    text = visible_text(response)
    assert "待企业确认" in text
    assert "企业确认合同后才能看到其排口" in text  # a proposal grants nothing (F9.2)
    assert other.wastewater.name not in text
    assert machine_words_but(text, "JC-2027-001") == []
    # The service's refusals, beside their fields, what was typed kept.
    response = client.post("/contracts/new/", data)
    assert response.status_code == 400
    number = field_of(response, "number")
    assert "已" in number
    assert 'class="error"' in number
    response = client.post("/contracts/new/", data | {"number": "JC-2", "ends_on": "2026-06-30"})
    assert "履行结束不能早于履行开始" in field_of(response, "ends_on")
    assert 'value="2026-06-30"' in response.content.decode()
    response = client.post("/contracts/new/", data | {"credit_code": "91310000XXXXXXXXX1", "amount": "-1"})
    text = visible_text(response)
    assert "没有以此统一社会信用代码登记的企业" in text
    assert 'value="91310000XXXXXXXXX1"' in response.content.decode()
    assert Contract.objects.filter(agency=side.agency).count() == 3


def test_the_enterprise_accepts_or_refuses_what_is_proposed_to_it(world):
    side, other = world.shanghai, world.jiangsu
    first = propose(side, other.enterprise, "HT-A")
    second = propose(side, other.enterprise, "HT-B")
    confirmer = signed_in(other.enterprise_user)
    page = confirmer.get(f"/contracts/{first.pk}/")
    text = visible_text(page)
    assert side.agency.name in text
    assert "确认合同" in text
    assert "拒绝合同" in text
    assert machine_words_but(text, "HT-A") == []
    response = confirmer.post(f"/contracts/{first.pk}/accept", follow=True)
    assert "合同已确认" in visible_text(response)
    first.refresh_from_db()
    assert first.acceptance == A.ACCEPTED
    assert "待企业确认 → 已确认" in visible_text(response)
    # Accepted: the agency now sees the enterprise's outlets on the contract's page.
    assert other.wastewater.name in visible_text(signed_in(side.main).get(f"/contracts/{first.pk}/"))
    # Refusing needs a reason (the service says so beside the field).
    response = confirmer.post(f"/contracts/{second.pk}/refuse", {"reason": "  "})
    assert response.status_code == 400
    assert "原因" in field_of(response, "reason")
    second.refresh_from_db()
    assert second.acceptance == A.PROPOSED
    confirmer.post(f"/contracts/{second.pk}/refuse", {"reason": "金额与报价不符"})
    second.refresh_from_db()
    assert (second.acceptance, second.refusal_reason) == (A.REFUSED, "金额与报价不符")
    # Accepting again is said on the page, not a 500.
    again = confirmer.post(f"/contracts/{first.pk}/accept")
    assert again.status_code in (400, 409)
    assert 'id="move-error"' in again.content.decode()
    # The agency reads the reason and proposes it again.
    agency = signed_in(side.main)
    text = visible_text(agency.get(f"/contracts/{second.pk}/"))
    assert "拒绝原因： 金额与报价不符" in text
    assert "重新提交" in text
    agency.post(f"/contracts/{second.pk}/propose")
    second.refresh_from_db()
    assert second.acceptance == A.PROPOSED
    assert list(
        ContractAcceptanceEvent.objects.filter(contract=second)
        .order_by("at", "id")
        .values_list("to_status", "actor")
    ) == [(A.REFUSED, other.enterprise_user.pk), (A.PROPOSED, side.main.pk)]


def test_contracts_outside_the_scope_are_not_found_and_the_regulator_reads(world):
    side, other = world.shanghai, world.jiangsu
    contract = propose(side, side.enterprise, "HT-Z")
    for user in (other.enterprise_user, other.main, other.regulator):
        assert signed_in(user).get(f"/contracts/{contract.pk}/").status_code == 404
    assert signed_in(other.enterprise_user).post(f"/contracts/{contract.pk}/accept").status_code == 404
    regulator = signed_in(side.regulator)
    page = regulator.get(f"/contracts/{contract.pk}/")
    assert page.status_code == 200
    assert "确认合同" not in visible_text(page)
    assert '<form method="post" action="/contracts' not in page.content.decode()
    assert regulator.post(f"/contracts/{contract.pk}/accept").status_code == 404  # 合同查看 is read-only
    assert signed_in(side.main).post(f"/contracts/{contract.pk}/accept").status_code == 404
    contract.refresh_from_db()
    assert contract.acceptance == A.PROPOSED


def test_the_writes_need_csrf(world):
    side = world.shanghai
    client = signed_in(side.main, csrf=True)
    assert client.post("/agency/filing/submit").status_code == 403
    assert client.post("/agency/filing/edit/", filing_data(side.agency, contact_name="x")).status_code == 403
    assert client.post(f"/agency/accounts/{side.field_user.pk}/close").status_code == 403
    assert client.post("/contracts/new/", {"number": "x"}).status_code == 403
    side.field_user.refresh_from_db()
    assert side.field_user.is_active


def test_the_pages_in_english(world):
    side = world.shanghai
    client = signed_in(side.main)
    client.cookies["django_language"] = "en"
    text = visible_text(client.get("/agency/filing/"))
    assert "Filing data" in text
    assert "Approved" in text
    assert "Monitoring and O&M agency" in text
    text = visible_text(client.get("/contracts/"))
    assert "Accepted" in text
    assert "In force" in text
    text = visible_text(client.get("/agency/accounts/"))
    assert "Agency main account" in text
    assert "Field staff" in text
