from __future__ import annotations

import pytest

from tests.sync.helpers import Phone
from tests.tracks.helpers import walk_task


@pytest.fixture
def field(world):
    """A phone of Shanghai's sampler and a task of its project, created before the replayed walk."""
    from server.accounts.models import Device

    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    return {
        "side": side,
        "phone": phone,
        "task": walk_task(side),
        "device": Device.objects.get(pk=phone.device_id),
    }
