"""A task keeps when the server received it (``received_at``), and ``created_at`` becomes when the
sampler created it: for a task created offline, the phone's clock corrected by the push's measured
offset, as its events already carried (F10 item 7). Existing tasks: ``received_at`` is the old
``created_at`` (the server's receipt), and ``created_at`` the corrected time of their applied
``task.create`` operation when it is earlier."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def created_on_the_phone(apps, schema_editor):
    MonitoringTask = apps.get_model("fieldwork", "MonitoringTask")
    Operation = apps.get_model("sync", "Operation")
    MonitoringTask.objects.update(received_at=F("created_at"))
    # In Python: the journal names a task by its id as text, the task table holds a uuid.
    created = Operation.objects.filter(op_type="task.create", status="applied").values_list(
        "entity_id", "corrected_time"
    )
    for task_id, corrected in created.iterator():
        MonitoringTask.objects.filter(pk=task_id, received_at__gt=corrected).update(created_at=corrected)


def back(apps, schema_editor):
    MonitoringTask = apps.get_model("fieldwork", "MonitoringTask")
    MonitoringTask.objects.update(created_at=F("received_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("fieldwork", "0007_project_region_from_enterprise"),
        ("sync", "0002_device_state_counters"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitoringtask",
            name="received_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="服务器接收时间"
            ),
        ),
        migrations.AlterField(
            model_name="monitoringtask",
            name="created_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="创建时间"
            ),
        ),
        migrations.RunPython(created_on_the_phone, back),
    ]
