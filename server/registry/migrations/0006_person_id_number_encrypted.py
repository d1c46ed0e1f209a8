"""Person.id_number encrypted at rest, step 3 of 3: the fields that read and write it, one person per
number (the blind index is unique)."""

from django.db import migrations

import server.privacy.fields


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_encrypt_person_id_numbers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="id_number",
            field=server.privacy.fields.EncryptedCharField(
                index_field="id_index",
                plain_max_length=18,
                purpose="registry.Person.id_number",
                verbose_name="身份证号",
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="id_index",
            field=server.privacy.fields.BlindIndexField(
                source="id_number", unique=True, verbose_name="身份证号索引"
            ),
        ),
    ]
