"""The field app (外业端) at /app/: one page for every client-side route, its manifest, its icons
and its service worker. Everything else it needs is static (static/field_app/) or the API."""

from django.urls import path, re_path

from field_app import views

app_name = "field_app"

urlpatterns = [
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("icon-<int:size>.png", views.icon, name="icon"),
    # The routes (sign-in, tasks, a task…) are the app's own: the server gives the shell for all.
    path("", views.shell, name="shell"),
    re_path(r"^[\w\-/]+$", views.shell, name="route"),
]
