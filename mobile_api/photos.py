"""Photos and their files, online. The photo record calls the same service as the ``photo.record``
sync operation (media_rules/operations.py); files go in by one of three ways (media_rules/intake.py):

- ``POST /photos`` as multipart (``wx.uploadFile``: the ``file`` field plus the manifest as form
  fields), or as JSON without the file (it is then awaiting media until the file arrives);
- ``POST /media`` (the file alone) or the resumable ``/media/uploads`` (ask the offset, continue);
- with S3 storage, ``/media/uploads/{id}/presign`` then a POST straight to the bucket, then
  ``/media/uploads/{id}/confirm``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from media_rules import errors, holders, intake, private_files
from media_rules.models import Blob, Photo, PhotoType, Upload
from media_rules.operations import PhotoManifestPayload, record_photo
from media_rules.services import completeness, photo_data
from mobile_api import exports
from mobile_api.common import FilterSet, parse, parse_query
from server import access
from server.errors import NOT_FOUND, DomainError
from server.fields import InstantField
from server.parsers import JSONParser
from sync import engine as sync_engine

logger = logging.getLogger(__name__)
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "heic": "image/heic", "heif": "image/heif"}


def open_stored(blob: Blob, *, thumbnail: bool = False):
    """A stored file (or its thumbnail) for reading, decrypted if it is a sealed face photo
    (media_rules.private_files). A file deleted at the end of its retention period is a 410
    ``media_purged``; storage that lost it or cannot be reached is a clean 503 with a code (and an
    error in the log for the operators), not a 500."""
    private_files.ensure_available(blob)
    name = blob.thumbnail if thumbnail else blob.name
    try:
        stored = default_storage.open(name, "rb")
    except Exception as exc:  # FileNotFoundError on disk, botocore's ClientError on S3, network errors
        logger.error("media: stored file %s cannot be read: %r", name, exc)
        raise DomainError(errors.MEDIA_UNAVAILABLE) from exc
    return private_files.opened(blob, stored, thumbnail=thumbnail)


def _device(request: Request):
    record = getattr(request, "device_token", None)
    return record.device if record is not None else None


def _clock_offset(device_clock: dt.datetime | None) -> dt.timedelta | None:
    return timezone.now() - device_clock if device_clock is not None else None


class PhotoTypeOut(serializers.ModelSerializer):
    class Meta:
        model = PhotoType
        fields = ["code", "name", "stage", "hint"]


class PhotoTypeList(APIView):
    @extend_schema(responses=PhotoTypeOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(PhotoTypeOut(PhotoType.objects.all(), many=True).data)


class PhotoIn(PhotoManifestPayload):
    id = serializers.UUIDField(help_text="The phone's UUID for this photo.")
    sha256 = serializers.CharField(max_length=64, required=False, default="")
    file = serializers.FileField(required=False, help_text="The photo (JPEG, PNG or HEIC).")
    device_clock = InstantField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The phone's clock when it sent this request: corrects device_time.",
    )

    def validate_sha256(self, value: str) -> str:
        return super().validate_sha256(value) if value else ""


class PhotoOut(serializers.Serializer):
    id = serializers.UUIDField()
    sha256 = serializers.CharField()
    photo_type = serializers.CharField()
    stage = serializers.CharField()
    task = serializers.UUIDField(allow_null=True)
    outlet = serializers.IntegerField(allow_null=True)
    awaiting_media = serializers.BooleanField()
    media_purged = serializers.BooleanField(
        help_text="The file was deleted at the end of its retention period (face photos): GET .../file "
        "answers 410 media_purged; the record and its verdict stay."
    )
    captured_at = InstantField(allow_null=True)
    captured_from = serializers.CharField()
    verdict = serializers.ChoiceField(choices=["pending", "pass", "warn", "fail"])
    findings = serializers.ListField(child=serializers.DictField())
    version = serializers.IntegerField()


class PhotoFilter(FilterSet):
    awaiting_media = filters.BooleanFilter(field_name="blob", lookup_expr="isnull")

    class Meta:
        model = Photo
        fields = ["task", "outlet", "verdict", "photo_type"]


class PhotoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Photo.objects.none()  # for the schema; requests use get_queryset
    serializer_class = PhotoOut
    filterset_class = PhotoFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return (
            access.photos_for(self.request.user)
            .select_related("photo_type", "blob")
            .order_by("recorded_at", "id")
        )

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)
        response.data["completeness"] = completeness(self.filter_queryset(self.get_queryset()))
        return response

    def get_serializer(self, instance=None, *args, **kwargs):
        if instance is not None and "data" not in kwargs:
            many = kwargs.get("many", False)
            instance = [photo_data(p) for p in instance] if many else photo_data(instance)
        return super().get_serializer(instance, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": PhotoIn, "application/json": PhotoIn},
        responses={201: PhotoOut, 200: PhotoOut},
        description=(
            "Record a photo, with its file (multipart, as wx.uploadFile sends it) or without (JSON: "
            "the photo awaits its file, named by sha256). The same id again returns the stored photo "
            "(200) and fills in a manifest sent late; another file for the same id is refused with "
            "409 photo_conflict and the stored file stays. Bodies over the advertised limit "
            "(GET /media/limits) get 413 media_too_large before they are read."
        ),
    )
    def create(self, request: Request) -> Response:
        intake.refuse_oversized_body(request.META.get("CONTENT_LENGTH"))
        # A session's CSRF check may have read the body already (then ingest hashes the file).
        if request.content_type.startswith("multipart/") and not hasattr(request._request, "_files"):
            request._request.upload_handlers = [intake.HashingUploadHandler(request._request)]
        data = parse(PhotoIn, request.data)
        upload = data.get("file")
        if upload is None and not data["sha256"]:
            raise DomainError(errors.MEDIA_FILE_MISSING)
        # One transaction: a record refused (unknown type, a task out of sight, another file under
        # this id) leaves no new file row behind. The file is written while the photo is recorded and
        # judged, and is in storage before anything commits (intake.stores_overlapped).
        blob = None
        with transaction.atomic(), intake.stores_overlapped():
            if upload is not None:
                upload.seek(0)
                blob, _ = intake.ingest(
                    upload.read(),
                    holder=holders.tenant_of(request.user),
                    sha256=getattr(upload, "sha256", None),
                    declared_sha256=data["sha256"] or None,
                )
                data["sha256"] = blob.sha256
            recorded = record_photo(
                user=request.user,
                device=_device(request),
                photo_id=data["id"],
                data=data,
                clock_offset=_clock_offset(data["device_clock"]),
                blob=blob,
            )
        sync_engine.release(recorded.releases)  # offline work held for this task's earlier photos
        code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
        return Response(PhotoOut(photo_data(recorded.photo)).data, status=code)

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk=None) -> FileResponse:
        photo = self.get_object()
        if photo.blob_id is None:
            raise DomainError(errors.MEDIA_NOT_RECEIVED)
        return FileResponse(open_stored(photo.blob), content_type=CONTENT_TYPES.get(photo.blob.format))

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def thumbnail(self, request: Request, pk=None) -> FileResponse:
        photo = self.get_object()
        if photo.blob_id is not None:
            private_files.ensure_available(photo.blob)
        if photo.blob_id is None or not photo.blob.thumbnail:
            raise DomainError(errors.THUMBNAIL_NOT_READY)
        return FileResponse(open_stored(photo.blob, thumbnail=True), content_type="image/jpeg")

    @extend_schema(
        operation_id="v1_photos_export_zip",
        parameters=[exports.DayPhotosIn],
        responses={(200, exports.ZIP): OpenApiTypes.BINARY},
        filters=True,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="export.zip",
        url_name="export-zip",
        content_negotiation_class=exports.FileFormatNegotiation,
    )
    def export_zip(self, request: Request) -> StreamingHttpResponse:
        """A day's photos (those the list shows, for its filters too) as a ZIP, streamed, with
        manifest.csv and manifest.json, as GET /tasks/{id}/photos.zip."""
        data = parse_query(exports.DayPhotosIn, request.query_params)
        photos = exports.taken_on(
            self.filter_queryset(self.get_queryset()), data["date"], data.get("agency")
        ).select_related("blob")
        scope = {"date": data["date"].isoformat(), "agency": data.get("agency")}
        return exports.photos_zip_response(list(photos), f"photos-{data['date']}.zip", scope)


# --- Files -----------------------------------------------------------------------------------------
class MediaLimitsOut(serializers.Serializer):
    max_bytes = serializers.IntegerField()
    chunk_max_bytes = serializers.IntegerField()
    formats = serializers.ListField(child=serializers.CharField())
    upload_ttl_hours = serializers.IntegerField()
    direct_upload = serializers.BooleanField(help_text="Whether presigned POSTs straight to storage work.")


class MediaLimitsView(APIView):
    @extend_schema(responses=MediaLimitsOut)
    def get(self, request: Request) -> Response:
        return Response(MediaLimitsOut(intake.limits()).data)


class MediaIn(serializers.Serializer):
    file = serializers.FileField()
    sha256 = serializers.CharField(max_length=64, required=False, default="")


class MediaOut(serializers.Serializer):
    sha256 = serializers.CharField()
    present = serializers.BooleanField()
    size = serializers.IntegerField(allow_null=True)
    format = serializers.CharField(allow_null=True)


def _media(blob: Blob | None, sha256: str) -> dict:
    return {
        "sha256": sha256,
        "present": blob is not None,
        "size": blob.size if blob else None,
        "format": blob.format if blob else None,
    }


class MediaUploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": MediaIn},
        responses={201: MediaOut, 200: MediaOut},
        description="Send a photo file. 201 the first time your agency (or enterprise) sends these "
        "bytes, 200 after: the answer never says whether anyone else has. Your photos awaiting this "
        "file (by sha256) link to it and are judged.",
    )
    def post(self, request: Request) -> Response:
        intake.refuse_oversized_body(request.META.get("CONTENT_LENGTH"))
        if not hasattr(request._request, "_files"):  # else read already by a session's CSRF check
            request._request.upload_handlers = [intake.HashingUploadHandler(request._request)]
        data = parse(MediaIn, request.data)
        declared = intake.check_sha256(data["sha256"]) if data["sha256"] else None
        upload = data["file"]
        upload.seek(0)
        blob, created = intake.ingest(
            upload.read(),
            holder=holders.tenant_of(request.user),
            sha256=getattr(upload, "sha256", None),
            declared_sha256=declared,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(MediaOut(_media(blob, blob.sha256)).data, status=code)


class MediaStatusView(APIView):
    @extend_schema(
        responses=MediaOut,
        description="Whether the server holds this file for your agency (or enterprise): send it if not. "
        "A copy another tenant sent does not count.",
    )
    def get(self, request: Request, sha256: str) -> Response:
        sha256 = intake.check_sha256(sha256)
        blob = holders.linkable(sha256, [holders.tenant_of(request.user)])  # F9 item 1
        return Response(MediaOut(_media(blob, sha256)).data)


class UploadStartIn(serializers.Serializer):
    sha256 = serializers.CharField(max_length=64)
    size = serializers.IntegerField(min_value=1)


class UploadOut(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True)
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    offset = serializers.IntegerField(help_text="Bytes the server holds: send the next chunk from here.")
    complete = serializers.BooleanField()
    chunk_max_bytes = serializers.IntegerField()
    expires_at = InstantField(allow_null=True)


def _upload(upload: Upload | None, *, sha256: str = "", size: int = 0) -> dict:
    from django.conf import settings

    if upload is None:  # the server already has the file
        return {
            "id": None,
            "sha256": sha256,
            "size": size,
            "offset": size,
            "complete": True,
            "chunk_max_bytes": settings.MEDIA_CHUNK_MAX_BYTES,
            "expires_at": None,
        }
    return {
        "id": upload.pk,
        "sha256": upload.sha256,
        "size": upload.size,
        "offset": upload.received,
        "complete": upload.completed_at is not None,
        "chunk_max_bytes": settings.MEDIA_CHUNK_MAX_BYTES,
        "expires_at": upload.expires_at,
    }


def _own_upload(request: Request, upload_id) -> Upload:
    # With its creator: whose tenant the file is held for (intake.upload_chunk, intake.confirm).
    upload = Upload.objects.select_related("created_by").filter(pk=upload_id, created_by=request.user).first()
    if upload is None:
        raise DomainError(NOT_FOUND)
    return upload


class UploadStartView(APIView):
    @extend_schema(
        request=UploadStartIn,
        responses={201: UploadOut, 200: UploadOut},
        description=(
            "Start (or find again) a resumable upload of one file. 200 with complete=true when the "
            "server already holds the file for your agency (or enterprise): nothing to send."
        ),
    )
    def post(self, request: Request) -> Response:
        data = parse(UploadStartIn, request.data)
        upload = intake.upload_start(user=request.user, sha256=data["sha256"], size=data["size"])
        if upload is None:
            body = _upload(None, sha256=intake.check_sha256(data["sha256"]), size=data["size"])
            return Response(UploadOut(body).data)
        return Response(UploadOut(_upload(upload)).data, status=status.HTTP_201_CREATED)


OFFSET = OpenApiParameter("offset", int, required=True, description="Where this chunk starts.")


class UploadView(APIView):
    parser_classes = [JSONParser]  # the chunk body is read raw, never parsed

    @extend_schema(responses=UploadOut, description="How many bytes the server holds.")
    def get(self, request: Request, upload_id) -> Response:
        return Response(UploadOut(_upload(_own_upload(request, upload_id))).data)

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[OFFSET],
        responses=UploadOut,
        description=(
            "Send the next chunk (raw bytes, at most chunk_max_bytes) starting at ?offset=. A wrong "
            "offset is 409 upload_offset_mismatch with the right one in details.received. The last "
            "chunk completes the file; a file other than the one declared starts the upload over (422)."
        ),
    )
    def put(self, request: Request, upload_id) -> Response:
        upload = _own_upload(request, upload_id)
        try:
            offset = int(request.query_params.get("offset", ""))
        except ValueError:
            raise DomainError(
                errors.UPLOAD_OFFSET_MISMATCH, details={"received": upload.received}, received=upload.received
            ) from None
        upload, _ = intake.upload_chunk(upload=upload, offset=offset, stream=request._request)
        return Response(UploadOut(_upload(upload)).data)


class PresignIn(serializers.Serializer):
    content_type = serializers.ChoiceField(choices=intake.DIRECT_UPLOAD_TYPES)


class PresignOut(serializers.Serializer):
    url = serializers.URLField()
    fields = serializers.DictField(child=serializers.CharField())
    expires_at = InstantField()


class PresignView(APIView):
    @extend_schema(
        request=PresignIn,
        responses=PresignOut,
        description=(
            "With S3 storage: a presigned POST (url + form fields; the file goes last, as `file`) "
            "for this upload, then call confirm. 409 presign_unavailable on disk storage."
        ),
    )
    def post(self, request: Request, upload_id) -> Response:
        upload = _own_upload(request, upload_id)
        data = parse(PresignIn, request.data)
        return Response(PresignOut(intake.presign(upload=upload, content_type=data["content_type"])).data)


class ConfirmView(APIView):
    @extend_schema(
        request=None,
        responses=MediaOut,
        description="The file is in the bucket: the server reads it back, checks size and hash, stores it.",
    )
    def post(self, request: Request, upload_id) -> Response:
        upload = _own_upload(request, upload_id)
        blob = intake.confirm(upload=upload)
        return Response(MediaOut(_media(blob, blob.sha256)).data)
