"""O&M tasks (运维任务, seed 003): a contract, its points, staff, instruments and plans.
Daily records, forms and reviews arrive with issue [F6]."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from server.registry.models import Agency, Contract, Employment, Instrument, Outlet, OutletKind


class OmTask(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "进行中"
        FINISHED = "finished", "已完结"

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="om_tasks", verbose_name="运维机构"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="om_tasks", verbose_name="合同"
    )
    number = models.CharField("任务编号", max_length=64)
    name = models.CharField("任务名称", max_length=200)
    kind = models.CharField("任务类型", max_length=16, choices=OutletKind.choices)
    starts_on = models.DateField("任务开始日期")
    ends_on = models.DateField("任务结束日期")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # What a check-in outside the outlet's geofence does to a record (seed 003 leaves it to the
    # regulator): it is always stored and flagged; with "block" the record cannot be submitted.
    geofence_policy = models.CharField(
        "签到超出围栏时",
        max_length=8,
        choices=[("flag", "标记，可提交"), ("block", "不可提交")],
        default="flag",
    )
    points = models.ManyToManyField(Outlet, related_name="om_tasks", verbose_name="运维点位")
    instruments = models.ManyToManyField(
        Instrument, related_name="om_tasks", blank=True, verbose_name="运维设备"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

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

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    task = models.ForeignKey(OmTask, on_delete=models.CASCADE, related_name="staff", verbose_name="运维任务")
    employment = models.ForeignKey(
        Employment, on_delete=models.PROTECT, related_name="om_assignments", verbose_name="技术人员"
    )
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

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    task = models.ForeignKey(OmTask, on_delete=models.CASCADE, related_name="plans", verbose_name="运维任务")
    title = models.CharField("计划标题", max_length=200)
    frequency = models.CharField("执行频次", max_length=16, choices=Frequency.choices)
    interval_days = models.PositiveIntegerField(
        "间隔天数", null=True, blank=True, help_text="自定义频次时必填。"
    )
    window_start = models.DateField("执行开始")
    window_end = models.DateField("执行结束")
    outlet = models.ForeignKey(
        Outlet, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="排口/点位"
    )
    # 运维内容: the forms (FormTemplate codes, any version) a visit of this plan fills; one or several,
    # required (issue F13: a daily inspection must not mark a quarterly calibration plan done).
    template_codes = models.JSONField("运维内容", default=list)

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


class OmTaskEvent(models.Model):
    """One status move of an O&M task (进行中 → 已完结, and back), written by
    ``services.TASK_STATUS`` in the move's transaction."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    task = models.ForeignKey(OmTask, on_delete=models.CASCADE, related_name="events", verbose_name="运维任务")
    from_status = models.CharField("原状态", max_length=16, choices=OmTask.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=OmTask.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "运维任务状态"
        verbose_name_plural = "运维任务状态"
        ordering = ["task", "at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.from_status} → {self.to_status}"


class ChangeRequest(models.Model):
    """信息变更申请 (seed 003 合同管理 and 运维任务管理): a change the agency asks for to a contract the
    enterprise has accepted, or to an O&M task that has records. Until the enterprise (or a regulator
    of its region) accepts it, the stored values stay in force and the request is shown beside them.
    ``changes`` holds the asked values, ``before`` the values in force when it was asked, both as
    {field: text}."""

    class Status(models.TextChoices):
        PENDING = "pending", "待确认"
        ACCEPTED = "accepted", "已同意"
        REFUSED = "refused", "已拒绝"
        WITHDRAWN = "withdrawn", "已撤回"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    contract = models.ForeignKey(
        Contract,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_requests",
        verbose_name="合同",
    )
    task = models.ForeignKey(
        OmTask,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_requests",
        verbose_name="运维任务",
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="change_requests", verbose_name="运维机构"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="change_requests",
        verbose_name="排污企业",
    )
    changes = models.JSONField("变更内容")
    before = models.JSONField("变更前内容")
    explanation = models.TextField("变更说明", blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    refusal_reason = models.TextField("拒绝原因", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    requested_at = models.DateTimeField("申请时间")

    class Meta:
        verbose_name = "信息变更申请"
        verbose_name_plural = "信息变更申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contract__isnull=False, task__isnull=True)
                | Q(contract__isnull=True, task__isnull=False),
                name="om_change_request_one_subject",
            ),
            # One open request per subject: a second would hide which values the first was asked on.
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status="pending", contract__isnull=False),
                name="om_change_request_one_pending_contract",
            ),
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(status="pending", task__isnull=False),
                name="om_change_request_one_pending_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract or self.task} {self.get_status_display()}"


class ChangeRequestEvent(models.Model):
    """One move of a change request (asked, accepted, refused, withdrawn), written in its transaction."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    request = models.ForeignKey(
        ChangeRequest, on_delete=models.CASCADE, related_name="events", verbose_name="信息变更申请"
    )
    from_status = models.CharField("原状态", max_length=16, choices=ChangeRequest.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=ChangeRequest.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "信息变更申请记录"
        verbose_name_plural = "信息变更申请记录"
        ordering = ["request", "at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status} → {self.to_status}"


# --- Daily records ([F6], seed 003 §2.3) -----------------------------------------------------------
class FormTemplate(models.Model):
    """One version of an O&M form (运维内容): sections and items as data (``definition``, the JSON of
    ``server/om/forms_data/templates/<code>.json``), loaded by ``manage.py om_forms_load`` (and the
    data migration). A record keeps the version it was filled with; a changed form is a new version."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    code = models.SlugField("编码", max_length=64)
    version = models.PositiveIntegerField("版本")
    outlet_kind = models.CharField("排口类型", max_length=16, choices=OutletKind.choices)
    name = models.CharField("表单名称", max_length=100)
    definition = models.JSONField("表单定义")
    loaded_at = models.DateTimeField("载入时间", auto_now_add=True)

    class Meta:
        verbose_name = "运维表单模板"
        verbose_name_plural = "运维表单模板"
        ordering = ["outlet_kind", "code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="om_template_code_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class LimitSet(models.Model):
    """A judgement limit (限值) for a computed value, with the clause it comes from. ``confirmed`` is
    false where the value could not be checked against the standard's text: judgements made with it
    are shown as provisional (待核实). Corrected in ``forms_data/limits.json`` or the admin; never in
    code."""

    key = models.SlugField("编码", max_length=64, primary_key=True)
    measure = models.CharField("计算类型", max_length=32)
    analyte = models.CharField("监测因子", max_length=16, blank=True)
    definition = models.JSONField("限值定义")  # bands, band_on (see forms_data/README.md)
    source = models.TextField("依据条款")
    confirmed = models.BooleanField("已核实", default=False)
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "判定限值"
        verbose_name_plural = "判定限值"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class OmRecord(models.Model):
    """One filled O&M form (运维记录) of a task at an outlet, named by the phone's UUID.

    draft → submitted (the technician, after the end check-in) → confirmed (the enterprise, as part of
    a day's batch) → approved / voided (the agency's reviewer, who is never the filler). An edit after
    submission makes a new version (``OmRecordVersion``); an edit of a confirmed record takes it back
    to submitted and invalidates the confirmation for it (``services.record_edit``)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "待企业确认"
        CONFIRMED = "confirmed", "企业已确认"
        APPROVED = "approved", "审核通过"
        VOIDED = "voided", "已作废"

    id = models.UUIDField("记录编号", primary_key=True)
    task = models.ForeignKey(
        OmTask, on_delete=models.PROTECT, related_name="records", verbose_name="运维任务"
    )
    outlet = models.ForeignKey(
        Outlet, on_delete=models.PROTECT, related_name="om_records", verbose_name="排口/点位"
    )
    template = models.ForeignKey(
        FormTemplate, on_delete=models.PROTECT, related_name="records", verbose_name="运维表单"
    )
    # Denormalised from the task and the outlet: who may see the record, and the enterprise's day list.
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="om_records", verbose_name="运维机构"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="om_records", verbose_name="排污企业"
    )
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="填报人"
    )
    device = models.ForeignKey(
        "accounts.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="设备",
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField("版本", default=1)
    # The day the work was done (待确认日期), Asia/Shanghai: from the start check-in.
    om_date = models.DateField("运维日期", db_index=True)
    groups = models.JSONField("检查维护频次", default=list, blank=True)  # daily / weekly / …
    instruments = models.ManyToManyField(
        Instrument, related_name="om_records", blank=True, verbose_name="运维设备"
    )
    answers = models.JSONField("填报内容", default=dict, blank=True)
    judgements = models.JSONField("计算判定", default=list, blank=True)
    start_checkin = models.ForeignKey(
        "tracks.CheckIn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="开始签到",
    )
    end_checkin = models.ForeignKey(
        "tracks.CheckIn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结束签到",
    )
    work_photo = models.ForeignKey(
        "media_rules.Photo",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="工作照",
    )
    signature = models.ForeignKey(
        "media_rules.Blob",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="签名",
    )
    void_reason = models.TextField("作废原因", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)

    class Meta:
        verbose_name = "运维记录"
        verbose_name_plural = "运维记录"
        ordering = ["-om_date", "-created_at"]
        indexes = [
            models.Index(fields=["enterprise", "om_date", "status"], name="om_record_enterprise_day"),
            models.Index(fields=["task", "om_date"], name="om_record_task_day"),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} {self.om_date}"


class OmRecordVersion(models.Model):
    """A submitted version of a record, frozen: what the enterprise confirmed and the agency reviewed
    is always one of these. Version 1 is the first submission; each later edit adds one."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    record = models.ForeignKey(
        OmRecord, on_delete=models.CASCADE, related_name="versions", verbose_name="运维记录"
    )
    number = models.PositiveIntegerField("版本")
    groups = models.JSONField("检查维护频次", default=list)
    instrument_ids = models.JSONField("运维设备", default=list)
    answers = models.JSONField("填报内容", default=dict)
    judgements = models.JSONField("计算判定", default=list)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提交人"
    )
    saved_at = models.DateTimeField("提交时间")
    note = models.TextField("修改说明", blank=True)

    class Meta:
        verbose_name = "运维记录版本"
        verbose_name_plural = "运维记录版本"
        ordering = ["record_id", "number"]
        constraints = [models.UniqueConstraint(fields=["record", "number"], name="om_record_version_once")]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.number}"


class OmRecordEvent(models.Model):
    """One status move of a record (提交、确认、审核、作废、修改后重新确认), written by
    ``services.RECORD`` in the move's transaction."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    record = models.ForeignKey(
        OmRecord, on_delete=models.CASCADE, related_name="events", verbose_name="运维记录"
    )
    from_status = models.CharField("原状态", max_length=16, choices=OmRecord.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=OmRecord.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")
    applied = models.BooleanField("已生效", default=True)

    class Meta:
        verbose_name = "运维记录状态"
        verbose_name_plural = "运维记录状态"
        ordering = ["record", "at", "id"]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.from_status} → {self.to_status}"


class SignedAct(models.Model):
    """What the enterprise's confirmation and the agency's review share: the person, their work photo
    (a clear face, seed 003) and their handwritten signature, and the phone it came from."""

    id = models.UUIDField("编号", primary_key=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="签字人"
    )
    device = models.ForeignKey(
        "accounts.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="设备",
    )
    work_photo = models.ForeignKey(
        "media_rules.Photo", on_delete=models.PROTECT, related_name="+", verbose_name="工作照"
    )
    signature = models.ForeignKey(
        "media_rules.Blob", on_delete=models.PROTECT, related_name="+", verbose_name="签名"
    )
    at = models.DateTimeField("签字时间")

    class Meta:
        abstract = True


class DayConfirmation(SignedAct):
    """The enterprise confirms a day's records as a batch (seed 003 §3). It pins the versions it saw."""

    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="om_confirmations",
        verbose_name="排污企业",
    )
    om_date = models.DateField("确认日期")

    class Meta:
        verbose_name = "企业确认"
        verbose_name_plural = "企业确认"
        ordering = ["-om_date", "-at"]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.om_date}"


class ConfirmedVersion(models.Model):
    """One record in a day's confirmation, at the version the enterprise saw. A later edit of the
    record sets ``invalidated_at``: the record needs confirming again."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    confirmation = models.ForeignKey(
        DayConfirmation, on_delete=models.CASCADE, related_name="items", verbose_name="企业确认"
    )
    record = models.ForeignKey(
        OmRecord, on_delete=models.CASCADE, related_name="confirmations", verbose_name="运维记录"
    )
    version = models.PositiveIntegerField("确认的版本")
    invalidated_at = models.DateTimeField("失效时间", null=True, blank=True)
    invalidated_by_version = models.PositiveIntegerField("使其失效的版本", null=True, blank=True)

    class Meta:
        verbose_name = "企业确认的记录版本"
        verbose_name_plural = "企业确认的记录版本"
        constraints = [
            models.UniqueConstraint(fields=["confirmation", "record"], name="om_confirmed_once_per_batch")
        ]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version}"


class Review(SignedAct):
    """The agency's review of one or several confirmed records (机构审核): confirm or void."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "确认"
        VOID = "void", "作废"

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="om_reviews", verbose_name="运维机构"
    )
    decision = models.CharField("审核结果", max_length=8, choices=Decision.choices)
    reason = models.TextField("作废原因", blank=True)

    class Meta:
        verbose_name = "机构审核"
        verbose_name_plural = "机构审核"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.at:%Y-%m-%d}"


class ReviewedVersion(models.Model):
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="items", verbose_name="机构审核"
    )
    record = models.ForeignKey(
        OmRecord, on_delete=models.CASCADE, related_name="reviews", verbose_name="运维记录"
    )
    version = models.PositiveIntegerField("审核的版本")

    class Meta:
        verbose_name = "机构审核的记录版本"
        verbose_name_plural = "机构审核的记录版本"
        constraints = [
            models.UniqueConstraint(fields=["review", "record"], name="om_reviewed_once_per_batch")
        ]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version}"


class OmReport(models.Model):
    """A report uploaded against a task (上传报告, seed 003 §2.5), linked to chosen records."""

    class Category(models.TextChoices):
        MONTHLY = "monthly", "月度运维报告"
        QUARTERLY = "quarterly", "季度运维报告"
        ANNUAL = "annual", "年度运维报告"
        COMPARISON = "comparison", "比对监测报告"
        REPAIR = "repair", "维修报告"
        OTHER = "other", "其他"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    task = models.ForeignKey(
        OmTask, on_delete=models.PROTECT, related_name="reports", verbose_name="运维任务"
    )
    name = models.CharField("报告名称", max_length=200)
    category = models.CharField("报告类别", max_length=16, choices=Category.choices)
    file = models.FileField("附件", upload_to="om_reports/%Y/%m/", max_length=300)
    file_name = models.CharField("原文件名", max_length=200)
    file_sha256 = models.CharField("文件摘要（SHA-256）", max_length=64)
    file_size = models.PositiveBigIntegerField("文件大小（字节）")
    description = models.TextField("描述", blank=True)
    records = models.ManyToManyField(OmRecord, related_name="reports", blank=True, verbose_name="关联表单")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "运维报告"
        verbose_name_plural = "运维报告"
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            # The same file under the same name is one report of the task (an upload retried).
            models.UniqueConstraint(
                fields=["task", "file_sha256", "file_name"], name="om_report_once_per_task"
            )
        ]

    def __str__(self) -> str:
        return self.name
