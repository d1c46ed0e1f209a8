from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "server.fieldwork"
    label = "fieldwork"
    verbose_name = "监测业务"

    def ready(self) -> None:
        from server.fieldwork.operations import register_operations

        register_operations()
