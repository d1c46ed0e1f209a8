"""The workspace's test world: both sides of tests/factories.py, each with a monitoring task holding
a photo taken 1.7 km off its outlet (outside the geofence: fail) and a check-in 3 km off, a violation
to rectify and an O&M record awaiting the enterprise's confirmation, all made by the services."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from media_rules import intake
from media_rules.holders import tenant_of
from media_rules.models import Photo, PhotoType
from media_rules.services import Manifest, photo_record
from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import task_create
from server.om.models import FormTemplate, OmRecord
from server.tracks.checkins import Position, checkin_record
from server.tracks.models import CheckIn
from tests.factories import PASSWORD, World, build_world
from tests.maps.helpers import jpeg, offset
from tests.support.side_objects import violation_of


@dataclass
class Scene:
    task: MonitoringTask
    photo: Photo
    checkin: CheckIn


def flagged_work(side, name: str) -> Scene:
    user, outlet = side.field_user, side.wastewater
    now = timezone.now().replace(microsecond=0)
    task, _ = task_create(actor=user, task_id=uuid.uuid4(), project=side.project, name=name)
    lon, lat = outlet.location.x, outlet.location.y
    x, y = offset(lon, lat, east_m=3000)
    checkin = checkin_record(
        actor=user,
        checkin_id=uuid.uuid4(),
        position=Position(lon=x, lat=y, system="wgs84", accuracy_m=30),
        at=now - dt.timedelta(minutes=30),
        task=task,
        outlet=outlet,
    )[0]
    blob, _ = intake.ingest(jpeg(), holder=tenant_of(user))
    x, y = offset(lon, lat, east_m=1500, north_m=-800)
    photo = photo_record(
        actor=user,
        photo_id=uuid.uuid4(),
        sha256=blob.sha256,
        photo_type=PhotoType.objects.get(code="sampling_site"),
        manifest=Manifest(
            lon=x, lat=y, system="wgs84", accuracy_m=10, fix_time=now - dt.timedelta(minutes=20)
        ),
        task=task,
        outlet=outlet,
    ).photo
    return Scene(task=task, photo=photo, checkin=checkin)


def om_record(side, status: str, day: dt.date) -> OmRecord:
    """A record of the side's O&M task, stored directly as the record services leave it (they are
    tested in tests/om): the workspace only reads it."""
    task = side.om_task
    return OmRecord.objects.create(
        id=uuid.uuid4(),
        task=task,
        outlet=side.wastewater,
        template=FormTemplate.objects.filter(code="ww_daily_inspection").order_by("-version").first(),
        agency=task.agency,
        enterprise=task.contract.enterprise,
        filled_by=side.technician_user,
        status=status,
        om_date=day,
        submitted_at=timezone.now(),
    )


@dataclass
class Busy:
    world: World
    scenes: dict[str, Scene]


def busy_world() -> Busy:
    world = build_world()
    scenes = {}
    for key, side in (("shanghai", world.shanghai), ("jiangsu", world.jiangsu)):
        scenes[key] = flagged_work(side, f"{side.agency.name}的核查任务")
        violation_of(side)
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        om_record(side, OmRecord.Status.SUBMITTED, yesterday)  # for the enterprise to confirm
        om_record(side, OmRecord.Status.CONFIRMED, yesterday - dt.timedelta(days=1))  # to review
    return Busy(world=world, scenes=scenes)


@pytest.fixture
def busy(db) -> Busy:
    return busy_world()


def signed_in(user, *, csrf: bool = False) -> Client:
    """A browser's client, signed in through the sign-in page itself."""
    client = Client(enforce_csrf_checks=csrf)
    if csrf:
        client.get("/sign-in/")
        token = client.cookies["csrftoken"].value
        response = client.post(
            "/sign-in/", {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
    else:
        response = client.post("/sign-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client
