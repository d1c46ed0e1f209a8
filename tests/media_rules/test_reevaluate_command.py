"""``manage.py photos_reevaluate`` and the photo admin pages, on photos recorded through the API."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse

from media_rules.models import Photo
from tests.shared_data import PHOTOS
from tests.sync.helpers import Phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def photos(world, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    side = world.shanghai
    phone = Phone.enrol(side.field_user)
    task_id = uuid.uuid4()
    phone.push([phone.op("task.create", task_id, {"project": side.project.pk, "name": "采样"})])
    made = []
    for name in ("no_exif.jpg", "jolla.jpg"):  # neither has a location
        with django_capture_on_commit_callbacks(execute=True):
            response = phone.client().post(
                "/api/v1/photos",
                {
                    "id": str(uuid.uuid4()),
                    "photo_type": "sampling_site",
                    "task": str(task_id),
                    "outlet": side.wastewater.pk,
                    "file": io.BytesIO((PHOTOS / name).read_bytes()),
                },
                format="multipart",
            )
        assert response.status_code == 201, response.json()
        made.append(Photo.objects.get(pk=response.json()["id"]))
    return made


def test_reevaluate_applies_new_thresholds_and_reports_progress(photos, settings):
    assert all(p.verdict == "fail" for p in photos)
    assert all("location_missing" in {f["code"] for f in p.findings} for p in photos)
    # The platform decides photos without a location only warn: judged again, the verdicts change.
    settings.PHOTO_RULE_THRESHOLDS = {"location_required": False}
    out, err = io.StringIO(), io.StringIO()
    call_command("photos_reevaluate", stdout=out, stderr=err)
    assert "2 photos judged again: 2 verdicts changed" in out.getvalue()
    assert "2/2 100%" in err.getvalue()
    for photo in photos:
        photo.refresh_from_db()
        severities = {f["code"]: f["severity"] for f in photo.findings}
        assert severities["location_missing"] == "warn"
        assert photo.version == 2
    # Nothing changed since: nothing is recorded again.
    call_command("photos_reevaluate", stdout=(out := io.StringIO()), stderr=io.StringIO())
    assert "0 verdicts changed" in out.getvalue()


def test_reevaluate_filters_and_refuses_a_bad_date(photos):
    out = io.StringIO()
    call_command("photos_reevaluate", task=str(uuid.uuid4()), stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("0 photos")
    with pytest.raises(Exception, match="--since"):
        call_command("photos_reevaluate", since="yesterday", stdout=io.StringIO(), stderr=io.StringIO())


def test_admin_pages_show_photos_read_only(photos, admin_client):
    for model in ("photo", "blob", "phototype", "upload"):
        response = admin_client.get(reverse(f"admin:media_rules_{model}_changelist"))
        assert response.status_code == 200, model
    page = admin_client.get(reverse("admin:media_rules_photo_change", args=[photos[0].pk]))
    assert page.status_code == 200
    assert photos[0].sha256 in page.content.decode()
    assert admin_client.get(reverse("admin:media_rules_photo_add")).status_code == 403


def test_admin_refuses_unknown_photo_type_thresholds(admin_client):
    url = reverse("admin:media_rules_phototype_change", args=["work_photo"])
    response = admin_client.post(
        url,
        {
            "code": "work_photo",
            "name": "工作照",
            "stage": "person",
            "hint": "",
            "position": 5,
            "thresholds": '{"geofence": 100}',
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Unknown threshold" in response.content.decode()
