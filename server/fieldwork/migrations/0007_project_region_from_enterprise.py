"""A project's region is its enterprise's (issue F9.5): projects registered with another code (a
project in 310114 filed as 650100 vanished from its regulator) take their enterprise's."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def project_region_from_enterprise(apps, schema_editor):
    MonitoringProject = apps.get_model("fieldwork", "MonitoringProject")
    Enterprise = apps.get_model("registry", "Enterprise")
    MonitoringProject.objects.update(
        region_code=Subquery(
            Enterprise.objects.filter(pk=OuterRef("enterprise_id")).values("region_code")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("fieldwork", "0006_report_number"),
        ("registry", "0007_contract_acceptance_and_region_change"),
    ]

    operations = [migrations.RunPython(project_region_from_enterprise, migrations.RunPython.noop)]
