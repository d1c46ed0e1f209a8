from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "server.privacy"
    label = "privacy"
    verbose_name = "个人信息保护"

    def ready(self) -> None:
        from server.privacy import checks  # noqa: F401  (registers the system checks)
