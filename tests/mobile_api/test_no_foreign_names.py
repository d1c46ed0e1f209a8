"""One tenant never learns another's names (F9): as each Jiangsu-side role, GET every list and detail
endpoint of the API (walked from the OpenAPI schema, so a new endpoint is scanned without being
listed here), path parameters naming the Jiangsu side's own objects, and look in every answer for
what identifies the Shanghai side: its agency's and enterprise's names and credit codes (USCC), its
staff's names, the UUIDs of its objects, the SHA-256 of its photos and files.

The public look-ups (seed 002 公开端) are left out: an approved agency's name and credit code are
public by design (mobile_api/public.py).
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile

import pytest
from django.urls import resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from media_rules.holders import tenant_of
from media_rules.intake import ingest
from media_rules.models import Photo
from media_rules.operations import record_photo
from server.accounts.models import Device
from server.accounts.services import DeviceInfo, token_issue
from server.fieldwork.models import MonitoringTask
from server.om.models import OmRecord, OmReport
from server.registry.models import Employment
from server.tracks.models import CheckIn
from tests.conftest import CheckedAPIClient
from tests.shared_data import PHOTOS
from tests.support.side_objects import om_record_of, report_of, task_of, violation_of, with_side_objects
from tests.support.storage import disk_storage

pytestmark = pytest.mark.django_db

ROLES = ("main", "manager", "field_user", "reviewer", "technician_user", "enterprise_user", "regulator")


def _side_objects(side) -> dict[str, object]:
    """The side's object of each model a path parameter can name, by model label."""
    record = om_record_of(side)
    violation = violation_of(side)
    return {
        "registry.agency": side.agency,
        "registry.enterprise": side.enterprise,
        "registry.outlet": side.wastewater,
        "registry.instrument": side.instrument,
        "registry.contract": side.om_contract,
        "registry.employment": side.sampler,
        "fieldwork.monitoringproject": side.project,
        "fieldwork.monitoringtask": task_of(side),
        "om.omtask": side.om_task,
        "om.omrecord": record,
        "om.omreport": report_of(side),
        "tracks.checkin": record.start_checkin,
        "media_rules.photo": record.work_photo,
        "violations.violation": violation,
        "violations.rectification": violation.rectifications.first(),
        "accounts.user": side.field_user,
    }


def _identifying(side) -> dict[str, str]:
    """What identifies a side, value -> what it is."""
    agency = side.agency
    found = {
        agency.name: "agency name",
        agency.credit_code: "agency USCC",
        side.enterprise.name: "enterprise name",
        side.enterprise.credit_code: "enterprise USCC",
    }
    for name in Employment.objects.filter(agency=agency).values_list("person__name", flat=True):
        found[name] = "staff name"
    users = [*side.users.values(), side.technician_user]
    ids = [
        *MonitoringTask.objects.filter(project__agency=agency).values_list("pk", flat=True),
        *OmRecord.objects.filter(task__agency=agency).values_list("pk", flat=True),
        *CheckIn.objects.filter(om_task__agency=agency).values_list("pk", flat=True),
        *CheckIn.objects.filter(task__project__agency=agency).values_list("pk", flat=True),
        *Photo.objects.filter(agency=agency).values_list("pk", flat=True),
        *Device.objects.filter(user__in=users).values_list("pk", flat=True),
    ]
    found |= {str(pk): "object UUID" for pk in ids}
    found |= dict.fromkeys(
        Photo.objects.filter(agency=agency).values_list("sha256", flat=True), "photo SHA-256"
    )
    found |= dict.fromkeys(
        OmReport.objects.filter(task__agency=agency).values_list("file_sha256", flat=True), "report SHA-256"
    )
    return found


def _foreign_values(world) -> dict[str, str]:
    """What identifies the Shanghai side and that the Jiangsu side does not hold itself (both sides'
    records carry the same test photo, whose hash is then no one's secret)."""
    theirs, ours = _identifying(world.shanghai), _identifying(world.jiangsu)
    return {value: kind for value, kind in theirs.items() if value and value not in ours}


@pytest.fixture
def world(world, settings, tmp_path):
    """Both sides with one of each object; the Shanghai side also with a photo of its own (a file
    the Jiangsu side does not have) and a signed-in phone."""
    disk_storage(settings, tmp_path)
    with_side_objects(world)
    side = world.shanghai
    blob, _ = ingest((PHOTOS / "DSCN0010.jpg").read_bytes(), holder=tenant_of(side.field_user))
    manifest = {"photo_type": "sampling_site", "task": task_of(side).pk, "sha256": blob.sha256}
    record_photo(user=side.field_user, device=None, photo_id=uuid.uuid4(), data=manifest, clock_offset=None)
    info = DeviceInfo(
        id=str(uuid.uuid4()), platform="android", app_version="1.0", model_name="x", public_key=""
    )
    token_issue(user=side.field_user, info=info)
    return world


def _get_paths() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        path for path, operations in schema["paths"].items() if "get" in operations and "/public/" not in path
    )


def _fill(path: str, own: dict[str, object], user) -> str | None:
    """The path with its parameters naming the Jiangsu side's own objects (None: nothing to name)."""
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        return path
    probe = re.sub(r"\{(\w+)\}", lambda m: str(uuid.uuid4()) if "uuid" in m.group(1) else "1", path)
    try:
        view = getattr(resolve(probe).func, "cls", None)
    except Exception:
        view = None
    served = getattr(getattr(view, "queryset", None), "model", None)
    values = {}
    for name in names:
        if name in {"id", "pk"} and served is not None:
            value = own.get(served._meta.label_lower)
        elif name == "task_id":
            value = own["om.omtask"] if "om-tasks" in path else own["fieldwork.monitoringtask"]
        elif name == "report_id":
            value = own["om.omreport"]
        elif name == "sha256":
            value = own["media_rules.photo"].sha256
        elif name == "date":
            value = timezone.localdate().isoformat()
        elif name == "subject_type":
            value = "project"
        elif name == "subject_id":
            value = own["fieldwork.monitoringproject"]
        elif name == "device_id":
            value = Device.objects.filter(user=user).first()
        elif name == "code":
            from server.om.models import FormTemplate

            value = FormTemplate.objects.order_by("code").values_list("code", flat=True).first()
        else:
            value = None
        if value is None:
            return None
        values[name] = str(getattr(value, "pk", value))
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def _contains(text: str, value: str) -> bool:
    """``value`` whole in ``text``: 测试监测有限公司2 is not in 测试监测有限公司24."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text) is not None


def _text(answer) -> str:
    """The answer as text: JSON, CSV, the XML inside a workbook, and in any other archive (the
    day's photos) the names of its files and whatever is not an image."""
    content = b"".join(answer.streaming_content) if answer.streaming else answer.content
    if content[:2] != b"PK":
        return content.decode("utf-8", "replace")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = [info.filename for info in archive.infolist()]
        parts += [
            archive.read(info).decode("utf-8", "replace")
            for info in archive.infolist()
            if not info.filename.lower().endswith((".jpg", ".jpeg", ".png", ".pdf"))
        ]
    return " ".join(parts)


@pytest.mark.parametrize("role", ROLES)
def test_no_foreign_names(world, role):
    user = getattr(world.jiangsu, role)
    own = _side_objects(world.jiangsu)
    foreign = _foreign_values(world)
    assert {"agency name", "agency USCC", "staff name", "object UUID", "photo SHA-256"} <= set(
        foreign.values()
    )
    client = CheckedAPIClient(raise_request_exception=False)
    client.force_authenticate(user)
    ours = _identifying(world.jiangsu)
    leaks, answered, seen = [], 0, set()
    for path in _get_paths():
        url = _fill(path, own, user)
        if url is None:
            continue
        answer = client.get(url)
        if answer.status_code != 200:
            continue
        answered += 1
        text = _text(answer)
        found = sorted({f"{kind} {value}" for value, kind in foreign.items() if _contains(text, value)})
        if found:
            leaks.append((path, found))
        seen |= {kind for value, kind in ours.items() if _contains(text, value)}
    print(f"{role}: {answered} answers scanned, its own side's {sorted(seen)} seen in them")
    # The scan reads what it should: the side's own names and ids are found where the other's are not.
    assert answered >= 20
    assert {"enterprise name", "object UUID"} <= seen, seen
    assert not leaks, leaks
