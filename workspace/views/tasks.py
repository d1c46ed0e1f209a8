"""A monitoring task's page (seed 002 任务详情, 监测航迹): its stages side by side (sampling →
delivery → lab) with each photo's thumbnail and verdict, its moves (开始、暂停、继续、暂存、结束) in
Asia/Shanghai, its check-ins, and its track and check-ins on the map page's Leaflet map (the same
static files, tile settings and GeoJSON endpoint as ``server.maps``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode

from server import access
from server.accounts.models import AGENCY_ROLES, Role
from server.maps.views import tile_layers
from workspace import project_selectors as selectors
from workspace.nav import PROJECT_ROLES
from workspace.pages import page, render_page
from workspace.project_forms import TaskFilterForm


@page(roles=PROJECT_ROLES)
def task_list(request: HttpRequest) -> HttpResponse:
    """监测任务: the tasks the user sees (a field account: those of its projects), running or finished,
    searched by name, by project, by the day created; 20 a page; the export gives what is filtered
    through the API's ``GET /tasks/export`` (the same filters, the same scope)."""
    user = request.user
    projects = None
    if user.role in AGENCY_ROLES:
        projects = access.projects_for(user).order_by("-created_at", "-id")
    form = TaskFilterForm(request.GET or None, projects=projects)
    valid = form.is_valid() or not form.is_bound
    query = request.GET.copy()
    query.pop("page", None)
    results = selectors.task_page(user, query, number=request.GET.get("page") or 1, nothing=not valid)
    export = query.copy()
    export["format"] = "xlsx"
    context = {
        "form": form,
        "results": results,
        "query": query.urlencode(),
        "export": f"{reverse('mobile_api:task-export')}?{export.urlencode()}",
        "status_labels": {s: selectors.task_status_label(s) for s in selectors.T.values},
    }
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        return render_page(request, "workspace/partials/task_panel.html", context)
    return render_page(request, "workspace/tasks.html", context, active="tasks")


@page(roles=PROJECT_ROLES)
def task(request: HttpRequest, task_id) -> HttpResponse:
    view = selectors.task_view(request.user, task_id)
    query = {
        "task": str(view.task.pk),
        "start": view.map_start.isoformat(),
        "end": view.map_end.isoformat(),
    }
    context = {
        "view": view,
        "task": view.task,
        "status_label": selectors.task_status_label(view.task.status),
        "reviews": request.user.role == Role.REGULATOR,
        "events": [{"event": e, "action": selectors.task_action(e)} for e in view.events],
        "map_data_url": f"{reverse('maps:data')}?{urlencode(query)}",
        "map_page_url": f"{reverse('maps:map')}?{urlencode(query)}",
        "tile_system": settings.MAP_TILE_SYSTEM,
        "leaflet_overrides": {"TILES": tile_layers()},
    }
    active = "review" if context["reviews"] else "projects"
    return render_page(request, "workspace/task.html", context, active=active)
