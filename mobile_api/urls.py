from django.urls import path

from mobile_api.views import MetaView

app_name = "mobile_api"

urlpatterns = [
    path("meta", MetaView.as_view(), name="meta"),
]
