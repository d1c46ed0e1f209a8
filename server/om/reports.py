"""O&M reports (上传报告, seed 003 §2.5): a file uploaded against a task and linked to chosen records.

The file's type is read from its content, never from its name: a PDF, a Word or Excel file (the
1997-2003 binary formats or the 2007+ zipped ones), or a JPEG/PNG image. The same file under the same
name uploaded again for the same task is the same report (a retried upload): the stored one is
returned, and a repeat that differs in anything else is refused rather than silently dropped.
"""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from collections.abc import Iterable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from server import access
from server.accounts.models import Role, User
from server.errors import VALIDATION_FAILED, DomainError
from server.om import errors
from server.om.models import OmRecord, OmReport, OmTask
from server.om.plans import DONE_STATUSES
from server.om.services import on_om_task

AGENCY_ADMINS = {Role.AGENCY_MAIN, Role.AGENCY_MANAGER}

# What a stored report is served as, by the extension given from its sniffed type.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream names of an OLE2 compound file's directory, in UTF-16LE: Word keeps its text in
# "WordDocument", Excel its sheets in "Workbook" (BIFF8) or "Book" (BIFF5). Anything else in an OLE2
# container (an .msi installer, an Outlook message) is not a report.
_OLE_STREAMS = (
    ("doc", "WordDocument".encode("utf-16-le")),
    ("xls", "Workbook".encode("utf-16-le")),
    ("xls", "Book\x00".encode("utf-16-le")),
)


class _Scan:
    """One pass over the upload: its sha256, its first bytes, and the OLE2 stream names seen."""

    def __init__(self, upload: UploadedFile) -> None:
        digest = hashlib.sha256()
        self.head = b""
        self.size = 0
        self.ole_streams: set[str] = set()
        overlap = max(len(marker) for _, marker in _OLE_STREAMS) - 1
        tail = b""
        for chunk in upload.chunks():
            digest.update(chunk)
            self.size += len(chunk)
            if len(self.head) < 16:
                self.head += chunk[: 16 - len(self.head)]
            if self.head.startswith(_OLE2[: len(self.head)]):
                window = tail + chunk
                self.ole_streams.update(kind for kind, marker in _OLE_STREAMS if marker in window)
                tail = window[-overlap:]
        upload.seek(0)
        self.sha256 = digest.hexdigest()


def _zip_kind(upload: UploadedFile) -> str | None:
    """docx or xlsx by the parts an Office Open XML package must hold; any other zip is refused."""
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def sniff(upload: UploadedFile, scan: _Scan) -> str | None:
    """The report type of the upload by its content (pdf, doc, docx, xls, xlsx, jpg, png), or None."""
    head = scan.head
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(_OLE2):
        if "doc" in scan.ole_streams:
            return "doc"
        if "xls" in scan.ole_streams:
            return "xls"
        return None
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(upload)
    return None


def may_upload(task: OmTask, actor: User) -> bool:
    """The agency's main or manager account, or an active member of the task's O&M staff."""
    if actor.agency_id != task.agency_id:
        return False
    if actor.role in AGENCY_ADMINS:
        return True
    return on_om_task(task, actor)


def _records(task: OmTask, record_ids: Iterable) -> list[OmRecord]:
    ids = [str(pk) for pk in dict.fromkeys(str(pk) for pk in record_ids)]
    try:
        wanted = {uuid.UUID(pk) for pk in ids}
    except ValueError:
        raise DomainError(errors.OM_REPORT_RECORD_FOREIGN, details={"records": ids}) from None
    records = list(OmRecord.objects.filter(pk__in=wanted, task=task).order_by("om_date", "pk"))
    foreign = sorted(str(pk) for pk in wanted - {r.pk for r in records})
    if foreign:
        # Another task's record and no record at all are told apart by nobody: neither is linkable.
        raise DomainError(errors.OM_REPORT_RECORD_FOREIGN, details={"records": foreign})
    not_done = [str(r.pk) for r in records if r.status not in DONE_STATUSES]
    if not_done:
        raise DomainError(errors.OM_REPORT_RECORD_NOT_SUBMITTED, details={"records": not_done})
    return records


def _same_report(existing: OmReport, *, name: str, category: str, description: str, records) -> OmReport:
    """A repeat of ``existing`` (same task, file and file name): the stored report, or a conflict."""
    same = (
        existing.name == name
        and existing.category == category
        and existing.description == description
        and set(existing.records.values_list("pk", flat=True)) == {r.pk for r in records}
    )
    if not same:
        raise DomainError(
            errors.OM_REPORT_DUPLICATE, details={"report_id": existing.pk}, report_id=existing.pk
        )
    return existing


def _existing(task: OmTask, sha256: str, file_name: str) -> OmReport | None:
    return OmReport.objects.filter(task=task, file_sha256=sha256, file_name=file_name).order_by("pk").first()


def report_upload(
    *,
    task: OmTask,
    actor: User,
    name: str,
    category: str,
    file: UploadedFile,
    description: str = "",
    record_ids: Iterable = (),
) -> OmReport:
    """上传报告: store ``file`` as a report of ``task``, linked to some of its submitted records.

    Refused before anything is stored: an actor who is neither the agency's admin nor on the
    task's staff, a record of another task or not submitted, a file over ``OM_REPORT_MAX_BYTES``,
    a file whose content is not one of the allowed types. The same file under the same name again
    returns the stored report."""
    if not may_upload(task, actor):
        raise DomainError(errors.OM_REPORT_NOT_ALLOWED)
    name, description = (name or "").strip(), (description or "").strip()
    if not name:
        raise DomainError(VALIDATION_FAILED, details={"name": ["该字段不能为空。"]})
    if category not in OmReport.Category.values:
        raise DomainError(VALIDATION_FAILED, details={"category": [f"“{category}”不是有效的报告类别。"]})
    records = _records(task, record_ids)
    limit = settings.OM_REPORT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise DomainError(
            errors.OM_REPORT_TOO_LARGE,
            details={"size": file.size, "limit": limit},
            limit_mb=max(limit // (1024 * 1024), 1),
        )
    scan = _Scan(file)
    if scan.size == 0:
        raise DomainError(errors.OM_REPORT_EMPTY)
    if scan.size > limit:  # a client that under-reported the size
        raise DomainError(
            errors.OM_REPORT_TOO_LARGE,
            details={"size": scan.size, "limit": limit},
            limit_mb=max(limit // (1024 * 1024), 1),
        )
    kind = sniff(file, scan)
    if kind is None:
        raise DomainError(errors.OM_REPORT_TYPE_NOT_ALLOWED, details={"file_name": file.name})
    file_name = (file.name or f"report.{kind}").rsplit("/", 1)[-1][-200:]
    wanted = {"name": name, "category": category, "description": description, "records": records}

    existing = _existing(task, scan.sha256, file_name)
    if existing is not None:
        return _same_report(existing, **wanted)

    report = OmReport(
        task=task,
        name=name,
        category=category,
        file_name=file_name,
        file_sha256=scan.sha256,
        file_size=scan.size,
        description=description,
        uploaded_by=actor,
    )
    # Storage I/O outside the transaction, under a name of our own (never the client's): the file is
    # written before its row and removed again if the row is not written.
    report.file.save(f"{scan.sha256[:16]}.{kind}", file, save=False)
    keep_file = False
    try:
        with transaction.atomic():
            # The task's row lock makes concurrent uploads of one task take turns, so that a retried
            # upload racing the original finds it here instead of making a second report.
            OmTask.objects.select_for_update().filter(pk=task.pk).first()
            existing = _existing(task, scan.sha256, file_name)
            if existing is not None:
                return _same_report(existing, **wanted)
            report.uploaded_at = timezone.now()
            report.save()
            report.records.set(records)
            keep_file = True
    finally:
        if not keep_file:
            report.file.delete(save=False)
    return report


# --- Reads ----------------------------------------------------------------------------------------
def reports_for(user: User) -> QuerySet[OmReport]:
    """Reports are seen by whoever sees their task."""
    return OmReport.objects.filter(task__in=access.om_tasks_for(user))


def access_report(user: User, pk, **kw) -> OmReport:
    return access.get_visible(reports_for(user), pk, **kw)


def content_type(report: OmReport) -> str:
    return CONTENT_TYPES.get(report.file.name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
