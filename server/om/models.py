"""O&M tasks (运维任务, seed 003): a contract, its points, staff, instruments and plans.
Daily records, forms and reviews arrive with issue [F6]."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from server.registry.models import Agency, Contract, Employment, Instrument, Outlet, OutletKind


class OmTask(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "进行中"
        FINISHED = "finished", "已完结"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="om_tasks")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="om_tasks")
    number = models.CharField("任务编号", max_length=64)
    name = models.CharField("任务名称", max_length=200)
    kind = models.CharField("任务类型", max_length=16, choices=OutletKind.choices)
    starts_on = models.DateField("任务开始日期")
    ends_on = models.DateField("任务结束日期")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    points = models.ManyToManyField(Outlet, related_name="om_tasks", verbose_name="运维点位")
    instruments = models.ManyToManyField(
        Instrument, related_name="om_tasks", blank=True, verbose_name="运维设备"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "运维任务"
        verbose_name_plural = "运维任务"
        ordering = ["-starts_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="om_task_number_unique_per_agency"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="om_task_period"),
        ]

    def __str__(self) -> str:
        return self.name


class OmTaskStaff(models.Model):
    class Role(models.TextChoices):
        TECHNICIAN = "technician", "现场运维"
        REVIEWER = "reviewer", "运维审核"

    task = models.ForeignKey(OmTask, on_delete=models.CASCADE, related_name="staff")
    employment = models.ForeignKey(Employment, on_delete=models.PROTECT, related_name="om_assignments")
    role = models.CharField("角色", max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = "运维人员"
        verbose_name_plural = "运维人员"
        ordering = ["task_id", "role", "id"]
        constraints = [models.UniqueConstraint(fields=["task", "employment", "role"], name="om_staff_unique")]

    def __str__(self) -> str:
        return f"{self.task} {self.get_role_display()}"


class OmPlan(models.Model):
    """A maintenance plan (运维计划): what is due how often, within which window. Plans yield
    expected occurrences ([F6] lists them this week / this month / overdue)."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "每日"
        WEEKLY = "weekly", "每周"
        MONTHLY = "monthly", "每月"
        QUARTERLY = "quarterly", "每季度"
        CUSTOM = "custom", "自定义"

    task = models.ForeignKey(OmTask, on_delete=models.CASCADE, related_name="plans")
    title = models.CharField("计划标题", max_length=200)
    frequency = models.CharField("执行频次", max_length=16, choices=Frequency.choices)
    interval_days = models.PositiveIntegerField(
        "间隔天数", null=True, blank=True, help_text="自定义频次时必填。"
    )
    window_start = models.DateField("执行开始")
    window_end = models.DateField("执行结束")
    outlet = models.ForeignKey(Outlet, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "运维计划"
        verbose_name_plural = "运维计划"
        ordering = ["task_id", "window_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")), name="om_plan_window"
            ),
            models.CheckConstraint(
                condition=~Q(frequency="custom") | Q(interval_days__gte=1), name="om_plan_custom_has_interval"
            ),
        ]

    def __str__(self) -> str:
        return self.title
