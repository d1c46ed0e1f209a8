from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class ServerConfig(AppConfig):
    name = "server"
    label = "server"
    verbose_name = "Fieldtrace"

    def ready(self) -> None:
        from server import (
            checks,  # noqa: F401  (registers the system checks)
            strict,
        )

        strict.install()  # an invalid choice names the values allowed (F10 item 6)


class AdminConfig(DjangoAdminConfig):
    """``django.contrib.admin`` on Fieldtrace's site: regulators view their region, read-only
    (``server/admin_scope.py``)."""

    default_site = "server.admin_scope.FieldtraceAdminSite"
