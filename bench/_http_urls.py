"""Fieldtrace's URLs plus two bench-only views for the photo bench (bench/photo_http.py):

- ``POST /bench/sink``, the floor. It reads the request body through the same server in 1 MB
  pieces, hashes it with SHA-256 and answers 201 with the hash: what any upload costs before
  Fieldtrace does anything with it (no multipart parsing, no auth, no database, nothing stored).
- ``POST /bench/store-only``, the ceiling (``BENCH_PHOTO_CEILING=1``). It does what the issue's
  workload names and nothing that decides a verdict: the device token checked, the multipart body
  parsed through the hashing upload handler, the file taken in by ``intake.ingest`` as the API does
  (hash, format, EXIF, the file written on the media thread, its row), then one photo row with a
  fixed verdict, its change row and its audit row. No manifest validation, no visibility or
  assignment checks, no stage check, no rules. No real path can be faster, so it bounds what any
  way of judging photos before the answer can reach on this machine. Never routed in production.
"""

import hashlib
import uuid

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from media_rules import holders, intake
from media_rules.models import Photo
from server.accounts.authentication import DeviceTokenAuthentication
from server.audit import services as audit
from server.urls import urlpatterns as fieldtrace
from sync.changes import record_change

CHUNK = 1024 * 1024


@csrf_exempt
def sink(request: HttpRequest) -> JsonResponse:
    sha, size = hashlib.sha256(), 0
    while chunk := request.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return JsonResponse({"sha256": sha.hexdigest(), "size": size}, status=201)


@csrf_exempt
def store_only(request: HttpRequest) -> JsonResponse:
    try:
        user = Request(request, authenticators=[DeviceTokenAuthentication()]).user
    except AuthenticationFailed:
        user = None
    if user is None or not user.is_authenticated:
        return JsonResponse({"code": "not_authenticated"}, status=401)
    request.upload_handlers = [intake.HashingUploadHandler(request)]
    try:  # the bench's own bodies; anything else is refused, not a 500
        upload, form = request.FILES["file"], request.POST
        photo_id, task_id, outlet_id = uuid.UUID(form["id"]), uuid.UUID(form["task"]), int(form["outlet"])
    except (KeyError, ValueError):
        return JsonResponse({"code": "validation_failed"}, status=400)
    now = timezone.now()
    with transaction.atomic(), intake.stores_overlapped():
        upload.seek(0)
        blob, _ = intake.ingest(upload.read(), holder=holders.tenant_of(user), sha256=upload.sha256)
        photo = Photo(
            id=photo_id,
            sha256=blob.sha256,
            blob=blob,
            photo_type_id=form["photo_type"],
            task_id=task_id,
            outlet_id=outlet_id,
            agency_id=user.agency_id,
            taken_by=user,
            recorded_at=now,
            evaluated_at=now,
            verdict="pass",
            findings=[],
        )
        photo.save(force_insert=True)
        data = {"id": str(photo.pk), "sha256": photo.sha256, "verdict": photo.verdict, "version": 1}
        change = {"entity_type": "photo", "entity_id": data["id"], "version": 1, "data": data}
        record_change(**change, agency_id=user.agency_id, created=True)
        audit.record("photo.created", subject=photo, actor=user, summary="bench")
    return JsonResponse(data, status=201)


urlpatterns = [path("bench/sink", sink), path("bench/store-only", store_only), *fieldtrace]
