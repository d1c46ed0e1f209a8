"""Set-up for the project rules' tests: a task its lab analyst ended (a project is submitted only
with one, ``project_no_task_done``). How a task gets there, photos and moves, is tested in
tests/mobile_api/test_task_lifecycle.py; here only the state it leaves matters, so the row is
written as it is left, without assigning anyone (who sees the project stays as it was)."""

from __future__ import annotations

import uuid

from server.fieldwork.models import MonitoringProject, MonitoringTask


def ended_task(
    side, project: MonitoringProject | None = None, name: str = "已结束的采样任务"
) -> MonitoringTask:
    return MonitoringTask.objects.create(
        id=uuid.uuid4(),
        project=project or side.project,
        name=name,
        created_by=side.field_user,
        status=MonitoringTask.Status.ENDED,
    )
