"""The sync journal in the admin: read-only, for looking into what a phone sent and what it got."""

from django.contrib import admin

from sync.models import Change, Conflict, DeviceSyncState, Operation, Push


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Operation)
class OperationAdmin(ReadOnly):
    list_display = [
        "device",
        "seq",
        "op_type",
        "entity_id",
        "status",
        "device_time",
        "corrected_time",
        "received_at",
    ]
    list_filter = ["status", "op_type"]
    search_fields = ["=op_id", "=entity_id", "device__user__username"]
    list_select_related = ["device"]
    date_hierarchy = "received_at"


@admin.register(Push)
class PushAdmin(ReadOnly):
    list_display = ["device", "user", "device_clock", "server_clock", "offset_ms", "op_count"]
    search_fields = ["user__username", "=device__id"]
    list_select_related = ["device", "user"]
    date_hierarchy = "server_clock"


@admin.register(DeviceSyncState)
class DeviceSyncStateAdmin(ReadOnly):
    list_display = ["device", "next_seq", "last_offset_ms", "last_push"]
    list_select_related = ["device", "last_push"]


@admin.register(Conflict)
class ConflictAdmin(ReadOnly):
    list_display = ["entity_type", "entity_id", "field", "reason", "kept_value", "other_value", "detected_at"]
    list_filter = ["entity_type", "reason"]
    search_fields = ["=entity_id"]


@admin.register(Change)
class ChangeAdmin(ReadOnly):
    list_display = ["seq", "entity_type", "entity_id", "version", "deleted", "changed_at"]
    list_filter = ["entity_type", "deleted"]
    search_fields = ["=entity_id"]
