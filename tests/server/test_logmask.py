"""Request logs never hold an ID number or a secret from a query string (F9 item 11): runserver's
request lines (Django's ``django.server`` logger, through settings.LOGGING) and gunicorn's access log
(server/gunicorn_conf.py) mask the values of sensitive parameters."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from server.logmask import mask_query

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "110101199003074514"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"/api/v1/staff?id_number={NUMBER}", "/api/v1/staff?id_number=***"),
        (
            f"GET /api/v1/staff?status=active&ID_NUMBER={NUMBER}&page=2 HTTP/1.1",
            "GET /api/v1/staff?status=active&ID_NUMBER=***&page=2 HTTP/1.1",
        ),
        (f"id%5Fnumber={NUMBER}&phone=13800138000", "id%5Fnumber=***&phone=***"),
        ("/auth?bind_ticket=abc.def&token=t0k", "/auth?bind_ticket=***&token=***"),
        ("/api/v1/staff?name=%E6%9D%8E&status=active", "/api/v1/staff?name=%E6%9D%8E&status=active"),
        ("GET /api/v1/staff HTTP/1.1", "GET /api/v1/staff HTTP/1.1"),
    ],
)
def test_sensitive_parameters_are_masked_and_others_kept(text, masked):
    assert mask_query(text) == masked


def runserver_record() -> logging.LogRecord:
    # What django.core.servers.basehttp.WSGIRequestHandler.log_message logs for each request.
    line = f"GET /api/v1/staff?id_number={NUMBER} HTTP/1.1"
    return logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s', (line, "200", "9"), None
    )


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_runserver_request_lines_are_masked_before_any_handler_gets_them():
    logger, kept = logging.getLogger("django.server"), Kept()
    logger.addHandler(kept)
    try:
        logger.handle(runserver_record())
    finally:
        logger.removeHandler(kept)
    assert kept.lines == ['"GET /api/v1/staff?id_number=*** HTTP/1.1" 200 9']


def test_the_console_handler_masks_every_record():
    (console,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "Bad URL %s", (f"/s?id_number={NUMBER}",), None
    )
    assert console.filter(record)
    assert NUMBER not in console.format(record)


PROBE = """
import datetime, json, os, sys
os.environ["GUNICORN_MALLOC_KEEP_MB"] = "0"
import server.gunicorn_conf as conf
from gunicorn.config import Config

class Response:
    status, sent, headers = "200 OK", 9, []

class Request:
    headers = [("REFERER", "https://x.test/staff?id_number=" + sys.argv[1])]

config = Config()
config.set("logger_class", conf.logger_class)
logger = config.logger_class(config)
environ = {
    "REQUEST_METHOD": "GET", "RAW_URI": "/api/v1/staff?id_number=" + sys.argv[1],
    "PATH_INFO": "/api/v1/staff", "QUERY_STRING": "id_number=" + sys.argv[1],
    "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_REFERER": "https://x.test/?id_number=" + sys.argv[1],
}
atoms = logger.atoms(Response(), Request(), environ, datetime.timedelta(seconds=1))
line = logger.cfg.access_log_format % atoms
print(json.dumps({"line": line, "atoms": {k: str(v) for k, v in atoms.items()}}))
"""


def test_gunicorn_access_log_is_masked():
    out = subprocess.run(
        [sys.executable, "-c", PROBE, NUMBER], cwd=ROOT, capture_output=True, text=True, check=True
    )
    logged = json.loads(out.stdout)
    assert "GET /api/v1/staff?id_number=*** HTTP/1.1" in logged["line"]
    assert NUMBER not in json.dumps(logged)
