from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from server.om.forms_load import TemplateChangedError, load
from server.om.models import FormTemplate, LimitSet


class Command(BaseCommand):
    help = "载入运维表单模板与判定限值（server/om/forms_data）。已载入的版本不变；修改表单须提高 version。"

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                loaded = load(FormTemplate, LimitSet)
        except TemplateChangedError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"templates: {len(loaded.created)} new, {len(loaded.unchanged)} unchanged; "
            f"limits: {loaded.limits_created} new, {loaded.limits_updated} updated"
        )
