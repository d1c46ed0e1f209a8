import pytest

from tests.regulator.helpers import make_evidence


@pytest.fixture
def evidence(world, settings, tmp_path, django_capture_on_commit_callbacks):
    """Flagged evidence on both sides of the world: a photo 6 km from the outlet and the same file
    reused on another task, an O&M check-in 3 km away, a sync conflict, work held past its deadline;
    and, from the world itself, overdue occurrences of each O&M task's daily plan."""
    settings.MEDIA_ROOT = tmp_path
    return {
        "shanghai": make_evidence(world.shanghai, django_capture_on_commit_callbacks, seed=71),
        "jiangsu": make_evidence(world.jiangsu, django_capture_on_commit_callbacks, seed=72),
    }
