"""Fixtures the privacy tests share: a Shanghai sampling task and its field user's client."""

import uuid

import pytest

from server.fieldwork.services import task_create


@pytest.fixture
def task(world):
    created, _ = task_create(
        actor=world.shanghai.field_user, task_id=uuid.uuid4(), project=world.shanghai.project, name="采样"
    )
    return created


@pytest.fixture
def field(client_for, world):
    return client_for(world.shanghai.field_user)
