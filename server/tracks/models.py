"""Monitoring tracks (监测航迹): every raw point a phone recorded, with the reason it was filtered.

A day of points every 5 s from hundreds of phones is millions of rows, so a row is kept narrow: no
JSON, no text beyond the short reason code. The point's WGS-84 position is the geometry; what the
phone sent (longitude, latitude and their system) is kept beside it, as everywhere else.
"""

from __future__ import annotations

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

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(MonitoringTask, on_delete=models.PROTECT, related_name="track_points")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("定位时间")
    location = models.PointField("位置（WGS-84）", srid=4326)
    longitude = models.FloatField("提交的经度")
    latitude = models.FloatField("提交的纬度")
    coordinate_system = models.CharField(max_length=5, choices=CoordinateSystem.choices())
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
