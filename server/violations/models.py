"""Violations to rectify (违规待整改) and their rectifications (历史整改记录), seed 002; the same for
O&M tasks (整改单, seed 003 整改单管理).

A regulator opens a violation on a monitoring project or an O&M task with a deadline; the agency
answers with a rectification; the regulator accepts it (the violation is closed, 销号) or rejects it
with a reason (the violation is open again). Every rectification is kept. Status moves are the
VIOLATION machine in services.py, one ``ViolationEvent`` per move.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, Q
from django.utils import timezone

from server.fieldwork.models import MonitoringProject


def overdue_condition(today: dt.date, prefix: str = "") -> Q:
    """Overdue: the deadline has passed (the deadline day itself still counts as in time) and the
    violation is not closed. ``prefix`` reaches a violation through a relation (``"violation__"``)."""
    return Q(**{f"{prefix}deadline__lt": today}) & ~Q(**{f"{prefix}status": Violation.Status.CLOSED})


def overdue_expression(today: dt.date | None = None, prefix: str = "") -> ExpressionWrapper:
    today = today or timezone.localdate()
    return ExpressionWrapper(overdue_condition(today, prefix), output_field=models.BooleanField())


class ViolationQuerySet(models.QuerySet):
    def with_overdue(self, today: dt.date | None = None) -> ViolationQuerySet:
        """Annotate ``overdue`` (a boolean, filterable) as of ``today`` (Asia/Shanghai by default)."""
        return self.annotate(overdue=overdue_expression(today))


class Violation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待整改"
        RECTIFIED = "rectified", "已整改"
        CLOSED = "closed", "已销号"

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    # The subject: a monitoring project (违规待整改, seed 002) or an O&M task (整改单, seed 003);
    # exactly one of them (violation_one_subject).
    project = models.ForeignKey(
        MonitoringProject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violations",
        verbose_name="监测项目",
    )
    om_task = models.ForeignKey(
        "om.OmTask",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violations",
        verbose_name="运维任务",
    )
    description = models.TextField("违规情况")
    deadline = models.DateField("整改期限")
    # Evidence, optional: a photo of one of the project's tasks, a check-in on one of its tasks.
    photo = models.ForeignKey(
        "media_rules.Photo",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violations",
        verbose_name="证据照片",
    )
    checkin = models.ForeignKey(
        "tracks.CheckIn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violations",
        verbose_name="证据签到",
    )
    # Evidence of an O&M task's order, optional: one of the task's records.
    om_record = models.ForeignKey(
        "om.OmRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violations",
        verbose_name="证据运维记录",
    )
    status = models.CharField(
        "整改状态", max_length=16, choices=Status.choices, default=Status.OPEN, editable=False
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="开具人"
    )
    opened_at = models.DateTimeField("开具时间")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ViolationQuerySet.as_manager()

    class Meta:
        verbose_name = "违规待整改"
        verbose_name_plural = "违规待整改"
        ordering = ["-opened_at", "id"]
        indexes = [models.Index(fields=["status", "deadline"], name="violation_status_deadline_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=False, om_task__isnull=True)
                | Q(project__isnull=True, om_task__isnull=False),
                name="violation_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(om_record__isnull=True) | Q(om_task__isnull=False),
                name="violation_om_record_needs_om_task",
            ),
        ]

    def __str__(self) -> str:
        subject = self.project if self.project_id is not None else self.om_task
        return f"{subject.number} {self.description[:30]}"

    @property
    def subject_type(self) -> str:
        """``project`` (违规待整改) or ``om_task`` (整改单)."""
        return "project" if self.project_id is not None else "om_task"


class ViolationEvent(models.Model):
    """One row per violation status change (开具 is the row's creation; the moves are rectified,
    closed, reopened on rejection)."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    violation = models.ForeignKey(
        Violation, on_delete=models.CASCADE, related_name="events", verbose_name="违规"
    )
    from_status = models.CharField("原状态", max_length=16, choices=Violation.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=Violation.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "整改状态记录"
        verbose_name_plural = "整改状态记录"
        ordering = ["violation", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=models.F("to_status")), name="violation_event_changes"
            )
        ]

    def __str__(self) -> str:
        return f"{self.violation_id}: {self.from_status} → {self.to_status}"


class Rectification(models.Model):
    """One rectification the agency submitted (整改), and how the regulator judged it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "待审核"
        ACCEPTED = "accepted", "已通过"
        REJECTED = "rejected", "已退回"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    violation = models.ForeignKey(
        Violation, on_delete=models.PROTECT, related_name="rectifications", verbose_name="违规"
    )
    text = models.TextField("整改情况")
    file = models.FileField("整改附件", upload_to="rectifications/%Y/%m/", blank=True)
    file_name = models.CharField("附件名", max_length=200, blank=True)
    sha256 = models.CharField("附件摘要（SHA-256）", max_length=64, blank=True)
    size = models.PositiveBigIntegerField("附件大小（字节）", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提交人"
    )
    submitted_at = models.DateTimeField("提交时间")
    outcome = models.CharField(
        "审核结果", max_length=16, choices=Outcome.choices, default=Outcome.PENDING, editable=False
    )
    rejection_reason = models.TextField("退回原因", blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="审核人",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "整改记录"
        verbose_name_plural = "历史整改记录"
        ordering = ["-submitted_at", "id"]
        constraints = [
            # A violation waits for one rectification at a time (services.rectification_submit).
            models.UniqueConstraint(
                fields=["violation"], condition=Q(outcome="pending"), name="one_pending_rectification"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="rejected") | ~Q(rejection_reason=""),
                name="rejected_rectification_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.violation_id} @ {self.submitted_at:%Y-%m-%d %H:%M}"
