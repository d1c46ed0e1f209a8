"""Monitoring projects (项目登记, seed 002). Tasks, stages and photos arrive with issue [F5]."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from server.registry.models import REGION_CODE_HELP, Agency, Contract, Employment, Enterprise, Post


class MonitoringProject(models.Model):
    class MonitoringType(models.TextChoices):
        WATER = "water", "水和废水"
        AIR = "air", "环境空气和废气"
        SOIL = "soil", "土壤和水系沉积物"
        SOLID_WASTE = "solid_waste", "固体废物"
        HAZARDOUS_WASTE = "hazardous_waste", "危险废物鉴别"
        NOISE = "noise", "噪声"
        VIBRATION = "vibration", "振动"
        SEAWATER = "seawater", "海水"
        RADIATION = "radiation", "电离辐射"
        ELECTROMAGNETIC = "electromagnetic", "电磁辐射"

    class Status(models.TextChoices):
        UNFINISHED = "unfinished", "未完成"
        SUBMITTED = "submitted", "已提交"
        RETURNED = "returned", "已退回"
        DONE = "done", "已完成"
        # Seed 002 查询统计 删除: only an unfinished or returned project is deleted; the row and its
        # history stay (services.project_delete), it leaves every list and the phones' pull.
        DELETED = "deleted", "已删除"

    class CommissionCategory(models.TextChoices):
        # Seed 002 委托信息 (选择委托类别): the platform's drop-down is a screenshot; these are the
        # commissions its text and the Sichuan hazardous-waste workflow name.
        SELF_MONITORING = "self_monitoring", "企业自行监测"
        EIA = "eia", "环境影响评价监测"
        ACCEPTANCE = "acceptance", "竣工环境保护验收监测"
        HAZARDOUS_IDENTIFICATION = "hazardous_identification", "危险废物鉴别"
        SOIL_SURVEY = "soil_survey", "土壤污染状况调查"
        OTHER = "other", "其他委托"

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="projects", verbose_name="监测机构"
    )
    number = models.CharField("项目编号", max_length=64)
    name = models.CharField("项目名称", max_length=200)
    monitoring_type = models.CharField("监测类型", max_length=20, choices=MonitoringType.choices)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="projects", verbose_name="委托企业"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="projects", verbose_name="合同"
    )
    region_code = models.CharField("项目区域", max_length=6, help_text=REGION_CODE_HELP)
    # 监测信息 (seed 002 项目登记): what is measured, as the clerk lists it (监测项目/因子).
    monitoring_items = models.JSONField("监测项目", default=list, blank=True)
    # 委托信息: the commission and the client's contact (电话有格式验证).
    commission_category = models.CharField(
        "委托类别", max_length=32, choices=CommissionCategory.choices, blank=True, default=""
    )
    client_contact = models.CharField("委托企业联系人", max_length=50, blank=True, default="")
    client_phone = models.CharField("委托企业联系电话", max_length=20, blank=True, default="")
    # 是否分包: a subcontracted project names its subcontractor (名称 and its GB 32100 code).
    subcontracted = models.BooleanField("是否分包", default=False)
    subcontractor_name = models.CharField("分包单位名称", max_length=200, blank=True, default="")
    subcontractor_credit_code = models.CharField(
        "分包单位统一社会信用代码", max_length=18, blank=True, default=""
    )
    # 培训信息: the training the project's staff received for it.
    training_on = models.DateField("培训日期", null=True, blank=True)
    training_content = models.TextField("培训内容", blank=True, default="")
    status = models.CharField(
        "监测状态", max_length=16, choices=Status.choices, default=Status.UNFINISHED, editable=False
    )
    return_reason = models.TextField("退回原因", blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="登记人",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "监测项目"
        verbose_name_plural = "监测项目"
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="project_number_unique_per_agency")
        ]
        indexes = [models.Index(fields=["region_code"], name="project_region_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class ProjectAssignment(models.Model):
    """A staff member assigned to a project in a post; only assigned staff act on its tasks."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    project = models.ForeignKey(
        MonitoringProject, on_delete=models.CASCADE, related_name="assignments", verbose_name="监测项目"
    )
    employment = models.ForeignKey(
        Employment, on_delete=models.PROTECT, related_name="project_assignments", verbose_name="技术人员"
    )
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="+", verbose_name="岗位")

    class Meta:
        verbose_name = "项目人员"
        verbose_name_plural = "项目人员"
        ordering = ["project_id", "post_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "employment", "post"], name="assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.post}"


class ProjectAttachment(models.Model):
    class Kind(models.TextChoices):
        CONTRACT = "contract", "合同"
        PLAN = "plan", "监测方案"
        REPORT = "report", "监测报告"
        # Seed 002 办理: 监测报告中的危废鉴别方案、危废鉴别报告为必传.
        IDENTIFICATION_PLAN = "identification_plan", "危险废物鉴别方案"
        IDENTIFICATION_REPORT = "identification_report", "危险废物鉴别报告"
        # Seed 002 委托信息: 是否分包选择“是”，需……上传分包单位的资质信息.
        SUBCONTRACTOR_QUALIFICATION = "subcontractor_qualification", "分包单位资质"
        OTHER = "other", "其他"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    project = models.ForeignKey(
        MonitoringProject, on_delete=models.CASCADE, related_name="attachments", verbose_name="监测项目"
    )
    kind = models.CharField("附件类型", max_length=32, choices=Kind.choices)
    file = models.FileField("文件", upload_to="project-attachments/%Y/%m/")
    name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("文件摘要（SHA-256）", max_length=64)
    size = models.PositiveBigIntegerField("文件大小（字节）")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="上传人",
    )
    uploaded_at = models.DateTimeField("上传时间")
    # A monitoring report's number and issue date as printed on it: the public look-up (seed 002
    # 监测业务公开端) finds a report by its number. Unique per agency: ``services.project_attach``
    # checks it under a lock of the agency row (the agency is the project's, beyond a constraint).
    number = models.CharField("报告编号", max_length=64, blank=True, default="")
    issued_on = models.DateField("签发日期", null=True, blank=True)
    # Seed 002: 监测报告可以删除后重新上传. A deleted attachment keeps its row and file (who deleted
    # what, and when, stays answerable); it leaves the project's lists, checks and the public look-up.
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="删除人",
        editable=False,
    )

    class Meta:
        verbose_name = "项目附件"
        verbose_name_plural = "项目附件"
        ordering = ["project_id", "uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "sha256"],
                condition=Q(deleted_at__isnull=True),
                name="attachment_once_per_project",
            )
        ]
        indexes = [
            models.Index(fields=["number"], condition=~Q(number=""), name="attachment_report_number"),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectAttachmentRequirement(models.Model):
    """The attachments a monitoring type's projects cannot be submitted without (seed 002: 危险废物
    鉴别 needs its 鉴别方案 and 鉴别报告). Data, as ``TaskPhotoType`` is: tuned in the admin. The
    contract (合同附件为必传项, every project) and a subcontractor's qualification (when 分包) are
    required of every project by ``services.required_attachment_kinds`` itself."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    monitoring_type = models.CharField(
        "监测类型", max_length=20, choices=MonitoringProject.MonitoringType.choices
    )
    kind = models.CharField("附件类型", max_length=32, choices=ProjectAttachment.Kind.choices)

    class Meta:
        verbose_name = "项目必传附件"
        verbose_name_plural = "项目必传附件"
        ordering = ["monitoring_type", "id"]
        constraints = [
            models.UniqueConstraint(fields=["monitoring_type", "kind"], name="attachment_requirement_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_monitoring_type_display()}: {self.get_kind_display()}"


class ProjectEvent(models.Model):
    """One row per project status change."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    project = models.ForeignKey(
        MonitoringProject, on_delete=models.CASCADE, related_name="events", verbose_name="监测项目"
    )
    from_status = models.CharField("原状态", max_length=16, choices=MonitoringProject.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=MonitoringProject.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "项目状态记录"
        verbose_name_plural = "项目状态记录"
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=models.F("to_status")), name="event_changes")
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.from_status} → {self.to_status}"


class MonitoringTask(models.Model):
    """A monitoring task (监测任务), created on a sampler's phone, often offline: its id is the
    phone's UUID. Its lifecycle (start, pause, continue, save, end) is the TASK machine in
    services.py, with a ``TaskEvent`` per move; its editable fields merge field by field in sync.

    ``version`` counts applied changes; ``field_stamps`` remembers, for each editable field, the
    version and order key of the change that set it (``sync.merge``)."""

    class Status(models.TextChoices):
        CREATED = "created", "已创建"
        RUNNING = "running", "进行中"
        PAUSED = "paused", "已暂停"
        SAVED = "saved", "已暂存"
        ENDED = "ended", "已结束"

    EDITABLE_FIELDS = ("name", "sample_codes", "note")

    id = models.UUIDField("任务编号", primary_key=True)
    project = models.ForeignKey(
        MonitoringProject, on_delete=models.PROTECT, related_name="tasks", verbose_name="监测项目"
    )
    name = models.CharField("任务名称", max_length=200)
    sample_codes = models.JSONField("样品编号", default=list, blank=True)
    note = models.TextField("备注", blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.CREATED, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    field_stamps = models.JSONField("字段版本戳", default=dict, editable=False)
    # When the sampler created it: on the phone (offline, its clock corrected by the push's measured
    # offset, as the task's events are dated), never after the server got it (``received_at``).
    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    received_at = models.DateTimeField("服务器接收时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "监测任务"
        verbose_name_plural = "监测任务"
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return self.name


class TaskEvent(models.Model):
    """One move of a monitoring task (开始、暂停、继续、暂存、结束): who, when (the phone's corrected
    clock for offline moves) and from which status. Pauses split the task's GPS track."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    task = models.ForeignKey(
        MonitoringTask, on_delete=models.CASCADE, related_name="events", verbose_name="监测任务"
    )
    from_status = models.CharField("原状态", max_length=16, choices=MonitoringTask.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=MonitoringTask.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")
    # Moves from several phones arrive in any order; the status is the history replayed in time order
    # (services.task_transition). A move that does not fit where it falls in time is kept, unapplied.
    applied = models.BooleanField("已生效", default=True)

    class Meta:
        verbose_name = "任务状态记录"
        verbose_name_plural = "任务状态记录"
        ordering = ["task", "at", "id"]

    def __str__(self) -> str:
        return f"{self.task}: {self.from_status} → {self.to_status}"


class TaskPhotoType(models.Model):
    """Which photo types a monitoring type's tasks take, and which of them are required before the
    task can end (seed 002: 采样作业照片、采样点现场照片为必传项; delivery and lab photos follow). A
    photo type not listed for the task's monitoring type is refused. Data: tuned in the admin."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    monitoring_type = models.CharField(
        "监测类型", max_length=20, choices=MonitoringProject.MonitoringType.choices
    )
    photo_type = models.ForeignKey(
        "media_rules.PhotoType", on_delete=models.PROTECT, related_name="+", verbose_name="照片类型"
    )
    required = models.BooleanField("必传", default=True)

    class Meta:
        verbose_name = "任务照片类型"
        verbose_name_plural = "任务照片类型"
        ordering = ["monitoring_type", "photo_type__position"]
        constraints = [
            models.UniqueConstraint(fields=["monitoring_type", "photo_type"], name="required_photo_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_monitoring_type_display()}: {self.photo_type}"
