"""Text in the spreadsheets the server writes (the API's exports, the registry's lists and templates).

Two rules for every text cell: characters an Excel file cannot hold (the control characters other
than tab and line breaks, which openpyxl refuses with IllegalCharacterError) become U+FFFD, so that
one odd name stored through the API does not make a whole export fail with a 500; and text is
always text, never a formula, whatever it starts with (``=HYPERLINK(...)`` typed as a name stays a
name: ``text_cells``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from server.parsers import REPLACEMENT


def cell_value(value: Any) -> Any:
    """``value`` as a cell may hold it: text without the characters Excel files cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value) if isinstance(value, str) else value


def text_cells(cells: Iterable[Any]) -> None:
    """Cells holding text are text, not formulas."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"
