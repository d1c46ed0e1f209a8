"""In-app notifications (消息通知, seed 002 首页): what the home screen lists and counts as unread.

A notification is written by ``services.notify`` only, in the transaction of the event it reports;
reading one sets ``read_at`` (``services.mark_read``). Nothing else changes a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
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


# --- WeChat subscription messages (订阅消息) ---------------------------------------------------------
# A one-time subscription (一次性订阅) lets the mini-program send one message of a template per
# "accept" the user gave on the phone (wx.requestSubscribeMessage). WeChat does not tell a server how
# many it has left, so the server counts them: a grant adds one, a send takes one, WeChat's 43101
# ("the user refused") sets it back to zero.
class SubscriptionQuota(models.Model):
    """How many more messages of one template the user has agreed to receive."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscription_quotas",
        verbose_name="用户",
    )
    template_id = models.CharField("订阅模板", max_length=128)
    remaining = models.PositiveIntegerField("剩余次数", default=0)
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "订阅消息额度"
        verbose_name_plural = "订阅消息额度"
        ordering = ["user_id", "template_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "template_id"], name="subscription_quota_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.template_id}: {self.remaining}"


class SubscriptionReport(models.Model):
    """What the phone reported from one wx.requestSubscribeMessage call, kept as it came.

    ``request_id`` (the phone's UUID for the call) makes a retried report count once: the same id
    again is answered from what is stored, with different results it is refused."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="用户"
    )
    request_id = models.UUIDField("请求编号", null=True, blank=True)
    results = models.JSONField("订阅结果")  # {template_id: "accept" | "reject" | "ban" | "filter" | …}
    granted = models.JSONField("增加额度的模板", default=list)
    created_at = models.DateTimeField("上报时间")

    class Meta:
        verbose_name = "订阅授权记录"
        verbose_name_plural = "订阅授权记录"
        ordering = ["-created_at", "-id"]
        constraints = [
            # NULLs are distinct: reports without a request id never collide.
            models.UniqueConstraint(fields=["user", "request_id"], name="subscription_report_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.request_id or '-'}"


class OutgoingMessage(models.Model):
    """One WeChat subscription message the server meant to send, and what became of it.

    ``dedup_key`` (user, kind, subject, day) is unique: a reminder reaches a user at most once a day
    however often the reminder job runs; the row is claimed before anything is sent."""

    class Status(models.TextChoices):
        PENDING = "pending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"
        SKIPPED_NO_BINDING = "skipped_no_binding", "未绑定微信"
        SKIPPED_NO_QUOTA = "skipped_no_quota", "无订阅额度"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="outgoing_messages",
        verbose_name="接收人",
    )
    kind = models.SlugField("类型", max_length=40)
    template_id = models.CharField("订阅模板", max_length=128)
    subject_type = models.CharField("对象类型", max_length=40, blank=True)
    subject_id = models.CharField("对象编号", max_length=64, blank=True)
    day = models.DateField("提醒日期")
    dedup_key = models.CharField("去重键", max_length=255, unique=True)
    status = models.CharField("状态", max_length=24, choices=Status.choices, default=Status.PENDING)
    errcode = models.IntegerField("微信错误码", null=True, blank=True)
    # Why a send failed without an errcode (timeout, http_status…), or WeChat's errmsg, shortened.
    reason = models.CharField("原因", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=1)
    # Whether another run the same day may try again: nothing was delivered and a later try may
    # work (no binding or quota yet, WeChat busy or unreachable). A timeout is not retried: the
    # message may have arrived.
    may_retry = models.BooleanField("当天可重试", default=False)
    created_at = models.DateTimeField("创建时间")
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "微信订阅消息"
        verbose_name_plural = "微信订阅消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="outgoing_message_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.day}: {self.status}"
