"""查询统计: the project list exported as Excel and CSV with the list's own filters, and a project's
status history (提交, 退回 with its reason, 再提交, 验收)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from server.fieldwork.models import MonitoringProject
from server.fieldwork.services import project_create, project_update
from server.regions import region_name
from server.registry.services import enterprise_create
from tests.factories import accepted_contract, credit_code
from tests.fieldwork.helpers import ended_task

pytestmark = pytest.mark.django_db
API = "/api/v1"
HEADERS = [
    "项目编号",
    "项目名称",
    "监测类型",
    "委托企业",
    "项目区域",
    "监测状态",
    "退回原因",
    # Seed 002 项目登记's own fields (issue 23).
    "监测项目",
    "委托类别",
    "委托企业联系人",
    "委托企业联系电话",
    "是否分包",
    "分包单位名称",
    "分包单位统一社会信用代码",
    "培训日期",
    "培训内容",
    "登记时间",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def side(world):
    return world.shanghai


def add_project(side, number: str, name: str, monitoring_type: str = "water", contract=None):
    """A project of the side's agency; its region is its enterprise's (issue F9.5)."""
    contract = contract or side.monitoring_contract
    return project_create(
        agency=side.agency,
        actor=side.main,
        number=number,
        name=name,
        monitoring_type=monitoring_type,
        enterprise=contract.enterprise,
        contract=contract,
    )


def huangpu_contract(side):
    """An accepted monitoring contract of the side's agency with an enterprise in Huangpu (310101)."""
    enterprise = enterprise_create(
        credit_code=credit_code("91310101MA"),
        name="黄浦水厂",
        address="黄浦区中山南路 1 号",
        region_code="310101",
    )
    return accepted_contract(
        agency=side.agency,
        enterprise=enterprise,
        nature="monitoring",
        number="HP-1",
        title="黄浦委托监测",
        amount=1000,
        starts_on=side.monitoring_contract.starts_on,
        ends_on=side.monitoring_contract.ends_on,
    )


def attach_contract(client, project) -> None:
    upload = SimpleUploadedFile(f"合同-{project.number}.pdf", project.number.encode(), "application/pdf")
    response = client.post(
        f"{API}/projects/{project.pk}/attachments", {"kind": "contract", "file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()


def move(client, project, verb: str, reason: str | None = None):
    body = {} if reason is None else {"reason": reason}
    response = client.post(f"{API}/projects/{project.pk}/{verb}", body, format="json")
    assert response.status_code == 200, (verb, response.json())
    return response.json()


@pytest.fixture
def projects(side, client_for):
    """Four projects besides the world's: one returned with a reason, one in another district, a noise
    project, and one whose name a spreadsheet would take for a formula."""
    main, regulator = client_for(side.main), client_for(side.regulator)
    returned = add_project(side, "P-RET", "二季度废气监测", "air")
    attach_contract(main, returned)
    ended_task(side, returned)
    move(main, returned, "submit")
    move(regulator, returned, "return", "缺少危废鉴别报告")
    huangpu = add_project(side, "P-HP", "黄浦区地表水监测", contract=huangpu_contract(side))
    noise = add_project(side, "P-NOISE", "厂界噪声监测", "noise")
    # Seed 002 项目登记's own fields, as the export carries them (issue 23).
    project_update(
        project=noise,
        actor=side.main,
        monitoring_items=["厂界噪声", "敏感点噪声"],
        commission_category="self_monitoring",
        client_contact="王经理",
        client_phone="13812345678",
        subcontracted=True,
        subcontractor_name="分包检测公司",
        subcontractor_credit_code=credit_code(),
        training_content="噪声监测培训",
    )
    formula = add_project(side, "P-EQ", '=HYPERLINK("http://example.invalid","点击")')
    return {"returned": returned, "huangpu": huangpu, "noise": noise, "formula": formula}


def expected_rows(queryset) -> list[list]:
    rows = []
    for p in queryset.select_related("enterprise").order_by("-created_at", "id"):
        rows.append(
            [
                p.number,
                p.name,
                p.get_monitoring_type_display(),
                p.enterprise.name,
                region_name(p.region_code),
                p.get_status_display(),
                p.return_reason,
                "、".join(p.monitoring_items),
                p.get_commission_category_display(),
                p.client_contact,
                p.client_phone,
                "是" if p.subcontracted else "否",
                p.subcontractor_name,
                p.subcontractor_credit_code,
                p.training_on.isoformat() if p.training_on else "",
                p.training_content,
                timezone.localtime(p.created_at).replace(tzinfo=None, microsecond=0),
            ]
        )
    return rows


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith(".csv")
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def as_csv(row: list) -> list[str]:
    out = [str(v) for v in row[:-1]] + [row[-1].strftime("%Y-%m-%d %H:%M:%S")]
    return ["'" + v if v.startswith("=") else v for v in out]


def test_xlsx_export_holds_the_visible_projects(side, projects, client_for):
    rows = read_xlsx(client_for(side.main).get(f"{API}/projects/export", {"format": "xlsx"}))
    assert rows[0] == HEADERS
    expected = expected_rows(MonitoringProject.objects.filter(agency=side.agency))
    assert len(expected) == 5
    assert rows[1:] == expected
    returned = next(r for r in rows if r[0] == "P-RET")
    assert returned[5:7] == ["已退回", "缺少危废鉴别报告"]
    noise = next(r for r in rows if r[0] == "P-NOISE")
    assert noise[7:13] == [
        "厂界噪声、敏感点噪声",
        "企业自行监测",
        "王经理",
        "13812345678",
        "是",
        "分包检测公司",
    ]
    # A name that looks like a formula stays text.
    sheet = load_workbook(io.BytesIO(client_for(side.main).get(f"{API}/projects/export").content)).worksheets[
        0
    ]
    cell = next(row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == "P-EQ")
    assert cell.data_type == "s"
    assert cell.value == projects["formula"].name


def test_csv_export_is_the_same_table(side, projects, client_for):
    rows = read_csv(client_for(side.main).get(f"{API}/projects/export", {"format": "csv"}))
    assert rows[0] == HEADERS
    expected = expected_rows(MonitoringProject.objects.filter(agency=side.agency))
    assert rows[1:] == [as_csv(r) for r in expected]
    # CSV has no cell types: the formula-like name is written behind an apostrophe.
    assert ["P-EQ", "'" + projects["formula"].name] == next(r[:2] for r in rows if r[0] == "P-EQ")


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        ({"name": "废气"}, {"P-RET"}),
        ({"name": "监测"}, {"P-RET", "P-HP", "P-NOISE", "world"}),
        ({"status": "returned"}, {"P-RET"}),
        ({"status": "unfinished", "monitoring_type": "noise"}, {"P-NOISE"}),
        ({"region": "310101"}, {"P-HP"}),
        ({"region": "3101"}, {"P-RET", "P-HP", "P-NOISE", "P-EQ", "world"}),
        ({"number": "P-HP"}, {"P-HP"}),
    ],
)
def test_exports_honour_the_list_filters(side, projects, client_for, params, numbers):
    main = client_for(side.main)
    numbers = {side.project.number if n == "world" else n for n in numbers}
    listed = {
        p["number"] for p in main.get(f"{API}/projects", {**params, "page_size": 200}).json()["results"]
    }
    assert listed == numbers
    for file_format, read in (("xlsx", read_xlsx), ("csv", read_csv)):
        rows = read(main.get(f"{API}/projects/export", {**params, "format": file_format}))
        assert {r[0] for r in rows[1:]} == numbers, file_format


def test_exports_hold_only_what_the_user_sees(world, projects, client_for):
    jiangsu_regulator = client_for(world.jiangsu.regulator)
    rows = read_csv(jiangsu_regulator.get(f"{API}/projects/export", {"format": "csv"}))
    assert [r[0] for r in rows[1:]] == [world.jiangsu.project.number]
    platform = read_xlsx(client_for(world.platform).get(f"{API}/projects/export"))
    assert len(platform) == 1 + MonitoringProject.objects.count() == 1 + 6
    field = read_xlsx(client_for(world.shanghai.field_user).get(f"{API}/projects/export"))
    assert [r[0] for r in field[1:]] == [world.shanghai.project.number]  # only the project they are on


def test_bad_export_parameters_are_400(side, client_for):
    main = client_for(side.main)
    for params in (
        {"format": "pdf"},
        {"format": "xlsx", "status": "nope"},
        {"format": "csv", "enterprise": "x"},
    ):
        response = main.get(f"{API}/projects/export", params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "validation_failed"


def test_export_runs_a_fixed_number_of_queries(side, client_for):
    main = client_for(side.main)

    def count(file_format: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = main.get(f"{API}/projects/export", {"format": file_format})
            if file_format == "csv":
                b"".join(response.streaming_content)
        return len(ctx.captured_queries)

    few = (count("xlsx"), count("csv"))
    for n in range(5):
        add_project(side, f"P-MANY-{n}", f"批量项目{n}")
    assert (count("xlsx"), count("csv")) == few


def test_events_tell_submit_return_resubmit_accept(world, side, client_for):
    main, regulator = client_for(side.main), client_for(side.regulator)
    project = side.project
    attach_contract(main, project)
    ended_task(side, project)
    move(main, project, "submit")
    move(regulator, project, "return", "监测报告缺少签字页")
    assert main.get(f"{API}/projects/{project.pk}").json()["return_reason"] == "监测报告缺少签字页"
    move(main, project, "submit")
    move(regulator, project, "accept")

    response = client_for(side.enterprise_user).get(f"{API}/projects/{project.pk}/events")
    assert response.status_code == 200
    events = response.json()
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"], e["reason"]) for e in events] == [
        ("submit", "unfinished", "submitted", side.main.pk, ""),
        ("return", "submitted", "returned", side.regulator.pk, "监测报告缺少签字页"),
        ("resubmit", "returned", "submitted", side.main.pk, ""),
        ("accept", "submitted", "done", side.regulator.pk, ""),
    ]
    assert [e["to_status_label"] for e in events] == ["已提交", "已退回", "已提交", "已完成"]
    stored = list(project.events.order_by("at", "id").values_list("id", "reason"))
    assert [(e["id"], e["reason"]) for e in events] == stored
    # What the export says of it now.
    row = next(
        r
        for r in read_csv(main.get(f"{API}/projects/export", {"format": "csv"}))[1:]
        if r[0] == project.number
    )
    assert row[5:7] == ["已完成", ""]

    other = client_for(world.jiangsu.regulator).get(f"{API}/projects/{project.pk}/events")
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
