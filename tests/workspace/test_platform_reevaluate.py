"""Platform staff's 重新判定 in the workspace: the photos chosen are judged again by the Celery task
(eager here, as on a machine with no broker) and the page shows the progress the job keeps, polling
while it runs."""

from __future__ import annotations

import uuid

from media_rules import reevaluation
from media_rules.models import Photo
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text


def test_platform_staff_judge_one_agencys_photos_again_and_see_it_done(
    busy, django_capture_on_commit_callbacks
):
    side = busy.world.shanghai
    client = signed_in(busy.world.platform)
    assert "重新判定照片" in visible_text(client.get("/platform/reevaluate/"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/platform/reevaluate/", {"agency": side.agency.pk})
    assert response.status_code == 302
    job = response["Location"]
    text = visible_text(client.get(job))
    total = Photo.objects.filter(agency=side.agency).count()
    assert total > 0
    assert "已完成" in text
    assert f"共 {total} 张照片" in text
    progress = reevaluation.read_progress(job.rstrip("/").rsplit("/", 1)[1])
    assert progress.finished
    assert progress.done == total


def test_a_wrong_task_is_said_in_place_and_nothing_starts(busy, django_capture_on_commit_callbacks):
    client = signed_in(busy.world.platform)
    with django_capture_on_commit_callbacks(execute=True) as started:
        response = client.post("/platform/reevaluate/", {"task": str(uuid.uuid4()), "since": "2026-13-01"})
    assert response.status_code == 400
    text = visible_text(response)
    assert "没有这个监测任务" in text
    assert started == []


def test_the_progress_polls_while_the_job_runs_and_stops_when_it_is_done(busy):
    client = signed_in(busy.world.platform)
    job = uuid.uuid4()
    reevaluation.save_progress(job, reevaluation.Progress(total=10, done=3, changed=1))
    running = client.get(f"/platform/reevaluate/{job}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert "3 / 10" in running
    reevaluation.save_progress(job, reevaluation.Progress(total=10, done=10, changed=2, finished=True))
    done = client.get(f"/platform/reevaluate/{job}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert "2 张结论有变化" in done
    assert client.get(f"/platform/reevaluate/{uuid.uuid4()}/").status_code == 404
