"""GPS check-ins (签到): recorded once per phone id, judged by the photo location rules.

``checkin_record`` is the one write path: the online ``POST /api/v1/checkins`` and the offline
``checkin.record`` operation both call it. The verdict comes from ``media_rules.rules`` (the geofence
with accuracy credit, the GCJ-02 / BD-09 mix-up, poor or zero accuracy, mock location), so a check-in
and a photo at the same spot are judged alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from media_rules.evidence import CaptureFix, ExifData, PhotoContext, Site
from media_rules.rules import rule_accuracy, rule_geofence, rule_mock_location, thresholds_for
from media_rules.services import base_thresholds
from server.accounts.models import Device, User
from server.errors import DomainError
from server.fieldwork.models import MonitoringTask
from server.geo import to_wgs84, validate_point
from server.om.models import OmTask
from server.om.services import on_om_task
from server.registry.models import Outlet
from server.tracks import errors
from server.tracks.models import CheckIn
from server.tracks.services import ensure_can_record

V = CheckIn.Verdict
VERDICT_OF = {
    "within_geofence": V.INSIDE,
    "outside_geofence": V.OUTSIDE,
    "coordinate_system_mixup": V.COORDINATE_MIXUP,
}


@dataclass(frozen=True)
class Position:
    lon: float
    lat: float
    system: str
    accuracy_m: float | None = None
    mock: bool = False


def _ensure_om_staff(om_task: OmTask, actor: User) -> None:
    if not on_om_task(om_task, actor):
        raise DomainError(errors.CHECKIN_NOT_ON_TASK)


def judge(position: Position, wgs: tuple[float, float], outlet: Outlet | None) -> dict:
    """The verdict, the distance to the site and the findings of a position, as CheckIn fields."""
    fix = CaptureFix(
        lon=wgs[0],
        lat=wgs[1],
        accuracy_m=position.accuracy_m,
        fix_time=None,
        declared_system=position.system,
        raw_lon=position.lon,
        raw_lat=position.lat,
        mock=position.mock,
    )
    site = None
    th = base_thresholds()
    if outlet is not None:
        site = Site(
            lon=outlet.location.x,
            lat=outlet.location.y,
            geofence_m=outlet.geofence_radius_m,
            name=outlet.name,
        )
        th = thresholds_for(th, outlet.photo_thresholds)
    ctx = PhotoContext(exif=ExifData(), fix=fix, site=site, device_time=None, receive_time=timezone.now())
    findings = [f for rule in (rule_geofence, rule_accuracy, rule_mock_location) for f in rule(ctx, th)]
    verdict, distance, geofence = V.NO_SITE, None, None
    for finding in findings:
        if finding.code in VERDICT_OF:
            verdict = VERDICT_OF[finding.code]
            distance = finding.evidence.get("distance_m")
            geofence = finding.evidence.get("geofence_m")
    return {
        "verdict": verdict,
        "distance_m": distance,
        "geofence_m": geofence,
        "findings": [f.as_dict() for f in findings],
    }


def checkin_record(
    *,
    actor: User,
    checkin_id,
    position: Position,
    at: dt.datetime,
    kind: str = CheckIn.Kind.CHECKIN,
    task: MonitoringTask | None = None,
    om_task: OmTask | None = None,
    outlet: Outlet | None = None,
    device: Device | None = None,
) -> tuple[CheckIn, bool]:
    """Record a check-in (idempotent by its id). Returns (check-in, created). The caller has checked
    the actor may see the task and the outlet; here: that they work on it."""
    if task is None and (om_task is None or outlet is None):
        raise DomainError(errors.CHECKIN_SUBJECT_REQUIRED)
    if task is not None:
        ensure_can_record(task=task, actor=actor)
    if om_task is not None:
        _ensure_om_staff(om_task, actor)
        if outlet.enterprise_id != om_task.contract.enterprise_id:
            raise DomainError(errors.CHECKIN_OUTLET_NOT_OF_TASK)
    lon, lat = validate_point(position.lon, position.lat)
    wgs = to_wgs84(lon, lat, position.system)
    with transaction.atomic():
        existing = CheckIn.objects.select_for_update().filter(pk=checkin_id).first()
        if existing is not None:
            same = (
                existing.user_id == actor.pk
                and existing.given_longitude == lon
                and existing.given_latitude == lat
                and existing.at == at
            )
            if not same:
                raise DomainError(errors.CHECKIN_CONFLICT)
            return existing, False
        checkin = CheckIn.objects.create(
            id=checkin_id,
            user=actor,
            device=device,
            task=task,
            om_task=om_task,
            outlet=outlet,
            kind=kind,
            at=at,
            location=Point(*wgs, srid=4326),
            given_longitude=lon,
            given_latitude=lat,
            given_system=position.system,
            accuracy_m=position.accuracy_m,
            mock=position.mock,
            recorded_at=timezone.now(),
            **judge(position, wgs, outlet),
        )
    return checkin, True


def latest_checkin(user) -> CheckIn | None:
    """The user's own latest check-in, by the phone's time: the home screen's current location."""
    return CheckIn.objects.filter(user=user).order_by("-at", "-recorded_at").first()
