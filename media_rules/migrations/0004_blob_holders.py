"""Who holds a photo file's bytes (F9 item 1), filled from what is stored: a photo linked to its file
means its agency (and, for an enterprise confirmer's work photo, that enterprise) had the bytes; so
did the tenant of whoever completed a resumable upload of them."""

import django.db.models.deletion
from django.db import migrations, models


def _tenants(agency_id, role, enterprise_id):
    if agency_id is not None:
        yield agency_id, None
    elif role == "enterprise" and enterprise_id is not None:
        yield None, enterprise_id


def fill_holders(apps, schema_editor):
    Photo = apps.get_model("media_rules", "Photo")
    Upload = apps.get_model("media_rules", "Upload")
    Blob = apps.get_model("media_rules", "Blob")
    BlobHolder = apps.get_model("media_rules", "BlobHolder")
    held = set()
    photos = Photo.objects.filter(blob__isnull=False).values_list(
        "blob_id", "agency_id", "taken_by__role", "taken_by__enterprise_id"
    )
    for blob_id, agency_id, role, enterprise_id in photos.distinct().iterator():
        held.add((blob_id, agency_id, None))
        if role == "enterprise" and enterprise_id is not None:
            held.add((blob_id, None, enterprise_id))
    uploads = Upload.objects.filter(
        completed_at__isnull=False, sha256__in=Blob.objects.values("sha256")
    ).values_list("sha256", "created_by__agency_id", "created_by__role", "created_by__enterprise_id")
    for sha256, agency_id, role, enterprise_id in uploads.distinct().iterator():
        held.update((sha256, *tenant) for tenant in _tenants(agency_id, role, enterprise_id))
    BlobHolder.objects.bulk_create(
        (BlobHolder(blob_id=b, agency_id=a, enterprise_id=e) for b, a, e in sorted(held, key=str)),
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("media_rules", "0003_blob_encrypted_purged"),
        ("registry", "0006_person_id_number_encrypted"),
    ]

    operations = [
        migrations.CreateModel(
            name="BlobHolder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "agency",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="registry.agency",
                    ),
                ),
                (
                    "blob",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="holders",
                        to="media_rules.blob",
                    ),
                ),
                (
                    "enterprise",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="registry.enterprise",
                    ),
                ),
            ],
            options={
                "verbose_name": "照片文件持有方",
                "verbose_name_plural": "照片文件持有方",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("agency__isnull", False), ("enterprise__isnull", True)),
                            models.Q(("agency__isnull", True), ("enterprise__isnull", False)),
                            _connector="OR",
                        ),
                        name="blob_holder_one_tenant",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("agency__isnull", False)),
                        fields=("blob", "agency"),
                        name="blob_holder_agency_once",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("enterprise__isnull", False)),
                        fields=("blob", "enterprise"),
                        name="blob_holder_enterprise_once",
                    ),
                ],
            },
        ),
        migrations.RunPython(fill_holders, migrations.RunPython.noop),
    ]
