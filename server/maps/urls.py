from django.urls import path

from server.maps import views

app_name = "maps"

urlpatterns = [
    path("", views.map_page, name="map"),
    path("data", views.map_data, name="data"),
    path("login/", views.MapLoginView.as_view(), name="login"),
    path("logout/", views.MapLogoutView.as_view(), name="logout"),
]
