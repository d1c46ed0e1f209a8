"""In-app notifications (消息通知, seed 002 首页): what the home screen lists and counts as unread.

A notification is written by ``services.notify`` only, in the transaction of the event it reports;
reading one sets ``read_at`` (``services.mark_read``). Nothing else changes a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name="接收人",
    )
    # What happened, as a stable slug the phone may branch on: project_returned, violation_opened…
    kind = models.SlugField("类型", max_length=40)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    # What it is about, for the phone to open: an entity type as sync names it (task, project,
    # violation…) and its id as a string (tasks have UUIDs, projects integers). Both blank: nothing.
    subject_type = models.CharField("对象类型", max_length=40, blank=True)
    subject_id = models.CharField("对象编号", max_length=64, blank=True)
    created_at = models.DateTimeField("通知时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息通知"
        verbose_name_plural = "消息通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_recipient_read")]
        constraints = [
            # A retried event (a replayed sync operation, a task that ran twice) notifies once while
            # the first notification is unread; once it is read, the same event may notify again.
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject_type", "subject_id"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_once",
            ),
            models.CheckConstraint(
                condition=Q(subject_type="", subject_id="") | (~Q(subject_type="") & ~Q(subject_id="")),
                name="notification_subject_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
