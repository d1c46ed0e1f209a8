"""Evidence made the way it arrives in real life: photos and check-ins through the API, conflicts
and held work through the sync push, overdue plans from the world's daily plan (nobody filled it).
A side's ``Evidence`` names what was made, so that tests can look for it in the queue."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from media_rules.models import Photo
from server.geo import from_wgs84
from sync.models import Operation
from tests.media_rules.test_verdicts import make_photo, shifted
from tests.om.helpers import checkin_payload
from tests.sync.helpers import Phone

API = "/api/v1"


def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


def task_on(phone: Phone, side, name: str = "采样任务") -> uuid.UUID:
    """A monitoring task on the side's project, created offline by the phone and pushed."""
    task_id = uuid.uuid4()
    op = phone.op("task.create", task_id, {"project": side.project.pk, "name": name})
    result = phone.push([op]).json()["results"][0]
    assert result["status"] == "applied", result
    return task_id


def far_photo(side, phone: Phone, capture, task: uuid.UUID, *, metres: float, data: bytes) -> Photo:
    """A sampling-site photo whose capture fix (GCJ-02, as WeChat gives it) is ``metres`` east of the
    outlet, recorded as ``wx.uploadFile`` sends it; the background work (thumbnail, hashes) runs."""
    outlet = side.wastewater
    lon, lat = shifted(*from_wgs84(outlet.location.x, outlet.location.y, "gcj02"), east_m=metres)
    t = now()
    form = {
        "id": str(uuid.uuid4()),
        "photo_type": "sampling_site",
        "task": str(task),
        "outlet": outlet.pk,
        "longitude": repr(lon),
        "latitude": repr(lat),
        "coordinate_system": "gcj02",
        "accuracy_m": 8.0,
        "fix_time": t.isoformat(),
        "device_time": t.isoformat(),
        "file": io.BytesIO(data),
    }
    with capture(execute=True):
        response = phone.client().post(f"{API}/photos", form, format="multipart")
    assert response.status_code == 201, response.json()
    return Photo.objects.select_related("blob").get(pk=response.json()["id"])


def om_checkin(side, client, *, metres: float, kind: str = "start") -> dict:
    body = {"id": str(uuid.uuid4()), **checkin_payload(side, kind, now(), metres_away=metres)}
    response = client.post(f"{API}/checkins", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def conflict(side, task: uuid.UUID) -> Operation:
    """Two phones of the side's sampler change the task's note from the same version: the second
    push is a conflict, both values kept."""
    first, second = Phone.enrol(side.field_user), Phone.enrol(side.field_user)
    first.op("task.update", task, {"note": "现场有雨"}, base_version=1)
    second.op("task.update", task, {"note": "采样时晴"}, base_version=1)
    assert first.push().json()["results"][0]["status"] == "applied"
    result = second.push().json()["results"][0]
    assert result["status"] == "conflict", result
    return Operation.objects.get(op_id=result["op_id"])


def held_past_deadline(side) -> Operation:
    """An edit of a task that never reached the server (the phone that created it was lost), held,
    and received longer ago than the hold deadline."""
    phone = Phone.enrol(side.field_user)
    op = phone.op("task.update", uuid.uuid4(), {"note": "没有任务"}, base_version=1)
    assert phone.push().json()["results"][0]["status"] == "held"
    row = Operation.objects.get(op_id=op["op_id"])
    backdate(row, hours=settings.SYNC_HOLD_DEADLINE_HOURS + 2)
    return row


def backdate(row: Operation, *, hours: float) -> None:
    Operation.objects.filter(pk=row.pk).update(received_at=timezone.now() - dt.timedelta(hours=hours))


@dataclass
class Evidence:
    side: object
    task: uuid.UUID
    photo: Photo
    reused: Photo  # the same file as ``photo``, on another task
    checkin: dict  # the O&M technician's check-in 3 km from the outlet
    conflict: Operation
    held: Operation


def make_evidence(side, capture, *, seed: int) -> Evidence:
    phone = Phone.enrol(side.field_user)
    task = task_on(phone, side)
    data = make_photo(seed, when=now())
    photo = far_photo(side, phone, capture, task, metres=6000, data=data)
    reused = far_photo(side, phone, capture, task_on(phone, side, "复测"), metres=6000, data=data)
    from tests.conftest import CheckedAPIClient

    technician = CheckedAPIClient()
    technician.force_authenticate(side.technician_user)
    return Evidence(
        side=side,
        task=task,
        photo=photo,
        reused=reused,
        checkin=om_checkin(side, technician, metres=3000),
        conflict=conflict(side, task),
        held=held_past_deadline(side),
    )
