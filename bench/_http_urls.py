"""Fieldtrace's URLs plus ``POST /bench/sink``: the photo bench's floor. It reads the request body
through the same server in 1 MB pieces, hashes it with SHA-256 and answers 201 with the hash: what
any upload costs before Fieldtrace does anything with it (no multipart parsing, no auth, no
database, nothing stored)."""

import hashlib

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from server.urls import urlpatterns as fieldtrace

CHUNK = 1024 * 1024


@csrf_exempt
def sink(request: HttpRequest) -> JsonResponse:
    sha, size = hashlib.sha256(), 0
    while chunk := request.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return JsonResponse({"sha256": sha.hexdigest(), "size": size}, status=201)


urlpatterns = [path("bench/sink", sink), *fieldtrace]
