"""Seed 002's required photos per monitoring type. Samples taken to a laboratory need the two
sampling photos, a delivery photo and a lab photo; on-site measurements (noise, vibration,
radiation) have no delivery or lab stage and need the sampling photos only."""

from django.db import migrations

SAMPLING = ["sampling_operation", "sampling_site"]
LAB_ANALYSED = SAMPLING + ["sample_delivery", "lab_analysis"]
REQUIRED = {
    "water": LAB_ANALYSED,
    "air": LAB_ANALYSED,
    "soil": LAB_ANALYSED,
    "solid_waste": LAB_ANALYSED,
    "hazardous_waste": LAB_ANALYSED,
    "seawater": LAB_ANALYSED,
    "noise": SAMPLING,
    "vibration": SAMPLING,
    "radiation": SAMPLING,
    "electromagnetic": SAMPLING,
}


def forwards(apps, schema_editor):
    required = apps.get_model("fieldwork", "RequiredPhotoType")
    for monitoring_type, codes in REQUIRED.items():
        for code in codes:
            required.objects.get_or_create(monitoring_type=monitoring_type, photo_type_id=code)


def backwards(apps, schema_editor):
    apps.get_model("fieldwork", "RequiredPhotoType").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("fieldwork", "0003_task_lifecycle"), ("media_rules", "0002_photo_types")]
    operations = [migrations.RunPython(forwards, backwards)]
