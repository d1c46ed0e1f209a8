import pytest


@pytest.fixture
def side(world):
    return world.shanghai
