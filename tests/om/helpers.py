"""What O&M record tests share: a signature pad's PNG, a work photo, check-ins at (or away from) the
outlet, and a phone's record payload, all made the way the phone makes them."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
import uuid

from PIL import Image, ImageDraw

from server.geo import from_wgs84
from server.om.models import FormTemplate
from tests.om.fill import groups_of, valid_answers


def signature_png(seed: int = 0, *, blank: bool = False, size=(600, 240)) -> bytes:
    """A signature pad's PNG: dark strokes on a transparent canvas (or nothing, when ``blank``)."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if not blank:
        draw = ImageDraw.Draw(image)
        w, h = size
        points = [(40 + i * (w - 80) // 12, h // 2 + ((i * 37 + seed * 11) % 90) - 45) for i in range(13)]
        draw.line(points, fill=(0, 0, 0, 255), width=5, joint="curve")
        draw.line([(60, h - 50), (w - 120, 60 + seed % 40)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def signature_b64(seed: int = 0, **kw) -> str:
    return "data:image/png;base64," + base64.b64encode(signature_png(seed, **kw)).decode()


@functools.cache
def face_jpeg(seed: int = 0) -> bytes:
    """A work photo: the astronaut's face (a real photo, one clear frontal face), a seed-dependent
    crop so that each person's photo is a different file."""
    from tests.media_rules.test_faces import astronaut

    image = astronaut().crop((seed % 7, seed % 5, 512 - seed % 3, 512))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def near(outlet, metres_north: float = 0.0) -> tuple[float, float]:
    """GCJ-02 coordinates (as WeChat gives them) ``metres_north`` of the outlet."""
    lon, lat = outlet.location.x, outlet.location.y + metres_north / 111_320
    return from_wgs84(lon, lat, "gcj02")


def checkin_payload(side, kind: str, when: dt.datetime, *, metres_away: float = 0.0, outlet=None) -> dict:
    outlet = outlet or side.wastewater
    lon, lat = near(outlet, metres_away)
    return {
        "longitude": lon,
        "latitude": lat,
        "coordinate_system": "gcj02",
        "accuracy_m": 8,
        "kind": kind,
        "om_task": side.om_task.pk,
        "outlet": outlet.pk,
        "device_time": when.isoformat(),
    }


def photo_payload(outlet, data: bytes, when: dt.datetime) -> dict:
    lon, lat = near(outlet)
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "photo_type": "work_photo",
        "outlet": outlet.pk,
        "longitude": lon,
        "latitude": lat,
        "coordinate_system": "gcj02",
        "accuracy_m": 8,
        "fix_time": when.isoformat(),
        "device_time": when.isoformat(),
    }


def record_payload(
    side,
    *,
    template_code: str = "ww_daily_inspection",
    start: uuid.UUID,
    end: uuid.UUID | None = None,
    work_photo: uuid.UUID | None = None,
    signature: str = "",
    submit: bool = False,
    answers: dict | None = None,
    instruments=None,
) -> dict:
    template = FormTemplate.objects.filter(code=template_code).order_by("-version").first()
    instruments = [side.instrument] if instruments is None else instruments
    groups = groups_of(template)
    return {
        "task": side.om_task.pk,
        "outlet": side.wastewater.pk if template.outlet_kind == "wastewater" else side.gas.pk,
        "template": template.code,
        "instruments": [i.pk for i in instruments],
        "groups": groups,
        "answers": valid_answers(template, instruments, groups) if answers is None else answers,
        "start_checkin": str(start),
        "end_checkin": str(end) if end else None,
        "work_photo": str(work_photo) if work_photo else None,
        "signature": signature,
        "submit": submit,
    }
