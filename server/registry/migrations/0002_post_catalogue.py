"""The posts staff hold, with the seed's defaults for which need a competency certificate
(seed 000: certificates per post category for monitoring staff; seed 001: O&M staff training
certificates). Administrators change ``requires_certificate`` in the admin, not in code."""

from django.db import migrations

POSTS = [
    # code, name, requires_certificate, field_work
    ("sampler", "采样人员", True, True),
    ("courier", "送样人员", False, True),
    ("lab_analyst", "实验室分析人员", True, True),
    ("om_technician", "现场运维人员", True, True),
    ("om_reviewer", "运维审核人员", False, True),
    ("quality_manager", "质量负责人", False, False),
    ("technical_manager", "技术负责人", False, False),
    ("signatory", "授权签字人", False, False),
    ("registrar", "登记人员", False, False),
]


def load_posts(apps, schema_editor):
    Post = apps.get_model("registry", "Post")
    for code, name, requires_certificate, field_work in POSTS:
        Post.objects.update_or_create(
            code=code,
            defaults={"name": name, "requires_certificate": requires_certificate, "field_work": field_work},
        )


def unload_posts(apps, schema_editor):
    apps.get_model("registry", "Post").objects.filter(code__in=[p[0] for p in POSTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(load_posts, unload_posts)]
