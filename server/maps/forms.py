"""The map page's filters: a date range (local dates, both included) and a task or an O&M task.

A task the user does not see is refused like one that does not exist ("invalid choice"), so that the
filter does not tell which ids exist.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from server.access import om_tasks_for, tasks_for
from server.accounts.models import User
from server.fieldwork.models import MonitoringTask
from server.maps.selectors import MapFilters, filter_choices
from server.om.models import OmTask

DEFAULT_DAYS = 7
MAX_DAYS = 366


def task_label(task: MonitoringTask) -> str:
    return f"{task.project.name} · {task.name} ({timezone.localtime(task.created_at):%Y-%m-%d})"


def om_task_label(task: OmTask) -> str:
    return f"{task.number} {task.name}"


class MapFilterForm(forms.Form):
    start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))
    task = forms.ModelChoiceField(label="监测任务", queryset=MonitoringTask.objects.none(), required=False)
    om_task = forms.ModelChoiceField(label="运维任务", queryset=OmTask.objects.none(), required=False)

    def __init__(self, query, *, user: User, with_choices: bool = False) -> None:
        super().__init__(with_default_dates(query))
        # Validation against everything the user sees; the lists offer the latest only.
        self.fields["task"].queryset = tasks_for(user).select_related("project")
        self.fields["om_task"].queryset = om_tasks_for(user)
        if with_choices:
            tasks, om_tasks = filter_choices(user)
            self.fields["task"].widget.choices = [("", "全部"), *((t.pk, task_label(t)) for t in tasks)]
            self.fields["om_task"].widget.choices = [
                ("", "全部"),
                *((t.pk, om_task_label(t)) for t in om_tasks),
            ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = cleaned["start"], cleaned["end"]
        if start > end:
            self.add_error("end", "结束日期不能早于开始日期。")
        elif (end - start).days >= MAX_DAYS:
            self.add_error("end", f"日期范围最长 {MAX_DAYS} 天。")
        if cleaned.get("task") and cleaned.get("om_task"):
            self.add_error("om_task", "监测任务与运维任务只能选其一。")
        return cleaned

    def filters(self) -> MapFilters:
        """The validated filters, the dates as aware instants in the display time zone."""
        data = self.cleaned_data
        return MapFilters(
            start=_local_midnight(data["start"]),
            end=_local_midnight(data["end"] + dt.timedelta(days=1)),
            task=data.get("task"),
            om_task=data.get("om_task"),
        )


def with_default_dates(query):
    """The query with the dates it leaves out: the last DEFAULT_DAYS days up to ``end`` (today)."""
    data = query.copy()
    if not data.get("end"):
        data["end"] = timezone.localdate().isoformat()
    if not data.get("start"):
        try:
            end = dt.date.fromisoformat(data["end"])
        except ValueError:
            end = timezone.localdate()  # the end field reports the bad value
        data["start"] = (end - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    return data


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
