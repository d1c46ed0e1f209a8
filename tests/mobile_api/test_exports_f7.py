"""Exports of the lists (F7): monitoring tasks, O&M records and check-ins as Excel and CSV; check-ins
and a task's track as GeoJSON; a task's or a day's photos as a streamed ZIP with its manifest. Every
export is read back (csv, openpyxl, json, zipfile) and compared with what is stored, for the list's
own scope and filters, in a number of queries that does not grow with the rows."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from media_rules.models import Photo
from mobile_api import exports
from mobile_api import photos as photos_api
from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import task_create
from server.geo import from_wgs84
from server.om.models import OmRecord
from server.tracks import services as track_services
from server.tracks.models import CheckIn, TrackPoint
from tests.media_rules.test_verdicts import make_photo
from tests.om.helpers import record_payload
from tests.om.test_records import checkin as om_checkin
from tests.om.test_records import submitted
from tests.sync.helpers import Phone
from tests.tracks.helpers import WALK_START, batch, timed_korita, walk_task

pytestmark = pytest.mark.django_db
API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Reading exports back ---------------------------------------------------------------------------
def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200, body(response)[:300]
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert isinstance(response, StreamingHttpResponse)
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_geojson(response) -> dict:
    assert response.status_code == 200, body(response)[:300]
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"].endswith(".geojson")
    collection = json.loads(body(response))
    assert collection["type"] == "FeatureCollection"
    return collection


def as_text(row: list) -> list[str]:
    """A table row as CSV writes it (times to the second, empty for None)."""
    out = []
    for value in row:
        if value is None:
            out.append("")
        elif isinstance(value, dt.datetime):
            out.append(value.strftime("%Y-%m-%d %H:%M:%S"))
        else:
            out.append(str(value))
    return out


def local(value):
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0) if value else ""


def both_tables(client, url: str, params: dict | None = None) -> tuple[list[list], list[list[str]]]:
    params = params or {}
    return read_xlsx(client.get(url, {**params, "format": "xlsx"})), read_csv(
        client.get(url, {**params, "format": "csv"})
    )


def assert_same_table(xlsx_rows: list[list], csv_rows: list[list[str]], expected: list[list]) -> None:
    assert xlsx_rows[1:] == [["" if v is None else v for v in row] for row in expected]
    assert csv_rows[1:] == [as_text(row) for row in expected]
    assert xlsx_rows[0] == csv_rows[0]


def queries(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
        assert response.status_code == 200
        body(response)
    return len(ctx.captured_queries)


# --- The field data ---------------------------------------------------------------------------------
@pytest.fixture
def side(world):
    return world.shanghai


def new_task(side, name: str) -> MonitoringTask:
    task, _ = task_create(actor=side.field_user, task_id=uuid.uuid4(), project=side.project, name=name)
    return task


def record_photo(
    phone: Phone, side, task, photo_type: str, *, seed: int | None, when: dt.datetime, sha256: str = ""
) -> Photo:
    """A photo at the side's wastewater outlet, recorded as wx.uploadFile sends it (``seed`` None:
    the record alone, naming a file by ``sha256`` that never arrives)."""
    lon, lat = from_wgs84(side.wastewater.location.x, side.wastewater.location.y, "gcj02")
    form = {
        "id": str(uuid.uuid4()),
        "photo_type": photo_type,
        "task": str(task.pk),
        "outlet": side.wastewater.pk,
        "longitude": repr(lon),
        "latitude": repr(lat),
        "coordinate_system": "gcj02",
        "accuracy_m": 6,
        "fix_time": when.isoformat(),
        "device_time": when.isoformat(),
    }
    if seed is None:
        response = phone.client().post(f"{API}/photos", {**form, "sha256": sha256}, format="json")
    else:
        data = make_photo(seed, when=when, gps=(side.wastewater.location.x, side.wastewater.location.y))
        response = phone.client().post(
            f"{API}/photos", {**form, "file": io.BytesIO(data)}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    return Photo.objects.select_related("blob", "photo_type").get(pk=response.json()["id"])


@pytest.fixture
def field_day(world, settings, tmp_path):
    """A sampling task in each agency: Shanghai's with two photos whose files arrived, one whose
    file never did, and one whose file storage has since lost; Jiangsu's with one photo."""
    settings.MEDIA_ROOT = tmp_path
    t = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=30)
    shanghai, jiangsu = world.shanghai, world.jiangsu
    task = new_task(shanghai, "总排口季度采样")
    phone = Phone.enrol(shanghai.field_user)
    operation = record_photo(phone, shanghai, task, "sampling_operation", seed=71, when=t)
    site = record_photo(phone, shanghai, task, "sampling_site", seed=72, when=t + dt.timedelta(minutes=2))
    lost = record_photo(phone, shanghai, task, "sampling_site", seed=73, when=t + dt.timedelta(minutes=4))
    awaiting = record_photo(
        phone, shanghai, task, "sampling_site", seed=None, when=t + dt.timedelta(minutes=6), sha256="ab" * 32
    )
    default_storage.delete(lost.blob.name)
    other = new_task(jiangsu, "江苏采样")
    jiangsu_photo = record_photo(
        Phone.enrol(jiangsu.field_user), jiangsu, other, "sampling_operation", seed=74, when=t
    )
    return {
        "task": task,
        "photos": [operation, site, lost, awaiting],
        "stored": [operation, site],
        "lost": lost,
        "awaiting": awaiting,
        "jiangsu_task": other,
        "jiangsu_photo": jiangsu_photo,
    }


# --- Monitoring tasks -------------------------------------------------------------------------------
def expected_task_rows(tasks) -> list[list]:
    rows = []
    for task in tasks.select_related("project").order_by("-created_at", "id"):
        last = task.events.filter(applied=True).order_by("-at", "-id").first()
        rows.append(
            [
                str(task.pk),
                task.name,
                task.project.number,
                task.project.name,
                task.project.get_monitoring_type_display(),
                task.get_status_display(),
                task.photos.count(),
                ", ".join(task.sample_codes),
                task.note,
                local(task.created_at),
                local(task.received_at),
                local(last.at) if last else None,
            ]
        )
    return rows


def test_task_exports_are_the_list_with_its_filters_and_scope(world, side, client_for, field_day):
    started = new_task(side, "雨水排口补充采样")
    client_for(side.field_user).post(f"{API}/tasks/{started.pk}/transition", {"to": "running"}, format="json")
    main = client_for(side.main)
    xlsx_rows, csv_rows = both_tables(main, f"{API}/tasks/export")
    assert xlsx_rows[0][:3] == ["任务ID", "任务名称", "项目编号"]
    expected = expected_task_rows(MonitoringTask.objects.filter(project__agency=side.agency))
    assert len(expected) == 2
    assert_same_table(xlsx_rows, csv_rows, expected)
    assert next(r for r in xlsx_rows if r[0] == str(field_day["task"].pk))[6] == 4  # photo count

    # The list's filters: by search and by state, as GET /tasks answers them.
    for params, count in (({"search": "雨水"}, 1), ({"status": "running"}, 1), ({"state": "finished"}, 0)):
        listed = {t["id"] for t in main.get(f"{API}/tasks", params).json()["results"]}
        xlsx_rows, csv_rows = both_tables(main, f"{API}/tasks/export", params)
        assert {r[0] for r in xlsx_rows[1:]} == {r[0] for r in csv_rows[1:]} == listed, params
        assert len(listed) == count, params

    # Another agency's tasks never appear; a regulator sees its own region only.
    assert [
        r[0]
        for r in read_csv(client_for(world.jiangsu.main).get(f"{API}/tasks/export", {"format": "csv"}))[1:]
    ] == [str(field_day["jiangsu_task"].pk)]
    assert len(read_xlsx(client_for(world.jiangsu.regulator).get(f"{API}/tasks/export"))) == 2


# --- O&M records ------------------------------------------------------------------------------------
def expected_record_rows(records) -> list[list]:
    rows = []
    for r in records.select_related("task", "enterprise", "outlet", "template", "filled_by__person").order_by(
        "-om_date", "-created_at"
    ):
        rows.append(
            [
                str(r.pk),
                r.om_date,
                r.task.number,
                r.enterprise.name,
                r.outlet.name,
                r.template.code,
                r.template.name,
                r.get_status_display(),
                r.version,
                r.filled_by.person.name,
                ", ".join(f"{i.get_kind_display()} {i.model}" for i in r.instruments.all()),
                local(r.submitted_at),
                r.void_reason,
            ]
        )
    return rows


@pytest.fixture
def om_records(side, client_for):
    tech = client_for(side.technician_user)
    done = [submitted(side, tech), submitted(side, tech)]
    draft_id = uuid.uuid4()
    draft = tech.post(
        f"{API}/om/records",
        {"id": str(draft_id), **record_payload(side, start=om_checkin(tech, side, "start"), answers={})},
        format="json",
    )
    assert draft.status_code == 201, draft.json()
    return {"submitted": done, "draft": draft_id}


def test_om_record_exports_follow_the_list(world, side, client_for, om_records):
    main = client_for(side.main)
    xlsx_rows, csv_rows = both_tables(main, f"{API}/om/records/export")
    assert xlsx_rows[0][:2] == ["记录ID", "运维日期"]
    expected = expected_record_rows(OmRecord.objects.filter(agency=side.agency))
    assert len(expected) == 3
    # XLSX keeps the day as a date cell (openpyxl reads it back as midnight); CSV writes it as text.
    xlsx_rows = [[*r[:1], r[1].date() if isinstance(r[1], dt.datetime) else r[1], *r[2:]] for r in xlsx_rows]
    # The record's own columns; its judgements and answers are tests/mobile_api/test_om_record_export.py's.
    fixed = len(expected[0])
    assert_same_table([r[:fixed] for r in xlsx_rows], [r[:fixed] for r in csv_rows], expected)

    # The enterprise sees submitted records, never the agency's draft; a filter narrows the same way.
    enterprise = read_csv(client_for(side.enterprise_user).get(f"{API}/om/records/export", {"format": "csv"}))
    assert {r[0] for r in enterprise[1:]} == {str(pk) for pk in om_records["submitted"]}
    drafts = read_csv(main.get(f"{API}/om/records/export", {"format": "csv", "status": "draft"}))
    assert [r[0] for r in drafts[1:]] == [str(om_records["draft"])]
    for other in (world.jiangsu.main, world.jiangsu.enterprise_user, world.jiangsu.regulator):
        assert read_csv(client_for(other).get(f"{API}/om/records/export", {"format": "csv"}))[1:] == []


# --- Check-ins --------------------------------------------------------------------------------------
@pytest.fixture
def checkins(world, side, client_for, field_day):
    """Check-ins of the Shanghai task (one at the outlet, one 3 km away) and an O&M start; one in Jiangsu."""
    outlet = side.wastewater
    client = client_for(side.field_user)
    made = []
    for east_m in (0, 3000):
        lon, lat = from_wgs84(outlet.location.x + east_m / 95_000, outlet.location.y, "gcj02")
        response = client.post(
            f"{API}/checkins",
            {
                "id": str(uuid.uuid4()),
                "longitude": lon,
                "latitude": lat,
                "coordinate_system": "gcj02",
                "accuracy_m": 12,
                "task": str(field_day["task"].pk),
                "outlet": outlet.pk,
                "kind": "start" if east_m == 0 else "checkin",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        made.append(response.json()["id"])
    made.append(str(om_checkin(client_for(side.technician_user), side, "start")))
    jiangsu = om_checkin(client_for(world.jiangsu.technician_user), world.jiangsu, "start")
    return {"shanghai": made, "jiangsu": str(jiangsu)}


def test_checkin_tables_hold_the_stored_points_in_the_asked_system(side, client_for, checkins):
    main = client_for(side.main)
    stored = list(CheckIn.objects.filter(pk__in=checkins["shanghai"]).order_by("-at", "id"))
    for crs in ("wgs84", "gcj02"):
        xlsx_rows, csv_rows = both_tables(main, f"{API}/checkins/export", {"crs": crs})
        assert xlsx_rows[0][7:9] == [f"经度（{crs}）", f"纬度（{crs}）"]
        assert [r[0] for r in xlsx_rows[1:]] == [str(c.pk) for c in stored]
        for row, text, checkin in zip(xlsx_rows[1:], csv_rows[1:], stored, strict=True):
            lon, lat = from_wgs84(checkin.location.x, checkin.location.y, crs)
            assert row[7:9] == pytest.approx([lon, lat], abs=1e-9)
            assert float(text[7]) == pytest.approx(lon, abs=1e-9)
            assert row[13] == pytest.approx(checkin.distance_m)
            assert row[15] == checkin.get_verdict_display()
            assert row[2] == local(checkin.at)
    outside = next(r for r in read_xlsx(main.get(f"{API}/checkins/export")) if r[15] == "超出电子围栏")
    assert outside[13] > 2500


def test_checkin_geojson_is_the_stored_points_with_their_judgement(world, side, client_for, checkins):
    main = client_for(side.main)
    stored = {str(c.pk): c for c in CheckIn.objects.filter(pk__in=checkins["shanghai"])}
    collection = read_geojson(main.get(f"{API}/checkins/export", {"format": "geojson"}))
    assert collection["coordinate_system"] == "wgs84"
    assert {f["id"] for f in collection["features"]} == set(stored)
    for feature in collection["features"]:
        checkin = stored[feature["id"]]
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert abs(lon - checkin.location.x) < 1e-9
        assert abs(lat - checkin.location.y) < 1e-9
        props = feature["properties"]
        assert props["verdict"] == checkin.verdict
        assert props["distance_m"] == pytest.approx(checkin.distance_m)
        assert props["accuracy_m"] == checkin.accuracy_m
        assert props["mock_location"] is checkin.mock  # one vocabulary for a capture fix (F10.5)
        assert "mock" not in props
        assert dt.datetime.fromisoformat(props["at"]) == checkin.at
        assert dt.datetime.fromisoformat(props["recorded_at"]) == checkin.recorded_at
        assert props["findings"] == list(dict.fromkeys(f["code"] for f in checkin.findings))
    assert {f["properties"]["verdict"] for f in collection["features"]} == {"inside", "outside"}

    gcj = read_geojson(main.get(f"{API}/checkins/export", {"format": "geojson", "crs": "gcj02"}))
    assert gcj["coordinate_system"] == "gcj02"
    for feature in gcj["features"]:
        checkin = stored[feature["id"]]
        expected = from_wgs84(checkin.location.x, checkin.location.y, "gcj02")
        assert feature["geometry"]["coordinates"] == pytest.approx(list(expected), abs=1e-9)

    # The list's filters and scope.
    om_only = read_geojson(
        main.get(f"{API}/checkins/export", {"format": "geojson", "om_task": side.om_task.pk})
    )
    assert [f["id"] for f in om_only["features"]] == [checkins["shanghai"][2]]
    jiangsu = read_geojson(
        client_for(world.jiangsu.main).get(f"{API}/checkins/export", {"format": "geojson"})
    )
    assert [f["id"] for f in jiangsu["features"]] == [checkins["jiangsu"]]


# --- Tracks -----------------------------------------------------------------------------------------
def test_track_download_has_every_kept_point_by_segment(world, side, client_for):
    task = walk_task(side)
    walk = timed_korita()
    for part in (walk[:500], walk[500:]):  # a batch holds at most 500 points
        response = client_for(side.field_user).post(
            f"{API}/tasks/{task.pk}/track", batch(part), format="json"
        )
        assert response.status_code == 200, response.json()
    main = client_for(side.main)
    download = main.get(f"{API}/tasks/{task.pk}/track.geojson")
    collection = read_geojson(download)
    summary = track_services.track_summary(task)
    assert collection["task"] == str(task.pk)
    assert (collection["stored"], collection["kept"]) == (summary.stored, summary.kept)
    assert len(collection["features"]) == len(summary.segments) >= 1
    kept = list(
        TrackPoint.objects.filter(task=task, filtered="")
        .order_by("recorded_at")
        .values_list("location", "recorded_at")
    )
    drawn = []
    for feature, segment in zip(collection["features"], summary.segments, strict=True):
        assert feature["geometry"]["type"] == ("LineString" if len(segment.points) > 1 else "Point")
        coordinates = feature["geometry"]["coordinates"]
        coordinates = coordinates if feature["geometry"]["type"] == "LineString" else [coordinates]
        assert len(coordinates) == len(feature["properties"]["coordTimes"]) == feature["properties"]["points"]
        drawn += list(zip(coordinates, feature["properties"]["coordTimes"], strict=True))
    assert len(drawn) == len(kept) == summary.kept
    by_time = sorted(drawn, key=lambda pair: pair[1])
    for (coords, at), (location, recorded_at) in zip(by_time, kept, strict=True):
        assert dt.datetime.fromisoformat(at) == recorded_at
        assert abs(coords[0] - location.x) < 1e-9
        assert abs(coords[1] - location.y) < 1e-9

    # Out of sight is not found.
    other = client_for(world.jiangsu.main).get(f"{API}/tasks/{task.pk}/track.geojson")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


def test_track_download_in_gcj02_for_a_chinese_map(side, client_for):
    """A walk along the Shanghai outlet (the Slovenian walk above lies outside China, where GCJ-02
    is WGS-84): two stretches of a minute, ten minutes apart, so two segments."""
    task = walk_task(side, "总排口航迹")
    start = WALK_START + dt.timedelta(minutes=5)
    x, y = side.wastewater.location.x, side.wastewater.location.y
    points = [
        {
            "fix_time": start + dt.timedelta(seconds=5 * i + (600 if i >= 12 else 0)),
            "longitude": x + i * 3e-5,
            "latitude": y,
            "altitude_m": 4.0,
        }
        for i in range(24)
    ]
    answer = client_for(side.field_user).post(f"{API}/tasks/{task.pk}/track", batch(points), format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["kept"] == 24
    collection = read_geojson(
        client_for(side.main).get(f"{API}/tasks/{task.pk}/track.geojson", {"crs": "gcj02"})
    )
    assert collection["coordinate_system"] == "gcj02"
    assert [f["geometry"]["type"] for f in collection["features"]] == ["LineString", "LineString"]
    drawn = [c for f in collection["features"] for c in f["geometry"]["coordinates"]]
    stored = (
        TrackPoint.objects.filter(task=task, filtered="")
        .order_by("recorded_at")
        .values_list("location", flat=True)
    )
    assert len(drawn) == len(stored) == 24
    for coords, location in zip(drawn, stored, strict=True):
        assert coords == pytest.approx(list(from_wgs84(location.x, location.y, "gcj02")), abs=1e-9)
        assert abs(coords[0] - location.x) > 1e-3  # GCJ-02 is hundreds of metres off in Shanghai


# --- Photos as a ZIP --------------------------------------------------------------------------------
def read_zip(response) -> tuple[zipfile.ZipFile, list[dict], list[dict]]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    table = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    return archive, manifest["photos"], table


def check_manifest(
    archive: zipfile.ZipFile, rows: list[dict], table: list[dict], photos: list[Photo]
) -> None:
    """The manifest names every photo with its stored facts; every file in the ZIP hashes to its
    photo's SHA-256; the CSV says what the JSON says."""
    by_id = {row["photo_id"]: row for row in rows}
    assert set(by_id) == {str(p.pk) for p in photos}
    for photo in photos:
        photo.refresh_from_db()
        row = by_id[str(photo.pk)]
        assert row["photo_type"] == photo.photo_type_id
        assert row["stage"] == photo.photo_type.stage
        assert row["sha256"] == photo.sha256
        assert row["verdict"] == (photo.verdict or "pending")
        assert row["findings"] == list(dict.fromkeys(f["code"] for f in photo.findings))
        captured = row["captured_at"] and dt.datetime.fromisoformat(row["captured_at"])
        assert captured == photo.captured_at  # None while a photo awaits its file
        if row["status"] == "included":
            data = archive.read(row["file"])
            assert hashlib.sha256(data).hexdigest() == photo.sha256
            assert len(data) == row["size"] == photo.blob.size
        else:
            assert row["file"] is None
    names = {row["file"] for row in rows if row["file"]}
    assert set(archive.namelist()) == names | {"manifest.csv", "manifest.json"}
    assert [r["photo_id"] for r in table] == [r["photo_id"] for r in rows]
    for text, row in zip(table, rows, strict=True):
        assert text["status"] == row["status"]
        assert text["file"] == (row["file"] or "")
        assert text["findings"] == ";".join(row["findings"])
        assert text["verdict"] == row["verdict"]


def test_a_tasks_photos_zip_holds_its_files_and_lists_what_is_missing(world, side, client_for, field_day):
    response = client_for(side.main).get(f"{API}/tasks/{field_day['task'].pk}/photos.zip")
    assert "photos-" in response["Content-Disposition"]
    archive, rows, table = read_zip(response)
    check_manifest(archive, rows, table, field_day["photos"])
    status = {row["photo_id"]: row["status"] for row in rows}
    assert status == {
        **{str(p.pk): "included" for p in field_day["stored"]},
        str(field_day["lost"].pk): "missing",
        str(field_day["awaiting"].pk): "awaiting_media",
    }
    assert all(
        name.startswith("photos/sampling/") for name in archive.namelist() if name.startswith("photos/")
    )
    # Photo files are stored as they are (already compressed); the manifests are deflated.
    assert {i.compress_type for i in archive.infolist() if i.filename.startswith("photos/")} == {
        zipfile.ZIP_STORED
    }
    # Scope: another agency's task is not found, in the one error shape.
    other = client_for(world.jiangsu.main).get(f"{API}/tasks/{field_day['task'].pk}/photos.zip")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


def test_the_zip_is_streamed_one_file_at_a_time(side, client_for, field_day, monkeypatch):
    monkeypatch.setattr(exports, "STREAM_BYTES", 8 * 1024)
    opened, open_now, most = [], [0], [0]
    real = photos_api.default_storage

    class Tracked:
        def __init__(self, file):
            self.file = file

        def read(self, n=-1):
            return self.file.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            open_now[0] -= 1
            self.file.close()

    class Storage:
        def open(self, name, mode="rb"):
            file = real.open(name, mode)
            opened.append(name)
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
            return Tracked(file)

    monkeypatch.setattr(photos_api, "default_storage", Storage())
    response = client_for(side.main).get(f"{API}/tasks/{field_day['task'].pk}/photos.zip")
    assert isinstance(response, StreamingHttpResponse)
    assert opened == []  # nothing is read before the client starts reading
    stream = iter(response.streaming_content)
    first = next(stream)
    assert first.startswith(b"PK\x03\x04")  # the first file's header leaves before it is read whole
    assert len(opened) == 1
    chunks = [first, *stream]
    sizes = [p.blob.size for p in field_day["stored"]]
    assert len(chunks) > sum(size // (8 * 1024) for size in sizes)  # the bytes leave as they are read
    assert max(len(c) for c in chunks) < min(sizes)  # no chunk holds a whole photo
    assert most[0] == 1  # one file open at a time
    assert open_now[0] == 0  # and all closed at the end
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert len([n for n in archive.namelist() if n.startswith("photos/")]) == 2


def test_a_file_changed_in_storage_is_included_and_flagged(side, client_for, field_day):
    operation = field_day["stored"][0]
    Path(default_storage.path(operation.blob.name)).write_bytes(b"not the photo that was judged")
    archive, rows, _ = read_zip(client_for(side.main).get(f"{API}/tasks/{field_day['task'].pk}/photos.zip"))
    row = next(r for r in rows if r["photo_id"] == str(operation.pk))
    assert row["status"] == "hash_mismatch"
    assert archive.read(row["file"]) == b"not the photo that was judged"
    assert row["sha256"] == operation.sha256  # the manifest keeps what the photo was judged on


def test_a_zip_from_s3_reads_each_object_as_a_stream(s3_storage, side, client_for, field_day, monkeypatch):
    """django-storages' S3File copies a whole object into memory on first read: never used here."""
    from storages.backends.s3 import S3File

    def whole_object(self):
        raise AssertionError("the whole S3 object was copied before being sent")

    monkeypatch.setattr(S3File, "_get_file", whole_object)
    archive, rows, table = read_zip(
        client_for(side.main).get(f"{API}/tasks/{field_day['task'].pk}/photos.zip")
    )
    check_manifest(archive, rows, table, field_day["photos"])
    assert sorted(r["status"] for r in rows) == ["awaiting_media", "included", "included", "missing"]
    assert set(s3_storage.keys()) >= {p.blob.name for p in field_day["stored"]}


def test_a_days_photos_zip_is_what_the_user_sees_that_day(world, side, client_for, field_day):
    day = timezone.localtime(field_day["stored"][0].captured_at).date()
    yesterday = field_day["stored"][1]
    Photo.objects.filter(pk=yesterday.pk).update(captured_at=yesterday.captured_at - dt.timedelta(days=1))
    main = client_for(side.main)
    archive, rows, table = read_zip(main.get(f"{API}/photos/export.zip", {"date": day.isoformat()}))
    today = [p for p in field_day["photos"] if p.pk != yesterday.pk]
    check_manifest(archive, rows, table, today)

    before = read_zip(
        main.get(f"{API}/photos/export.zip", {"date": (day - dt.timedelta(days=1)).isoformat()})
    )
    assert [r["photo_id"] for r in before[1]] == [str(yesterday.pk)]
    # The list's filters apply too.
    operation = field_day["stored"][0]
    _, rows, _ = read_zip(
        main.get(f"{API}/photos/export.zip", {"date": day.isoformat(), "photo_type": "sampling_operation"})
    )
    assert [r["photo_id"] for r in rows] == [str(operation.pk)]
    # Another agency's photos never appear: not for its regulator, not for an agency= it does not see.
    for user in (world.jiangsu.main, world.jiangsu.regulator):
        _, rows, _ = read_zip(client_for(user).get(f"{API}/photos/export.zip", {"date": day.isoformat()}))
        assert [r["photo_id"] for r in rows] == [str(field_day["jiangsu_photo"].pk)]
    _, rows, _ = read_zip(
        main.get(f"{API}/photos/export.zip", {"date": day.isoformat(), "agency": world.jiangsu.agency.pk})
    )
    assert rows == []
    _, rows, _ = read_zip(
        client_for(world.platform).get(
            f"{API}/photos/export.zip", {"date": day.isoformat(), "agency": world.jiangsu.agency.pk}
        )
    )
    assert [r["photo_id"] for r in rows] == [str(field_day["jiangsu_photo"].pk)]


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/photos/export.zip", {}),
        ("/photos/export.zip", {"date": "2026-02-30"}),
        ("/photos/export.zip", {"date": "2026-05-04", "agency": "x"}),
        ("/checkins/export", {"format": "pdf"}),
        ("/checkins/export", {"format": "geojson", "crs": "utm"}),
        ("/tasks/export", {"format": "geojson"}),
        ("/om/records/export", {"format": "csv", "status": "nope"}),
    ],
)
def test_bad_export_parameters_are_400(side, client_for, url, params):
    response = client_for(side.main).get(API + url, params)
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")


# --- Queries ----------------------------------------------------------------------------------------
EXPORTS = [
    ("/tasks/export", {"format": "csv"}),
    ("/tasks/export", {"format": "xlsx"}),
    ("/om/records/export", {"format": "csv"}),
    ("/om/records/export", {"format": "xlsx"}),
    ("/checkins/export", {"format": "csv"}),
    ("/checkins/export", {"format": "geojson", "crs": "gcj02"}),
    ("/photos/export.zip", {}),
]


def more_rows(world, side, client_for, round_: int) -> None:
    """Another task with a photo, another submitted record and another check-in of each kind."""
    task = new_task(side, f"加测任务{round_}")
    phone = Phone.enrol(side.field_user)
    record_photo(
        phone,
        side,
        task,
        "sampling_operation",
        seed=90 + round_,
        when=timezone.now() - dt.timedelta(minutes=5),
    )
    tech = client_for(side.technician_user)
    submitted(side, tech)
    om_checkin(tech, side, "checkin")


def test_exports_run_a_number_of_queries_that_does_not_grow_with_rows(
    world, side, client_for, field_day, django_assert_max_num_queries
):
    main = client_for(side.main)
    day = timezone.localtime(field_day["stored"][0].captured_at).date().isoformat()
    more_rows(world, side, client_for, 1)
    few = {}
    for url, params in EXPORTS:
        params = {**params, "date": day} if url.endswith(".zip") else params
        few[url, tuple(params.items())] = queries(main, API + url, params)
    for round_ in range(2, 5):
        more_rows(world, side, client_for, round_)
    for (url, params), count in few.items():
        with django_assert_max_num_queries(count):
            response = main.get(API + url, dict(params))
            assert response.status_code == 200
            body(response)
    for url in (f"/tasks/{field_day['task'].pk}/photos.zip", f"/tasks/{field_day['task'].pk}/track.geojson"):
        with django_assert_max_num_queries(8):
            body(main.get(API + url))
