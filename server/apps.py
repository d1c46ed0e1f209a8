from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class ServerConfig(AppConfig):
    name = "server"
    label = "server"
    verbose_name = "Fieldtrace"

    def ready(self) -> None:
        from server import checks  # noqa: F401  (registers the system checks)


class AdminConfig(DjangoAdminConfig):
    """``django.contrib.admin`` on Fieldtrace's site: regulators view their region, read-only
    (``server/admin_scope.py``)."""

    default_site = "server.admin_scope.FieldtraceAdminSite"
