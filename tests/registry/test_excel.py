"""Excel templates, imports and exports of staff and instruments (seed 001 §3.1.1.2, §3.1.1.4):
the template round-trips, each row is judged by the services with its row number reported, a file
is imported whole or not at all (unless partial), and resident ID numbers leave only masked."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from server.errors import DomainError
from server.registry import excel, services
from server.registry.excel import (
    EXCEL_TOO_MANY_ROWS,
    EXCEL_UNREADABLE,
    EXCEL_WRONG_TEMPLATE,
    INSTRUMENT_COLUMNS,
    STAFF_COLUMNS,
    ImportReport,
    RowError,
    instrument_export,
    instrument_import,
    instrument_template,
    report_to_dict,
    staff_export,
    staff_import,
    staff_template,
)
from server.registry.identifiers import mask_resident_id, resident_id_check_char
from server.registry.models import Agency, Employment, Enterprise, Instrument, Person
from tests.shared_data import PHOTOS

pytestmark = pytest.mark.django_db

JPEG = PHOTOS / "no_exif.jpg"
STAFF_HEADERS = [c.header for c in STAFF_COLUMNS]
INSTRUMENT_HEADERS = [c.header for c in INSTRUMENT_COLUMNS]
H = {c.field: c.header for c in (*STAFF_COLUMNS, *INSTRUMENT_COLUMNS)}


def rid(seq: int, born: str = "19900101", region: str = "110105") -> str:
    """A valid resident ID number: the check character computed per GB 11643-1999."""
    body = f"{region}{born}{seq:03d}"
    return body + resident_id_check_char(body)


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def staff_row(**fields) -> list:
    values = {
        "name": "王五",
        "id_number": rid(1),
        "phone": "13800000000",
        "education": "本科",
        "major": "环境科学",
        "title": "中级",
        "position": "工程师",
        "relation": "正式员工",
        "posts": "技术负责人",
        "hired_on": "2021-03-01",
        **fields,
    }
    return [values[c.field] for c in STAFF_COLUMNS]


def instrument_row(**fields) -> list:
    values = {
        "outlet": "DW001 总排口",
        "kind": "水质在线分析仪",
        "analytes": "化学需氧量 (COD)",
        "maker": "甲仪器公司",
        "model": "M-1",
        "serial_number": "S-1",
        "range_low": 0,
        "range_high": 1000,
        "unit": "mg/L",
        **fields,
    }
    return [values[c.field] for c in INSTRUMENT_COLUMNS]


def xlsx(rows: list[list], headers: list[str] = STAFF_HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fill(template: bytes, rows: list[list]) -> bytes:
    """What a user does: open the downloaded template, overwrite the example, add rows, save."""
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def all_text(content: bytes) -> str:
    """Every cell of every sheet, plus the raw XML of the package, as one string."""
    book = load_workbook(io.BytesIO(content))
    cells = [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        raw = [package.read(name).decode("utf-8", "replace") for name in package.namelist()]
    return "\n".join(cells + raw)


def make_agency(suffix: str = "1", name: str = "甲监测公司") -> Agency:
    return Agency.objects.create(
        credit_code=f"91310000MA1FL0000{suffix}",
        name=name,
        kind=Agency.Kind.BOTH,
        legal_representative="赵六",
        address="上海市徐汇区",
        region_code="310104",
        filing_status=Agency.FilingStatus.APPROVED,
    )


@pytest.fixture
def agency() -> Agency:
    return make_agency()


@pytest.fixture
def enterprise() -> Enterprise:
    company = Enterprise.objects.create(
        credit_code="91310000MA1FL00001", name="乙化工公司", address="上海", region_code="310104"
    )
    for kind, name in (("wastewater", "DW001 总排口"), ("waste_gas", "DA001 排气筒")):
        services.outlet_create(
            enterprise=company,
            kind=kind,
            name=name,
            longitude=121.4,
            latitude=31.2,
            coordinate_system="wgs84",
        )
    return company


def hire(agency: Agency, number: str, name: str = "王五", posts: tuple[str, ...] = ()) -> Employment:
    return services.staff_hire(
        agency=agency,
        id_number=number,
        name=name,
        education=Employment.Education.BACHELOR,
        hired_on=dt.date(2020, 1, 1),
        posts=posts,
    )


def errors_of(report: ImportReport) -> list[tuple[int, str | None, str]]:
    return [(e.row, e.column, e.code) for e in report.errors]


# --- Templates ------------------------------------------------------------------------------------
def test_staff_template_has_headers_example_dropdowns_and_guide():
    book = load_workbook(io.BytesIO(staff_template()))
    sheet = book.worksheets[0]
    expected = "姓名 身份证号 手机号 学历 所学专业 职称 职务 劳动关系 岗位（多个用、分隔） 入职时间"
    assert [c.value for c in sheet[1]] == expected.split()
    example = [c.value for c in sheet[2]]
    assert example[1] == "（请填写 18 位身份证号）"  # a placeholder: no response shows a whole ID number
    assert sheet["B2"].number_format == "@"  # typed as text, or Excel would round the number
    assert example[9].date() == dt.date(2020, 7, 1)  # a real Excel date, not text
    dropdowns = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert set(dropdowns) == {"D2", "F2", "H2"}  # 学历, 职称, 劳动关系
    assert dropdowns["D2"] == '"' + ",".join(Employment.Education.labels) + '"'
    assert "正式员工" in dropdowns["H2"]
    guide = "\n".join(str(c.value) for row in book["说明"].iter_rows() for c in row)
    assert "采样人员（sampler，须持有效能力证书）" in guide
    assert "登记人员（registrar）" in guide
    assert "本科（bachelor）" in guide


def test_instrument_template_has_headers_dropdown_and_analytes():
    book = load_workbook(io.BytesIO(instrument_template()))
    sheet = book.worksheets[0]
    expected = (
        "排口名称 设备类型 监测因子（多个用、分隔） 生产厂家 规格型号 出厂编号 量程下限 量程上限 计量单位"
    )
    assert [c.value for c in sheet[1]] == expected.split()
    (dropdown,) = sheet.data_validations.dataValidation
    assert str(dropdown.sqref).startswith("B2:")
    assert "水质在线分析仪" in dropdown.formula1
    guide = {row[0]: row[1:] for row in book["说明"].iter_rows(values_only=True)}
    assert "氨氮 (NH3-N)（nh3n）" in guide["监测因子（多个用、分隔）"][1]
    assert [guide[h][0] for h in ("排口名称", "生产厂家", "规格型号", "出厂编号", "量程下限")] == [
        "是"
    ] * 4 + ["否"]


def test_staff_template_example_row_left_in_is_reported_not_imported(agency):
    report = staff_import(agency=agency, file=staff_template())
    assert (report.total, report.imported) == (1, 0)
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "身份证号", "invalid_resident_id")]
    assert not Person.objects.exists()


def test_staff_template_round_trip(agency):
    certified = services.person_for(id_number=rid(7), name="钱七")
    today = timezone.localdate()
    services.certificate_add(
        person=certified,
        post_code="sampler",
        number="CY-001",
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=365),
    )
    content = fill(
        staff_template(),
        [
            staff_row(
                name="张三", id_number=rid(1), posts="技术负责人、授权签字人", hired_on=dt.date(2020, 7, 1)
            ),
            # codes instead of labels, a text date, a phone typed as a number, a post by its code
            staff_row(
                name="钱七",
                id_number=rid(7),
                phone=13900000000,
                education="postgraduate",
                title="",
                relation="dispatched",
                posts="sampler, 送样人员",
                hired_on="2019-05-20",
            ),
        ],
    )
    report = staff_import(agency=agency, file=content)
    assert (report.total, report.imported, report.errors) == (2, 2, [])

    first = Employment.objects.get(person__id_number=rid(1))
    assert (first.agency, first.person.name, first.person.phone) == (agency, "张三", "13800000000")
    assert (first.education, first.title, first.relation) == ("bachelor", "intermediate", "employee")
    assert (first.major, first.position, first.hired_on) == ("环境科学", "工程师", dt.date(2020, 7, 1))
    assert set(first.posts.values_list("code", flat=True)) == {"technical_manager", "signatory"}
    second = Employment.objects.get(person=certified)
    assert (second.education, second.title, second.relation) == ("postgraduate", "none", "dispatched")
    assert second.hired_on == dt.date(2019, 5, 20)
    assert set(second.posts.values_list("code", flat=True)) == {"sampler", "courier"}
    assert Person.objects.get(id_number=rid(7)).phone == ""  # the person existed: phone not overwritten


def test_uploaded_file_is_accepted(agency):
    upload = SimpleUploadedFile("staff.xlsx", xlsx([staff_row()]))
    assert staff_import(agency=agency, file=upload).imported == 1


# --- Row errors -----------------------------------------------------------------------------------
def error_file(agency: Agency) -> bytes:
    services.person_for(id_number=rid(9), name="孙九")
    hire(agency, rid(10), name="周十")
    return xlsx(
        [
            staff_row(id_number=rid(1)),  # 2: good
            staff_row(id_number=wrong_check(rid(2))),  # 3
            staff_row(id_number=rid(3), name=""),  # 4
            staff_row(id_number=rid(4), education="研究生"),  # 5
            staff_row(id_number=rid(5), hired_on="2021/03/01"),  # 6
            staff_row(id_number=rid(6), posts="技术负责人、厨师"),  # 7
            staff_row(id_number=rid(7), posts="采样人员"),  # 8: no certificate
            staff_row(id_number=rid(9), name="孙久"),  # 9: on file under another name
            [None] * len(STAFF_COLUMNS),  # 10: blank, skipped
            staff_row(id_number=rid(11), position="很" * 51),  # 11: longer than the field
            staff_row(id_number=rid(12), education="小学", hired_on="明天"),  # 12: two bad cells
            staff_row(id_number=rid(10), name="周十"),  # 13: already on this agency's staff
        ]
    )


EXPECTED_ERRORS = [
    (3, "身份证号", "invalid_resident_id"),
    (4, "姓名", "excel_required"),
    (5, "学历", "excel_invalid_value"),
    (6, "入职时间", "excel_invalid_value"),
    (7, "岗位（多个用、分隔）", "unknown_post"),
    (8, "岗位（多个用、分隔）", "certificate_required"),
    (9, "姓名", "person_name_mismatch"),
    (11, "职务", "excel_invalid_value"),
    (12, "学历", "excel_invalid_value"),
    (12, "入职时间", "excel_invalid_value"),
    (13, "身份证号", "person_already_on_staff"),
]


def test_every_error_is_reported_with_its_row_and_nothing_is_imported(agency):
    content = error_file(agency)
    people = Person.objects.count()
    report = staff_import(agency=agency, file=content)

    assert (report.total, report.imported) == (11, 0)
    assert errors_of(report) == EXPECTED_ERRORS
    assert Employment.objects.filter(agency=agency).count() == 1  # only the one hired before
    assert Person.objects.count() == people  # not even the good row's person
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert messages[(3, "身份证号")] == "居民身份证号码无效：校验位不正确，请核对"
    assert messages[(4, "姓名")] == "“姓名”不能为空。"
    assert "本科" in messages[(5, "学历")]
    assert messages[(7, "岗位（多个用、分隔）")] == "未知岗位：厨师。"
    assert "采样人员" in messages[(8, "岗位（多个用、分隔）")]
    assert "50" in messages[(11, "职务")]  # Django's max-length message, in Chinese
    for error in report.errors:
        assert error.message
        assert not any(rid(n) in error.message for n in range(20))


def test_partial_imports_the_good_rows_and_reports_the_rest(agency):
    report = staff_import(agency=agency, file=error_file(agency), partial=True)
    assert (report.total, report.imported) == (11, 1)
    assert errors_of(report) == EXPECTED_ERRORS
    assert Employment.objects.filter(agency=agency, person__id_number=rid(1)).exists()
    assert not Person.objects.filter(id_number=rid(7)).exists()  # a refused row leaves nothing behind


def test_duplicate_id_in_one_file(agency):
    number = rid(1)
    content = xlsx(
        [
            staff_row(id_number=number),
            staff_row(id_number=rid(2), name="李四"),
            staff_row(id_number=number.lower()),
        ]
    )
    report = staff_import(agency=agency, file=content)
    assert errors_of(report) == [(4, "身份证号", "excel_duplicate_row")]
    assert report.errors[0].message == f"身份证号 {mask_resident_id(number)} 与第 2 行重复。"
    assert number not in report.errors[0].message
    assert (report.imported, Employment.objects.count()) == (0, 0)

    report = staff_import(agency=agency, file=content, partial=True)
    assert (report.imported, Employment.objects.count()) == (2, 2)


def test_person_active_at_another_agency_stops_the_whole_file(agency):
    other = make_agency("2", name="丙检测公司")
    hire(other, rid(5), name="吴五")
    content = xlsx([staff_row(id_number=rid(1)), staff_row(id_number=rid(5), name="吴五")])
    report = staff_import(agency=agency, file=content)
    assert errors_of(report) == [(3, "身份证号", "person_active_elsewhere")]
    # Registered elsewhere, not where (F9 item 6); the way forward is a transfer report.
    assert "丙检测公司" not in report.errors[0].message
    assert "重复人员报备" in report.errors[0].message
    assert report.imported == 0
    assert not Employment.objects.filter(agency=agency).exists()
    assert Employment.objects.get(person__id_number=rid(5)).agency == other


# --- Whole-file errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        [*STAFF_HEADERS[1:], STAFF_HEADERS[0]],  # reordered
        STAFF_HEADERS[:-1],  # one missing
        [*STAFF_HEADERS, "备注"],  # one extra
        ["name", *STAFF_HEADERS[1:]],  # renamed
    ],
)
def test_wrong_header_is_refused(agency, headers):
    with pytest.raises(DomainError) as caught:
        staff_import(agency=agency, file=xlsx([staff_row()], headers=headers))
    assert caught.value.error is EXCEL_WRONG_TEMPLATE
    assert caught.value.error.status == 400
    assert "姓名、身份证号、手机号" in caught.value.error.message("zh-hans", **caught.value.params)
    assert not Employment.objects.exists()


def test_the_other_template_is_the_wrong_template(agency, enterprise):
    with pytest.raises(DomainError) as caught:
        staff_import(agency=agency, file=instrument_template())
    assert caught.value.error is EXCEL_WRONG_TEMPLATE
    with pytest.raises(DomainError) as caught:
        instrument_import(enterprise=enterprise, file=staff_template())
    assert caught.value.error is EXCEL_WRONG_TEMPLATE


@pytest.mark.parametrize(
    "content",
    [JPEG.read_bytes(), b"", b"PK\x03\x04 not really a zip", "姓名,身份证号\n张三,1\n".encode()],
    ids=["jpeg", "empty", "broken-zip", "csv"],
)
def test_a_file_that_is_not_xlsx_is_refused(agency, content):
    with pytest.raises(DomainError) as caught:
        staff_import(agency=agency, file=content)
    assert caught.value.error is EXCEL_UNREADABLE
    assert caught.value.error.status == 400


def test_a_jpeg_upload_is_refused(agency, enterprise):
    upload = SimpleUploadedFile("staff.xlsx", JPEG.read_bytes(), content_type="image/jpeg")
    with pytest.raises(DomainError) as caught:
        instrument_import(enterprise=enterprise, file=upload)
    assert caught.value.error is EXCEL_UNREADABLE


def test_too_many_rows(agency, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 2)
    blank = [None] * len(STAFF_COLUMNS)
    two = [staff_row(id_number=rid(1)), blank, blank, staff_row(id_number=rid(2), name="李四")]
    assert staff_import(agency=agency, file=xlsx(two)).imported == 2  # blank rows do not count
    with pytest.raises(DomainError) as caught:
        staff_import(agency=agency, file=xlsx([staff_row(id_number=rid(n)) for n in range(3, 6)]))
    assert caught.value.error is EXCEL_TOO_MANY_ROWS
    assert caught.value.params == {"limit": 2}
    assert Employment.objects.count() == 2


# --- Instruments ----------------------------------------------------------------------------------
def test_instrument_template_round_trip(enterprise):
    content = fill(
        instrument_template(),
        [
            [c.example for c in INSTRUMENT_COLUMNS],  # the example row, untouched
            instrument_row(
                outlet="DA001 排气筒",
                kind="cems",
                analytes="SO2，nox、颗粒物、流速/流量（废气）",
                maker="乙仪器公司",
                serial_number="C-9",
                range_low=None,
                range_high="",
                unit="",
            ),
            instrument_row(serial_number="S-2", range_low="0.5", range_high=99.25),
        ],
    )
    report = instrument_import(enterprise=enterprise, file=content)
    assert (report.total, report.imported, report.errors) == (3, 3, [])
    example = Instrument.objects.get(serial_number="SN2024001")
    assert (example.outlet.name, example.kind, example.analytes) == (
        "DW001 总排口",
        "water_analyzer",
        ["cod", "nh3n"],
    )
    assert (example.range_low, example.range_high, example.unit) == (Decimal(0), Decimal(500), "mg/L")
    cems = Instrument.objects.get(serial_number="C-9")
    assert (cems.kind, cems.analytes) == ("cems", ["so2", "nox", "particulates", "gas_flow"])
    assert (cems.range_low, cems.range_high) == (None, None)
    third = Instrument.objects.get(serial_number="S-2")
    assert (third.range_low, third.range_high) == (Decimal("0.5"), Decimal("99.25"))


@pytest.mark.parametrize("partial", [False, True])
def test_instrument_row_errors(enterprise, partial):
    elsewhere = Enterprise.objects.create(
        credit_code="X" * 18, name="丁公司", address="上海", region_code="310104"
    )
    services.outlet_create(
        enterprise=elsewhere,
        kind="wastewater",
        name="DW009",
        longitude=121,
        latitude=31,
        coordinate_system="wgs84",
    )
    outlet = enterprise.outlets.get(name="DW001 总排口")
    services.instrument_create(
        outlet=outlet, kind="flow_meter", analytes=["water_flow"], maker="甲", model="F", serial_number="F-1"
    )
    content = xlsx(
        [
            instrument_row(serial_number="S-1"),  # 2: good
            instrument_row(serial_number="S-2", outlet="DW009"),  # 3: another enterprise's outlet
            instrument_row(serial_number="S-3", analytes="SO2"),  # 4: a gas analyte at a wastewater outlet
            instrument_row(serial_number="S-4", kind="天平"),  # 5
            instrument_row(serial_number="S-5", range_low=10, range_high=10),  # 6
            instrument_row(serial_number="S-6", range_high="一千"),  # 7
            instrument_row(serial_number="S-1"),  # 8: same maker and serial as row 2
            instrument_row(serial_number="S-8", analytes=""),  # 9
            instrument_row(serial_number="F-1", maker="甲"),  # 10: already registered
            instrument_row(serial_number="S-10", analytes="COD、汞"),  # 11
            instrument_row(serial_number="S-11", range_high=Decimal("1.23456")),  # 12: more than 4 decimals
            instrument_row(serial_number="S-12", maker=" "),  # 13
        ],
        headers=INSTRUMENT_HEADERS,
    )
    report = instrument_import(enterprise=enterprise, file=content, partial=partial)
    assert errors_of(report) == [
        (3, "排口名称", "excel_unknown_outlet"),
        (4, "监测因子（多个用、分隔）", "analyte_not_for_outlet"),
        (5, "设备类型", "excel_invalid_value"),
        (6, "量程上限", "validation_failed"),
        (7, "量程上限", "excel_invalid_value"),
        (8, "出厂编号", "excel_duplicate_row"),
        (9, "监测因子（多个用、分隔）", "excel_required"),
        (10, "出厂编号", "instrument_already_registered"),
        (11, "监测因子（多个用、分隔）", "unknown_analyte"),
        (12, "量程上限", "excel_invalid_value"),
        (13, "生产厂家", "excel_required"),
    ]
    messages = {e.row: e.message for e in report.errors}
    assert messages[3] == "本企业没有名为“DW009”的排口。"
    assert messages[6] == "量程上限须大于下限。"
    assert messages[8] == "设备（甲仪器公司 出厂编号 S-1）与第 2 行重复。"
    assert messages[9] == "“监测因子（多个用、分隔）”不能为空。"
    assert messages[11] == "未知监测因子：汞。"
    assert report.imported == (1 if partial else 0)
    assert Instrument.objects.filter(serial_number="S-1").exists() is partial
    assert Instrument.objects.count() == (2 if partial else 1)


# --- Exports --------------------------------------------------------------------------------------
def test_staff_export_masks_resident_ids(agency):
    numbers = [rid(n) for n in range(1, 4)] + ["11010519491231002X"]
    for index, number in enumerate(numbers):
        hire(agency, number, name=f"人员{index}", posts=("technical_manager", "signatory"))
    services.staff_depart(
        employment=Employment.objects.get(person__id_number=numbers[0]), departed_on=dt.date(2024, 5, 1)
    )

    content = staff_export(Employment.objects.filter(agency=agency))
    text = all_text(content)
    for number in numbers:
        assert number not in text
        assert number[:17] not in text
        assert number[-14:] not in text
        assert mask_resident_id(number) in text

    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [c.value for c in sheet[1]] == [*STAFF_HEADERS, "人员状态", "离职时间"]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 4
    departed = rows[mask_resident_id(numbers[0])]
    assert departed[0] == "人员0"
    assert departed[3] == "本科"
    assert departed[8] == "技术负责人、授权签字人"
    assert departed[10] == "离职"
    assert departed[11].date() == dt.date(2024, 5, 1)
    assert rows[mask_resident_id(numbers[1])][10:] == ("在职", None)


def test_export_does_a_bounded_number_of_queries(agency, enterprise, django_assert_max_num_queries):
    for n in range(1, 26):
        hire(agency, rid(n), name=f"人员{n:02d}", posts=("technical_manager", "registrar"))
    outlet = enterprise.outlets.get(name="DA001 排气筒")
    for n in range(25):
        services.instrument_create(
            outlet=outlet, kind="cems", analytes=["so2", "nox"], maker="乙", model="C", serial_number=f"C-{n}"
        )

    with django_assert_max_num_queries(2):  # the staff, then their posts
        content = staff_export(Employment.objects.filter(agency=agency))
    assert load_workbook(io.BytesIO(content)).worksheets[0].max_row == 26
    with django_assert_max_num_queries(1):
        content = instrument_export(Instrument.objects.filter(outlet__enterprise=enterprise))
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet.max_row == 26
    assert [c.value for c in sheet[2]][:3] == [
        "DA001 排气筒",
        "烟气排放连续监测系统 (CEMS)",
        "二氧化硫 (SO2)、氮氧化物 (NOx)",
    ]


def test_exported_instruments_import_again(enterprise):
    outlet = enterprise.outlets.get(name="DW001 总排口")
    services.instrument_create(
        outlet=outlet,
        kind="water_analyzer",
        analytes=["cod", "tp"],
        maker="甲",
        model="W",
        serial_number="W-1",
        range_low=0,
        range_high=200,
        unit="mg/L",
    )
    content = instrument_export(Instrument.objects.all())
    Instrument.objects.all().delete()
    report = instrument_import(enterprise=enterprise, file=content)
    assert (report.imported, report.errors) == (1, [])
    assert Instrument.objects.get().analytes == ["cod", "tp"]


def test_report_to_dict():
    report = ImportReport(
        total=2, imported=0, errors=[RowError(3, "姓名", "excel_required", "“姓名”不能为空。")]
    )
    assert report_to_dict(report) == {
        "total": 2,
        "imported": 0,
        "errors": [{"row": 3, "column": "姓名", "code": "excel_required", "message": "“姓名”不能为空。"}],
    }
