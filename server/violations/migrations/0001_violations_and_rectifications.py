"""Violations to rectify (违规待整改), their status history and the rectifications (历史整改记录)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The projects' first migration, not the latest: only MonitoringProject is referred to.
        ("fieldwork", "0001_initial"),
        ("media_rules", "0002_photo_types"),
        ("tracks", "0002_checkins"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Violation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("description", models.TextField(verbose_name="违规情况")),
                ("deadline", models.DateField(verbose_name="整改期限")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "待整改"), ("rectified", "已整改"), ("closed", "已销号")],
                        default="open",
                        editable=False,
                        max_length=16,
                        verbose_name="整改状态",
                    ),
                ),
                ("opened_at", models.DateTimeField(verbose_name="开具时间")),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "checkin",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="violations",
                        to="tracks.checkin",
                        verbose_name="证据签到",
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="开具人",
                    ),
                ),
                (
                    "photo",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="violations",
                        to="media_rules.photo",
                        verbose_name="证据照片",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="violations",
                        to="fieldwork.monitoringproject",
                        verbose_name="监测项目",
                    ),
                ),
            ],
            options={
                "verbose_name": "违规待整改",
                "verbose_name_plural": "违规待整改",
                "ordering": ["-opened_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Rectification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.TextField(verbose_name="整改情况")),
                (
                    "file",
                    models.FileField(blank=True, upload_to="rectifications/%Y/%m/", verbose_name="整改附件"),
                ),
                ("file_name", models.CharField(blank=True, max_length=200, verbose_name="附件名")),
                ("sha256", models.CharField(blank=True, max_length=64)),
                ("size", models.PositiveBigIntegerField(blank=True, null=True)),
                ("submitted_at", models.DateTimeField(verbose_name="提交时间")),
                (
                    "outcome",
                    models.CharField(
                        choices=[("pending", "待审核"), ("accepted", "已通过"), ("rejected", "已退回")],
                        default="pending",
                        editable=False,
                        max_length=16,
                        verbose_name="审核结果",
                    ),
                ),
                ("rejection_reason", models.TextField(blank=True, editable=False, verbose_name="退回原因")),
                (
                    "reviewed_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="审核时间"),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审核人",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="提交人",
                    ),
                ),
                (
                    "violation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="rectifications",
                        to="violations.violation",
                        verbose_name="违规",
                    ),
                ),
            ],
            options={
                "verbose_name": "整改记录",
                "verbose_name_plural": "历史整改记录",
                "ordering": ["-submitted_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ViolationEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "from_status",
                    models.CharField(
                        choices=[("open", "待整改"), ("rectified", "已整改"), ("closed", "已销号")],
                        max_length=16,
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[("open", "待整改"), ("rectified", "已整改"), ("closed", "已销号")],
                        max_length=16,
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("at", models.DateTimeField()),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "violation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="violations.violation",
                    ),
                ),
            ],
            options={
                "verbose_name": "整改状态记录",
                "verbose_name_plural": "整改状态记录",
                "ordering": ["violation", "at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="violation",
            index=models.Index(fields=["status", "deadline"], name="violation_status_deadline_idx"),
        ),
        migrations.AddConstraint(
            model_name="rectification",
            constraint=models.UniqueConstraint(
                condition=models.Q(("outcome", "pending")),
                fields=("violation",),
                name="one_pending_rectification",
            ),
        ),
        migrations.AddConstraint(
            model_name="rectification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("outcome", "rejected"), _negated=True),
                    models.Q(("rejection_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="rejected_rectification_has_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="violationevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("from_status", models.F("to_status")), _negated=True),
                name="violation_event_changes",
            ),
        ),
    ]
