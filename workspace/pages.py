"""How a workspace view answers: signed in or sent to the sign-in page, the page rendered with the
top bar and the navigation, and a domain error shown as a page (not found outside the scope, as the
API answers 404) rather than the API's JSON."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.views.decorators.cache import never_cache

from server.errors import NOT_FOUND, DomainError, ErrorCode
from workspace import nav
from workspace.i18n import message_language


def use_chosen_language(request: HttpRequest) -> None:
    """Chinese unless the user chose English with the switch (Django's language cookie). The browser's
    Accept-Language is not asked: an office PC set to English still gets the Chinese workspace; the
    API keeps following Accept-Language."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or ""
    language = "en" if chosen.lower().startswith("en") else "zh-hans"
    translation.activate(language)
    request.LANGUAGE_CODE = language


def render_page(
    request: HttpRequest, template: str, context: dict | None = None, *, status: int = 200, active: str = ""
) -> HttpResponse:
    user = request.user
    base = {"active": active}
    if user.is_authenticated:
        base |= {
            "me": {
                "name": nav.display_name(user),
                "role": nav.role_label(user),
                "organisation": nav.organisation(user),
            },
            "navigation": nav.navigation(user),
        }
    response = render(request, template, base | (context or {}), status=status)
    # server.errors.JsonErrorMiddleware turns every HTML error into the API's JSON; a page that
    # answers 404 or 429 itself is meant for a person and stays HTML.
    response.workspace_page = True
    return response


def error_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    status = error.error.status
    if status == 404:
        return render_page(request, "workspace/not_found.html", status=404)
    message = error.error.message(message_language(), **error.params)
    return render_page(request, "workspace/error.html", {"message": message}, status=status)


def status_page(request: HttpRequest, error: ErrorCode, status: int, params: dict) -> HttpResponse:
    """An error that no workspace view answered itself (a CSRF failure, a method the page does not
    take, a mistyped address, a 500) as a page in the person's language: server.errors routes it here
    (``settings.PERSON_ERROR_VIEW``)."""
    use_chosen_language(request)
    message = error.message(message_language(), **params)
    if status >= 500:
        # The database or the session may be what failed: no user, no navigation, no messages.
        try:
            response = render(
                request, "workspace/error.html", {"message": message, "bare": True}, status=status
            )
        except Exception:  # the last answer must not fail too
            response = HttpResponse(
                f"<!doctype html><title>{status}</title><p>{escape(message)}</p>", status=status
            )
        response.workspace_page = True
        return response
    if status == 404:
        return render_page(request, "workspace/not_found.html", status=404)
    return render_page(request, "workspace/error.html", {"message": message}, status=status)


def page(roles: Iterable[str] | None = None) -> Callable:
    """A signed-in page. ``roles``: the roles it is for; anyone else gets "not found", as an object
    outside the scope does (``server.access``)."""
    allowed = set(roles) if roles is not None else None

    def decorate(view: Callable) -> Callable:
        @never_cache
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            use_chosen_language(request)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("workspace:sign-in"))
            try:
                if allowed is not None and request.user.role not in allowed:
                    raise DomainError(NOT_FOUND)
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error_page(request, exc)

        return wrapped

    return decorate
