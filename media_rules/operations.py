"""The photo record, as a sync operation (``photo.record``) and as the online endpoint's payload
(mobile_api/photos.py): both parse the same manifest and call ``services.photo_record``.

A photo names its task; when the task has not reached the server yet (created on another phone
still offline) the operation is held and released when the task arrives.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from rest_framework import serializers

from media_rules import errors, services
from media_rules.intake import check_sha256
from media_rules.models import Photo, PhotoType
from server.access import outlets_for, photos_for, projects_for, referenced, tasks_for
from server.capture import OptionalFixIn
from server.errors import DomainError
from server.fields import IdField
from server.fieldwork import errors as fieldwork_errors
from server.fieldwork.stages import stage_wait_key
from server.lookups import unique_or_none
from sync.operations import (
    Entity,
    NotYet,
    OpContext,
    OpType,
    Outcome,
    exists_in,
    register,
    register_entity,
)


class PhotoManifestPayload(OptionalFixIn):
    """The capture manifest: the photo's capture fix (server/capture.py, the names every capture
    takes) and what was photographed. Form fields of ``wx.uploadFile`` arrive as strings: they
    parse too."""

    sha256 = serializers.CharField(
        max_length=64, help_text="SHA-256 of the photo file, lowercase hex (optional with the file)."
    )
    photo_type = serializers.CharField(max_length=40, help_text="A photo type code (GET /photo-types).")
    task = serializers.UUIDField(required=False, allow_null=True, default=None)
    outlet = IdField(required=False, allow_null=True, default=None, help_text="The site.")
    signature = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=1024,
        help_text="Base64 signature by the device key over the capture message (media_rules/signing.py).",
    )

    def validate_sha256(self, value: str) -> str:
        try:
            return check_sha256(value)
        except DomainError as exc:
            raise serializers.ValidationError("须为 64 位十六进制 SHA-256。") from exc


def manifest_of(data: dict) -> services.Manifest:
    return services.Manifest(
        lon=data.get("longitude"),
        lat=data.get("latitude"),
        system=data.get("coordinate_system") or "",
        accuracy_m=data.get("accuracy_m"),
        fix_time=data.get("fix_time"),
        mock=bool(data.get("mock_location")),
        device_time=data.get("device_time"),
        signature=data.get("signature") or "",
    )


def record_photo(
    *, user, device, photo_id, data: dict, clock_offset: dt.timedelta | None, blob=None
) -> services.Recorded:
    """Resolve what the manifest names, as ``user`` may see it, and record the photo (``blob``: its
    file, when the caller has just stored it)."""
    photo_type = unique_or_none(PhotoType.objects, pk=data["photo_type"])
    if photo_type is None:
        raise DomainError(errors.PHOTO_TYPE_UNKNOWN, photo_type=data["photo_type"])
    task = referenced(tasks_for(user).select_related("project"), data, "task")
    outlet = referenced(outlets_for(user), data, "outlet")
    return services.photo_record(
        actor=user,
        photo_id=photo_id,
        sha256=data["sha256"],
        photo_type=photo_type,
        manifest=manifest_of(data),
        task=task,
        outlet=outlet,
        device=device,
        clock_offset=clock_offset,
        blob=blob,
    )


def _record(ctx: OpContext) -> Outcome:
    from server.accounts.models import Device

    try:
        recorded = record_photo(
            user=ctx.user,
            device=Device.objects.filter(pk=ctx.device_id).first(),
            photo_id=ctx.entity_id,
            data=ctx.payload,
            clock_offset=ctx.clock_offset,
        )
    except DomainError as exc:
        if exc.error is fieldwork_errors.PHOTO_STAGE_NOT_OPEN:
            # Not "not allowed" but "not arrived yet": the earlier stage's photos are on another
            # phone that has not synced. Held until a photo on the task arrives.
            task_id = str(ctx.payload["task"])
            raise NotYet(stage_wait_key(task_id), {"kind": "stages", "task": task_id, **exc.details}) from exc
        if exc.error is not errors.PHOTO_CONFLICT:
            raise
        stored = Photo.objects.get(pk=ctx.entity_id)
        return Outcome(
            entity_id=str(stored.pk),
            version=stored.version,
            clashes=[{"field": "sha256", "stored": stored.sha256, "sent": ctx.payload["sha256"]}],
            conflict_reason="photo_file_differs",
        )
    return Outcome(
        entity_id=str(recorded.photo.pk),
        version=recorded.photo.version,
        change_seq=recorded.change_seq,
        releases=recorded.releases,
    )


def _task_of(payload: dict) -> list[tuple[str, str]]:
    return [("task", str(payload["task"]))] if payload.get("task") else []


def _photos_on_server(user):
    # The user's own photos and those it sees; another tenant's photo looks absent (F9 item 10).
    return photos_for(user) | Photo.objects.filter(taken_by=user)


def _pull_scope(user) -> Q:
    # A photo is seen by whoever sees its task; site photos by the agency that took them.
    return Q(project_id__in=projects_for(user).values("id")) | Q(
        project_id__isnull=True, agency_id=user.agency_id
    )


def register_operations() -> None:
    register_entity(Entity(name="photo", exists=exists_in(_photos_on_server), pull_scope=_pull_scope))
    register(
        OpType(
            "photo.record",
            "photo",
            PhotoManifestPayload,
            _record,
            needs_entity=False,
            creates=True,
            prerequisites=_task_of,
        )
    )
