"""What photo intake stores. Bytes live in storage (disk or S3), never in the database: a ``Blob`` is
one file, stored once by its SHA-256; a ``Photo`` is one use of a file on a task or at a site, named
by the phone's UUID, with the phone's capture manifest and the verdict the rules gave it.

A photo record may arrive before its file (offline phones send records first, files when the network
allows): it is then *awaiting media* (``blob`` is null, ``sha256`` says which file it waits for) and
is judged when the file arrives.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models

from media_rules.evidence import Severity
from server.geo import CoordinateSystem


class Stage(models.TextChoices):
    SAMPLING = "sampling", "采样"
    DELIVERY = "delivery", "送样"
    LAB = "lab", "实验室分析"
    OM = "om", "运维"
    PERSON = "person", "人员"


class PhotoType(models.Model):
    """A kind of photo (照片类型). Its stage is fixed by the type (seed 002: 选择照片类型后当前阶段也同时
    选定，且不能修改); the hint is shown to the user (备注提示); ``thresholds`` overrides the rules'
    defaults for this type (keys of ``media_rules.rules.Thresholds``)."""

    code = models.SlugField("编码", primary_key=True, max_length=40)
    name = models.CharField("名称", max_length=50, unique=True)
    stage = models.CharField("阶段", max_length=16, choices=Stage.choices)
    hint = models.TextField("备注提示", blank=True)
    thresholds = models.JSONField("规则阈值覆盖", default=dict, blank=True)
    position = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "照片类型"
        verbose_name_plural = "照片类型"
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class Blob(models.Model):
    """One photo file, by content. Created only for a file that is an image we can read."""

    sha256 = models.CharField("文件摘要（SHA-256）", primary_key=True, max_length=64)
    size = models.PositiveBigIntegerField("文件大小（字节）")
    format = models.CharField("文件格式", max_length=8)  # jpeg, png, heic, heif (sniffed, not the file name)
    name = models.CharField("存储名", max_length=200)
    width = models.PositiveIntegerField("宽度（像素）", null=True)
    height = models.PositiveIntegerField("高度（像素）", null=True)
    exif = models.JSONField(
        "EXIF 信息", default=dict
    )  # media_rules.evidence.ExifData, normalised (see intake.exif_json)
    received_at = models.DateTimeField("接收时间")
    # Background work (media_rules.background): thumbnail, perceptual hashes, the person check.
    processed_at = models.DateTimeField("处理时间", null=True, blank=True)
    process_error = models.CharField("处理错误", max_length=64, blank=True)
    thumbnail = models.CharField("缩略图存储名", max_length=200, blank=True)
    phash = models.BigIntegerField(
        "图像指纹", null=True, blank=True
    )  # dHash of the upright image, signed 64-bit
    phash_mirror = models.BigIntegerField(
        "镜像图像指纹", null=True, blank=True
    )  # dHash of its horizontal mirror
    face_count = models.PositiveSmallIntegerField("人脸数", null=True, blank=True)
    sharpness = models.FloatField("清晰度", null=True, blank=True)
    # Face photos at rest (media_rules.private_files): the file and thumbnail are sealed (AES-256-GCM)
    # once the file is known to show a person; deleted at the end of their retention period, the
    # record stays (hash, measures, the photos' verdicts) and says when.
    encrypted = models.BooleanField("已加密存储", default=False)
    purged_at = models.DateTimeField("文件删除时间", null=True, blank=True)

    class Meta:
        verbose_name = "照片文件"
        verbose_name_plural = "照片文件"

    def __str__(self) -> str:
        return self.sha256


class BlobHolder(models.Model):
    """A tenant that has sent a file's bytes (F9 item 1). Storage is shared by content, access is
    not: a photo links to a ``Blob`` only when its own agency (or, for an enterprise confirmer's work
    photo, that enterprise) holds the bytes, and "is this file here?" is answered per tenant
    (``media_rules.holders``). Exactly one of ``agency`` and ``enterprise`` is set."""

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="holders", verbose_name="照片文件")
    agency = models.ForeignKey(
        "registry.Agency",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="机构",
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="排污企业",
    )

    class Meta:
        verbose_name = "照片文件持有方"
        verbose_name_plural = "照片文件持有方"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agency__isnull=False, enterprise__isnull=True)
                | models.Q(agency__isnull=True, enterprise__isnull=False),
                name="blob_holder_one_tenant",
            ),
            models.UniqueConstraint(
                fields=["blob", "agency"],
                condition=models.Q(agency__isnull=False),
                name="blob_holder_agency_once",
            ),
            models.UniqueConstraint(
                fields=["blob", "enterprise"],
                condition=models.Q(enterprise__isnull=False),
                name="blob_holder_enterprise_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blob_id[:12]} {self.agency_id or ''}{self.enterprise_id or ''}"


class Verdict(models.TextChoices):
    PENDING = "", "待判定"
    PASS = Severity.PASS.value, "通过"
    WARN = Severity.WARN.value, "警告"
    FAIL = Severity.FAIL.value, "不通过"


class Photo(models.Model):
    """One photo on a task or at a site, as the phone recorded it (its capture manifest)."""

    id = models.UUIDField("照片编号", primary_key=True)
    sha256 = models.CharField("文件摘要（SHA-256）", max_length=64, db_index=True)
    blob = models.ForeignKey(
        Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="photos", verbose_name="照片文件"
    )
    photo_type = models.ForeignKey(
        PhotoType, on_delete=models.PROTECT, related_name="photos", verbose_name="照片类型"
    )
    task = models.ForeignKey(
        "fieldwork.MonitoringTask",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="photos",
        verbose_name="监测任务",
    )
    outlet = models.ForeignKey(
        "registry.Outlet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="photos",
        verbose_name="排口/点位",
    )
    agency = models.ForeignKey(
        "registry.Agency", on_delete=models.PROTECT, related_name="photos", verbose_name="机构"
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="拍摄人"
    )
    device = models.ForeignKey(
        "accounts.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="设备",
    )
    # The phone's location fix at capture: stored in WGS-84, what it sent kept beside.
    fix_location = models.PointField("拍摄定位 (WGS-84)", srid=4326, null=True, blank=True)
    fix_raw_lon = models.FloatField("提交的经度", null=True, blank=True)
    fix_raw_lat = models.FloatField("提交的纬度", null=True, blank=True)
    fix_system = models.CharField(
        "提交的坐标系", max_length=8, choices=CoordinateSystem.choices(), blank=True
    )
    fix_accuracy_m = models.FloatField("定位精度（米）", null=True, blank=True)
    fix_time = models.DateTimeField("定位时间", null=True, blank=True)
    mock_location = models.BooleanField("模拟定位", default=False)
    # The phone's clock at capture, as sent, and corrected by the offset measured when it was sent.
    device_time = models.DateTimeField("设备时间", null=True, blank=True)
    device_time_corrected = models.DateTimeField("校正后的设备时间", null=True, blank=True)
    signature = models.TextField("采集签名", blank=True)
    signature_valid = models.BooleanField("采集签名有效", null=True, blank=True)
    recorded_at = models.DateTimeField("服务器接收时间")  # when the server first heard of this photo
    # The best capture time the evidence gives (see media_rules.rules.capture_time), and its source.
    captured_at = models.DateTimeField("拍摄时间", null=True, blank=True, db_index=True)
    captured_from = models.CharField("拍摄时间来源", max_length=16, blank=True)
    verdict = models.CharField(
        "判定", max_length=4, choices=Verdict.choices, default=Verdict.PENDING, blank=True
    )
    findings = models.JSONField("规则检查结果", default=list, blank=True)
    evaluated_at = models.DateTimeField("判定时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "照片"
        verbose_name_plural = "照片"
        ordering = ["recorded_at", "id"]
        indexes = [
            models.Index(fields=["task", "recorded_at"], name="photo_task_recorded"),
            models.Index(fields=["agency", "verdict"], name="photo_agency_verdict"),
        ]

    def __str__(self) -> str:
        return f"{self.photo_type_id} {self.id}"

    @property
    def awaiting_media(self) -> bool:
        return self.blob_id is None

    @property
    def media_purged(self) -> bool:
        """Its file was deleted at the end of its retention period (a face photo): the record, the
        verdict and the file's hash stay. Reads the blob: list it with ``select_related("blob")``."""
        return self.blob_id is not None and self.blob.purged_at is not None


class PhotoHashBand(models.Model):
    """One band of a photo's perceptual hash, for near-duplicate search (media_rules.near_duplicates).

    Two hashes within Hamming distance d share at least one whole band when d < the number of bands
    (pigeonhole), so an indexed equality on (agency, band, value) finds every candidate within that
    distance without scanning; the exact distance is computed on the few candidates only."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="hash_bands", verbose_name="照片")
    agency_id = models.BigIntegerField("机构")
    band = models.PositiveSmallIntegerField("分段")
    value = models.IntegerField("分段值")
    captured_at = models.DateTimeField("拍摄时间", null=True)

    class Meta:
        verbose_name = "照片指纹分段"
        verbose_name_plural = "照片指纹分段"
        constraints = [models.UniqueConstraint(fields=["photo", "band"], name="hash_band_one_per_photo")]
        indexes = [models.Index(fields=["agency_id", "band", "value"], name="hash_band_lookup")]


class Upload(models.Model):
    """A resumable upload of one file: the phone sends chunks at the offset the server says it has.
    Chunks are kept in storage (``uploads/<id>/<n>``) so any app server can continue an upload."""

    id = models.UUIDField("上传编号", primary_key=True, default=uuid.uuid4, editable=False)
    sha256 = models.CharField("文件摘要（SHA-256）", max_length=64)
    size = models.PositiveBigIntegerField("文件大小（字节）")
    received = models.PositiveBigIntegerField("已接收（字节）", default=0)
    parts = models.PositiveIntegerField("分片数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="上传人"
    )
    created_at = models.DateTimeField("创建时间")
    updated_at = models.DateTimeField("更新时间")
    expires_at = models.DateTimeField("过期时间")
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "断点续传"
        verbose_name_plural = "断点续传"
        indexes = [models.Index(fields=["created_by", "sha256"], name="upload_user_sha")]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.received}/{self.size}"
