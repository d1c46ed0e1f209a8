from django.apps import AppConfig


class FieldAppConfig(AppConfig):
    """The field app (外业端) and its sync client, served as static files (static/field_app/)."""

    name = "field_app"
    verbose_name = "外业端"
