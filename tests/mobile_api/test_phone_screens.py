"""The phone's screens (seed 002): 首页 (GET /home), 在行项目 / 完成项目数 (GET /tasks?state=…&search=…)
and 任务详情 (GET /tasks/{id}: stages, photos with their verdicts, history, track summary).

Everything is set up through the API as the phones do it: tasks created by the sampler, photos
recorded (JSON with a SHA-256, or multipart with the file), moves made, a track batch sent."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from media_rules.models import Photo
from server.fieldwork.models import MonitoringProject, MonitoringTask, ProjectAssignment, TaskEvent
from server.fieldwork.services import project_assign, project_create
from server.notifications.models import Notification
from server.notifications.services import notify
from server.tracks.models import CheckIn, TrackPoint
from tests.factories import staff_account

pytestmark = pytest.mark.django_db
API = "/api/v1"
REQUIRED = ("sampling_operation", "sampling_site", "sample_delivery", "lab_analysis")


# --- Setup through the API ------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def storage_root(settings, tmp_path):
    """Photo files go to a fresh folder (STORAGES names its location itself, so MEDIA_ROOT is not enough)."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def side(world):
    return world.shanghai


@pytest.fixture
def analyst(side):
    lab = ProjectAssignment.objects.get(project=side.project, post__code="lab_analyst").employment
    return staff_account(side.main, lab)


@pytest.fixture
def sampler(side, client_for):
    return client_for(side.field_user)


@pytest.fixture
def lab(analyst, client_for):
    return client_for(analyst)


def create_task(client, project, name: str) -> str:
    response = client.post(f"{API}/tasks", {"project": project.pk, "name": name}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def move(client, task_id: str, to: str) -> dict:
    response = client.post(f"{API}/tasks/{task_id}/transition", {"to": to}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def record_photo(client, task_id: str, photo_type: str, salt: str = "") -> dict:
    """A photo recorded before its file (JSON with the file's SHA-256): pending until the file comes."""
    body = {
        "id": str(uuid.uuid4()),
        "sha256": hashlib.sha256(f"{task_id}{photo_type}{salt}".encode()).hexdigest(),
        "photo_type": photo_type,
        "task": task_id,
    }
    response = client.post(f"{API}/photos", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def record_photo_with_file(client, task_id: str, photo_type: str, outlet) -> dict:
    """A photo sent with its file (multipart, as wx.uploadFile sends it), at the outlet: judged now."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 60)).save(out, "JPEG")
    file = io.BytesIO(out.getvalue())
    file.name = "tmp_3f9a.jpg"
    body = {
        "id": str(uuid.uuid4()),
        "photo_type": photo_type,
        "task": task_id,
        "outlet": str(outlet.pk),
        "longitude": "121.4365",
        "latitude": "31.188",
        "coordinate_system": "gcj02",
        "accuracy_m": "8",
        "device_time": (timezone.now() - dt.timedelta(minutes=1)).isoformat(),
        "file": file,
    }
    response = client.post(f"{API}/photos", body, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


def finish(sampler, lab, task_id: str) -> None:
    """The whole lifecycle: started, every required photo recorded in stage order, ended by the lab."""
    move(sampler, task_id, "running")
    for photo_type in REQUIRED:
        record_photo(lab if photo_type == "lab_analysis" else sampler, task_id, photo_type)
    move(lab, task_id, "ended")


def check_in(client, task_id: str, *, at: dt.datetime, east: float = 0.0) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "longitude": 121.4365 + east,
        "latitude": 31.188,
        "coordinate_system": "gcj02",
        "accuracy_m": 10,
        "device_time": at.isoformat(),
        "task": task_id,
    }
    response = client.post(f"{API}/checkins", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def soil_project(side) -> MonitoringProject:
    """A second project of the agency, with the sampler and the lab analyst on it."""
    project = project_create(
        agency=side.agency,
        actor=side.main,
        number=f"P-SOIL-{side.agency.pk}",
        name="土壤例行监测",
        monitoring_type=MonitoringProject.MonitoringType.SOIL,
        enterprise=side.enterprise,
        contract=side.monitoring_contract,
        region_code=side.agency.region_code,
    )
    project_assign(project=project, employment=side.sampler, post_code="sampler")
    lab = ProjectAssignment.objects.get(project=side.project, post__code="lab_analyst").employment
    project_assign(project=project, employment=lab, post_code="lab_analyst")
    return project


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


# --- 首页 ---------------------------------------------------------------------------------------------
def test_home_counts_change_when_the_lab_ends_a_task(side, sampler, lab, client_for, world):
    home = sampler.get(f"{API}/home").json()
    assert home == {
        "agency": {"id": side.agency.pk, "name": side.agency.name},
        "location": None,
        "tasks": {"running": 0, "finished": 0},
        "notifications": {"unread": 0, "latest": []},
    }
    first = create_task(sampler, side.project, "进水口采样")
    create_task(sampler, side.project, "出水口采样")
    assert sampler.get(f"{API}/home").json()["tasks"] == {"running": 2, "finished": 0}

    finish(sampler, lab, first)
    assert MonitoringTask.objects.get(pk=first).status == "ended"
    for client in (sampler, lab, client_for(side.main)):
        assert client.get(f"{API}/home").json()["tasks"] == {"running": 1, "finished": 1}
    # The other agency sees none of it; a regulator of the region sees both, without an agency.
    assert client_for(world.jiangsu.field_user).get(f"{API}/home").json()["tasks"] == {
        "running": 0,
        "finished": 0,
    }
    regulator = client_for(side.regulator).get(f"{API}/home").json()
    assert regulator["agency"] is None
    assert regulator["tasks"] == {"running": 1, "finished": 1}
    # A deleted task is no longer counted.
    created = create_task(sampler, side.project, "误建任务")
    assert sampler.get(f"{API}/home").json()["tasks"]["running"] == 2
    assert sampler.delete(f"{API}/tasks/{created}").status_code == 204
    assert sampler.get(f"{API}/home").json()["tasks"]["running"] == 1


def test_home_location_is_the_latest_check_in(side, sampler, client_for):
    task_id = create_task(sampler, side.project, "进水口采样")
    now = timezone.now().replace(microsecond=0)
    later = check_in(sampler, task_id, at=now - dt.timedelta(minutes=5), east=0.001)
    # Sent afterwards from a phone that was offline: made earlier, so not the current location.
    check_in(sampler, task_id, at=now - dt.timedelta(minutes=30))
    home = sampler.get(f"{API}/home").json()
    assert home["location"] == sampler.get(f"{API}/checkins/latest").json()
    assert home["location"]["id"] == later["id"]
    stored = CheckIn.objects.get(pk=later["id"])
    assert home["location"]["longitude"] == pytest.approx(stored.location.x)
    assert home["location"]["latitude"] == pytest.approx(stored.location.y)
    assert home["location"]["given"] == {"longitude": 121.4375, "latitude": 31.188, "system": "gcj02"}
    # Someone else's check-ins are not the user's location.
    assert client_for(side.main).get(f"{API}/home").json()["location"] is None


def test_home_notifications_unread_count_drops_when_read(side, sampler):
    for i in range(6):
        notify(
            recipients=[side.field_user],
            kind="task_reminder",
            title=f"采样提醒 {i}",
            body="请按时采样。",
            subject_type="project",
            subject_id=side.project.pk + i,
        )
    notify(recipients=[side.main], kind="project_returned", title="项目已退回", body="")
    newest = list(
        Notification.objects.filter(recipient=side.field_user)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    home = sampler.get(f"{API}/home").json()["notifications"]
    assert home["unread"] == 6
    assert [n["id"] for n in home["latest"]] == newest[:5]
    assert home["latest"][0]["title"] == Notification.objects.get(pk=newest[0]).title
    assert home["latest"][0]["read"] is False

    assert sampler.post(f"{API}/notifications/{newest[0]}/read").status_code == 200
    home = sampler.get(f"{API}/home").json()["notifications"]
    assert home["unread"] == 5
    assert home["latest"][0]["read"] is True  # still among the latest, now read
    assert sampler.post(f"{API}/notifications/read-all").json()["marked"] == 5
    assert sampler.get(f"{API}/home").json()["notifications"]["unread"] == 0


def test_home_needs_a_signed_in_user_and_speaks_english_when_asked(api_en):
    response = api_en.get(f"{API}/home")
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication is required."


# --- 在行项目 / 完成项目数 ------------------------------------------------------------------------------
def test_running_and_finished_lists_with_search(side, sampler, lab, client_for):
    soil = soil_project(side)
    inlet = create_task(sampler, side.project, "进水口采样")
    outlet = create_task(sampler, side.project, "出水口采样")
    field = create_task(sampler, soil, "一号地块采样")
    finish(sampler, lab, inlet)
    finish(sampler, lab, field)

    assert ids(sampler.get(f"{API}/tasks", {"state": "running"})) == [outlet]
    assert set(ids(sampler.get(f"{API}/tasks", {"state": "finished"}))) == {inlet, field}
    assert set(ids(sampler.get(f"{API}/tasks"))) == {inlet, outlet, field}
    # 搜索: part of the project's name, or of the task's; several words must all match.
    assert ids(sampler.get(f"{API}/tasks", {"state": "finished", "search": "土壤"})) == [field]
    assert set(ids(sampler.get(f"{API}/tasks", {"search": "废水"}))) == {inlet, outlet}
    assert ids(sampler.get(f"{API}/tasks", {"search": "进水口"})) == [inlet]
    assert ids(sampler.get(f"{API}/tasks", {"search": "废水 出水"})) == [outlet]
    assert ids(sampler.get(f"{API}/tasks", {"state": "running", "search": "土壤"})) == []
    # The filters that were there stay.
    assert ids(sampler.get(f"{API}/tasks", {"project": soil.pk})) == [field]
    assert ids(sampler.get(f"{API}/tasks", {"status": "created"})) == [outlet]

    response = client_for(side.field_user, "en").get(f"{API}/tasks", {"state": "paused"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert "state" in response.json()["details"]


def test_a_list_row_carries_the_project_the_photo_count_and_the_last_move(side, sampler, lab):
    task_id = create_task(sampler, side.project, "进水口采样")
    untouched = create_task(sampler, side.project, "出水口采样")
    move(sampler, task_id, "running")
    record_photo(sampler, task_id, "sampling_operation")
    record_photo(sampler, task_id, "sampling_site")
    record_photo(sampler, task_id, "sampling_site", salt="2")
    move(sampler, task_id, "saved")
    rows = {row["id"]: row for row in sampler.get(f"{API}/tasks").json()["results"]}
    row = rows[task_id]
    last = TaskEvent.objects.filter(task_id=task_id).order_by("-at").first()
    assert last.to_status == "saved"
    assert dt.datetime.fromisoformat(row["last_move_at"]) == last.at
    assert row["photo_count"] == 3 == Photo.objects.filter(task_id=task_id).count()
    assert (row["project"], row["project_number"], row["project_name"]) == (
        side.project.pk,
        side.project.number,
        "季度废水监测",
    )
    assert (row["monitoring_type"], row["monitoring_type_label"]) == ("water", "水和废水")
    assert (row["status"], row["status_label"], row["name"]) == ("saved", "已暂存", "进水口采样")
    assert row["version"] == MonitoringTask.objects.get(pk=task_id).version
    assert "stages" not in row  # the list stays light: the detail is GET /tasks/{id}
    assert (rows[untouched]["photo_count"], rows[untouched]["last_move_at"]) == (0, None)


def test_lists_are_paginated(side, sampler):
    made = [create_task(sampler, side.project, f"采样点 {i}") for i in range(5)]
    order = ids(sampler.get(f"{API}/tasks", {"state": "running"}))
    assert sorted(order) == sorted(made)
    # Newest first, the id as the last key: a page never repeats or skips a row.
    newest_first = MonitoringTask.objects.filter(pk__in=made).order_by("-created_at", "id")
    assert order == [str(pk) for pk in newest_first.values_list("pk", flat=True)]
    page1 = sampler.get(f"{API}/tasks", {"state": "running", "page_size": 2}).json()
    page2 = sampler.get(f"{API}/tasks", {"state": "running", "page_size": 2, "page": 2}).json()
    page3 = sampler.get(f"{API}/tasks", {"state": "running", "page_size": 2, "page": 3}).json()
    assert page1["count"] == page2["count"] == 5
    assert [r["id"] for r in page1["results"]] == order[:2]
    assert [r["id"] for r in page2["results"]] == order[2:4]
    assert [r["id"] for r in page3["results"]] == order[4:]
    assert page3["next"] is None
    assert sampler.get(f"{API}/tasks", {"state": "finished", "page": 2}).status_code == 404


def test_the_list_runs_the_same_queries_for_one_row_or_many(side, sampler, lab):
    first = create_task(sampler, side.project, "采样 0")
    move(sampler, first, "running")
    record_photo(sampler, first, "sampling_operation")

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = sampler.get(f"{API}/tasks", {"state": "running", "search": "采样"})
        assert response.status_code == 200
        return len(ctx), response.json()["count"]

    few, count = queries()
    assert count == 1
    for i in range(1, 8):
        task_id = create_task(sampler, side.project, f"采样 {i}")
        move(sampler, task_id, "running")
        record_photo(sampler, task_id, "sampling_operation")
        record_photo(sampler, task_id, "sampling_site")
    many, count = queries()
    assert count == 8
    assert many == few
    assert few <= 3  # the page's count, the page (rows, projects, counts, last moves), and no more


# --- 任务详情 ---------------------------------------------------------------------------------------------
def stages(client, task_id: str) -> dict[str, dict]:
    response = client.get(f"{API}/tasks/{task_id}")
    assert response.status_code == 200, response.json()
    return {stage["stage"]: stage for stage in response.json()["stages"]}


def state(stage: dict) -> tuple[bool, bool]:
    return stage["open"], stage["complete"]


def test_the_detail_opens_each_stage_as_the_earlier_photos_arrive(side, sampler, lab):
    task_id = create_task(sampler, side.project, "进水口采样")
    before = stages(sampler, task_id)
    assert list(before) == ["sampling", "delivery", "lab", "person"]
    assert state(before["sampling"]) == (True, False)
    assert state(before["delivery"]) == (False, False)
    assert state(before["lab"]) == (False, False)
    assert before["person"]["open"] is True  # work photos stand apart from the order
    sampling_types = {t["code"]: t for t in before["sampling"]["types"]}
    assert set(sampling_types) >= {"sampling_operation", "sampling_site"}
    operation = sampling_types["sampling_operation"]
    assert (operation["name"], operation["required"], operation["photos"]) == ("采样作业照片", True, 0)
    assert "hint" in operation
    assert before["sampling"]["label"] == "采样"

    record_photo(sampler, task_id, "sampling_operation")
    after_one = stages(sampler, task_id)
    assert state(after_one["sampling"]) == (True, False)
    assert state(after_one["delivery"]) == (False, False)  # not until both sampling photos are in
    assert {t["code"]: t["photos"] for t in after_one["sampling"]["types"]}["sampling_operation"] == 1

    record_photo(sampler, task_id, "sampling_site")
    after_two = stages(sampler, task_id)
    assert state(after_two["sampling"]) == (True, True)
    assert state(after_two["delivery"]) == (True, False)
    assert state(after_two["lab"]) == (False, False)

    record_photo(sampler, task_id, "sample_delivery")
    assert state(stages(sampler, task_id)["lab"]) == (True, False)
    record_photo(lab, task_id, "lab_analysis")
    done = stages(lab, task_id)
    assert all(done[s]["complete"] for s in ("sampling", "delivery", "lab"))


def test_the_detail_shows_the_task_its_project_photos_with_verdicts_and_history(side, sampler, lab):
    task_id = create_task(sampler, side.project, "进水口采样")
    move(sampler, task_id, "running")
    judged = record_photo_with_file(sampler, task_id, "sampling_operation", side.wastewater)
    pending = record_photo(sampler, task_id, "sampling_site")
    move(sampler, task_id, "paused")
    move(sampler, task_id, "running")

    response = sampler.get(f"{API}/tasks/{task_id}")
    assert response.status_code == 200
    body = response.json()
    stored = MonitoringTask.objects.get(pk=task_id)
    assert (body["id"], body["name"], body["status"], body["version"]) == (
        task_id,
        "进水口采样",
        "running",
        stored.version,
    )
    assert (body["project"], body["project_number"], body["project_name"], body["monitoring_type"]) == (
        side.project.pk,
        side.project.number,
        side.project.name,
        "water",
    )
    assert body["photo_count"] == 2

    photos = {p["id"]: p for p in body["photos"]}
    assert list(photos) == [judged["id"], pending["id"]]  # in the order they were recorded
    verdict = Photo.objects.get(pk=judged["id"]).verdict
    assert verdict in {"pass", "warn", "fail"}
    assert photos[judged["id"]]["verdict"] == verdict
    assert photos[judged["id"]]["findings"] == Photo.objects.get(pk=judged["id"]).findings
    assert photos[judged["id"]]["awaiting_media"] is False
    assert (photos[pending["id"]]["verdict"], photos[pending["id"]]["awaiting_media"]) == ("pending", True)
    # The same rows as the photo list gives.
    listed = sampler.get(f"{API}/photos", {"task": task_id}).json()["results"]
    assert body["photos"] == listed

    history = [(e["from_status"], e["to_status"], e["actor"]) for e in body["events"]]
    assert history == [
        ("created", "running", side.field_user.pk),
        ("running", "paused", side.field_user.pk),
        ("paused", "running", side.field_user.pk),
    ]
    assert body["events"] == sampler.get(f"{API}/tasks/{task_id}/events").json()
    assert dt.datetime.fromisoformat(body["last_move_at"]) == stored.events.order_by("-at").first().at
    assert body["track"] == {
        "segments": [],
        "length_m": 0.0,
        "duration_s": 0.0,
        "stored": 0,
        "kept": 0,
        "filtered": {},
    }


def walk(start: dt.datetime, n: int = 12) -> list[dict]:
    """A sampler walking east along the outlet's road, a fix every 10 s, about 9.5 m apart."""
    return [
        {
            "fix_time": (start + dt.timedelta(seconds=10 * i)).isoformat(),
            "longitude": 121.4300 + 0.0001 * i,
            "latitude": 31.1880,
            "accuracy_m": 6,
        }
        for i in range(n)
    ]


def test_the_detail_summarises_the_track_after_a_batch(side, sampler):
    task_id = create_task(sampler, side.project, "进水口采样")
    move(sampler, task_id, "running")
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    points = walk(start)
    points.insert(
        5, {**points[5], "fix_time": (start + dt.timedelta(seconds=45)).isoformat(), "mock_location": True}
    )
    response = sampler.post(
        f"{API}/tasks/{task_id}/track", {"coordinate_system": "wgs84", "points": points}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["kept"] == 12

    track = sampler.get(f"{API}/tasks/{task_id}").json()["track"]
    assert (track["stored"], track["kept"], track["filtered"]) == (13, 12, {"mock": 1})
    assert TrackPoint.objects.filter(task_id=task_id).count() == 13
    assert len(track["segments"]) == 1
    segment = track["segments"][0]
    assert segment["device"] is None  # sent without a device token
    assert (segment["segment"], segment["points"]) == (1, 12)
    assert dt.datetime.fromisoformat(segment["started_at"]) == start
    assert dt.datetime.fromisoformat(segment["ended_at"]) == start + dt.timedelta(seconds=110)
    assert segment["duration_s"] == track["duration_s"] == 110.0
    assert 100 < segment["length_m"] == track["length_m"] < 110  # 11 steps of 0.0001° at 31.19° N
    # The same numbers as the 监测航迹 screen's GeoJSON.
    drawn = sampler.get(f"{API}/tasks/{task_id}/track").json()
    assert drawn["length_m"] == track["length_m"]
    assert (drawn["stored"], drawn["kept"], drawn["filtered"]) == (13, 12, {"mock": 1})
    properties = drawn["features"][0]["properties"]
    assert {key: properties[key] for key in segment} == segment


def test_another_agencys_task_is_not_found_and_not_listed(world, client_for):
    sampler = client_for(world.shanghai.field_user)
    theirs = create_task(client_for(world.jiangsu.field_user), world.jiangsu.project, "南京采样")
    response = sampler.get(f"{API}/tasks/{theirs}")
    assert response.status_code == 404
    assert (response.json()["code"], response.json()["message"]) == ("not_found", "请求的资源不存在。")
    english = client_for(world.shanghai.field_user, "en").get(f"{API}/tasks/{theirs}")
    assert english.json()["message"] == "The requested resource does not exist."
    assert theirs not in ids(sampler.get(f"{API}/tasks", {"search": "南京"}))
    assert client_for(world.jiangsu.field_user).get(f"{API}/tasks/{theirs}").status_code == 200
    assert client_for(world.platform).get(f"{API}/tasks/{theirs}").status_code == 200
    # A deleted task is gone from the detail too.
    mine = create_task(sampler, world.shanghai.project, "误建任务")
    assert sampler.delete(f"{API}/tasks/{mine}").status_code == 204
    assert sampler.get(f"{API}/tasks/{mine}").status_code == 404


def test_the_detail_runs_the_same_queries_however_much_the_task_holds(side, sampler, lab):
    def queries(task_id: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert sampler.get(f"{API}/tasks/{task_id}").status_code == 200
        return len(ctx)

    bare = create_task(sampler, side.project, "空任务")
    full = create_task(sampler, side.project, "满任务")
    for i in range(4):
        record_photo(sampler, full, "work_photo", salt=str(i))
    finish(sampler, lab, full)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    sampler.post(
        f"{API}/tasks/{full}/track", {"coordinate_system": "wgs84", "points": walk(start, 30)}, format="json"
    )
    assert queries(full) == queries(bare)
    assert queries(full) <= 10
