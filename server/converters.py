"""Path converters for the API's URLs. Django's ``str`` and ``path`` accept NUL (``%00``), which no
PostgreSQL text column can hold: a look-up by such a segment failed with a 500. These accept the same
text without NUL, so such a path matches no route and is a plain 404. Every API route uses these
instead of ``str`` and ``path`` (tests/server/test_converters.py walks the routes)."""

from __future__ import annotations

from django.urls.converters import PathConverter, StringConverter


class TextConverter(StringConverter):
    """One path segment: any text but a slash or NUL."""

    regex = "[^/\x00]+"


class TextPathConverter(PathConverter):
    """Text that may hold slashes (a report number such as 沪环监〔2026〕第12/3号), but no NUL."""

    regex = "[^\x00]+"
