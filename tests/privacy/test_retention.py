"""Retention (server/privacy/retention.py): raw track points and face photo files past their period are
deleted, the records that they existed stay, and every run is recorded and audited."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from media_rules.models import Blob, Photo
from server.audit.models import AuditEntry
from server.privacy import tasks
from server.privacy.models import PurgeRun
from server.privacy.retention import purge_expired
from server.tracks.models import TrackPoint
from tests.privacy.test_face_photos import FACE, LANDSCAPE, post_photo, streamed
from tests.support.storage import disk_storage, stored_files

pytestmark = pytest.mark.django_db
API = "/api/v1"
NOW = timezone.now()


@pytest.fixture(autouse=True)
def storage_root(settings, tmp_path) -> Path:
    root = disk_storage(settings, tmp_path)
    settings.TRACK_RETENTION_DAYS = 30
    settings.FACE_PHOTO_RETENTION_DAYS = 60
    return root


def point(task, days_ago: float) -> TrackPoint:
    return TrackPoint.objects.create(
        task=task,
        recorded_at=NOW - dt.timedelta(days=days_ago),
        location=Point(121.4, 31.2, srid=4326),
        longitude=121.4,
        latitude=31.2,
        coordinate_system="wgs84",
    )


def received(photo: Photo, days_ago: float) -> None:
    Blob.objects.filter(pk=photo.sha256).update(received_at=NOW - dt.timedelta(days=days_ago))


def test_old_track_points_go_recent_ones_stay(task):
    old = [point(task, 31), point(task, 400)]
    kept = [point(task, 29), point(task, 0.1)]
    run = purge_expired(now=NOW)
    assert run.track_points == 2
    assert set(TrackPoint.objects.values_list("pk", flat=True)) == {p.pk for p in kept}
    assert not TrackPoint.objects.filter(pk__in=[p.pk for p in old]).exists()


def test_old_face_photo_files_go_their_records_stay(
    field, task, storage_root, django_capture_on_commit_callbacks
):
    old_face = post_photo(field, task, FACE, "work_photo", django_capture_on_commit_callbacks)
    old_site = post_photo(field, task, LANDSCAPE, "sampling_site", django_capture_on_commit_callbacks)
    received(old_face, 61)
    received(old_site, 400)  # not a face: not personal data of this kind, kept
    recent_face_data = LANDSCAPE[:-2] + b"\x00\x00" + LANDSCAPE[-2:]  # another file, same picture
    recent_face = post_photo(field, task, recent_face_data, "work_photo", django_capture_on_commit_callbacks)
    received(recent_face, 59)
    old_blob = Blob.objects.get(pk=old_face.sha256)
    verdict, findings = old_face.verdict, Photo.objects.get(pk=old_face.pk).findings

    run = purge_expired(now=NOW)

    assert run.face_photos == 1
    # Storage: the old face file and its thumbnail are gone, everything else is there.
    remaining = stored_files(storage_root)
    assert old_blob.name not in remaining
    assert old_blob.thumbnail not in remaining
    for blob in Blob.objects.exclude(pk=old_blob.pk):
        assert blob.name in remaining
        assert blob.thumbnail in remaining
    # The records: the hash, size, measures and the verdict stay; the Blob says it was purged.
    purged = Blob.objects.get(pk=old_blob.pk)
    assert purged.purged_at == NOW
    assert purged.thumbnail == ""
    assert (purged.size, purged.face_count) == (old_blob.size, old_blob.face_count)
    photo = Photo.objects.get(pk=old_face.pk)
    assert (photo.sha256, photo.verdict, photo.findings) == (old_face.sha256, verdict, findings)
    for path in ("file", "thumbnail"):
        response = field.get(f"{API}/photos/{old_face.pk}/{path}")
        assert response.status_code == 410
        assert response.json()["code"] == "media_purged"
    assert streamed(field.get(f"{API}/photos/{recent_face.pk}/file")) == recent_face_data
    assert streamed(field.get(f"{API}/photos/{old_site.pk}/file")) == LANDSCAPE
    # The export says what became of it.
    export = field.get(f"{API}/tasks/{task.pk}/photos.zip")
    with zipfile.ZipFile(io.BytesIO(streamed(export))) as archive:
        manifest = archive.read("manifest.csv").decode("utf-8-sig")
    assert f"{old_face.pk}" in manifest
    assert "purged" in manifest

    # A second run finds nothing more; a re-sent file does not bring the purged one back.
    assert purge_expired(now=NOW).face_photos == 0
    assert not default_storage.exists(old_blob.name)


def test_every_run_is_recorded_and_audited(task):
    point(task, 45)
    run = purge_expired(now=NOW)
    entry = AuditEntry.objects.get(action="privacy.purged")
    assert entry.subject_id == str(run.pk)
    assert entry.actor_id is None
    assert entry.changes["track_points"] == 1
    assert entry.changes["face_photos"] == 0
    assert run.track_cutoff == NOW - dt.timedelta(days=30)
    assert run.face_photo_cutoff == NOW - dt.timedelta(days=60)


def test_the_command_and_the_daily_task(task, settings):
    point(task, 45)
    out = io.StringIO()
    call_command("privacy_purge", "--seal", stdout=out)
    assert "purged 1 track points" in out.getvalue()
    assert PurgeRun.objects.get().trigger == PurgeRun.Trigger.COMMAND
    point(task, 45)
    assert tasks.daily.delay().get() == {"sealed": 0, "track_points": 1, "face_photos": 0}
    assert PurgeRun.objects.latest("id").trigger == PurgeRun.Trigger.SCHEDULE
    beat = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "privacy.daily" in beat


def test_purge_runs_are_listed_read_only_in_the_admin(admin_client):
    from django.urls import reverse

    now = timezone.now()
    PurgeRun.objects.create(
        at=now,
        trigger=PurgeRun.Trigger.SCHEDULE,
        track_cutoff=now - dt.timedelta(days=365),
        face_photo_cutoff=now - dt.timedelta(days=365),
        track_points=1234,
        face_photos=7,
    )
    listing = admin_client.get(reverse("admin:privacy_purgerun_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "1234" in page
    assert "定时任务" in page
    assert admin_client.get(reverse("admin:privacy_purgerun_add")).status_code == 403


def test_a_purged_file_is_said_in_the_photo_json_and_reaches_phones_in_a_pull(
    field, task, storage_root, django_capture_on_commit_callbacks
):
    from sync.models import Change

    face = post_photo(field, task, FACE, "work_photo", django_capture_on_commit_callbacks)
    site = post_photo(field, task, LANDSCAPE, "sampling_site", django_capture_on_commit_callbacks)
    received(face, 61)
    received(site, 61)
    before = Photo.objects.get(pk=face.pk)
    assert field.get(f"{API}/photos/{face.pk}").json()["media_purged"] is False

    purge_expired(now=NOW)

    shown = field.get(f"{API}/photos/{face.pk}").json()
    assert shown["media_purged"] is True
    assert shown["awaiting_media"] is False
    assert (shown["verdict"], shown["sha256"]) == (before.verdict or "pending", before.sha256)
    assert shown["version"] == before.version + 1
    listed = {p["id"]: p for p in field.get(f"{API}/photos", {"task": str(task.pk)}).json()["results"]}
    assert listed[str(face.pk)]["media_purged"] is True
    assert listed[str(site.pk)]["media_purged"] is False  # not a face photo: kept
    detail = field.get(f"{API}/tasks/{task.pk}").json()
    assert {p["id"]: p["media_purged"] for p in detail["photos"]} == {str(face.pk): True, str(site.pk): False}
    # The change log has the new version, so a phone's next pull learns it.
    change = Change.objects.filter(entity_type="photo", entity_id=str(face.pk)).order_by("-seq").first()
    assert (change.version, change.data["media_purged"]) == (before.version + 1, True)
    # A second run changes nothing more.
    purge_expired(now=NOW)
    assert Photo.objects.get(pk=face.pk).version == before.version + 1
