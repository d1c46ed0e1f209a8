"""Tables as files (导出): CSV streamed row by row, XLSX built with openpyxl's write-only workbook.

Cells that a spreadsheet would run as a formula (=, +, -, @ first) are written as text: a project
name typed as ``=HYPERLINK(...)`` must not become a link in the regulator's Excel (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation

from mobile_api.common import xlsx_response

CSV = "text/csv"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=["xlsx", "csv"], default="xlsx")


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
    book = Workbook(write_only=True)
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
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def table_response(
    file_format: str, *, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse | StreamingHttpResponse:
    """``rows`` hold plain values; datetimes are naive local time (Excel has no time zones)."""
    if file_format == "csv":
        return csv_response(headers, rows, f"{title}.csv")
    return xlsx_response(xlsx_table(title, headers, rows), f"{title}.xlsx")
