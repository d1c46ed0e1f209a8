"""server.lookups.unique_or_none: one row by a unique lookup, or None, without an ORDER BY."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from media_rules.models import PhotoType
from server.lookups import unique_or_none

pytestmark = pytest.mark.django_db


def test_the_row_a_unique_lookup_finds_or_none():
    stored = PhotoType.objects.create(code="bench_probe", name="探针", stage="sampling", position=99)
    with CaptureQueriesContext(connection) as queries:
        found = unique_or_none(PhotoType.objects, pk="bench_probe")
        missing = unique_or_none(PhotoType.objects, pk="no_such_type")
    assert found == stored
    assert found.name == "探针"
    assert missing is None
    assert len(queries) == 2
    assert all("ORDER BY" not in q["sql"] for q in queries.captured_queries)
