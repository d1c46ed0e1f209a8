from django.apps import AppConfig


class ServerConfig(AppConfig):
    name = "server"
    label = "server"
    verbose_name = "Fieldtrace"

    def ready(self) -> None:
        from server import checks  # noqa: F401  (registers the system checks)
