from django.apps import AppConfig


class TracksConfig(AppConfig):
    name = "server.tracks"
    label = "tracks"
    verbose_name = "监测航迹"

    def ready(self) -> None:
        from server.tracks.operations import register_operations

        register_operations()
