"""``/`` and each role's home page (首页)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from server.accounts.models import AGENCY_ROLES, Role
from server.evidence.selectors import QUEUE_ROLES
from workspace import nav, selectors
from workspace.forms import DayForm
from workspace.pages import page, render_page


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("workspace:index"), reverse("workspace:sign-in"))
    return redirect(nav.home_url(request.user))


@page(roles=AGENCY_ROLES)
def agency_home(request: HttpRequest) -> HttpResponse:
    sections = selectors.agency_home(request.user)
    return render_page(
        request,
        "workspace/home_agency.html",
        {"sections": sections, "today": timezone.localdate()},
        active="home",
    )


@page(roles={Role.ENTERPRISE})
def enterprise_home(request: HttpRequest) -> HttpResponse:
    days = selectors.pending_days(request.user)
    form = DayForm(request.GET or None)
    day = None
    if form.is_valid():
        day = form.cleaned_data["date"]
    if day is None and not form.errors:
        day = days[0]["date"] if days else timezone.localdate()
        form = DayForm(initial={"date": day})  # the day shown, in the field
    records = selectors.day_records(request.user, day) if day is not None else []
    return render_page(
        request,
        "workspace/home_enterprise.html",
        {"form": form, "days": days, "day": day, "records": records},
        active="home",
    )


def _overview(request: HttpRequest, template: str) -> HttpResponse:
    user = request.user
    queue = selectors.evidence_queue(user) if user.role in QUEUE_ROLES else []
    return render_page(
        request,
        template,
        {"counts": selectors.region_counts(user), "queue": queue},
        active="home",
    )


@page(roles={Role.PLATFORM})
def platform_home(request: HttpRequest) -> HttpResponse:
    return _overview(request, "workspace/home_platform.html")
