from django.apps import AppConfig


class MediaRulesConfig(AppConfig):
    name = "media_rules"
    label = "media_rules"
    verbose_name = "照片与真实性"

    def ready(self) -> None:
        from media_rules.operations import register_operations

        register_operations()
