"""The personal-information purge runs in the admin: written only by the scheduled job and
``manage.py privacy_purge`` (server/privacy/retention.py), so shown read-only. Regulators do not see
them (no scope in server/admin_scope.py)."""

from django.contrib import admin

from server.privacy.models import PurgeRun
from sync.admin import ReadOnly


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnly):
    list_display = ["at", "trigger", "track_cutoff", "face_photo_cutoff", "track_points", "face_photos"]
    list_filter = ["trigger"]
    date_hierarchy = "at"
