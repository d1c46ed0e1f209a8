"""Reading a workspace page as a person does: its visible text, without tags, scripts or styles."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(response) -> str:
    parser = _Text()
    parser.feed(response.content.decode())
    return re.sub(r"\s+", " ", " ".join(parser.parts)).strip()


# What a page for a person never shows: JSON, Python's None, identifiers (agency_main, capture_fix),
# upper-case field names (AGENCY, SEQ).
_MACHINE = re.compile(r"[{}\[\]]|\bNone\b|\b[a-z]+_[a-z_]+\b|\b[A-Z]{2,}_?[A-Z]*\b")
# Upper-case words a person does read: the EXIF standard, GPS, the coordinate systems, outlet codes,
# file sizes and kinds, the accreditations a filing names (CMA, CNAS).
_ALLOWED_UPPER = {
    *("EXIF", "GPS", "WGS", "GCJ", "BD", "DW", "FQ", "CSRF", "KB", "MB"),
    *("PDF", "JPG", "PNG", "CMA", "CNAS"),
}


def machine_words(text: str) -> list[str]:
    return [word for word in _MACHINE.findall(text) if word.rstrip("_") not in _ALLOWED_UPPER]
