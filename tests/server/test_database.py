import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_the_configured_spatial_database_is_the_one_in_use():
    expected = (
        "postgis" if os.environ.get("DATABASE_URL", "").startswith(("postgis", "postgres")) else "spatialite"
    )
    assert connection.vendor == ("postgresql" if expected == "postgis" else "sqlite")
    assert connection.ops.spatial_version  # the spatial extension answered
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_AsText(ST_GeomFromText('POINT(121.4737 31.2304)', 4326))")
        assert cursor.fetchone()[0].replace(" ", "") == "POINT(121.473731.2304)"
