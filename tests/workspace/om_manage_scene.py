"""What the O&M management pages need beyond tests/workspace/conftest.py's busy world, made by the
services: a rectification order (整改单) on a side's O&M task, opened by its regulator; a report's
bytes of each kind the service sniffs."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from server.violations.models import Violation
from server.violations.services import violation_open

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% the monthly O&M report\n%%EOF\n"


def om_order(side, description: str = "运维记录缺少比对数据", days: int = 5) -> Violation:
    """An open rectification order on the side's O&M task."""
    return violation_open(
        om_task=side.om_task,
        actor=side.regulator,
        description=description,
        deadline=timezone.localdate() + dt.timedelta(days=days),
    )


def pdf_file(name: str = "11月运维月报.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")
