from django.urls import path, register_converter
from rest_framework.routers import SimpleRouter

from mobile_api import (
    audit,
    auth,
    certificates,
    evidence,
    home,
    notifications,
    om_forms,
    om_manage,
    om_records,
    photos,
    projects,
    public,
    registry,
    sites,
    staff_transfers,
    statistics,
    subscriptions,
    sync,
    tasks,
    tracks,
    violations,
    work,
)
from mobile_api.views import MetaView
from server.converters import TextConverter, TextPathConverter

app_name = "mobile_api"
register_converter(TextConverter, "text")  # str and path without NUL (server/converters.py)
register_converter(TextPathConverter, "textpath")

router = SimpleRouter(trailing_slash=False)
router.register("agencies", registry.AgencyViewSet, basename="agency")
router.register("accounts", registry.AccountViewSet, basename="account")
# Before staff/<pk>, which would take "transfers" for an id.
router.register("staff/transfers", staff_transfers.TransferViewSet, basename="staff-transfer")
router.register("staff", registry.StaffViewSet, basename="staff")
router.register("posts", registry.PostViewSet, basename="post")
router.register("enterprises", sites.EnterpriseViewSet, basename="enterprise")
router.register("outlets", sites.OutletViewSet, basename="outlet")
router.register("instruments", sites.InstrumentViewSet, basename="instrument")
router.register("contracts", sites.ContractViewSet, basename="contract")
router.register("projects", projects.ProjectViewSet, basename="project")
router.register("om-tasks", work.OmTaskViewSet, basename="om-task")
router.register("om/records", om_records.OmRecordViewSet, basename="om-record")
router.register("tasks", tasks.TaskViewSet, basename="task")
router.register("photos", photos.PhotoViewSet, basename="photo")
router.register("checkins", tracks.CheckInViewSet, basename="checkin")
router.register("notifications", notifications.NotificationViewSet, basename="notification")
router.register("violations", violations.ViolationViewSet, basename="violation")
router.register("rectifications", violations.RectificationViewSet, basename="rectification")

urlpatterns = [
    path("meta", MetaView.as_view(), name="meta"),
    path("public/agencies", public.PublicAgencyList.as_view(), name="public-agencies"),
    path("public/reports/<textpath:number>", public.PublicReportView.as_view(), name="public-report"),
    path("auth/login", auth.PasswordLoginView.as_view(), name="login"),
    path("auth/wechat/login", auth.WeChatLoginView.as_view(), name="wechat-login"),
    path("auth/wechat/bind", auth.WeChatBindView.as_view(), name="wechat-bind"),
    path("auth/logout", auth.LogoutView.as_view(), name="logout"),
    path("auth/password", auth.PasswordChangeView.as_view(), name="password-change"),
    path("auth/phone", auth.PhoneChangeView.as_view(), name="phone-change"),
    path("auth/devices", auth.DeviceListView.as_view(), name="devices"),
    path("auth/devices/<uuid:device_id>/revoke", auth.DeviceRevokeView.as_view(), name="device-revoke"),
    path("me", auth.MeView.as_view(), name="me"),
    path("home", home.HomeView.as_view(), name="home"),
    path("om/templates", om_forms.TemplateListView.as_view(), name="om-templates"),
    path("om/templates/<slug:code>", om_forms.TemplateView.as_view(), name="om-template"),
    # Before the router's notifications/<pk>, which would take "subscriptions" for an id.
    path("notifications/subscriptions", subscriptions.SubscriptionsView.as_view(), name="subscriptions"),
    path("om/days", om_records.DaysView.as_view(), name="om-days"),
    path("om/days/confirm", om_records.DayConfirmView.as_view(), name="om-day-confirm"),
    path("om/days/<text:date>", om_records.DayView.as_view(), name="om-day"),
    path("om/reviews", om_records.ReviewView.as_view(), name="om-reviews"),
    path("sync/limits", sync.LimitsView.as_view(), name="sync-limits"),
    path("sync/push", sync.PushView.as_view(), name="sync-push"),
    path("sync/pull", sync.PullView.as_view(), name="sync-pull"),
    path("sync/reconcile", sync.ReconcileView.as_view(), name="sync-reconcile"),
    path("sync/devices/<uuid:device_id>", sync.DeviceStateView.as_view(), name="sync-device"),
    path("sync/attention", sync.AttentionView.as_view(), name="sync-attention"),
    path("photo-types", photos.PhotoTypeList.as_view(), name="photo-types"),
    path("media", photos.MediaUploadView.as_view(), name="media"),
    path("media/limits", photos.MediaLimitsView.as_view(), name="media-limits"),
    path("media/uploads", photos.UploadStartView.as_view(), name="media-uploads"),
    path("media/uploads/<uuid:upload_id>", photos.UploadView.as_view(), name="media-upload"),
    path("media/uploads/<uuid:upload_id>/presign", photos.PresignView.as_view(), name="media-presign"),
    path("media/uploads/<uuid:upload_id>/confirm", photos.ConfirmView.as_view(), name="media-confirm"),
    path("media/<text:sha256>", photos.MediaStatusView.as_view(), name="media-status"),
    path("tasks/<uuid:task_id>/track", tracks.TrackView.as_view(), name="task-track"),
    path("om-tasks/<int:task_id>/manage", om_manage.ManageView.as_view(), name="om-task-manage"),
    path("om-tasks/<int:task_id>/reports", om_manage.ReportListView.as_view(), name="om-task-reports"),
    path("om/reports/<int:report_id>/file", om_manage.ReportFileView.as_view(), name="om-report-file"),
    path("om/overdue", om_manage.OverdueView.as_view(), name="om-overdue"),
    path("om-plans/<int:plan_id>", om_manage.PlanDetailView.as_view(), name="om-plan"),
    path("om-tasks/<int:task_id>/edit", om_manage.TaskEditView.as_view(), name="om-task-edit"),
    path(
        "om-tasks/<int:task_id>/finish", om_manage.TaskMoveView.as_view(to="finished"), name="om-task-finish"
    ),
    path("om-tasks/<int:task_id>/reopen", om_manage.TaskMoveView.as_view(to="active"), name="om-task-reopen"),
    path("contracts/<int:contract_id>/edit", om_manage.ContractEditView.as_view(), name="contract-edit"),
    path("change-requests", om_manage.ChangeRequestListView.as_view(), name="change-requests"),
    path(
        "change-requests/<int:request_id>", om_manage.ChangeRequestDetailView.as_view(), name="change-request"
    ),
    path(
        "change-requests/<int:request_id>/accept",
        om_manage.ChangeRequestMoveView.as_view(to="accepted"),
        name="change-request-accept",
    ),
    path(
        "change-requests/<int:request_id>/refuse",
        om_manage.ChangeRequestMoveView.as_view(to="refused"),
        name="change-request-refuse",
    ),
    path(
        "change-requests/<int:request_id>/withdraw",
        om_manage.ChangeRequestMoveView.as_view(to="withdrawn"),
        name="change-request-withdraw",
    ),
    path("evidence", evidence.EvidenceView.as_view(), name="evidence"),
    path("statistics", statistics.StatisticsView.as_view(), name="statistics"),
    path("statistics/export", statistics.StatisticsExportView.as_view(), name="statistics-export"),
    path("certificates", certificates.CertificateListView.as_view(), name="certificates"),
    path("certificates/search", certificates.CertificateSearchView.as_view(), name="certificates-search"),
    path("certificates/export", certificates.CertificateExportView.as_view(), name="certificates-export"),
    path("tasks/<uuid:task_id>/track/points", tracks.TrackPointList.as_view(), name="task-track-points"),
    path("audit", audit.AuditListView.as_view(), name="audit"),
    path(
        "audit/<slug:subject_type>/<text:subject_id>",
        audit.SubjectHistoryView.as_view(),
        name="audit-subject",
    ),
    *router.urls,
]
