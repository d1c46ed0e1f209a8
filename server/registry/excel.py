"""Excel (.xlsx) templates, imports and exports of technical staff and instruments (seed 001
§3.1.1.2 技术人员 and §3.1.1.4 设施设备: 下载模板 / 导入 / 导出).

Cells are parsed here; every row is then validated by the registry service itself (``staff_hire``,
``instrument_create``) inside a savepoint, so the rules stay in ``services.py``. Resident ID numbers
never leave this module whole: messages and exports mask them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from server.errors import VALIDATION_FAILED, DomainError, ErrorCode
from server.registry import errors, services
from server.registry.identifiers import mask_resident_id
from server.registry.models import Agency, Analyte, Employment, Enterprise, Instrument, Person, Post
from server.spreadsheets import cell_value, text_cells

MAX_ROWS = 5000  # one upload stays one request: beyond this, split the file
LANG = "zh-hans"  # the people who fill these sheets read Chinese; the API renders reports as they are

EXCEL_UNREADABLE = ErrorCode(
    "excel_unreadable",
    400,
    "无法读取该文件，请上传用模板填写的 Excel 文件（.xlsx）。",
    "The file could not be read; upload an Excel file (.xlsx) filled in from the template.",
)
EXCEL_WRONG_TEMPLATE = ErrorCode(
    "excel_wrong_template",
    400,
    "表头与模板不符，第一行应依次为：{expected}。请重新下载模板填写。",
    "The header row does not match the template; it should be: {expected}. Download the template again.",
)
EXCEL_TOO_MANY_ROWS = ErrorCode(
    "excel_too_many_rows",
    400,
    "一次最多导入 {limit} 行，请分批导入。",
    "At most {limit} rows can be imported at once; split the file.",
)
EXCEL_REQUIRED = ErrorCode("excel_required", 400, "“{column}”不能为空。", "{column} is required.")
EXCEL_INVALID_VALUE = ErrorCode(
    "excel_invalid_value", 400, "“{column}”填写有误：{hint}", "The value in {column} is invalid."
)
EXCEL_DUPLICATE_ROW = ErrorCode(
    "excel_duplicate_row", 400, "{what}与第 {first_row} 行重复。", "Same {what} as row {first_row}."
)
EXCEL_UNKNOWN_OUTLET = ErrorCode(
    "excel_unknown_outlet",
    400,
    "本企业没有名为“{name}”的排口。",
    "The enterprise has no outlet named {name}.",
)


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's own row number (the header is row 1), so the user finds the cell
    column: str | None  # the column header, when the error is about one cell
    code: str
    message: str


@dataclass
class ImportReport:
    total: int
    imported: int
    errors: list[RowError]


def report_to_dict(report: ImportReport) -> dict[str, Any]:
    return asdict(report)


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    _: KW_ONLY  # the rest by name: a positional True once landed in ``kind``
    kind: str = "text"  # text | choice | date | list | decimal
    required: bool = False
    choices: type[models.TextChoices] | None = None
    source: models.Field | None = None  # its validators (max_length, digits) run before the database's
    # The template's row 2. The ID column holds a placeholder, not a real number: the template is an
    # API response like any other, and no response shows a whole resident ID number.
    example: Any = None
    note: str = ""  # the 说明 sheet's line for the column


def _f(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


_PHONE_NOTE = "11 位手机号，请以文本格式填写。"
_ID_NOTE = "18 位居民身份证号（末位可为 X），请以文本格式填写；在其他机构在职者不能导入（一人一机构）。"
_OUTLET_NOTE = "本企业已登记的排口或点位名称，须与系统中的名称一致。"
STAFF_COLUMNS = (
    Column("姓名", "name", required=True, source=_f(Person, "name"), example="张三"),
    # No ``source``: the service's resident ID check gives better reasons than a max-length check.
    Column("身份证号", "id_number", required=True, example="（请填写 18 位身份证号）", note=_ID_NOTE),
    Column("手机号", "phone", source=_f(Person, "phone"), example="13800138000", note=_PHONE_NOTE),
    Column("学历", "education", kind="choice", required=True, choices=Employment.Education, example="本科"),
    Column("所学专业", "major", source=_f(Employment, "major"), example="环境工程"),
    Column("职称", "title", kind="choice", choices=Employment.Title, example="中级"),
    Column("职务", "position", source=_f(Employment, "position"), example="技术负责人"),
    Column("劳动关系", "relation", kind="choice", choices=Employment.Relation, example="正式员工"),
    Column("岗位（多个用、分隔）", "posts", kind="list", example="技术负责人、授权签字人"),
    Column(
        "入职时间",
        "hired_on",
        kind="date",
        required=True,
        example=dt.date(2020, 7, 1),
        note="如 2020-07-01。",
    ),
)
INSTRUMENT_COLUMNS = (
    Column("排口名称", "outlet", required=True, example="DW001 总排口", note=_OUTLET_NOTE),
    Column(
        "设备类型", "kind", kind="choice", required=True, choices=Instrument.Kind, example="水质在线分析仪"
    ),
    Column(
        "监测因子（多个用、分隔）",
        "analytes",
        kind="list",
        required=True,
        example="化学需氧量 (COD)、氨氮 (NH3-N)",
    ),
    Column("生产厂家", "maker", required=True, source=_f(Instrument, "maker"), example="某某仪器有限公司"),
    Column("规格型号", "model", required=True, source=_f(Instrument, "model"), example="XX-2000"),
    Column(
        "出厂编号",
        "serial_number",
        required=True,
        source=_f(Instrument, "serial_number"),
        example="SN2024001",
    ),
    Column("量程下限", "range_low", kind="decimal", source=_f(Instrument, "range_low"), example=0),
    Column("量程上限", "range_high", kind="decimal", source=_f(Instrument, "range_high"), example=500),
    Column("计量单位", "unit", source=_f(Instrument, "unit"), example="mg/L"),
)
# Which cell a service's error is about (VALIDATION_FAILED names its fields in ``details``).
_ERROR_FIELDS = {
    errors.INVALID_RESIDENT_ID.code: "id_number",
    errors.PERSON_ALREADY_ON_STAFF.code: "id_number",
    errors.PERSON_ACTIVE_ELSEWHERE.code: "id_number",
    errors.PERSON_NAME_MISMATCH.code: "name",
    errors.UNKNOWN_POST.code: "posts",
    errors.CERTIFICATE_REQUIRED.code: "posts",
    errors.CERTIFICATE_NOT_VALID.code: "posts",
    errors.UNKNOWN_ANALYTE.code: "analytes",
    errors.ANALYTE_NOT_FOR_OUTLET.code: "analytes",
    errors.INSTRUMENT_ALREADY_REGISTERED.code: "serial_number",
    EXCEL_UNKNOWN_OUTLET.code: "outlet",
}
_LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")  # not "/" nor spaces: labels such as 流速/流量 hold them
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- Templates and exports ------------------------------------------------------------------------
def _workbook(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[Workbook, Any]:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, 2 * len(header) + 4)
    for row in rows:
        sheet.append([cell_value(value) for value in row])
        text_cells(sheet[sheet.max_row])  # a name starting with = stays a name
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"  # else Excel shows the date as a serial number
    return book, sheet


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _template(title: str, columns: Sequence[Column], notes: dict[str, str]) -> bytes:
    book, sheet = _workbook(title, [c.header for c in columns], [[c.example for c in columns]])
    last = MAX_ROWS + 1
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if column.field in ("id_number", "phone"):
            # Text, or Excel turns an 18-digit number into 1.10105E+17 and loses the last digits.
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
        if column.kind == "date":
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
        if column.choices is not None:
            # A warning, not a stop: the codes listed on the 说明 sheet are accepted too.
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices.labels) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                error="请从下拉列表中选择（或填写说明页中的代码）。",
            )
            validation.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(validation)
    guide = book.create_sheet("说明")
    guide.append(["列名", "是否必填", "填写说明"])
    for column in columns:
        note = column.note or notes.get(column.field) or (column.choices and _choice_note(column.choices))
        guide.append([column.header, "是" if column.required else "否", note or ""])
    guide.append(["注意", "", "第 2 行是示例，导入前请删除或改为实际内容；空行会被跳过。"])
    guide.append(["注意", "", "日期可填 Excel 日期或文本 YYYY-MM-DD；选项可填中文名称或括号中的代码。"])
    guide.append(
        ["注意", "", f"一次最多导入 {MAX_ROWS} 行；任何一行有误时整表不导入，请按提示修改后重新导入。"]
    )
    guide.column_dimensions["A"].width, guide.column_dimensions["C"].width = 26, 100
    return _bytes(book)


def _choice_note(choices: type[models.TextChoices]) -> str:
    return "可选：" + "、".join(f"{label}（{value}）" for value, label in choices.choices)


def staff_template() -> bytes:
    posts = "、".join(
        f"{p.name}（{p.code}{'，须持有效能力证书' if p.requires_certificate else ''}）"
        for p in Post.objects.order_by("id")
    )
    note = f"可填岗位名称或代码，多个用、分隔：{posts}。须持证的岗位，该人员须已登记有效证书。"
    return _template("技术人员", STAFF_COLUMNS, {"posts": note})


def instrument_template() -> bytes:
    analytes = "、".join(f"{label}（{value}）" for value, label in Analyte.choices)
    note = f"可填名称或代码，多个用、分隔，须适用于该排口的类型（废水 / 废气）：{analytes}。"
    return _template("自动监控设备", INSTRUMENT_COLUMNS, {"analytes": note, "range_high": "须大于量程下限。"})


def staff_export(queryset: models.QuerySet[Employment]) -> bytes:
    """The staff list in the template's columns plus status; two queries whatever the row count."""
    headers = [c.header for c in STAFF_COLUMNS] + ["人员状态", "离职时间"]
    rows = []
    for e in queryset.select_related("person").prefetch_related("posts"):
        p, posts = e.person, "、".join(post.name for post in e.posts.all())
        row = [p.name, mask_resident_id(p.id_number), p.phone, e.get_education_display(), e.major]
        row += [e.get_title_display(), e.position, e.get_relation_display(), posts, e.hired_on]
        rows.append([*row, e.get_status_display(), e.departed_on])
    return _bytes(_workbook("技术人员", headers, rows)[0])


def instrument_export(queryset: models.QuerySet[Instrument]) -> bytes:
    labels = dict(Analyte.choices)
    rows = []
    for i in queryset.select_related("outlet"):  # one query whatever the row count
        analytes = "、".join(labels.get(a, a) for a in i.analytes)
        row = [i.outlet.name, i.get_kind_display(), analytes, i.maker, i.model, i.serial_number]
        rows.append([*row, i.range_low, i.range_high, i.unit])
    return _bytes(_workbook("自动监控设备", [c.header for c in INSTRUMENT_COLUMNS], rows)[0])


# --- Reading and parsing --------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed as a number comes back as 13800138000.0
    return "" if value is None else str(value).strip()


def _read(file: bytes | IO[bytes], columns: Sequence[Column]) -> list[tuple[int, tuple[Any, ...]]]:
    """The non-blank data rows with their spreadsheet row numbers, after checking the header."""
    try:
        book = load_workbook(
            io.BytesIO(file) if isinstance(file, bytes) else file, read_only=True, data_only=True
        )
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise DomainError(EXCEL_UNREADABLE) from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        expected = tuple(c.header for c in columns)
        header = tuple(_text(v) for v in next(rows, ()))
        if header[: len(expected)] != expected or any(header[len(expected) :]):
            raise DomainError(
                EXCEL_WRONG_TEMPLATE, details={"expected": list(expected)}, expected="、".join(expected)
            )
        found = []
        for number, values in enumerate(rows, start=2):
            values = (tuple(values) + (None,) * len(columns))[: len(columns)]
            if all(_text(v) == "" for v in values):
                continue
            if len(found) == MAX_ROWS:
                raise DomainError(EXCEL_TOO_MANY_ROWS, details={"limit": MAX_ROWS}, limit=MAX_ROWS)
            found.append((number, values))
        return found
    finally:
        book.close()


def _invalid(hint: str) -> DomainError:
    return DomainError(EXCEL_INVALID_VALUE, hint=hint)


def _cell(column: Column, raw: Any) -> Any:
    text = _text(raw)
    if not text:
        if column.required:
            raise DomainError(EXCEL_REQUIRED)
        return None
    if column.kind == "choice":
        lookup = {
            **{v.lower(): v for v in column.choices.values},
            **{lb: v for v, lb in column.choices.choices},
        }
        value = lookup.get(text) or lookup.get(text.lower())
        if value is not None:
            return value
        raise _invalid("可选：" + "、".join(column.choices.labels) + "。")
    if column.kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if _ISO_DATE.fullmatch(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        raise _invalid("应为日期，如 2020-07-01。")
    if column.kind == "list":
        return [item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip()]
    if column.kind == "decimal":
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise _invalid("应为数字。")
        return value
    return text


def _parse(
    number: int, values: Sequence[Any], columns: Sequence[Column], report: ImportReport
) -> dict | None:
    """The row's values by field; every bad cell of the row is reported, not just the first."""
    data, ok = {}, True
    for column, raw in zip(columns, values, strict=True):
        try:
            value = _cell(column, raw)
            if value is not None and column.source is not None:
                with translation.override(LANG):
                    try:
                        column.source.run_validators(value)
                    except ValidationError as exc:
                        raise _invalid("".join(exc.messages)) from None
        except DomainError as exc:
            message = exc.error.message(LANG, **{**exc.params, "column": column.header})
            report.errors.append(RowError(number, column.header, exc.error.code, message))
            ok = False
            continue
        if value not in (None, []):
            data[column.field] = value
    return data if ok else None


def _row_error(number: int, exc: DomainError, columns: Sequence[Column]) -> RowError:
    field = _ERROR_FIELDS.get(exc.error.code)
    message = exc.error.message(LANG, **exc.params)
    if exc.error is VALIDATION_FAILED and isinstance(exc.details, dict) and exc.details:
        # The generic "提交的数据有误" says nothing; the service's field messages do.
        field = next(iter(exc.details))
        message = "".join(
            str(m) for ms in exc.details.values() for m in (ms if isinstance(ms, list) else [ms])
        )
    header = next((c.header for c in columns if c.field == field), None)
    return RowError(number, header, exc.error.code, message)


def _import(
    file: bytes | IO[bytes],
    columns: Sequence[Column],
    save: Callable[[dict], object],
    key: Callable[[dict], tuple[object, str, str]],  # what makes a row a duplicate: (key, field, words)
    partial: bool,
) -> ImportReport:
    rows = _read(file, columns)
    report = ImportReport(total=len(rows), imported=0, errors=[])
    seen: dict[object, int] = {}
    with transaction.atomic():
        for number, values in rows:
            data = _parse(number, values, columns, report)
            if data is None:
                continue
            identity, field, what = key(data)
            if identity in seen:
                header = next(c.header for c in columns if c.field == field)
                message = EXCEL_DUPLICATE_ROW.message(LANG, what=what, first_row=seen[identity])
                report.errors.append(RowError(number, header, EXCEL_DUPLICATE_ROW.code, message))
                continue
            seen[identity] = number
            try:
                with transaction.atomic():  # a savepoint: a refused row leaves nothing behind
                    save(data)
            except DomainError as exc:
                report.errors.append(_row_error(number, exc, columns))
            else:
                report.imported += 1
        if report.errors and not partial:
            transaction.set_rollback(True)  # all or nothing: the whole file is fixed and sent again
            report.imported = 0
    report.errors.sort(key=lambda e: e.row)
    return report


def staff_import(*, agency: Agency, file: bytes | IO[bytes], partial: bool = False) -> ImportReport:
    codes = {name: code for code, name in Post.objects.values_list("code", "name")}

    def save(data: dict) -> None:
        # Unknown names go through as they are, for the service to report as unknown posts.
        data["posts"] = [codes.get(p, p) for p in data.get("posts", [])]
        services.staff_hire(agency=agency, **data)

    def key(data: dict) -> tuple[object, str, str]:
        number = data["id_number"].upper()
        return number, "id_number", f"身份证号 {mask_resident_id(number)} "

    return _import(file, STAFF_COLUMNS, save, key, partial)


def _analyte_aliases() -> dict[str, str]:
    aliases = {}
    for value, label in Analyte.choices:
        short, _, abbreviation = label.partition(" (")
        for alias in (value, label, short, abbreviation.rstrip(")")):
            if alias:
                aliases[alias.lower()] = value
    return aliases


def instrument_import(
    *, enterprise: Enterprise, file: bytes | IO[bytes], partial: bool = False
) -> ImportReport:
    outlets = {o.name: o for o in enterprise.outlets.all()}
    aliases = _analyte_aliases()

    def save(data: dict) -> None:
        name = data.pop("outlet")
        if name not in outlets:
            raise DomainError(EXCEL_UNKNOWN_OUTLET, name=name)
        data["analytes"] = [aliases.get(a.lower(), a) for a in data.get("analytes", [])]
        services.instrument_create(outlet=outlets[name], **data)

    def key(data: dict) -> tuple[object, str, str]:
        maker, serial = data["maker"], data["serial_number"]
        return (maker, serial), "serial_number", f"设备（{maker} 出厂编号 {serial}）"

    return _import(file, INSTRUMENT_COLUMNS, save, key, partial)


EXCEL_ROWS_REJECTED = ErrorCode(
    "excel_rows_rejected",
    400,
    "导入文件中有 {count} 处错误，未导入任何数据。请按错误报告修改后重新导入。",
    "The file has {count} errors; nothing was imported. Fix them as the report says and import again.",
)
