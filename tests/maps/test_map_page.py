"""The map page and its GeoJSON: sign-in, who sees what (server.access), the filters, the layers'
content (verdicts, gaps, thumbnails), GCJ-02 base maps, bounded queries, and the admin's maps."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from server.geo import from_wgs84
from server.maps.checks import check_tile_url
from server.maps.widgets import MapWidget
from server.tracks.checkins import Position, checkin_record
from tests.factories import PASSWORD
from tests.maps.helpers import field_day, jpeg, offset

pytestmark = pytest.mark.django_db

DATA = "/map/data"


@pytest.fixture
def scenes(world, django_capture_on_commit_callbacks):
    """A field day in each region, thumbnails made (the background work runs after commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return {"shanghai": field_day(world.shanghai), "jiangsu": field_day(world.jiangsu, name="南京的任务")}


def data_for(client, user, **params) -> dict:
    client.force_login(user)
    response = client.get(DATA, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return response.json()


def layer(body: dict, name: str) -> list[dict]:
    return [f for f in body["features"] if f["properties"]["layer"] == name]


# --- Sign-in ---------------------------------------------------------------------------------------
def test_anonymous_users_are_sent_to_sign_in_and_the_data_answers_401(client):
    page = client.get("/map/?task=x")
    assert page.status_code == 302
    assert page["Location"].startswith("/map/login/?next=")
    data = client.get(DATA)
    assert data.status_code == 401
    assert data.json()["code"] == "not_authenticated"


def test_a_regulator_signs_in_on_the_map_page(client, world):
    regulator = world.shanghai.regulator
    assert not regulator.is_staff  # the admin's sign-in would refuse them
    form = client.get("/map/login/")
    assert form.status_code == 200
    wrong = client.post("/map/login/", {"username": regulator.username, "password": "nope"})
    assert wrong.status_code == 200  # the form again, with its error
    assert "请输入一个正确的" in wrong.content.decode()
    signed_in = client.post("/map/login/", {"username": regulator.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/map/"
    page = client.get("/map/")
    assert page.status_code == 200
    assert "现场核查地图" in page.content.decode()
    assert client.get("/map/login/").status_code == 302  # signed in already: to the map
    out = client.post("/map/logout/")
    assert out.status_code == 302
    assert client.get("/map/").status_code == 302


def test_the_page_bundles_leaflet_and_uses_the_configured_tiles(client, world, settings):
    settings.MAP_TILE_URL = "https://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY"
    settings.MAP_TILE_ATTRIBUTION = "&copy; 天地图"
    client.force_login(world.shanghai.regulator)
    content = client.get("/map/").content.decode()
    assert "/static/leaflet/leaflet.js" in content
    assert "/static/maps/map.js" in content
    assert "tianditu.gov.cn/DataServer" in content
    assert json.dumps("&copy; 天地图") in content  # in the map's options, as JSON
    for cdn in ("unpkg.com", "cdnjs", "jsdelivr"):
        assert cdn not in content
    for path in ("/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css", "/static/maps/map.js"):
        assert client.get(path).status_code == 200, path


def test_the_default_base_map_is_openstreetmap_in_wgs84():
    from django.conf import settings

    assert settings.MAP_TILE_URL == "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert settings.MAP_TILE_SYSTEM == "wgs84"
    assert settings.LEAFLET_CONFIG["DEFAULT_CENTER"] == (35.0, 105.0)


# --- Who sees what ---------------------------------------------------------------------------------
def test_a_regulator_sees_the_field_day_of_their_region_only(client, world, scenes):
    body = data_for(client, world.shanghai.regulator)
    assert body["counts"] == {"outlet": 2, "checkin": 2, "track": 2, "track_gap": 1, "photo": 1}
    assert body["truncated"] == []
    shanghai = scenes["shanghai"]
    assert {f["properties"]["id"] for f in layer(body, "checkin")} == {
        str(shanghai.inside.pk),
        str(shanghai.outside.pk),
    }
    assert {f["properties"]["task"] for f in layer(body, "track")} == {shanghai.task.name}
    assert [f["properties"]["id"] for f in layer(body, "photo")] == [str(shanghai.photo.pk)]
    assert {f["properties"]["enterprise"] for f in layer(body, "outlet")} == {world.shanghai.enterprise.name}


@pytest.mark.parametrize("region", ["shanghai", "jiangsu"])
def test_an_agency_account_sees_its_own_agency(client, world, scenes, region):
    side = getattr(world, region)
    body = data_for(client, side.main)
    assert {f["properties"]["id"] for f in layer(body, "checkin")} == {
        str(scenes[region].inside.pk),
        str(scenes[region].outside.pk),
    }
    assert [f["properties"]["id"] for f in layer(body, "photo")] == [str(scenes[region].photo.pk)]


def test_the_platform_sees_both_regions(client, world, scenes):
    body = data_for(client, world.platform)
    assert body["counts"]["checkin"] == 4
    assert body["counts"]["track"] == 4


# --- The layers ------------------------------------------------------------------------------------
def test_checkins_carry_their_verdict_distance_and_accuracy(client, world, scenes):
    body = data_for(client, world.shanghai.regulator)
    by_verdict = {f["properties"]["verdict"]: f for f in layer(body, "checkin")}
    assert set(by_verdict) == {"inside", "outside"}
    inside, outside = by_verdict["inside"]["properties"], by_verdict["outside"]["properties"]
    assert inside["distance_m"] == pytest.approx(80, abs=2)
    assert outside["distance_m"] == pytest.approx(3000, abs=10)
    assert (inside["accuracy_m"], outside["accuracy_m"]) == (20, 60)
    assert inside["geofence_m"] == outside["geofence_m"] == 150
    assert outside["verdict_label"] == "超出电子围栏"
    location = scenes["shanghai"].outside.location
    assert by_verdict["outside"]["geometry"]["coordinates"] == [round(location.x, 7), round(location.y, 7)]


def test_a_track_is_drawn_as_segments_with_the_gap_between_them(client, world, scenes):
    body = data_for(client, world.shanghai.regulator)
    segments = sorted(layer(body, "track"), key=lambda f: f["properties"]["segment"])
    assert [f["properties"]["segment"] for f in segments] == [1, 2]
    assert [f["properties"]["points"] for f in segments] == [8, 8]
    assert all(f["geometry"]["type"] == "LineString" for f in segments)
    (gap,) = layer(body, "track_gap")
    # The gap joins the first segment's last position to the second's first, and says how long.
    assert gap["geometry"]["coordinates"] == [
        segments[0]["geometry"]["coordinates"][-1],
        segments[1]["geometry"]["coordinates"][0],
    ]
    assert gap["properties"]["gap_s"] == 12 * 60 - 7 * 15
    assert gap["properties"]["started_at"] == segments[0]["properties"]["ended_at"]


def test_a_flagged_photo_has_its_thumbnail_and_findings(client, world, scenes):
    photo = scenes["shanghai"].photo
    body = data_for(client, world.shanghai.regulator)
    (feature,) = layer(body, "photo")
    props = feature["properties"]
    assert props["verdict"] == "fail"
    assert props["thumbnail"] == f"/api/v1/photos/{photo.pk}/thumbnail"
    assert any("超出电子围栏" in f["message"] for f in props["findings"])
    assert all(f["severity"] in ("warn", "fail") for f in props["findings"])
    # The same session fetches the thumbnail from the API.
    thumbnail = client.get(props["thumbnail"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("who", ["regulator", "main"])
def test_each_popup_links_to_the_workspace_page_of_what_it_shows(client, world, scenes, who):
    """The photo's popup opens the photo's page (its evidence), a check-in's and a track's the task's
    page; the same session opens them, and the other region's viewer is told they do not exist."""
    day = scenes["shanghai"]
    body = data_for(client, getattr(world.shanghai, who))
    (photo,) = layer(body, "photo")
    assert photo["properties"]["page"] == f"/photos/{day.photo.pk}/"
    task_page = f"/tasks/{day.task.pk}/"
    for name in ("track", "track_gap", "checkin"):
        assert {f["properties"]["page"] for f in layer(body, name) if f["properties"]["task"]} == {task_page}
    for page in (photo["properties"]["page"], task_page):
        assert client.get(page).status_code == 200
    client.force_login(getattr(world.jiangsu, who))
    for page in (photo["properties"]["page"], task_page):
        assert client.get(page).status_code == 404


def test_photos_that_passed_or_have_no_fix_are_not_drawn(
    client, world, scenes, django_capture_on_commit_callbacks
):
    from media_rules import intake
    from media_rules.holders import tenant_of
    from media_rules.models import PhotoType
    from media_rules.services import Manifest, photo_record

    side, task = world.shanghai, scenes["shanghai"].task
    with django_capture_on_commit_callbacks(execute=True):
        blob, _ = intake.ingest(jpeg(color=(200, 200, 10)), holder=tenant_of(side.field_user))
        photo_record(
            actor=side.field_user,
            photo_id=uuid.uuid4(),
            sha256=blob.sha256,
            photo_type=PhotoType.objects.get(code="sampling_operation"),
            manifest=Manifest(),  # no fix: nowhere to draw it
            task=task,
            outlet=side.wastewater,
        )
    body = data_for(client, side.regulator)
    assert body["counts"]["photo"] == 1


# --- Filters ---------------------------------------------------------------------------------------
def test_the_date_range_filters_what_happened_and_keeps_the_outlets(client, world, scenes):
    last_month = timezone.localdate() - dt.timedelta(days=30)
    body = data_for(
        client,
        world.shanghai.regulator,
        start=last_month.isoformat(),
        end=(last_month + dt.timedelta(days=3)),
    )
    assert body["counts"] == {"outlet": 2}
    today = timezone.localdate().isoformat()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    around = data_for(client, world.shanghai.regulator, start=yesterday, end=today)
    assert around["counts"]["checkin"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"task": "not-a-uuid"}, "task"),
        ({"om_task": "abc"}, "om_task"),
    ],
)
def test_bad_filters_are_400_naming_the_field(client, world, params, field):
    client.force_login(world.shanghai.regulator)
    response = client.get(DATA, params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert field in response.json()["details"]


def test_a_task_filter_shows_that_task_and_refuses_another_regions(client, world, scenes):
    side = world.shanghai
    other = field_day(side, name="另一个任务")
    body = data_for(client, side.regulator, task=str(other.task.pk))
    assert {f["properties"]["id"] for f in layer(body, "checkin")} == {
        str(other.inside.pk),
        str(other.outside.pk),
    }
    assert {f["properties"]["task_id"] for f in layer(body, "track")} == {str(other.task.pk)}
    assert [f["properties"]["id"] for f in layer(body, "photo")] == [str(other.photo.pk)]
    # Another region's task: refused exactly like one that does not exist.
    client.force_login(side.regulator)
    for task_id in (scenes["jiangsu"].task.pk, uuid.uuid4()):
        response = client.get(DATA, {"task": str(task_id)})
        assert response.status_code == 400
        assert response.json()["details"] == {"task": [response.json()["details"]["task"][0]]}
    assert (
        client.get(DATA, {"task": str(scenes["jiangsu"].task.pk)}).json()["details"]
        == client.get(DATA, {"task": str(uuid.uuid4())}).json()["details"]
    )


def test_an_om_task_filter_shows_its_points_and_checkins(client, world, scenes):
    side = world.shanghai
    x, y = offset(side.wastewater.location.x, side.wastewater.location.y, east_m=10)
    om_checkin, _ = checkin_record(
        actor=side.technician_user,
        checkin_id=uuid.uuid4(),
        position=Position(lon=x, lat=y, system="wgs84", accuracy_m=15),
        at=timezone.now() - dt.timedelta(minutes=3),
        om_task=side.om_task,
        outlet=side.wastewater,
    )
    body = data_for(client, side.regulator, om_task=side.om_task.pk)
    assert [f["properties"]["id"] for f in layer(body, "checkin")] == [str(om_checkin.pk)]
    assert [f["properties"]["id"] for f in layer(body, "outlet")] == [side.wastewater.pk]
    assert layer(body, "track") == []
    both = client.get(DATA, {"om_task": side.om_task.pk, "task": str(scenes["shanghai"].task.pk)})
    assert both.status_code == 400


def test_the_page_lists_the_visible_tasks_and_keeps_the_filters_for_the_data(client, world, scenes):
    client.force_login(world.shanghai.regulator)
    task = scenes["shanghai"].task
    page = client.get("/map/", {"task": str(task.pk), "start": "2026-01-01", "end": "2026-01-31"})
    content = page.content.decode()
    assert task.name in content
    assert scenes["jiangsu"].task.name not in content
    assert f"/map/data?task={task.pk}&amp;start=2026-01-01&amp;end=2026-01-31" in content
    invalid = client.get("/map/", {"start": "2026-02-01", "end": "2026-01-01"})
    assert invalid.status_code == 200
    assert 'data-url=""' in invalid.content.decode()
    assert "结束日期不能早于开始日期" in invalid.content.decode()


# --- GCJ-02 base maps ------------------------------------------------------------------------------
def test_on_gcj02_tiles_every_coordinate_is_shifted_and_radii_stay(client, world, scenes, settings):
    settings.MAP_TILE_SYSTEM = "gcj02"
    body = data_for(client, world.shanghai.regulator)
    assert body["coordinate_system"] == "gcj02"
    outside = scenes["shanghai"].outside
    (feature,) = [f for f in layer(body, "checkin") if f["properties"]["id"] == str(outside.pk)]
    expected = from_wgs84(outside.location.x, outside.location.y, "gcj02")
    assert feature["geometry"]["coordinates"] == pytest.approx(expected, abs=1e-7)
    assert feature["geometry"]["coordinates"][0] != pytest.approx(outside.location.x, abs=1e-4)
    assert feature["properties"]["accuracy_m"] == 60


# --- Queries ---------------------------------------------------------------------------------------
def test_the_data_runs_a_number_of_queries_that_does_not_grow_with_the_rows(client, world, scenes):
    side = world.shanghai
    client.force_login(side.regulator)
    client.get(DATA)  # the session's first request

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(DATA).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    task = scenes["shanghai"].task
    for minutes in range(5):
        x, y = offset(side.wastewater.location.x, side.wastewater.location.y, east_m=50 * minutes)
        checkin_record(
            actor=side.field_user,
            checkin_id=uuid.uuid4(),
            position=Position(lon=x, lat=y, system="wgs84", accuracy_m=10),
            at=timezone.now() - dt.timedelta(minutes=minutes),
            task=task,
            outlet=side.wastewater,
        )
    assert count() == few
    assert few <= 15, few  # session, user, outlets, check-ins, photos, tasks, three per track


# --- Settings check --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["tiles.example.com/{z}/{x}/{y}.png", "https://tiles.example.com/{z}/{x}.png"]
)
def test_a_tile_url_that_cannot_load_tiles_is_reported_at_start(settings, url):
    settings.MAP_TILE_URL = url
    assert [e.id for e in check_tile_url()] == ["maps.E001"]


def test_the_default_tile_url_passes_the_check():
    assert check_tile_url() == []
    call_command("check", "--fail-level", "ERROR")


# --- Admin maps ------------------------------------------------------------------------------------
def test_the_outlet_admin_uses_leaflet(admin_client, world):
    content = admin_client.get(reverse("admin:registry_outlet_change", args=[world.shanghai.wastewater.pk]))
    html = content.content.decode()
    assert "/static/leaflet/leaflet.js" in html
    assert "L.GeometryField" in html
    assert "&quot;type&quot;: &quot;Point&quot;" in html  # the stored point, as GeoJSON


def test_read_only_admins_show_their_points_on_a_map(admin_client, world, scenes):
    shanghai = scenes["shanghai"]
    pages = {
        reverse("admin:tracks_checkin_change", args=[shanghai.outside.pk]): "location_map",
        reverse("admin:media_rules_photo_change", args=[shanghai.photo.pk]): "fix_location_map",
    }
    from server.tracks.models import TrackPoint

    point = TrackPoint.objects.filter(task=shanghai.task).first()
    pages[reverse("admin:tracks_trackpoint_change", args=[point.pk])] = "location_map"
    for url, field in pages.items():
        html = admin_client.get(url).content.decode()
        assert "/static/leaflet/leaflet.js" in html, url
        assert f'id="id_{field}"' in html.replace(f"id_{field}-map", ""), url
        assert ".modifiable = false" in html, url


def test_on_gcj02_tiles_the_admin_widget_shows_gcj02_and_stores_wgs84(settings):
    point = Point(121.4365, 31.1880, srid=4326)
    widget = MapWidget()
    assert GEOSGeometry(widget.serialize(point)).equals_exact(point, tolerance=1e-9)
    settings.MAP_TILE_SYSTEM = "gcj02"
    shown = GEOSGeometry(widget.serialize(point))
    assert (shown.x, shown.y) == pytest.approx(from_wgs84(point.x, point.y, "gcj02"), abs=1e-9)
    stored = widget.deserialize(widget.serialize(point))
    assert stored.srid == 4326
    assert stored.equals_exact(point, tolerance=1e-8)
