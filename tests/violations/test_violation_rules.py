"""Opening a violation (deadline, evidence), bad input, the overdue flag and the list filters."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from server.fieldwork.services import project_assign, project_create
from server.violations.models import Rectification, Violation
from tests.support.storage import stored_files
from tests.violations.helpers import API, in_days, open_violation, opened, rectify, review

pytestmark = pytest.mark.django_db


def new_task(client, project) -> str:
    response = client.post(f"{API}/tasks", {"project": project.pk, "name": "排口采样"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def new_photo(client, task_id: str) -> str:
    photo_id = str(uuid.uuid4())
    body = {
        "id": photo_id,
        "sha256": hashlib.sha256(photo_id.encode()).hexdigest(),
        "photo_type": "sampling_operation",
        "task": task_id,
    }
    response = client.post(f"{API}/photos", body, format="json")
    assert response.status_code == 201, response.json()
    return photo_id


def new_checkin(client, task_id: str) -> str:
    checkin_id = str(uuid.uuid4())
    body = {
        "id": checkin_id,
        "longitude": 121.44,
        "latitude": 31.19,
        "coordinate_system": "wgs84",
        "task": task_id,
    }
    response = client.post(f"{API}/checkins", body, format="json")
    assert response.status_code == 201, response.json()
    return checkin_id


@pytest.fixture
def second_project(side):
    project = project_create(
        agency=side.agency,
        actor=side.main,
        number="P-SECOND",
        name="噪声监测",
        monitoring_type="water",
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
        region_code="310104",
    )
    project_assign(project=project, employment=side.sampler, post_code="sampler")
    return project


def test_evidence_from_the_project_is_stored(side, client_for):
    sampler = client_for(side.field_user)
    task_id = new_task(sampler, side.project)
    photo, checkin = new_photo(sampler, task_id), new_checkin(sampler, task_id)
    body = opened(client_for(side.regulator), side.project, photo=photo, checkin=checkin)
    assert (body["photo"], body["checkin"]) == (photo, checkin)
    violation = Violation.objects.get(pk=body["id"])
    assert (str(violation.photo_id), str(violation.checkin_id)) == (photo, checkin)


def test_evidence_from_another_project_is_refused(side, second_project, client_for):
    sampler = client_for(side.field_user)
    task_id = new_task(sampler, second_project)
    photo, checkin = new_photo(sampler, task_id), new_checkin(sampler, task_id)
    regulator = client_for(side.regulator)
    for evidence in ({"photo": photo}, {"checkin": checkin}, {"photo": photo, "checkin": checkin}):
        response = open_violation(regulator, side.project, **evidence)
        assert response.status_code == 400, evidence
        assert response.json()["code"] == "violation_evidence_foreign"
    # On its own project the same evidence is fine.
    assert open_violation(regulator, second_project, photo=photo, checkin=checkin).status_code == 201
    assert list(Violation.objects.values_list("project_id", flat=True)) == [second_project.pk]


def test_evidence_out_of_sight_is_not_found(world, client_for):
    jiangsu = world.jiangsu
    sampler = client_for(jiangsu.field_user)
    photo = new_photo(sampler, new_task(sampler, jiangsu.project))
    response = open_violation(client_for(world.shanghai.regulator), world.shanghai.project, photo=photo)
    assert (response.status_code, set(response.json()["details"])) == (400, {"photo"})  # F10 item 6
    assert not Violation.objects.exists()


def test_a_deadline_in_the_past_is_refused_today_is_fine(side, client_for):
    regulator = client_for(side.regulator)
    response = open_violation(regulator, side.project, days=-1)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "violation_deadline_past"
    assert body["details"] == {"deadline": in_days(-1).isoformat(), "today": in_days(0).isoformat()}
    assert not Violation.objects.exists()
    assert open_violation(regulator, side.project, days=0).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "", "deadline": "2099-01-01"}, "description"),
        ({"description": "   ", "deadline": "2099-01-01"}, "description"),
        ({"description": "x", "deadline": "明天"}, "deadline"),
        ({"description": "x"}, "deadline"),
        ({"description": "x", "deadline": "2099-01-01", "photo": "not-a-uuid"}, "photo"),
        ({"description": "x" * 4001, "deadline": "2099-01-01"}, "description"),
    ],
)
def test_bad_bodies_are_400_and_store_nothing(side, client_for, body, field):
    response = client_for(side.regulator).post(
        f"{API}/violations", {"project": side.project.pk, **body}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert field in response.json()["details"]
    assert not Violation.objects.exists()


def test_bad_rectifications_store_nothing(side, client_for, settings):
    regulator, main = client_for(side.regulator), client_for(side.main)
    vid = opened(regulator, side.project)["id"]
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": "x", "file": "not a file"}, {"text": ["x"]}):
        response = main.post(f"{API}/violations/{vid}/rectify", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"] == "validation_failed"
    settings.MEDIA_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", b"x" * 2048, content_type="application/pdf")
    response = main.post(
        f"{API}/violations/{vid}/rectify", {"text": "附件过大", "file": big}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "rectification_file_too_large"
    assert not Rectification.objects.exists()
    assert Violation.objects.get(pk=vid).status == "open"
    assert not stored_files(settings.MEDIA_ROOT)


def test_overdue_is_computed_and_filterable(side, client_for):
    regulator, main = client_for(side.regulator), client_for(side.main)
    late = opened(regulator, side.project, description="逾期未整改")["id"]
    in_time = opened(regulator, side.project, description="期限内")["id"]
    closed_late = opened(regulator, side.project, description="逾期但已销号")["id"]
    rectified_late = opened(regulator, side.project, description="逾期已整改待审核")["id"]
    assert rectify(main, closed_late).status_code == 201
    assert review(regulator, closed_late, "accept").status_code == 200
    assert rectify(main, rectified_late).status_code == 201
    # Deadlines cannot be opened in the past: the rows' deadlines pass as time would.
    Violation.objects.filter(pk__in=[late, closed_late, rectified_late]).update(deadline=in_days(-3))

    def ids(**params) -> set[int]:
        response = regulator.get(f"{API}/violations", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(overdue="true") == {late, rectified_late}
    assert ids(overdue="false") == {in_time, closed_late}
    rows = {row["id"]: row["overdue"] for row in regulator.get(f"{API}/violations").json()["results"]}
    assert rows == {late: True, in_time: False, closed_late: False, rectified_late: True}
    assert regulator.get(f"{API}/violations/{late}").json()["overdue"] is True
    history = regulator.get(f"{API}/rectifications").json()["results"]
    assert {r["violation"]["id"]: r["violation"]["overdue"] for r in history} == {
        closed_late: False,
        rectified_late: True,
    }
    response = regulator.get(f"{API}/violations", {"overdue": "maybe"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"


def test_list_filters(world, second_project, client_for):
    side = world.shanghai
    regulator, main = client_for(side.regulator), client_for(side.main)
    first = opened(regulator, side.project, days=5)["id"]
    second = opened(regulator, second_project, days=20)["id"]
    assert rectify(main, second).status_code == 201
    platform = client_for(world.platform)
    jiangsu = opened(platform, world.jiangsu.project, days=5)["id"]

    def ids(path="violations", client=regulator, **params) -> list[int]:
        response = client.get(f"{API}/{path}", params)
        assert response.status_code == 200, response.json()
        return sorted(
            row["violation"]["id"] if path == "rectifications" else row["id"]
            for row in response.json()["results"]
        )

    assert ids(project_name="噪声") == [second]
    assert ids(project_name="季度废水") == [first]
    assert ids(client=platform, project_name="季度废水") == sorted([first, jiangsu])
    assert ids(status="rectified") == [second]
    assert ids(status="open") == [first]
    assert ids(project=second_project.pk) == [second]
    assert ids(deadline_before=in_days(10).isoformat()) == [first]
    assert ids(deadline_after=in_days(10).isoformat()) == [second]
    assert ids(deadline_after=in_days(5).isoformat(), deadline_before=in_days(20).isoformat()) == sorted(
        [first, second]
    )
    assert ids("rectifications", project_name="噪声") == [second]
    assert ids("rectifications", project_name="季度废水") == []
    assert ids("rectifications", deadline_before=in_days(10).isoformat()) == []
    assert ids("rectifications", deadline_after=in_days(10).isoformat()) == [second]
    assert ids("rectifications", outcome="pending") == [second]
    for params in ({"status": "nope"}, {"deadline_before": "soon"}, {"project": "x"}):
        response = regulator.get(f"{API}/violations", params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "validation_failed"
