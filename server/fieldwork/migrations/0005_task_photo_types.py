"""Required photo types become the photo types a monitoring type takes (required or not): a type not
listed for a task's monitoring type is refused. Every monitoring type also takes the work photo."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    TaskPhotoType = apps.get_model("fieldwork", "TaskPhotoType")
    monitoring_types = set(TaskPhotoType.objects.values_list("monitoring_type", flat=True))
    for monitoring_type in monitoring_types:
        TaskPhotoType.objects.get_or_create(
            monitoring_type=monitoring_type, photo_type_id="work_photo", defaults={"required": False}
        )


def backwards(apps, schema_editor):
    apps.get_model("fieldwork", "TaskPhotoType").objects.filter(required=False).delete()


class Migration(migrations.Migration):
    dependencies = [("fieldwork", "0004_required_photo_types")]
    operations = [
        migrations.RenameModel("RequiredPhotoType", "TaskPhotoType"),
        migrations.AlterModelOptions(
            name="taskphototype",
            options={
                "ordering": ["monitoring_type", "photo_type__position"],
                "verbose_name": "任务照片类型",
                "verbose_name_plural": "任务照片类型",
            },
        ),
        migrations.AddField(
            model_name="taskphototype",
            name="required",
            field=models.BooleanField(default=True, verbose_name="必传"),
        ),
        migrations.AddField(
            model_name="taskevent",
            name="applied",
            field=models.BooleanField(default=True, verbose_name="已生效"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
