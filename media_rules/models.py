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

    sha256 = models.CharField(primary_key=True, max_length=64)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=8)  # jpeg, png, heic, heif (sniffed, not the file name)
    name = models.CharField("存储名", max_length=200)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    exif = models.JSONField(default=dict)  # media_rules.evidence.ExifData, normalised (see intake.exif_json)
    received_at = models.DateTimeField()
    # Background work (media_rules.background): thumbnail, perceptual hashes, the person check.
    processed_at = models.DateTimeField(null=True, blank=True)
    process_error = models.CharField(max_length=64, blank=True)
    thumbnail = models.CharField("缩略图存储名", max_length=200, blank=True)
    phash = models.BigIntegerField(null=True, blank=True)  # dHash of the upright image, signed 64-bit
    phash_mirror = models.BigIntegerField(null=True, blank=True)  # dHash of its horizontal mirror
    face_count = models.PositiveSmallIntegerField(null=True, blank=True)
    sharpness = models.FloatField(null=True, blank=True)
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

    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="holders")
    agency = models.ForeignKey(
        "registry.Agency", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
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

    id = models.UUIDField(primary_key=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="photos")
    photo_type = models.ForeignKey(PhotoType, on_delete=models.PROTECT, related_name="photos")
    task = models.ForeignKey(
        "fieldwork.MonitoringTask", on_delete=models.PROTECT, null=True, blank=True, related_name="photos"
    )
    outlet = models.ForeignKey(
        "registry.Outlet", on_delete=models.PROTECT, null=True, blank=True, related_name="photos"
    )
    agency = models.ForeignKey("registry.Agency", on_delete=models.PROTECT, related_name="photos")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(
        "accounts.Device", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The phone's location fix at capture: stored in WGS-84, what it sent kept beside.
    fix_location = models.PointField("拍摄定位 (WGS-84)", srid=4326, null=True, blank=True)
    fix_raw_lon = models.FloatField(null=True, blank=True)
    fix_raw_lat = models.FloatField(null=True, blank=True)
    fix_system = models.CharField(max_length=8, choices=CoordinateSystem.choices(), blank=True)
    fix_accuracy_m = models.FloatField(null=True, blank=True)
    fix_time = models.DateTimeField(null=True, blank=True)
    mock_location = models.BooleanField(default=False)
    # The phone's clock at capture, as sent, and corrected by the offset measured when it was sent.
    device_time = models.DateTimeField(null=True, blank=True)
    device_time_corrected = models.DateTimeField(null=True, blank=True)
    signature = models.TextField(blank=True)
    signature_valid = models.BooleanField(null=True, blank=True)
    recorded_at = models.DateTimeField()  # when the server first heard of this photo
    # The best capture time the evidence gives (see media_rules.rules.capture_time), and its source.
    captured_at = models.DateTimeField(null=True, blank=True, db_index=True)
    captured_from = models.CharField(max_length=16, blank=True)
    verdict = models.CharField(
        "判定", max_length=4, choices=Verdict.choices, default=Verdict.PENDING, blank=True
    )
    findings = models.JSONField(default=list, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

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

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="hash_bands")
    agency_id = models.BigIntegerField()
    band = models.PositiveSmallIntegerField()
    value = models.IntegerField()
    captured_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["photo", "band"], name="hash_band_one_per_photo")]
        indexes = [models.Index(fields=["agency_id", "band", "value"], name="hash_band_lookup")]


class Upload(models.Model):
    """A resumable upload of one file: the phone sends chunks at the offset the server says it has.
    Chunks are kept in storage (``uploads/<id>/<n>``) so any app server can continue an upload."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    received = models.PositiveBigIntegerField(default=0)
    parts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "断点续传"
        verbose_name_plural = "断点续传"
        indexes = [models.Index(fields=["created_by", "sha256"], name="upload_user_sha")]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.received}/{self.size}"
