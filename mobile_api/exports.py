"""Lists as files (导出): tables (CSV streamed row by row, XLSX built with openpyxl's write-only
workbook), GeoJSON (check-ins, tracks) streamed feature by feature, and ZIPs of photos with their
manifest streamed file by file. Each export takes the rows its list shows (same scope, same filters);
the rows of each list are written here.

Cells that a spreadsheet would run as a formula (=, +, -, @ first) are written as text: a project
name typed as ``=HYPERLINK(...)`` must not become a link in the regulator's Excel (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation

from media_rules.errors import MEDIA_PURGED
from mobile_api.common import XLSX, xlsx_response
from server.errors import DomainError
from server.fields import DayField, IdField, instant
from server.geo import CoordinateSystem, from_wgs84
from server.om import forms
from server.spreadsheets import cell_value, text_cells

CSV = "text/csv"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=["xlsx", "csv"], default="xlsx")


FORMAT_PARAMETER = OpenApiParameter(
    "format", str, enum=["xlsx", "csv"], description="xlsx (default) or csv (UTF-8 with BOM)"
)
TABLE_RESPONSES = {(200, XLSX): OpenApiTypes.BINARY, (200, CSV): OpenApiTypes.STR}


class FileFormatNegotiation(DefaultContentNegotiation):
    """On an export, ``?format=`` names the file type the view writes itself, not one of DRF's
    renderers (which would answer 404 to ``xlsx``); errors still leave as JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _disposition(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    """csv.writer's file: hands back each line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def csv_response(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], filename: str
) -> StreamingHttpResponse:
    """UTF-8 with a byte-order mark, which Excel needs to read Chinese from a CSV file."""

    def lines() -> Iterator[bytes]:
        writer = csv.writer(_Line())
        yield ("\ufeff" + writer.writerow(list(headers))).encode("utf-8")
        for row in rows:
            yield writer.writerow([_csv_value(v) for v in row]).encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type=f"{CSV}; charset=utf-8")
    response["Content-Disposition"] = _disposition(filename)
    return response


def xlsx_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return xlsx_sheets([(title, headers, rows)])


def xlsx_sheets(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook of one sheet per (title, headers, rows)."""
    book = Workbook(write_only=True)
    for title, headers, rows in sheets:
        _write_sheet(book, title, headers, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_sheet(book: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet = book.create_sheet(title)
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, 2 * len(header) + 4)
    sheet.freeze_panes = "A2"
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=cell_value(value))
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        text_cells(cells)  # never a formula, whatever the text starts with
        sheet.append(cells)


def table_response(
    file_format: str, *, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse | StreamingHttpResponse:
    """``rows`` hold plain values; datetimes are naive local time (Excel has no time zones)."""
    if file_format == "csv":
        return csv_response(headers, rows, f"{title}.csv")
    return xlsx_response(xlsx_table(title, headers, rows), f"{title}.xlsx")


PDF = "application/pdf"


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """A printed form, opened in the browser's viewer (inline) and saved under its own name."""
    response = HttpResponse(content, content_type=PDF)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    return response


def local(value: dt.datetime | None) -> dt.datetime | None:
    """A table cell's time: naive local time to the second (Excel has no time zones; Beijing time)."""
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0) if value else None


def _person(user) -> str:
    return user.person.name if user.person_id else user.username


# --- Rows of the list exports ----------------------------------------------------------------------
TASK_EXPORT_HEADERS = (
    "任务ID",
    "任务名称",
    "项目编号",
    "项目名称",
    "监测类型",
    "任务状态",
    "照片数",
    "样品编号",
    "备注",
    "创建时间",  # on the phone (F10 item 7): before the task's first move
    "服务器接收时间",
    "最近状态变更",
)


def task_export_row(task) -> list:
    """A task annotated by ``tasks.with_row_data`` (its project, photo count, last move)."""
    return [
        str(task.pk),
        task.name,
        task.project.number,
        task.project.name,
        task.project.get_monitoring_type_display(),
        task.get_status_display(),
        task.photo_count,
        ", ".join(task.sample_codes),
        task.note,
        local(task.created_at),
        local(task.received_at),
        local(task.last_move_at),
    ]


OM_RECORD_EXPORT_HEADERS = (
    "记录ID",
    "运维日期",
    "运维任务编号",
    "排污企业",
    "排口/点位",
    "表单编码",
    "表单名称",
    "记录状态",
    "版本",
    "填报人",
    "仪器",
    "提交时间",
    "作废原因",
    "不合格判定数",
    "计算判定",  # each: value, limit, 合格/不合格, 待核实, the clause (seed 003 表单详情)
    "填报内容",  # each answer by its item's label, section by section
)
OM_ANSWER_HEADERS = (
    "记录ID",
    "运维日期",
    "排口/点位",
    "表单名称",
    "检查维护频次",
    "章节",
    "仪器",
    "检查项目",
    "填报内容",
)
OM_JUDGEMENT_HEADERS = (
    "记录ID",
    "运维日期",
    "排口/点位",
    "表单名称",
    "章节",
    "仪器",
    "计算项",
    "计算值",
    "限值",
    "判定",
    "待核实",
    "依据条款",
    "比对数据",  # a real-water-sample comparison's pairs, one by one
)


def om_record_sections(record) -> list[dict]:
    """The record laid out as its detail page shows it (``server.om.forms.present``): a record
    selected with its template and its instruments prefetched, so that a list runs no query per row."""
    return forms.present(record.template, record.answers, record.judgements, list(record.instruments.all()))


def _instrument_name(section: dict) -> str:
    i = section.get("instrument")
    return f"{i['name']} {i['model']}（{i['serial_number']}）" if i else ""


def om_answer_text(item: dict) -> str:
    """One answer as text: a table row by row (each cell with its column's label), else as shown."""
    if item.get("kind") == "table" and item.get("rows"):
        columns = [c["label"] + (f"（{c['unit']}）" if c.get("unit") else "") for c in item["columns"]]
        return "；".join(
            f"第{n}行：" + "，".join(f"{c} {v}" for c, v in zip(columns, row, strict=False) if v != "")
            for n, row in enumerate(item["rows"], start=1)
        )
    return item["text"]


def om_judgement_result(j: dict) -> str:
    """合格 / 不合格 / 未判定 (with why it was not judged), 待核实 for a provisional limit set."""
    why = f"（{j['reason_text']}）" if j.get("passed") is None and j.get("reason_text") else ""
    return j["result"] + why + ("（待核实）" if j["provisional"] else "")


def _reading(value) -> str:
    return "—" if value is None else f"{value:g}" if isinstance(value, (int, float)) else str(value)


def om_pairs_text(j: dict) -> str:
    """A real-water-sample comparison's pairs (HJ 355-2019), one by one: instrument, lab, result."""
    return "；".join(
        f"第{p['row']}对 仪器 {_reading(p['instrument'])} / 实验室 {_reading(p['lab'])} {p['result']}"
        + (f"（{p['reason_text']}）" if p.get("reason_text") else "")
        for p in j.get("pairs") or []
    )


def om_judgement_text(j: dict, instrument: str = "") -> str:
    """``零点漂移 12.5%，限值 ±10%，不合格（待核实），依据：HJ 355-2019 …``"""
    label = f"{instrument} {j['label']}".strip()
    text = f"{label} {j['value_text']}，限值 {j['limit_text']}，{om_judgement_result(j)}"
    pairs = om_pairs_text(j)
    text += f"（{pairs}）" if pairs else ""
    return text + (f"，依据：{j['source']}" if j.get("source") else "")


def _section_title(section: dict) -> str:
    instrument = _instrument_name(section)
    return f"{section['title']}（{instrument}）" if instrument else section["title"]


def om_record_export_row(record, sections: list[dict] | None = None) -> list:
    sections = om_record_sections(record) if sections is None else sections
    judgements = [om_judgement_text(j, _instrument_name(s)) for s in sections for j in s["judgements"]]
    answers = [
        f"【{_section_title(s)}】" + "；".join(f"{i['label']}：{om_answer_text(i)}" for i in s["items"])
        for s in sections
    ]
    return [
        str(record.pk),
        record.om_date,
        record.task.number,
        record.enterprise.name,
        record.outlet.name,
        record.template.code,
        record.template.name,
        record.get_status_display(),
        record.version,
        _person(record.filled_by),
        ", ".join(f"{i.get_kind_display()} {i.model}" for i in record.instruments.all()),
        local(record.submitted_at),
        record.void_reason,
        sum(1 for j in record.judgements or [] if isinstance(j, dict) and j.get("passed") is False),
        "\n".join(judgements),
        "\n".join(answers),
    ]


def om_answer_rows(record, sections: list[dict]) -> Iterator[list]:
    for s in sections:
        for item in s["items"]:
            yield [
                str(record.pk),
                record.om_date,
                record.outlet.name,
                record.template.name,
                s.get("group_label") or "",
                s["title"],
                _instrument_name(s),
                item["label"],
                om_answer_text(item),
            ]


def om_judgement_rows(record, sections: list[dict]) -> Iterator[list]:
    for s in sections:
        for j in s["judgements"]:
            yield [
                str(record.pk),
                record.om_date,
                record.outlet.name,
                record.template.name,
                s["title"],
                _instrument_name(s),
                j["label"],
                j["value_text"],
                j["limit_text"],
                om_judgement_result(j).replace("（待核实）", ""),
                "待核实" if j["provisional"] else "",
                j.get("source", ""),
                om_pairs_text(j),
            ]


def om_records_export(records: Iterable, file_format: str) -> HttpResponse | StreamingHttpResponse:
    """运维记录 as a table: one row per record with its judgements and answers as text (CSV, and the
    first sheet of the workbook); the workbook adds a sheet of answers (one row per item) and one of
    judgements (one row per computed value), each by its record's id, for filtering in Excel."""
    if file_format == "csv":
        rows = (om_record_export_row(r) for r in records)
        return csv_response(OM_RECORD_EXPORT_HEADERS, rows, "运维记录.csv")
    main, answers, judgements = [], [], []
    for record in records:
        sections = om_record_sections(record)
        main.append(om_record_export_row(record, sections))
        answers.extend(om_answer_rows(record, sections))
        judgements.extend(om_judgement_rows(record, sections))
    content = xlsx_sheets(
        [
            ("运维记录", OM_RECORD_EXPORT_HEADERS, main),
            ("填报内容", OM_ANSWER_HEADERS, answers),
            ("计算判定", OM_JUDGEMENT_HEADERS, judgements),
        ]
    )
    return xlsx_response(content, "运维记录.xlsx")


class CrsIn(serializers.Serializer):
    crs = serializers.ChoiceField(choices=[c.value for c in CoordinateSystem], default="wgs84")


class CheckInExportIn(CrsIn):
    format = serializers.ChoiceField(choices=["xlsx", "csv", "geojson"], default="xlsx")


def checkin_export_headers(crs: str) -> tuple[str, ...]:
    return (
        "签到ID",
        "类型",
        "签到时间",
        "签到人",
        "监测任务",
        "运维任务",
        "排口/点位",
        f"经度（{crs}）",
        f"纬度（{crs}）",
        "录入经度",
        "录入纬度",
        "录入坐标系",
        "定位精度（米）",
        "距点位（米）",
        "电子围栏（米）",
        "判定",
        "模拟定位",
        "发现",
    )


def _codes(findings: list[dict]) -> list[str]:
    return list(dict.fromkeys(f.get("code", "") for f in findings))


def checkin_export_row(checkin, crs: str) -> list:
    """A check-in with its user (and person), task, O&M task and outlet selected."""
    lon, lat = from_wgs84(checkin.location.x, checkin.location.y, crs)
    return [
        str(checkin.pk),
        checkin.get_kind_display(),
        local(checkin.at),
        _person(checkin.user),
        checkin.task.name if checkin.task_id else "",
        checkin.om_task.name if checkin.om_task_id else "",
        checkin.outlet.name if checkin.outlet_id else "",
        lon,
        lat,
        checkin.given_longitude,
        checkin.given_latitude,
        checkin.given_system,
        checkin.accuracy_m,
        checkin.distance_m,
        checkin.geofence_m,
        checkin.get_verdict_display(),
        "是" if checkin.mock else "否",
        ", ".join(_codes(checkin.findings)),
    ]


# --- GeoJSON (RFC 7946) ----------------------------------------------------------------------------
GEOJSON = "application/geo+json"
CRS_PARAMETER = OpenApiParameter(
    "crs",
    str,
    enum=[c.value for c in CoordinateSystem],
    description="Coordinates in WGS-84 (default, as RFC 7946 wants) or gcj02 / bd09 for Chinese maps.",
)
STREAM_BYTES = 64 * 1024  # what a streamed export reads from storage and hands on at a time


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def geojson_response(features: Iterable[dict], filename: str, members: dict) -> StreamingHttpResponse:
    """A FeatureCollection streamed feature by feature. ``members`` (foreign members, RFC 7946 §6.1)
    say what it is; ``coordinate_system`` among them when it is not WGS-84."""

    def chunks() -> Iterator[bytes]:
        buffer = bytearray(_json({"type": "FeatureCollection", **members})[:-1] + b',"features":[')
        for index, feature in enumerate(features):
            buffer += (b"," if index else b"") + _json(feature)
            if len(buffer) >= STREAM_BYTES:
                yield bytes(buffer)
                buffer.clear()
        yield bytes(buffer + b"]}")

    response = StreamingHttpResponse(chunks(), content_type=GEOJSON)
    response["Content-Disposition"] = _disposition(filename)
    return response


def checkin_feature(checkin, crs: str) -> dict:
    return {
        "type": "Feature",
        "id": str(checkin.pk),
        "geometry": {
            "type": "Point",
            "coordinates": list(from_wgs84(checkin.location.x, checkin.location.y, crs)),
        },
        "properties": {
            "kind": checkin.kind,
            "at": instant(checkin.at),
            "recorded_at": instant(checkin.recorded_at),
            "user": _person(checkin.user),
            "task": str(checkin.task_id) if checkin.task_id else None,
            "om_task": checkin.om_task_id,
            "outlet": checkin.outlet_id,
            "outlet_name": checkin.outlet.name if checkin.outlet_id else None,
            "verdict": checkin.verdict,
            "distance_m": checkin.distance_m,
            "geofence_m": checkin.geofence_m,
            "accuracy_m": checkin.accuracy_m,
            "mock_location": checkin.mock,
            "findings": _codes(checkin.findings),
            "given": {
                "longitude": checkin.given_longitude,
                "latitude": checkin.given_latitude,
                "system": checkin.given_system,
            },
        },
    }


def checkin_export(checkins, file_format: str, crs: str) -> HttpResponse | StreamingHttpResponse:
    """``checkins`` with their user (and person), task, O&M task and outlet selected."""
    if file_format == "geojson":
        features = (checkin_feature(c, crs) for c in checkins.iterator(chunk_size=500))
        return geojson_response(features, "签到.geojson", {"coordinate_system": crs})
    rows = (checkin_export_row(c, crs) for c in checkins.iterator(chunk_size=500))
    return table_response(file_format, title="签到", headers=checkin_export_headers(crs), rows=rows)


def track_geojson_response(task, summary, crs: str) -> StreamingHttpResponse:
    """A task's track to keep: every kept point of each segment (not the 5 m simplified line the
    map draws), one feature per segment, with each point's time in ``coordTimes`` (the convention
    of togeojson and Mapbox)."""

    def features() -> Iterator[dict]:
        for segment in summary.segments:
            line = [list(from_wgs84(p.lon, p.lat, crs)) for p in segment.points]
            yield {
                "type": "Feature",
                "geometry": (
                    {"type": "LineString", "coordinates": line}
                    if len(line) > 1
                    else {"type": "Point", "coordinates": line[0]}
                ),
                "properties": {
                    "device": segment.device_id,
                    "segment": segment.number,
                    "started_at": instant(segment.started_at),
                    "ended_at": instant(segment.ended_at),
                    "duration_s": segment.duration_s,
                    "length_m": round(segment.length_m, 3),
                    "points": len(segment.points),
                    "coordTimes": [instant(p.at) for p in segment.points],
                },
            }

    members = {
        "task": str(task.pk),
        "task_name": task.name,
        "coordinate_system": crs,
        "length_m": round(summary.length_m, 3),
        "duration_s": summary.duration_s,
        "stored": summary.stored,
        "kept": summary.kept,
        "filtered": summary.filtered,
    }
    return geojson_response(features(), f"track-{task.pk}.geojson", members)


# --- ZIP of photos, streamed -----------------------------------------------------------------------
ZIP = "application/zip"
MANIFEST_FIELDS = (
    "photo_id",
    "photo_type",
    "photo_type_name",
    "stage",
    "task",
    "outlet",
    "sha256",
    "size",
    "captured_at",
    "verdict",
    "findings",
    "file",
    "status",
)
EXTENSIONS = {"jpeg": "jpg", "png": "png", "heic": "heic", "heif": "heif"}


class _Pipe:
    """zipfile's output: write-only and not seekable (zipfile then writes data descriptors after
    each file), emptied by the generator after every write so nothing piles up."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _zip_time(photo) -> tuple[int, int, int, int, int, int]:
    when = timezone.localtime(photo.captured_at or photo.recorded_at)
    return when.timetuple()[:6] if when.year >= 1980 else (1980, 1, 1, 0, 0, 0)  # ZIP's epoch


def _manifest_row(photo) -> dict:
    return {
        "photo_id": str(photo.pk),
        "photo_type": photo.photo_type_id,
        "photo_type_name": photo.photo_type.name,
        "stage": photo.photo_type.stage,
        "task": str(photo.task_id) if photo.task_id else None,
        "outlet": photo.outlet_id,
        "sha256": photo.sha256,
        "size": photo.blob.size if photo.blob_id else None,
        "captured_at": instant(photo.captured_at),
        "verdict": photo.verdict or "pending",
        "findings": _codes(photo.findings),
        "file": None,
        "status": "awaiting_media" if photo.blob_id is None else "missing",
    }


def _read_chunks(stored) -> Iterator[bytes]:
    """A stored file in chunks as storage sends them. django-storages' S3File would first copy the
    whole object into a SpooledTemporaryFile (in memory: its default size limit is none), so the
    S3 object's body is read as a stream instead; on disk the file itself is read in chunks."""
    s3_object = getattr(stored, "obj", None)
    if s3_object is not None:
        yield from s3_object.get()["Body"].iter_chunks(STREAM_BYTES)
        return
    while chunk := stored.read(STREAM_BYTES):
        yield chunk


def _photo_bytes(archive: zipfile.ZipFile, pipe: _Pipe, photo, row: dict) -> Iterator[bytes]:
    """One photo into the archive, read in chunks. A file storage lost (or cannot give) stays
    ``missing`` in the manifest (``purged`` when deleted at the end of its retention period); bytes
    that do not hash to the photo's SHA-256 are ``hash_mismatch``. Sealed face photos are decrypted."""
    from mobile_api.photos import open_stored  # photos.py imports this module

    try:
        stored = open_stored(photo.blob)
    except DomainError as exc:
        if exc.error is MEDIA_PURGED:  # deleted at the end of its retention period: the row says so
            row["status"] = "purged"
        return
    name = (
        f"photos/{photo.photo_type.stage}/"
        f"{timezone.localtime(photo.captured_at or photo.recorded_at):%Y%m%d-%H%M%S}_"
        f"{photo.photo_type_id}_{photo.pk}.{EXTENSIONS.get(photo.blob.format, 'bin')}"
    )
    info = zipfile.ZipInfo(name, date_time=_zip_time(photo))
    info.compress_type = zipfile.ZIP_STORED  # JPEG, PNG and HEIC are compressed already
    info.file_size = photo.blob.size  # lets zipfile choose ZIP64 ahead for a file over 2 GiB
    digest = hashlib.sha256()
    with stored, archive.open(info, "w") as entry:
        for chunk in _read_chunks(stored):
            digest.update(chunk)
            entry.write(chunk)
            yield pipe.take()
    row["file"] = name
    row["status"] = "included" if digest.hexdigest() == photo.sha256 else "hash_mismatch"


def _manifest_csv(rows: list[dict]) -> bytes:
    lines = io.StringIO()
    writer = csv.writer(lines)
    writer.writerow(MANIFEST_FIELDS)
    for row in rows:
        values = {**row, "findings": ";".join(row["findings"])}
        writer.writerow([_csv_value(values[field]) for field in MANIFEST_FIELDS])
    return ("\ufeff" + lines.getvalue()).encode("utf-8")


def photos_zip_response(photos: Sequence, filename: str, scope: dict) -> StreamingHttpResponse:
    """The photos' files and a manifest (``manifest.csv``, ``manifest.json``), streamed: one file
    is open at a time and the bytes leave as they are read. ``photos`` come with their blob and
    photo type selected, so that streaming runs no query. The manifests go last, when every
    file's fate (included, missing, hash mismatch) is known; readers use the central directory."""

    def chunks() -> Iterator[bytes]:
        pipe = _Pipe()
        rows = []
        with zipfile.ZipFile(pipe, "w") as archive:
            for photo in photos:
                row = _manifest_row(photo)
                rows.append(row)
                if photo.blob_id is not None:
                    yield from _photo_bytes(archive, pipe, photo, row)
            manifest = {"scope": scope, "generated_at": instant(timezone.now()), "photos": rows}
            for name, content in (
                ("manifest.csv", _manifest_csv(rows)),
                ("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode()),
            ):
                info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
                archive.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
                yield pipe.take()
        yield pipe.take()

    response = StreamingHttpResponse(chunks(), content_type=ZIP)
    response["Content-Disposition"] = _disposition(filename)
    response["X-Accel-Buffering"] = "no"  # nginx: pass it on as it comes
    return response


class DayPhotosIn(serializers.Serializer):
    date = DayField(help_text="The day (Beijing time) the photos were taken.")
    agency = IdField(required=False, help_text="Only this agency's photos.")


def taken_on(photos, day: dt.date, agency: int | None = None):
    """The photos taken on ``day`` in local time: by their capture time, or when the server first
    heard of them for a photo without one."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
    end = start + dt.timedelta(days=1)
    photos = photos.filter(
        Q(captured_at__gte=start, captured_at__lt=end)
        | Q(captured_at__isnull=True, recorded_at__gte=start, recorded_at__lt=end)
    )
    return photos.filter(agency_id=agency) if agency else photos
