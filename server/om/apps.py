from django.apps import AppConfig


class OmConfig(AppConfig):
    name = "server.om"
    label = "om"
    verbose_name = "运维业务"

    def ready(self) -> None:
        from server.om import printing  # noqa: F401  (registers the print font's system check)
        from server.om.operations import register_operations

        register_operations()
