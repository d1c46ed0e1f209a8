"""Paths with NUL (server/converters.py): no route matches them, so they are a 404 like any path that
names nothing. Before, ``/public/reports/%00`` (no sign-in needed) reached PostgreSQL and failed with
a 500."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import PathConverter, StringConverter
from django.urls.resolvers import RoutePattern

from server.converters import TextConverter, TextPathConverter

pytestmark = pytest.mark.django_db


def _routes(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.pattern


def test_no_api_route_takes_text_with_nul():
    permissive = [
        route
        for route, pattern in _routes(get_resolver().url_patterns)
        if route.startswith("api/")
        and isinstance(pattern, RoutePattern)
        and any(type(c) in (StringConverter, PathConverter) for c in pattern.converters.values())
    ]
    assert not permissive, f"use <text:…> or <textpath:…> (server/converters.py): {permissive}"
    used = {
        type(c)
        for route, pattern in _routes(get_resolver().url_patterns)
        if isinstance(pattern, RoutePattern)
        for c in pattern.converters.values()
    }
    assert {TextConverter, TextPathConverter} <= used


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/public/reports/%00",
        "/api/v1/public/reports/a/%00/b",
        "/api/v1/audit/task/%00",
        "/api/v1/om/days/%00",
        "/api/v1/media/%00",
    ],
)
def test_a_path_with_nul_is_a_404(client_for, world, path):
    answer = client_for(world.shanghai.main).get(path)
    assert answer.status_code == 404, answer.content
    assert answer.json()["code"] == "not_found"
