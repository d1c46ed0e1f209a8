"""Transfer filings (重复人员报备) wait for the old agency's or a regulator's decision (issue F9 item 6)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_contract_acceptance_and_region_change"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TransferFilingEvent",
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
                        choices=[("pending", "待确认"), ("confirmed", "已确认"), ("refused", "已拒绝")],
                        max_length=16,
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[("pending", "待确认"), ("confirmed", "已确认"), ("refused", "已拒绝")],
                        max_length=16,
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "重复人员报备记录",
                "verbose_name_plural": "重复人员报备记录",
                "ordering": ["at", "id"],
            },
        ),
        migrations.AddField(
            model_name="transferfiling",
            name="decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="确认时间"),
        ),
        migrations.AddField(
            model_name="transferfiling",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transferfiling",
            name="decision_reason",
            field=models.TextField(blank=True, editable=False, verbose_name="拒绝原因"),
        ),
        migrations.AddField(
            model_name="transferfiling",
            name="hire",
            field=models.JSONField(blank=True, default=dict, verbose_name="新单位入职信息"),
        ),
        migrations.AddField(
            model_name="transferfiling",
            name="new_employment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.employment",
            ),
        ),
        migrations.AddField(
            model_name="transferfiling",
            name="proof_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="离职证明文件名"),
        ),
        # Filings made before F9 item 6 closed the old record at once: they are confirmed ones.
        migrations.AddField(
            model_name="transferfiling",
            name="status",
            field=models.CharField(
                choices=[("pending", "待确认"), ("confirmed", "已确认"), ("refused", "已拒绝")],
                default="confirmed",
                editable=False,
                max_length=16,
                verbose_name="状态",
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="transferfiling",
            name="status",
            field=models.CharField(
                choices=[("pending", "待确认"), ("confirmed", "已确认"), ("refused", "已拒绝")],
                default="pending",
                editable=False,
                max_length=16,
                verbose_name="状态",
            ),
        ),
        migrations.AlterField(
            model_name="transferfiling",
            name="proof",
            field=models.FileField(max_length=300, upload_to="transfer-proofs/", verbose_name="离职证明"),
        ),
        migrations.AddConstraint(
            model_name="transferfiling",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("person", "to_agency"),
                name="transfer_filing_one_pending",
            ),
        ),
        migrations.AddConstraint(
            model_name="transferfiling",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pending", "confirmed", "refused"])),
                name="transfer_filing_status_known",
            ),
        ),
        migrations.AddField(
            model_name="transferfilingevent",
            name="actor",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="transferfilingevent",
            name="filing",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="registry.transferfiling",
            ),
        ),
    ]
