"""What the projects pages and a monitoring task's page show, read through ``server.access`` (a
project or task outside the user's scope is not found) and the selectors the API uses (a task's
stages, a task row's photo count). Each list is one query for its rows, related objects joined."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from media_rules.models import Photo
from mobile_api.projects import PROJECT_EVENT_ACTIONS
from mobile_api.tasks import TaskFilter, with_row_data
from server import access
from server.accounts.models import User
from server.fieldwork import services
from server.fieldwork.models import (
    MonitoringProject,
    MonitoringTask,
    ProjectAssignment,
    ProjectAttachment,
    ProjectEvent,
    TaskEvent,
)
from server.fieldwork.stages import STAGE_ORDER, task_stages
from server.maps.forms import MAX_DAYS
from server.registry.models import Enterprise
from server.tracks.models import CheckIn
from workspace.i18n import t

PAGE_SIZE = 20
S = MonitoringProject.Status
T = MonitoringTask.Status
EDITABLE = (S.UNFINISHED, S.RETURNED)  # services._ensure_editable: attachments and staff change then

PROJECT_ACTIONS = {
    "submit": ("提交审核", "Submitted"),
    "resubmit": ("退回后再提交", "Resubmitted after a return"),
    "return": ("退回", "Returned"),
    "accept": ("审核通过", "Accepted"),
    "delete": ("删除项目", "Deleted"),
}
TASK_STATUS_EN = {
    T.CREATED: "Created",
    T.RUNNING: "In progress",
    T.PAUSED: "Paused",
    T.SAVED: "Saved",
    T.ENDED: "Ended",
}
STAGE_EN = {"sampling": "Sampling", "delivery": "Delivery", "lab": "Lab analysis"}


def task_action(event: TaskEvent) -> str:
    """A task's move in the words of seed 002's buttons: 开始、暂停、继续、暂存、结束."""
    to = event.to_status
    if to == T.RUNNING:
        return t("开始", "Start") if event.from_status == T.CREATED else t("继续", "Continue")
    return {
        T.PAUSED: t("暂停", "Pause"),
        T.SAVED: t("暂存", "Save"),
        T.ENDED: t("结束", "End"),
    }.get(to, to)


def task_status_label(status: str) -> str:
    return t(T(status).label, TASK_STATUS_EN.get(status, status))


# --- The list -------------------------------------------------------------------------------------
def filter_enterprises(user: User) -> QuerySet[Enterprise]:
    """The enterprises of the projects the user sees: the list's enterprise filter."""
    return Enterprise.objects.filter(pk__in=access.projects_for(user).values("enterprise_id")).order_by(
        "name", "id"
    )


def project_page(
    user: User,
    *,
    q: str = "",
    status: str = "",
    enterprise: Enterprise | None = None,
    number: int | str = 1,
    nothing: bool = False,
) -> Page:
    """One page of the projects the user sees, newest first. The order ends with the id, so a page
    holds the same rows however often it is read (two projects registered in one instant included).
    ``nothing``: the filters were wrong, the page lists none."""
    projects = access.projects_for(user)
    if nothing:
        projects = projects.none()
    if q:
        projects = projects.filter(Q(name__icontains=q) | Q(number__icontains=q))
    if status:
        projects = projects.filter(status=status)
    if enterprise is not None:
        projects = projects.filter(enterprise=enterprise)
    projects = (
        projects.select_related("agency", "enterprise")
        .annotate(
            # distinct: a field account's scope joins the project's assignments (server.access).
            task_count=Count("tasks", filter=Q(tasks__deleted_at__isnull=True), distinct=True)
        )
        .order_by("-created_at", "-id")
    )
    return Paginator(projects, PAGE_SIZE).get_page(number)


# --- Monitoring tasks (在行项目 / 完成项目) --------------------------------------------------------
def task_page(user: User, query, *, number: int | str = 1, nothing: bool = False) -> Page:
    """One page of the monitoring tasks the user sees, newest first (the id last, so pages are
    stable), filtered by the API's own ``GET /tasks`` filters (``mobile_api.tasks.TaskFilter``) and
    with the API's row data (project, photo count, last move), in one query."""
    tasks = with_row_data(access.tasks_for(user)).select_related("project__agency", "project__enterprise")
    tasks = tasks.none() if nothing else TaskFilter(data=query, queryset=tasks).qs
    return Paginator(tasks.order_by("-created_at", "-id"), PAGE_SIZE).get_page(number)


# --- One project ----------------------------------------------------------------------------------
@dataclass
class ProjectView:
    project: MonitoringProject
    attachments: list[ProjectAttachment]
    assignments: list[ProjectAssignment]
    tasks: list[MonitoringTask]
    events: list[dict] = field(default_factory=list)

    @property
    def editable(self) -> bool:
        return self.project.status in EDITABLE

    @property
    def has_contract(self) -> bool:
        return any(a.kind == ProjectAttachment.Kind.CONTRACT for a in self.attachments)

    @cached_property
    def checklist(self) -> list[dict]:
        """必传附件: each required kind and whether a (live) one is uploaded (services' own list)."""
        present = {a.kind for a in self.attachments}
        return services.attachment_checklist(self.project, present)

    @property
    def deletable(self) -> bool:
        """Offered the 删除 button: editable and without field work (the service says so again)."""
        return self.editable and not any(task.status != T.CREATED or task.photo_count for task in self.tasks)


def visible_project(user: User, pk) -> MonitoringProject:
    return access.get_visible(
        access.projects_for(user).select_related("agency", "enterprise", "contract", "created_by__person"), pk
    )


def project_view(user: User, pk) -> ProjectView:
    project = visible_project(user, pk)
    events = []
    for event in (
        ProjectEvent.objects.filter(project=project).select_related("actor__person").order_by("at", "id")
    ):
        kind = PROJECT_EVENT_ACTIONS.get((event.from_status, event.to_status), "")
        label = PROJECT_ACTIONS.get(kind)
        events.append({"event": event, "kind": kind, "action": t(*label) if label else ""})
    return ProjectView(
        project=project,
        attachments=list(
            project.attachments.filter(deleted_at__isnull=True)
            .select_related("uploaded_by__person")
            .order_by("uploaded_at", "id")
        ),
        assignments=list(
            ProjectAssignment.objects.filter(project=project)
            .select_related("employment__person", "post")
            .order_by("post_id", "employment__person__name", "id")
        ),
        tasks=list(
            with_row_data(access.tasks_for(user).filter(project=project))
            .select_related("created_by__person")
            .order_by("-created_at", "id")
        ),
        events=events,
    )


def visible_attachment(user: User, project_pk, pk) -> ProjectAttachment:
    project = visible_project(user, project_pk)
    return access.get_visible(ProjectAttachment.objects.filter(project=project, deleted_at__isnull=True), pk)


# --- One monitoring task --------------------------------------------------------------------------
@dataclass
class StageColumn:
    stage: str
    label: str
    open: bool
    complete: bool
    types: list[dict]
    photos: list[Photo]

    @property
    def required(self) -> bool:
        """The stage has photo types the task cannot end without."""
        return any(entry["required"] for entry in self.types)


@dataclass
class TaskView:
    task: MonitoringTask
    columns: list[StageColumn]
    events: list[TaskEvent]
    checkins: list[CheckIn]
    map_start: dt.date
    map_end: dt.date


def map_window(task: MonitoringTask, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The map page's date range (both days included) that holds the task's work: from the day
    before it was created (an offline phone's clock may have been behind) to today, at most the
    map's longest range."""
    today = today or timezone.localdate()
    start = timezone.localdate(task.created_at) - dt.timedelta(days=1)
    end = max(start, min(today, start + dt.timedelta(days=MAX_DAYS - 1)))
    return start, end


def _stage_label(stage: str, label: str) -> str:
    return t(label, STAGE_EN.get(stage, label))


def task_view(user: User, task_id) -> TaskView:
    task = access.get_visible(
        with_row_data(access.tasks_for(user)).select_related(
            "project__enterprise", "project__agency", "created_by__person"
        ),
        task_id,
    )
    photos = list(
        access.photos_for(user)
        .filter(task=task)
        .select_related("photo_type", "blob", "taken_by__person")
        .order_by(Coalesce("captured_at", "recorded_at"), "id")
    )
    by_stage: dict[str, list[Photo]] = {}
    for photo in photos:
        by_stage.setdefault(photo.photo_type.stage, []).append(photo)
    columns = [
        StageColumn(
            stage=state.stage,
            label=_stage_label(state.stage, state.label),
            open=state.open,
            complete=state.complete,
            types=state.types,
            photos=by_stage.pop(state.stage, []),
        )
        for state in task_stages(task)
    ]
    # Photos of a stage the task's monitoring type no longer lists still show, after the others.
    for stage in sorted(by_stage, key=lambda s: (STAGE_ORDER.get(s, len(STAGE_ORDER)), s)):
        first = by_stage[stage][0].photo_type
        columns.append(
            StageColumn(
                stage=stage,
                label=_stage_label(stage, first.get_stage_display()),
                open=True,
                complete=True,
                types=[],
                photos=by_stage[stage],
            )
        )
    start, end = map_window(task)
    return TaskView(
        task=task,
        columns=columns,
        events=list(task.events.select_related("actor__person").order_by("at", "id")),
        checkins=list(
            access.checkins_for(user)
            .filter(task=task)
            .select_related("user__person", "outlet")
            .order_by("at", "id")
        ),
        map_start=start,
        map_end=end,
    )
