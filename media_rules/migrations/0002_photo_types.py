"""The photo types of seed 002 (监测任务 → 拍照 → 照片类型) and the work photo of seed 003. Data, not
code: add or tune types in the admin or by a later migration."""

from django.db import migrations

TYPES = [
    # code, name, stage, hint, thresholds
    (
        "sampling_operation",
        "采样作业照片",
        "sampling",
        "拍摄采样人员正在采样的过程，须能看清采样设备和采样点位。必传。",
        {},
    ),
    (
        "sampling_site",
        "采样点现场照片",
        "sampling",
        "拍摄采样点位全景，须能辨认点位标识或周边参照物。必传。",
        {},
    ),
    (
        "sample_delivery",
        "送样照片",
        "delivery",
        "拍摄样品交接：样品箱、样品标签和交接单。采样照片齐全后才能上传。",
        {},
    ),
    (
        "lab_analysis",
        "实验室分析照片",
        "lab",
        "拍摄实验室分析过程：仪器、样品编号。送样照片上传后才能上传。",
        {"location_required": False},
    ),
    ("om_site", "运维现场照片", "om", "拍摄运维现场：排口、仪器或巡检项目。", {}),
    (
        "work_photo",
        "工作照",
        "person",
        "正面拍摄本人面部，光线充足、面部清晰，不要戴帽子或口罩。",
        {"face_required": True},
    ),
]


def forwards(apps, schema_editor):
    PhotoType = apps.get_model("media_rules", "PhotoType")
    for position, (code, name, stage, hint, thresholds) in enumerate(TYPES):
        PhotoType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "stage": stage,
                "hint": hint,
                "thresholds": thresholds,
                "position": position,
            },
        )


def backwards(apps, schema_editor):
    apps.get_model("media_rules", "PhotoType").objects.filter(code__in=[t[0] for t in TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("media_rules", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
