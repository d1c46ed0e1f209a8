"""F7: every GET list endpoint of the API runs a bounded number of queries (no N+1).

For each list route (found in the URL resolver, so that a new one cannot be forgotten) the request is
measured as a platform administrator and as a regulator with one row of everything (the world), then
again after a second batch of rows (another agency's side in the same region, with its own
violation, monitoring task, track points, check-ins, work photo, O&M record, notifications and audit
entries). The count must not grow.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from server.notifications.services import notify
from server.om.changes import contract_update
from server.registry.transfers import transfer_request
from server.tracks.services import ingest_points
from tests.conftest import CheckedAPIClient
from tests.factories import build_side, hire, staff_account
from tests.om.test_records import submitted
from tests.om.test_reports import PDF, upload
from tests.regulator.helpers import held_past_deadline
from tests.support.side_objects import task_of, violation_of
from tests.sync.helpers import Phone

API = "/api/v1/"

# List-like routes that are not a viewset's ``list``: route name -> URL (relative to API) on a world.
LIST_VIEWS = {
    "public-agencies": lambda w: "public/agencies",
    "devices": lambda w: "auth/devices",
    "om-templates": lambda w: "om/templates",
    "photo-types": lambda w: "photo-types",
    "om-days": lambda w: "om/days",
    "sync-attention": lambda w: "sync/attention",
    "om-task-manage": lambda w: f"om-tasks/{w.shanghai.om_task.pk}/manage?view=all",
    "om-task-reports": lambda w: f"om-tasks/{w.shanghai.om_task.pk}/reports",
    "om-overdue": lambda w: "om/overdue",
    "evidence": lambda w: "evidence",
    "statistics": lambda w: "statistics",
    "task-track-points": lambda w: f"tasks/{task_of(w.shanghai).pk}/track/points",
    "audit": lambda w: "audit",
    "change-requests": lambda w: "change-requests",
    "certificates": lambda w: "certificates",
}

# GET routes that are not lists, each with why: a single object, a file or an export, or a summary
# whose size does not depend on the number of rows.
NOT_LISTS = {
    "meta": "static metadata",
    "public-report": "one report",
    "me": "the user",
    "home": "dashboard counts",
    "om-template": "one template",
    "subscriptions": "the user's settings",
    "om-day": "one day",
    "sync-limits": "settings",
    "sync-pull": "sync protocol (a device's feed, tested in tests/sync)",
    "sync-device": "one device",
    "media-limits": "settings",
    "media-upload": "one upload",
    "media-status": "one file",
    "task-track": "one task's track",
    "om-report-file": "file",
    "project-attachment-file": "file",
    "audit-subject": "one object's history",
    "agency-filing-events": "one agency's history",
    "staff-export": "export",
    "staff-template": "file",
    "instrument-export": "export",
    "instrument-template": "file",
    "enterprise-confirmers": "one enterprise's confirmers",
    "project-export": "export",
    "project-events": "one project's history",
    "om-record-export": "export",
    "om-record-signature": "file",
    "om-record-version": "one version",
    "task-export": "export",
    "task-events": "one task's history",
    "task-photos-zip": "file",
    "task-track-geojson": "file",
    "photo-export-zip": "export",
    "photo-file": "file",
    "photo-thumbnail": "file",
    "checkin-export": "export",
    "checkin-latest": "the latest check-in",
    "rectification-file": "file",
    "staff-transfer-proof": "file",
    "agency-dossier": "one agency's dossier (tests/mobile_api/test_dossier_api.py)",
    "agency-document-file": "file",
    "agency-qualification-file": "file",
    "staff-documents": "one person's documents",
    "staff-document-file": "file",
    "certificates-export": "export",
    "change-request": "one request",
    "om-record-pdf": "file",
    "statistics-export": "export",
}


def _get_routes() -> dict[str, str]:
    """Every named API route answering GET -> what its GET does (the viewset action, or "get")."""
    routes = {}
    (api,) = [
        p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "mobile_api"
    ]
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern), pattern
        actions = getattr(pattern.callback, "actions", None)
        if actions is not None:
            if "get" in actions:
                routes[pattern.name] = actions["get"]
        elif "get" in getattr(pattern.callback.view_class, "http_method_names", ()) and hasattr(
            pattern.callback.view_class, "get"
        ):
            routes[pattern.name] = "get"
    return routes


GET_ROUTES = _get_routes()
VIEWSET_LISTS = sorted(name for name, action in GET_ROUTES.items() if action == "list")
LIST_ROUTES = VIEWSET_LISTS + sorted(LIST_VIEWS)


def test_every_get_route_is_known():
    """A new GET route must be listed here: as a list (with its URL) or as not a list (with why)."""
    known = set(VIEWSET_LISTS) | set(LIST_VIEWS) | set(NOT_LISTS)
    unknown = {name for name, action in GET_ROUTES.items() if action != "retrieve"} - known
    assert not unknown, f"new GET routes: add them to LIST_VIEWS or NOT_LISTS: {sorted(unknown)}"
    stale = (set(LIST_VIEWS) | set(NOT_LISTS)) - set(GET_ROUTES)
    assert not stale, f"routes gone: {sorted(stale)}"


def url_of(world, name: str) -> str:
    if name in LIST_VIEWS:
        return API + LIST_VIEWS[name](world)
    return reverse(f"mobile_api:{name}")


_kinds = iter(range(10**6))


def rows_of(world, side) -> None:
    """One more of everything on ``side`` that the world's side builder does not make."""
    violation = violation_of(side)
    task = task_of(world.shanghai)  # the measured task's track: more points on it
    task_of(side)
    start = timezone.now() - dt.timedelta(hours=2) + dt.timedelta(minutes=next(_kinds))
    ingest_points(
        task=task,
        device=None,
        points=[
            {
                "fix_time": start + dt.timedelta(seconds=10 * i),
                "longitude": side.wastewater.location.x,
                "latitude": side.wastewater.location.y,
                "coordinate_system": "wgs84",
                "accuracy_m": 5,
            }
            for i in range(3)
        ],
    )
    home = world.shanghai  # more accounts and staff in the measured agency
    staff_account(home.main, hire(home.agency, ["sampler"]))
    for each in {side.agency.pk: side, home.agency.pk: home}.values():
        technician = CheckedAPIClient()
        technician.force_authenticate(each.technician_user)
        submitted(each, technician)
    held_past_deadline(home)  # a held operation of the agency's phones (sync/attention)
    technician = CheckedAPIClient()
    technician.force_authenticate(home.technician_user)
    n = next(_kinds)
    assert upload(technician, home, content=PDF + f"%{n}".encode(), file_name=f"r{n}.pdf").status_code == 201
    for _ in range(2):
        notify(
            recipients=[world.platform, side.regulator],
            kind=f"qc-{next(_kinds)}",
            title="测试通知",
            body="",
            subject_type="violation",
            subject_id=violation.pk,
        )
    Phone.enrol(world.platform)
    Phone.enrol(side.regulator)
    # A 信息变更申请 of the side's accepted O&M contract (issue F13).
    contract_update(
        contract=side.om_task.contract,
        actor=side.main,
        title=f"变更后的合同 {next(_kinds)}",
        explanation="续签",
    )
    # A transfer request (重复人员报备) into the measured agency, from another one.
    source = side if side.agency.pk != home.agency.pk else world.jiangsu
    leaving = hire(source.agency, ["courier"])
    transfer_request(
        to_agency=home.agency,
        id_number=leaving.person.id_number,
        departed_on=timezone.localdate(),
        proof=SimpleUploadedFile("离职证明.pdf", PDF, content_type="application/pdf"),
        actor=home.main,
        name=leaving.person.name,
        education="bachelor",
        hired_on=timezone.localdate(),
        posts=["courier"],
    )


def measure(client, url: str):
    client.get(url)  # warm per-process caches, so that both measurements see the same
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(ctx.captured_queries), ctx, len(response.content)


# Reference data, the same whatever the rows: their size does not grow with a second batch.
REFERENCE_LISTS = {"post-list", "photo-types", "om-templates"}

USERS = {
    "platform": lambda w: w.platform,
    "regulator": lambda w: w.shanghai.regulator,
    "agency_main": lambda w: w.shanghai.main,
}
ROLES = ("platform", "regulator")
# Routes only an agency reads: accounts are managed by its main account; sync/attention shows the
# phones a user oversees (its agency's, for a main account).
ROLES_OF = {"account-list": ("agency_main",), "sync-attention": ("agency_main",)}


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_list_query_count_does_not_grow(world, client_for, route):
    rows_of(world, world.shanghai)
    url = url_of(world, route)
    clients = {role: client_for(USERS[role](world)) for role in ROLES_OF.get(route, ROLES)}
    before = {role: measure(client, url) for role, client in clients.items()}

    more = build_side("310104", 121.4400, 31.1900)  # another agency in the regulator's region
    rows_of(world, more)
    after = {role: measure(client, url) for role, client in clients.items()}

    for role in clients:
        (n_before, _, size_before), (n_after, ctx, size_after) = before[role], after[role]
        queries = "\n".join(q["sql"][:200] for q in ctx.captured_queries)
        assert n_after <= n_before, f"{route} as {role}: {n_before} -> {n_after} queries\n{queries}"
        # The second batch must show in the list, or the measurement proves nothing.
        assert route in REFERENCE_LISTS or size_after > size_before, f"{route} as {role}: no more rows"
