"""The workspace's staff pages (included by workspace/urls.py under the workspace namespace)."""

from django.urls import path

from workspace.views import staff

urlpatterns: list = [
    path("staff/", staff.staff_list, name="staff"),
    path("staff/export", staff.staff_export, name="staff-export"),
    path("staff/new/", staff.staff_new, name="staff-new"),
    path("staff/import/", staff.staff_import, name="staff-import"),
    path("staff/import/template", staff.staff_template, name="staff-template"),
    path("staff/<int:pk>/", staff.staff_person, name="staff-person"),
    path("staff/<int:pk>/edit", staff.staff_edit, name="staff-edit"),
    path("staff/<int:pk>/certificates", staff.certificate_add, name="staff-certificate"),
    path("staff/<int:pk>/depart", staff.staff_depart, name="staff-depart"),
    path("staff/<int:pk>/documents", staff.document_add, name="staff-document-add"),
    path("staff/<int:pk>/documents/<int:document_id>/file", staff.document_file, name="staff-document-file"),
    path(
        "staff/<int:pk>/documents/<int:document_id>/delete",
        staff.document_delete,
        name="staff-document-delete",
    ),
]
