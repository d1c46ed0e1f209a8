from django.urls import include, path, re_path

from workspace.views import (
    accounts,
    certificates,
    evidence,
    home,
    om,
    photos,
    platform,
    projects,
    regulator,
    tasks,
)

app_name = "workspace"

urlpatterns = [
    path("", home.index, name="index"),
    path("sign-in/", accounts.sign_in, name="sign-in"),
    path("sign-out/", accounts.sign_out, name="sign-out"),
    path("account/password/", accounts.password, name="password"),
    path("account/phone/", accounts.phone_change, name="account-phone"),
    path("account/phones/", accounts.phones, name="phones"),
    path("account/phones/<uuid:device_id>/revoke", accounts.phone_revoke, name="phone-revoke"),
    path("agency/", home.agency_home, name="agency-home"),
    path("enterprise/", home.enterprise_home, name="enterprise-home"),
    path("regulator/", regulator.home, name="regulator-home"),
    path("evidence/", evidence.queue, name="evidence"),
    path("certificates/", certificates.certificate_list, name="certificates"),
    path("certificates/export", certificates.certificate_export, name="certificates-export"),
    path("regulator/filings/", regulator.filings, name="regulator-filings"),
    path("regulator/filings/<int:pk>/", regulator.filing, name="regulator-filing"),
    path("regulator/projects/", regulator.projects, name="regulator-projects"),
    path("regulator/projects/<int:pk>/", regulator.project, name="regulator-project"),
    path("regulator/violations/", regulator.violations, name="regulator-violations"),
    path("regulator/violations/new/", regulator.violation_new, name="regulator-violation-new"),
    path("regulator/violations/<int:pk>/", regulator.violation, name="regulator-violation"),
    path("platform/", home.platform_home, name="platform-home"),
    path("platform/reevaluate/", platform.reevaluate, name="platform-reevaluate"),
    path("platform/reevaluate/<uuid:job_id>/", platform.reevaluate_job, name="platform-reevaluate-job"),
    path("photos/<uuid:photo_id>/", photos.photo, name="photo"),
    path("om/records/<uuid:record_id>/", om.record, name="om-record"),
    path("om/records/<uuid:record_id>/review", om.record_review, name="om-record-review"),
    path("om/records/<uuid:record_id>/pdf", om.record_pdf, name="om-record-pdf"),
    path(
        "om/confirmations/<uuid:act_id>/signature",
        om.confirmation_signature,
        name="om-confirmation-signature",
    ),
    path("om/reviews/<uuid:act_id>/signature", om.review_signature, name="om-review-signature"),
    re_path(
        r"^enterprise/days/(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})/$", om.enterprise_day, name="enterprise-day"
    ),
    path("enterprise/confirmations/", om.enterprise_confirmations, name="enterprise-confirmations"),
    path("agency/reviews/", om.review_queue, name="review-queue"),
    path("projects/", projects.project_list, name="projects"),
    path("projects/new/", projects.project_new, name="project-new"),
    path("projects/<int:pk>/", projects.project, name="project"),
    path("projects/<int:pk>/attachments/", projects.attachment_add, name="project-attach"),
    path(
        "projects/<int:pk>/attachments/<int:attachment_id>/file",
        projects.attachment_file,
        name="project-attachment-file",
    ),
    path("projects/<int:pk>/assignments/", projects.assignment_add, name="project-assign"),
    path("projects/<int:pk>/submit", projects.project_submit, name="project-submit"),
    path("projects/<int:pk>/edit/", projects.project_edit, name="project-edit"),
    path("projects/<int:pk>/delete", projects.project_delete, name="project-delete"),
    path(
        "projects/<int:pk>/attachments/<int:attachment_id>/delete",
        projects.attachment_delete,
        name="project-attachment-delete",
    ),
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/<uuid:task_id>/", tasks.task, name="task"),
    # Each area's pages in its own module: the agency's office (filing, accounts, contracts), its
    # staff, and O&M management (tasks, plans, 运维管理, reports, violations).
    path("", include("workspace.urls_agency")),
    path("", include("workspace.urls_staff")),
    path("", include("workspace.urls_om_manage")),
    # Django's set_language (POST, CSRF): the language switch in the top bar.
    path("i18n/", include("django.conf.urls.i18n")),
]
