"""Notifications in the admin: written by ``services.notify`` only, so shown read-only."""

from __future__ import annotations

from django.contrib import admin

from server.notifications.models import Notification, OutgoingMessage, SubscriptionQuota, SubscriptionReport
from server.registry.admin import ReadOnlyAdmin


class ReadFilter(admin.SimpleListFilter):
    title = "是否已读"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return (("1", "已读"), ("0", "未读"))

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(read_at__isnull=self.value() == "0")
        return queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "subject", "read_at")
    list_filter = (ReadFilter, "kind")
    list_select_related = ("recipient",)
    search_fields = ("title", "body", "recipient__username", "=subject_id")
    search_help_text = "按标题、内容、接收人用户名或对象编号（完整）搜索。"
    date_hierarchy = "created_at"
    fields = ("recipient", "kind", "title", "body", "subject_type", "subject_id", "created_at", "read_at")

    @admin.display(description="对象", ordering="subject_type")
    def subject(self, obj: Notification) -> str:
        return f"{obj.subject_type} {obj.subject_id}" if obj.subject_type else "—"


@admin.register(SubscriptionQuota)
class SubscriptionQuotaAdmin(ReadOnlyAdmin):
    """What each user's WeChat subscription grants allow us to send (wx.requestSubscribeMessage)."""

    list_display = ("user", "template_id", "remaining", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "=template_id")


@admin.register(SubscriptionReport)
class SubscriptionReportAdmin(ReadOnlyAdmin):
    list_display = ("user", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(ReadOnlyAdmin):
    """WeChat subscription messages sent, skipped or failed (at most one per reminder a day)."""

    list_display = ("day", "user", "kind", "status", "errcode", "reason", "attempts")
    list_filter = ("status", "kind")
    list_select_related = ("user",)
    search_fields = ("user__username", "=subject_id", "kind")
    date_hierarchy = "day"
