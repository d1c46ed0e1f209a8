from django.apps import AppConfig


class MapsConfig(AppConfig):
    """The map page for regulators and agency staff, and the admin's map widgets."""

    name = "server.maps"
    label = "maps"
    verbose_name = "地图"

    def ready(self) -> None:
        from server.maps import checks  # noqa: F401  (registers the system checks)
