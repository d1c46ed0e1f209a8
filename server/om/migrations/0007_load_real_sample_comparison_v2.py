"""Loads what ``server/om/forms_data`` holds now on a database migrated before it changed (issue F13):
实际水样比对 version 2 (HJ 355-2019's several pairs, ``comparison_pairs``) beside version 1, which
the records filled with it keep, and the HJ 355 limit sets as corrected (substitute bands). On a new
database 0003 has already loaded the same files and this finds nothing to do.

The loader is the one ``manage.py om_forms_load`` runs; it takes the migration's own models.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from server.om.forms_load import load

    load(apps.get_model("om", "FormTemplate"), apps.get_model("om", "LimitSet"))


class Migration(migrations.Migration):
    dependencies = [("om", "0006_plan_templates_and_changes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
