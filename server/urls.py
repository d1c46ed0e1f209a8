from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from server.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include("mobile_api.urls")),
    path("admin/", admin.site.urls),
    path("map/", include("server.maps.urls")),
    path("app/", include("field_app.urls")),  # the field app (外业端)
    path("", include("workspace.urls")),  # the web workspace: / and its pages
]

handler400 = "server.errors.bad_request"
handler403 = "server.errors.permission_denied"
handler404 = "server.errors.page_not_found"
handler500 = "server.errors.server_error"
