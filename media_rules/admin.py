"""Photos in the admin: photo types are data to tune (hints, per-type thresholds); files, photos
and uploads are written only by intake and the rules, so they are shown read-only."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm

from media_rules.models import Blob, BlobHolder, Photo, PhotoType, Upload
from media_rules.rules import Thresholds, thresholds_for
from server.maps.widgets import MapAdminMixin, point_map
from sync.admin import ReadOnly


class PhotoTypeForm(ModelForm):
    class Meta:
        model = PhotoType
        fields = ["code", "name", "stage", "hint", "thresholds", "position"]

    def clean_thresholds(self):
        value = self.cleaned_data["thresholds"] or {}
        if not isinstance(value, dict):
            raise ValidationError('须为 JSON 对象，如 {"geofence_m": 500}。')
        try:
            thresholds_for(Thresholds(), value)
        except (ValueError, TypeError) as exc:
            raise ValidationError(str(exc)) from None
        return value


@admin.register(PhotoType)
class PhotoTypeAdmin(admin.ModelAdmin):
    form = PhotoTypeForm
    list_display = ["code", "name", "stage", "position"]
    list_filter = ["stage"]
    search_fields = ["code", "name"]


@admin.register(Blob)
class BlobAdmin(ReadOnly):
    list_display = [
        "sha256",
        "format",
        "size",
        "width",
        "height",
        "received_at",
        "processed_at",
        "face_count",
    ]
    list_filter = ["format", "process_error"]
    search_fields = ["=sha256"]
    date_hierarchy = "received_at"


@admin.register(BlobHolder)
class BlobHolderAdmin(ReadOnly):
    """Who sent a file's bytes (F9 item 1): written only by intake."""

    list_display = ["blob", "agency", "enterprise"]
    search_fields = ["=blob__sha256"]
    list_select_related = ["agency", "enterprise"]


@admin.register(Photo)
class PhotoAdmin(MapAdminMixin, ReadOnly):
    list_display = ["id", "photo_type", "verdict", "task", "outlet", "agency", "captured_at", "recorded_at"]
    list_filter = ["verdict", "photo_type", "mock_location"]
    search_fields = ["=id", "=sha256", "=task__id"]
    list_select_related = ["photo_type", "task", "outlet", "agency"]
    date_hierarchy = "recorded_at"
    readonly_fields = ["fix_location_map"]
    fix_location_map = point_map("fix_location", "拍摄定位地图")


@admin.register(Upload)
class UploadAdmin(ReadOnly):
    list_display = ["id", "sha256", "received", "size", "created_by", "updated_at", "completed_at"]
    search_fields = ["=sha256", "created_by__username"]
    list_select_related = ["created_by"]
