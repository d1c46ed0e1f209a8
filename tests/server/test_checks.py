import sqlite3

from django.test import override_settings

from server import checks

SPATIALITE = "django.contrib.gis.db.backends.spatialite"
POSTGIS = "django.contrib.gis.db.backends.postgis"


class PyenvLikeConnection:
    """sqlite3.Connection as Pythons built without loadable-extension support have it."""


def test_spatialite_needs_a_python_that_can_load_extensions():
    assert [e.id for e in checks.spatialite_problems({SPATIALITE}, PyenvLikeConnection)] == [
        "fieldtrace.E001"
    ]
    assert checks.spatialite_problems({SPATIALITE}, sqlite3.Connection) == []
    assert checks.spatialite_problems({POSTGIS}, PyenvLikeConnection) == []


def test_the_running_configuration_passes():
    assert checks.check_sqlite_can_load_spatialite(None) == []


def test_use_tz_off_is_an_error():
    with override_settings(USE_TZ=False):
        assert [e.id for e in checks.check_time_zone_support(None)] == ["fieldtrace.E002"]
    assert checks.check_time_zone_support(None) == []


def test_invalid_photo_rule_thresholds_stop_the_server(settings):
    from server.checks import check_photo_rule_thresholds

    assert check_photo_rule_thresholds(None) == []
    settings.PHOTO_RULE_THRESHOLDS = {"geofence": 100}
    [error] = check_photo_rule_thresholds(None)
    assert error.id == "fieldtrace.E010"
    assert "Unknown threshold" in error.msg
    settings.PHOTO_RULE_THRESHOLDS = {"clock_warn_s": -5}
    assert check_photo_rule_thresholds(None)[0].id == "fieldtrace.E010"
    settings.PHOTO_RULE_THRESHOLDS = [1]
    assert "JSON object" in check_photo_rule_thresholds(None)[0].msg
