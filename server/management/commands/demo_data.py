"""Build the demo world that ``make run`` shows. Safe to run again: it changes nothing that exists."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_ADMIN = "demo"
DEMO_PASSWORD = "fieldtrace-demo"  # noqa: S105 (a published demo account for local runs, never production)


class Command(BaseCommand):
    help = "Create the demo data set (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        User = get_user_model()  # noqa: N806
        admin, created = User.objects.get_or_create(
            username=DEMO_ADMIN,
            defaults={"is_staff": True, "is_superuser": True, "first_name": "演示管理员", "role": "platform"},
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])
            self.stdout.write(f"demo data: administrator {DEMO_ADMIN} / {DEMO_PASSWORD} created")
        else:
            self.stdout.write("demo data: already present")
