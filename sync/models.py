"""The sync journal: every operation a phone pushed, with the result it got; the pushes with the
device's and the server's clocks; each device's position; the change log that pulls read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Push(models.Model):
    """One push request: the device's clock next to the server's, so device times can be corrected."""

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    device = models.ForeignKey(
        "accounts.Device", on_delete=models.PROTECT, related_name="pushes", verbose_name="设备"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="用户"
    )
    device_clock = models.DateTimeField("设备时钟")
    server_clock = models.DateTimeField("服务器时钟")
    offset_ms = models.BigIntegerField(
        "时钟偏差（毫秒）", help_text="server clock − device clock, milliseconds."
    )
    op_count = models.PositiveIntegerField("操作数")

    class Meta:
        verbose_name = "同步推送"
        verbose_name_plural = "同步推送"
        ordering = ["-server_clock", "-id"]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.server_clock:%Y-%m-%d %H:%M:%S}"


class DeviceSyncState(models.Model):
    """Where a device's operation queue stands. Locked while one of its operations is processed,
    so that a device's operations apply one at a time, in its order."""

    device = models.OneToOneField(
        "accounts.Device",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sync",
        verbose_name="设备",
    )
    next_seq = models.PositiveBigIntegerField(
        "下一序号", default=1, help_text="The queue position expected next."
    )
    last_push = models.ForeignKey(
        Push, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="最近推送"
    )
    last_offset_ms = models.BigIntegerField("最近时钟偏差（毫秒）", null=True, blank=True)
    # The corrected time of the last operation given its place in the queue (kept increasing).
    last_corrected_time = models.DateTimeField("最近校正时间", null=True, blank=True)
    # How many of the device's operations are held: when none are, nothing of this device can be
    # waiting behind the operation being processed, and the engine skips looking.
    held_ops = models.PositiveIntegerField("等待中的操作数", default=0)

    class Meta:
        verbose_name = "设备同步状态"
        verbose_name_plural = "设备同步状态"

    def __str__(self) -> str:
        return f"{self.device_id}: next {self.next_seq}"


class Operation(models.Model):
    """One operation, stored once per (device, op id) with the result it got."""

    class Status(models.TextChoices):
        APPLIED = "applied", "已应用"
        HELD = "held", "等待前置数据"
        CONFLICT = "conflict", "冲突待复核"
        REJECTED = "rejected", "已拒绝"
        EXPIRED = "expired", "等待超时待复核"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    device = models.ForeignKey(
        "accounts.Device", on_delete=models.PROTECT, related_name="operations", verbose_name="设备"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="用户"
    )
    op_id = models.UUIDField("操作编号")
    seq = models.PositiveBigIntegerField("序号", help_text="The operation's position in the device's queue.")
    op_type = models.CharField("操作类型", max_length=64)
    entity_id = models.CharField("对象编号", max_length=64)
    base_version = models.PositiveIntegerField("基准版本", null=True, blank=True)
    device_time = models.DateTimeField("设备时间")
    corrected_time = models.DateTimeField(
        "校正时间", help_text="device_time corrected by the push's clock offset."
    )
    payload = models.JSONField("操作内容", default=dict)
    content_hash = models.CharField("内容摘要", max_length=64)
    push = models.ForeignKey(Push, on_delete=models.PROTECT, related_name="operations", verbose_name="推送")
    status = models.CharField("状态", max_length=16, choices=Status.choices)
    waits_for = models.JSONField("等待条件", null=True, blank=True)
    # What a held operation waits for: a sync.waits.WaitKey ("seq:<device>:<n>", "op:<op id>",
    # "entity:<type>:<id>", or a domain's, "stages:<task>"), as one indexed string. Empty once resolved.
    wait_key = models.CharField("等待键", max_length=120, blank=True)
    result = models.JSONField("处理结果", default=dict)
    received_at = models.DateTimeField("接收时间")
    resolved_at = models.DateTimeField("了结时间", null=True, blank=True)

    class Meta:
        verbose_name = "同步操作"
        verbose_name_plural = "同步操作"
        ordering = ["device_id", "seq"]
        constraints = [
            # Exactly once: the same operation pushed again (a retry, a parallel push) finds this row.
            models.UniqueConstraint(fields=["device", "op_id"], name="operation_once_per_device"),
            models.UniqueConstraint(fields=["device", "seq"], name="operation_seq_once_per_device"),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="operation_status_idx"),
            models.Index(fields=["op_type", "entity_id", "status"], name="operation_entity_idx"),
            models.Index(fields=["wait_key"], condition=Q(status="held"), name="operation_wait_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.op_type} {self.entity_id} ({self.status})"


class Conflict(models.Model):
    """Two changes to the same field from the same base: both values are kept for review."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    entity_type = models.CharField("对象类型", max_length=32)
    entity_id = models.CharField("对象编号", max_length=64)
    field = models.CharField("字段", max_length=64)
    kept_value = models.JSONField("保留值", null=True)
    other_value = models.JSONField("另一值", null=True)
    kept_op = models.ForeignKey(
        Operation, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="保留的操作"
    )
    other_op = models.ForeignKey(
        Operation, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="另一操作"
    )
    reason = models.CharField("原因", max_length=32, default="same_field")
    detected_at = models.DateTimeField("发现时间")
    resolved_at = models.DateTimeField("复核时间", null=True, blank=True)

    class Meta:
        verbose_name = "同步冲突"
        verbose_name_plural = "同步冲突"
        ordering = ["-detected_at", "id"]
        indexes = [models.Index(fields=["entity_type", "entity_id"], name="conflict_entity_idx")]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id}.{self.field}"


class SyncCounter(models.Model):
    """The one row whose lock orders the change log: a change takes the next value inside its own
    transaction and holds the lock until commit, so change sequences commit in order and a pull
    that has read up to N can never later find a committed change below N."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    value = models.PositiveBigIntegerField("当前值", default=0)

    class Meta:
        verbose_name = "同步计数器"
        verbose_name_plural = "同步计数器"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="sync_counter_single_row")]

    def __str__(self) -> str:
        return str(self.value)


class Change(models.Model):
    """The latest change of each entity, by server sequence; deleted entities stay as tombstones."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    seq = models.PositiveBigIntegerField("序号", unique=True)
    entity_type = models.CharField("对象类型", max_length=32)
    entity_id = models.CharField("对象编号", max_length=64)
    version = models.PositiveIntegerField("版本")
    deleted = models.BooleanField("已删除", default=False)
    data = models.JSONField("数据", null=True)
    # Scope keys, so that a pull filters with the same rules as server/access.py.
    agency_id = models.BigIntegerField("机构", null=True)
    enterprise_id = models.BigIntegerField("企业", null=True)
    project_id = models.BigIntegerField("监测项目", null=True)
    region_code = models.CharField("行政区划", max_length=6, blank=True)
    changed_at = models.DateTimeField("变更时间")

    class Meta:
        verbose_name = "变更记录"
        verbose_name_plural = "变更记录"
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["entity_type", "entity_id"], name="change_one_per_entity")
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.entity_type} {self.entity_id}"


class IdempotentRequest(models.Model):
    """An online write sent with an ``Idempotency-Key``: the first response, replayed to retries."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="用户"
    )
    key = models.CharField("幂等键", max_length=128)
    request_hash = models.CharField("请求摘要", max_length=64)
    status_code = models.PositiveSmallIntegerField("响应状态码", null=True)
    body = models.BinaryField("响应内容", null=True)
    content_type = models.CharField("响应内容类型", max_length=100, blank=True)
    created_at = models.DateTimeField("创建时间")

    class Meta:
        verbose_name = "幂等请求"
        verbose_name_plural = "幂等请求"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self) -> str:
        return self.key
