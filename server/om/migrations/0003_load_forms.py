from django.db import migrations


def forwards(apps, schema_editor):
    from server.om.forms_load import load

    load(apps.get_model("om", "FormTemplate"), apps.get_model("om", "LimitSet"))


class Migration(migrations.Migration):
    dependencies = [("om", "0002_daily_records")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
