"""The workspace's O&M management pages (included by workspace/urls.py under the workspace namespace):
O&M tasks, their staff, plans and reports, 运维管理, and the agency's violations."""

from django.urls import path

from workspace.views import agency_violations, om_manage

urlpatterns: list = [
    path("om/tasks/", om_manage.task_list, name="om-tasks"),
    path("om/tasks/export", om_manage.task_export, name="om-tasks-export"),
    path("om/tasks/<int:pk>/", om_manage.task, name="om-task"),
    path("om/tasks/<int:pk>/staff", om_manage.staff_add, name="om-task-staff"),
    path("om/tasks/<int:pk>/plans", om_manage.plan_add, name="om-task-plan"),
    path("om/tasks/<int:pk>/reports", om_manage.report_add, name="om-task-report"),
    path("om/reports/<int:report_id>/file", om_manage.report_file, name="om-report-file"),
    path("om/manage/", om_manage.manage, name="om-manage"),
    # Issue F13: a task edited and finished, its plans edited, contracts edited, 信息变更申请.
    path("om/tasks/<int:pk>/edit", om_manage.task_edit, name="om-task-edit"),
    path("om/tasks/<int:pk>/finish", om_manage.task_finish, name="om-task-finish"),
    path("om/tasks/<int:pk>/reopen", om_manage.task_reopen, name="om-task-reopen"),
    path("om/plans/<int:plan_id>/edit", om_manage.plan_edit, name="om-plan-edit"),
    path("om/plans/<int:plan_id>/delete", om_manage.plan_delete, name="om-plan-delete"),
    path("om/contracts/<int:pk>/edit", om_manage.contract_edit, name="om-contract-edit"),
    path("om/changes/", om_manage.change_list, name="om-changes"),
    path("om/changes/<int:pk>/", om_manage.change, name="om-change"),
    path("om/changes/<int:pk>/accept", om_manage.change_accept, name="om-change-accept"),
    path("om/changes/<int:pk>/refuse", om_manage.change_refuse, name="om-change-refuse"),
    path("om/changes/<int:pk>/withdraw", om_manage.change_withdraw, name="om-change-withdraw"),
    path("agency/violations/", agency_violations.violation_list, name="agency-violations"),
    path("agency/violations/export", agency_violations.violation_export, name="agency-violations-export"),
    path("agency/violations/<int:pk>/", agency_violations.violation, name="agency-violation"),
    path("agency/rectifications/", agency_violations.rectification_list, name="agency-rectifications"),
    path(
        "agency/rectifications/<int:pk>/file",
        agency_violations.rectification_file,
        name="agency-rectification-file",
    ),
]
