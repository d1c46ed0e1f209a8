"""Person.id_number encrypted at rest, step 1 of 3: room for ciphertext and a column for the blind index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_outlet_photo_thresholds"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="id_index",
            field=models.CharField(max_length=64, null=True, editable=False, verbose_name="身份证号索引"),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=models.CharField(max_length=200, verbose_name="身份证号"),
        ),
    ]
