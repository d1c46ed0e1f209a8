"""Person.id_number encrypted at rest, step 2 of 3: every stored number encrypted and indexed.

The cipher is ``server.privacy.crypto``, the one the application reads with (its keys come from the
settings, never from the database): a migration that wrote another format would leave rows the
application cannot read. Reversible: going back decrypts the numbers.
"""

from django.db import migrations

PURPOSE = "registry.Person.id_number"


def encrypt(apps, schema_editor):
    from server.privacy import crypto

    Person = apps.get_model("registry", "Person")
    for person in Person.objects.filter(id_index__isnull=True).only("pk", "id_number").iterator():
        number = crypto.normalise(person.id_number)
        Person.objects.filter(pk=person.pk).update(
            id_number=crypto.encrypt_text(number, purpose=PURPOSE),
            id_index=crypto.blind_index(number, purpose=PURPOSE),
        )


def decrypt(apps, schema_editor):
    from server.privacy import crypto

    Person = apps.get_model("registry", "Person")
    for person in Person.objects.filter(id_index__isnull=False).only("pk", "id_number").iterator():
        Person.objects.filter(pk=person.pk).update(
            id_number=crypto.decrypt_text(person.id_number, purpose=PURPOSE), id_index=None
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_person_id_index"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
