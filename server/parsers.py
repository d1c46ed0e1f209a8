"""JSON request bodies, made storable.

JSON can carry text that no database column can hold: NUL (``\\u0000``), which PostgreSQL refuses in
text and jsonb, and a lone UTF-16 surrogate (``\\ud83d`` without its pair), which has no UTF-8 form.
A phone sends the second whenever its JavaScript cuts a note in the middle of an emoji. Either one
made the write fail: a 500 on most endpoints, and in a push a ``server_error`` for the operation,
which the phone retries for ever while the device's later operations wait behind it.

So both are replaced by U+FFFD, the replacement character (what a decoder puts for bytes it cannot
read), in keys and in values, before any view sees the body: the rest of the text is kept, and every
endpoint and the sync path get the same repair from this one parser. A surrogate pair sent escaped
(``\\ud83d\\ude00``) is one character after decoding and is kept as it is.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rest_framework import parsers

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(value: Any) -> Any:
    """``value`` (parsed JSON) with every NUL and lone surrogate in its strings and keys replaced."""
    if isinstance(value, str):
        return UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, then ``storable``. Both characters can only arrive as ``\\u`` escapes (a raw
    NUL or surrogate is not valid JSON text or UTF-8), so a body without one is not walked."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        data = super().parse(io.BytesIO(body), media_type, parser_context)
        return storable(data) if b"\\u" in body else data
