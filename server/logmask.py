"""Personal data out of the request logs (F9 item 11): a query string such as
``/api/v1/staff?id_number=110101199003074514`` was written whole to gunicorn's access log and to
runserver's. The API now takes ID numbers in request bodies only (``POST /api/v1/staff/search``), but
an old client, a hand-typed URL or a page's referer can still put one in a URL, so every request line
the server logs is masked here: the value of a sensitive parameter becomes ``***``.

- ``MaskQueryFilter``: a ``logging.Filter`` on the console handler (settings.LOGGING), for Django's
  ``django.server`` (runserver) and ``django.request`` records and anything else logged;
- ``MaskedAccessLogger``: gunicorn's logger class (server/gunicorn_conf.py), for its access log.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

# Parameter names whose values are personal data or secrets, compared lower-case after URL decoding.
SENSITIVE = frozenset(
    {
        "id_number",
        "idcard",
        "id_card",
        "phone",
        "password",
        "token",
        "access_token",
        "bind_ticket",
        "ticket",
        "openid",
        "unionid",
        "session_key",
        "secret",
    }
)
MASK = "***"
# A parameter: after "?" or "&" (or at the start of a bare query string), up to the next "&", blank,
# "#" or quote.
_PARAM = re.compile(r"(^|[?&])([^=&\s#?\"']+)=([^&\s#\"']*)")


def _masked(match: re.Match[str]) -> str:
    start, name, value = match.groups()
    if value and unquote_plus(name).strip().lower() in SENSITIVE:
        return f"{start}{name}={MASK}"
    return match.group(0)


def mask_query(text: str) -> str:
    """``text`` (a URL, a request line, a query string) with sensitive parameters' values masked."""
    if "=" not in text:
        return text
    return _PARAM.sub(_masked, text)


class MaskQueryFilter(logging.Filter):
    """Masks the formatted message of every record (runserver's request lines put the URL in ``args``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_query(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class MaskedAccessLogger(Logger):
    """gunicorn's logger, its access-log atoms masked: the request line (``%(r)s``), the query
    (``%(q)s``), the referer (``%(f)s``) and the raw URI and query string among the environ atoms."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f", "{raw_uri}e", "{query_string}e", "{referer}i", "{http_referer}e"):
            value = atoms.get(key)
            if isinstance(value, str):
                atoms[key] = mask_query(value)
        return atoms
