"""The objects a side of the test world lacks, made once per side, for the tests that need one of
each: the access matrix (tests/mobile_api/test_access_matrix.py) and the fuzzing that points paths at
real objects (tests/fuzz/test_openapi.py). Each returns the side's existing object when there is one.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def violation_of(side):
    """The side's violation (违规待整改), opened by its regulator, with one rectification."""
    from server.violations.models import Violation
    from server.violations.services import rectification_submit, violation_open

    existing = Violation.objects.filter(project=side.project).first()
    if existing is not None:
        return existing
    violation = violation_open(
        project=side.project,
        actor=side.regulator,
        description="采样记录缺少采样人签字",
        deadline=timezone.localdate() + dt.timedelta(days=7),
    )
    rectification_submit(violation=violation, actor=side.main, text="已补签")
    return violation


def task_of(side):
    """The side's monitoring task, created by its sampler."""
    import uuid

    from server.fieldwork.models import MonitoringTask
    from server.fieldwork.services import task_create

    existing = MonitoringTask.objects.filter(project=side.project).first()
    if existing is not None:
        return existing
    task, _ = task_create(
        actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name="进水口采样"
    )
    return task


def om_record_of(side):
    """The side's submitted O&M record (with its start and end check-ins and its work photo), filled
    by its technician over HTTP, as the phone does."""
    from rest_framework.test import APIClient

    from server.om.models import OmRecord
    from tests.om.test_records import submitted

    existing = OmRecord.objects.filter(task=side.om_task).exclude(status=OmRecord.Status.DRAFT).first()
    if existing is not None:
        return existing
    client = APIClient()
    client.force_authenticate(side.technician_user)
    return OmRecord.objects.get(pk=submitted(side, client))


def report_of(side):
    """The side's O&M report (a PDF), uploaded by its main account."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from server.om.models import OmReport
    from server.om.reports import report_upload

    existing = OmReport.objects.filter(task=side.om_task).first()
    if existing is not None:
        return existing
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    return report_upload(
        task=side.om_task,
        actor=side.main,
        name="10月运维月报",
        category="monthly",
        file=SimpleUploadedFile("10月运维月报.pdf", pdf),
    )


def with_side_objects(world):
    """``world`` with a violation and its rectification, a monitoring task, a submitted O&M record (its
    check-ins and work photo) and an O&M report on each side."""
    for side in (world.shanghai, world.jiangsu):
        violation_of(side)
        task_of(side)
        om_record_of(side)
        report_of(side)
    return world
