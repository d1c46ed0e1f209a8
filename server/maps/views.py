"""The map page (server-rendered, Leaflet from django-leaflet's static files) and its GeoJSON.

Signed in with Django's session: regulators see their region, agency accounts their agency, as
``server.access`` scopes everything else. The page is HTML; its data endpoint answers errors in the
API's one JSON shape.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from server.errors import NOT_AUTHENTICATED, VALIDATION_FAILED, error_response
from server.maps.forms import MapFilterForm
from server.maps.selectors import LIMITS, map_features


def tile_layers() -> list[tuple[str, str, dict]]:
    """django-leaflet's TILES from the settings now (LEAFLET_CONFIG is read once, at import)."""
    return [("底图", settings.MAP_TILE_URL, {"attribution": settings.MAP_TILE_ATTRIBUTION, "maxZoom": 18})]


@never_cache
@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("maps:login"))
    form = MapFilterForm(request.GET, user=request.user, with_choices=True)
    data_url = None
    if form.is_valid():
        query = {key: value for key, value in form.data.items() if key in form.fields and value}
        data_url = f"{reverse('maps:data')}?{urlencode(query)}"
    context = {
        "form": form,
        "data_url": data_url,
        "tile_system": settings.MAP_TILE_SYSTEM,
        "leaflet_overrides": {"TILES": tile_layers()},
        "limits": LIMITS,
    }
    return render(request, "maps/map.html", context)


@never_cache
@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return error_response(request, NOT_AUTHENTICATED)
    form = MapFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        details = {field: [str(message) for message in errors] for field, errors in form.errors.items()}
        return error_response(request, VALIDATION_FAILED, details=details)
    body = map_features(request.user, form.filters(), system=settings.MAP_TILE_SYSTEM)
    return JsonResponse(body, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False})


class MapLoginView(LoginView):
    """Sign-in for the map page: any account (regulators and agency staff are not admin staff)."""

    template_name = "maps/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("maps:map")


class MapLogoutView(LogoutView):
    next_page = reverse_lazy("maps:login")
