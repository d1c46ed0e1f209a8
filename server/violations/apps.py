from django.apps import AppConfig


class ViolationsConfig(AppConfig):
    name = "server.violations"
    label = "violations"
    verbose_name = "违规整改"
