"""System checks for configurations that would otherwise misbehave quietly."""

import sqlite3

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.database, deploy=False)
def check_sqlite_can_load_spatialite(app_configs, **kwargs):
    engines = {db["ENGINE"] for db in settings.DATABASES.values()}
    return spatialite_problems(engines, sqlite3.Connection)


def spatialite_problems(engines: set[str], connection_class: type) -> list[Error]:
    if "django.contrib.gis.db.backends.spatialite" not in engines:
        return []
    if hasattr(connection_class, "enable_load_extension"):
        return []
    return [
        Error(
            "This Python's sqlite3 module cannot load extensions, so SpatiaLite cannot be used.",
            hint="Use the distribution's Python (scripts/find-python.sh picks one), "
            "or set DATABASE_URL to PostGIS.",
            id="fieldtrace.E001",
        )
    ]


@register()
def check_time_zone_support(app_configs, **kwargs):
    if settings.USE_TZ:
        return []
    return [
        Error(
            "USE_TZ is off. Fieldtrace stores UTC and compares device and server clocks; "
            "it needs aware datetimes.",
            hint="Unset USE_TZ or set USE_TZ=1.",
            id="fieldtrace.E002",
        )
    ]


@register()
def check_photo_rule_thresholds(app_configs, **kwargs):
    from media_rules.rules import Thresholds, thresholds_for

    value = settings.PHOTO_RULE_THRESHOLDS
    try:
        if not isinstance(value, dict):
            raise ValueError("it must be a JSON object")
        thresholds_for(Thresholds(), value)
    except (ValueError, TypeError) as exc:
        return [
            Error(
                f"PHOTO_RULE_THRESHOLDS is invalid: {exc}",
                hint='Give a JSON object of threshold names and values, e.g. {"geofence_m": 300}.',
                id="fieldtrace.E010",
            )
        ]
    return []
