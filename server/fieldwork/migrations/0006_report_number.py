"""A monitoring report's number (报告编号) and issue date on its attachment, for the public look-up of
a report by its number (seed 002 监测业务公开端). Blank for every other attachment and for reports
uploaded before; unique per agency, checked by ``services.project_attach``."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("fieldwork", "0005_task_photo_types")]

    operations = [
        migrations.AddField(
            model_name="projectattachment",
            name="number",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="报告编号"),
        ),
        migrations.AddField(
            model_name="projectattachment",
            name="issued_on",
            field=models.DateField(blank=True, null=True, verbose_name="签发日期"),
        ),
        migrations.AddIndex(
            model_name="projectattachment",
            index=models.Index(
                condition=models.Q(("number", ""), _negated=True),
                fields=["number"],
                name="attachment_report_number",
            ),
        ),
    ]
