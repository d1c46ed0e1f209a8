"""The audit trail in the back office: listed and shown, never added, changed or deleted."""

from __future__ import annotations

from django.contrib import admin

from server.audit.models import AuditEntry
from server.registry.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "subject", "summary", "device", "operation"]
    list_filter = ["action", "at", "subject_type"]
    search_fields = ["=subject_id", "actor__username", "actor__person__name"]
    list_select_related = ["actor", "device", "operation"]
    date_hierarchy = "at"
    fields = [
        "at",
        "actor",
        "action",
        "subject_type",
        "subject_id",
        "summary",
        "changes",
        "device",
        "operation",
        "agency_id",
        "enterprise_id",
        "region_code",
    ]
    readonly_fields = fields

    def get_actions(self, request):
        return {}  # not even "delete selected"

    @admin.display(description="对象", ordering="subject_type")
    def subject(self, entry: AuditEntry) -> str:
        return f"{entry.subject_type}:{entry.subject_id}"
