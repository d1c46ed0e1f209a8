"""What the retention purge leaves behind: one row per run, the subject of its audit entry."""

from __future__ import annotations

from django.db import models


class PurgeRun(models.Model):
    """One run of ``server.privacy.retention.purge_expired``: its cut-offs and what it deleted."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "定时任务"
        COMMAND = "command", "管理命令"

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    at = models.DateTimeField("运行时间")
    trigger = models.CharField("触发方式", max_length=16, choices=Trigger.choices)
    track_cutoff = models.DateTimeField("航迹点删除截止")
    face_photo_cutoff = models.DateTimeField("人脸照片删除截止")
    track_points = models.PositiveIntegerField("删除航迹点数", default=0)
    face_photos = models.PositiveIntegerField("删除人脸照片文件数", default=0)

    class Meta:
        verbose_name = "个人信息清理记录"
        verbose_name_plural = "个人信息清理记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.trigger}"
