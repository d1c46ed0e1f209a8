from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "server.notifications"
    label = "notifications"
    verbose_name = "消息通知"

    def ready(self) -> None:
        from server.notifications import checks  # noqa: F401  (registers the system checks)
