"""A photo's page: the picture (through the API's file endpoints, which check the same scope), its
verdict, and each finding in words with the evidence behind it as a table."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from workspace import selectors
from workspace.pages import page, render_page


@page()
def photo(request: HttpRequest, photo_id) -> HttpResponse:
    detail = selectors.photo_detail(request.user, photo_id)
    return render_page(request, "workspace/photo.html", detail)
