"""Monitoring tracks (监测航迹): every raw point a phone recorded, with the reason it was filtered.

A day of points every 5 s from hundreds of phones is millions of rows, so a row is kept narrow: no
JSON, no text beyond the short reason code. The point's WGS-84 position is the geometry; what the
phone sent (longitude, latitude and their system) is kept beside it, as everywhere else.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

from server.accounts.models import Device
from server.fieldwork.models import MonitoringTask
from server.geo import CoordinateSystem


class TrackPoint(models.Model):
    class Filtered(models.TextChoices):
        KEPT = "", "保留"
        ZERO = "zero", "零坐标 (0,0)"
        MOCK = "mock", "模拟定位"
        POOR_ACCURACY = "poor_accuracy", "定位精度差"
        DUPLICATE = "duplicate", "重复点"
        TOO_DENSE = "too_dense", "过密点"
        IMPOSSIBLE_SPEED = "impossible_speed", "速度不可能"
        TIME_INVALID = "time_invalid", "时间无效（2000年前）"
        TIME_BEFORE_TASK = "time_before_task", "早于任务创建"
        TIME_FUTURE = "time_future", "时间晚于服务器接收"

    id = models.BigAutoField("编号", primary_key=True)
    task = models.ForeignKey(
        MonitoringTask, on_delete=models.PROTECT, related_name="track_points", verbose_name="监测任务"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="设备"
    )
    recorded_at = models.DateTimeField("定位时间")
    location = models.PointField("位置（WGS-84）", srid=4326)
    longitude = models.FloatField("提交的经度")
    latitude = models.FloatField("提交的纬度")
    coordinate_system = models.CharField("提交的坐标系", max_length=5, choices=CoordinateSystem.choices())
    accuracy_m = models.FloatField("精度（米）", null=True, blank=True)
    speed_mps = models.FloatField("速度（米/秒）", null=True, blank=True)
    bearing = models.FloatField("方向（度）", null=True, blank=True)
    altitude_m = models.FloatField("海拔（米）", null=True, blank=True)
    mock = models.BooleanField("模拟定位", default=False)
    filtered = models.CharField("过滤原因", max_length=16, choices=Filtered.choices, default="", blank=True)
    segment = models.PositiveIntegerField("分段", default=0)

    class Meta:
        verbose_name = "航迹点"
        verbose_name_plural = "航迹点"
        ordering = ["task_id", "recorded_at", "id"]
        constraints = [
            # One point per device and time: a re-sent batch inserts nothing. Points sent without a
            # device (the back office) get their own key, since NULLs never clash in a unique index.
            models.UniqueConstraint(
                fields=["task", "device", "recorded_at"],
                condition=Q(device__isnull=False),
                name="track_point_once_per_device_time",
            ),
            models.UniqueConstraint(
                fields=["task", "recorded_at"],
                condition=Q(device__isnull=True),
                name="track_point_once_per_time_no_device",
            ),
        ]
        indexes = [models.Index(fields=["task", "recorded_at"], name="track_point_task_time_idx")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.recorded_at.isoformat()}"


class CheckIn(models.Model):
    """A GPS sign-in (签到) at a site: for a monitoring task or at an O&M task's point, at the start
    or end of the work or on its own. Stored in WGS-84 with what the phone sent; judged by the same
    location rules as photos (media_rules.rules: geofence with accuracy credit, coordinate-system
    mix-ups, poor accuracy, mock location). The latest one is the phone's "current location"."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", "签到"
        START = "start", "开始签到"
        END = "end", "结束签到"

    class Verdict(models.TextChoices):
        INSIDE = "inside", "在电子围栏内"
        OUTSIDE = "outside", "超出电子围栏"
        COORDINATE_MIXUP = "coordinate_mixup", "坐标系错误"
        NO_SITE = "no_site", "无点位可比"

    id = models.UUIDField("编号", primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="签到人"
    )
    device = models.ForeignKey(
        "accounts.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="设备",
    )
    task = models.ForeignKey(
        "fieldwork.MonitoringTask",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkins",
        verbose_name="监测任务",
    )
    om_task = models.ForeignKey(
        "om.OmTask",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkins",
        verbose_name="运维任务",
    )
    outlet = models.ForeignKey(
        "registry.Outlet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkins",
        verbose_name="排口/点位",
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices, default=Kind.CHECKIN)
    at = models.DateTimeField("签到时间")  # the phone's clock, corrected by its measured offset
    location = models.PointField("位置 (WGS-84)", srid=4326)
    given_longitude = models.FloatField("提交的经度")
    given_latitude = models.FloatField("提交的纬度")
    given_system = models.CharField("提交的坐标系", max_length=8)
    accuracy_m = models.FloatField("定位精度（米）", null=True, blank=True)
    mock = models.BooleanField("模拟定位", default=False)
    distance_m = models.FloatField("距点位（米）", null=True, blank=True)
    geofence_m = models.FloatField("电子围栏半径（米）", null=True, blank=True)
    verdict = models.CharField("判定", max_length=16, choices=Verdict.choices)
    findings = models.JSONField("规则检查结果", default=list, blank=True)
    recorded_at = models.DateTimeField("服务器接收时间")

    class Meta:
        verbose_name = "签到"
        verbose_name_plural = "签到"
        ordering = ["-at", "id"]
        indexes = [models.Index(fields=["user", "at"], name="checkin_user_at")]

    def __str__(self) -> str:
        return f"{self.user} {self.at:%Y-%m-%d %H:%M} {self.verdict}"
