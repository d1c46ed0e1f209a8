"""One row per thing that happened to an object a regulator cares about (audit trail, F7).

Rows are appended by ``services.record`` inside the domain service's own transaction, so an entry
exists if and only if the change it describes committed. Nothing updates or deletes a row: the
queryset and the model refuse it, the admin is read-only and the API has no write.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class AppendOnlyError(Exception):
    """An attempt to change or remove an audit entry."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit entries are append-only")

    def delete(self):
        raise AppendOnlyError("audit entries are append-only")


class AuditEntry(models.Model):
    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    at = models.DateTimeField("时间")
    # Null: done by the system (a reminder, a held operation force-processed without a user).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="操作人",
    )
    # What happened, as a stable slug: project.returned, task.transition, om_record.reviewed…
    action = models.CharField("动作", max_length=40)
    # What it happened to: an entity type as the API and sync name it (project, task, om_record,
    # violation, agency, staff, outlet, photo) and its id as a string (UUIDs and integers alike).
    subject_type = models.CharField("对象类型", max_length=32)
    subject_id = models.CharField("对象编号", max_length=64)
    summary = models.CharField("摘要", max_length=200, blank=True)
    # What changed: {"field": [old, new]}, the reason of a return, void or rejection, the version.
    changes = models.JSONField("变更内容", default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Where it came from: the phone (its device token online, its push offline) and the operation.
    device = models.ForeignKey(
        "accounts.Device",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="设备",
    )
    operation = models.ForeignKey(
        "sync.Operation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="同步操作",
    )
    # Scope keys, so that lists filter with the same rules as server/access.py (like sync.Change).
    agency_id = models.BigIntegerField("机构", null=True, blank=True)
    enterprise_id = models.BigIntegerField("企业", null=True, blank=True)
    region_code = models.CharField("行政区划", max_length=6, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
            models.Index(fields=["agency_id", "at"], name="audit_agency_at_idx"),
            models.Index(fields=["region_code", "at"], name="audit_region_at_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(region_code="") | Q(region_code__regex=r"^\d{6}$"),
                name="audit_region_code_6_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_type}:{self.subject_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are append-only")
