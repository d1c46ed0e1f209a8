"""Platform staff's long work in the workspace: 重新判定 (judging stored photos again after the rules
or thresholds changed), started here, run by a Celery worker (media_rules.tasks.reevaluate_photos,
the loop ``manage.py photos_reevaluate`` runs too), its progress shown as it goes."""

from __future__ import annotations

import time
import uuid

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from media_rules import reevaluation
from media_rules.tasks import reevaluate_photos
from server.accounts.models import Role
from server.errors import NOT_FOUND, DomainError
from server.fieldwork.models import MonitoringTask
from server.registry.models import Agency
from workspace.i18n import t
from workspace.pages import page, render_page


class ReevaluateForm(forms.Form):
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), required=False)
    task = forms.UUIDField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    process = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["agency"].queryset = Agency.objects.order_by("name", "id")
        fields["agency"].label = t("机构", "Agency")
        fields["agency"].empty_label = t("全部机构", "All agencies")
        fields["task"].label = t("监测任务编号", "Monitoring task id")
        fields["task"].error_messages["invalid"] = t(
            "请输入任务编号（UUID）。", "Enter the task's id (a UUID)."
        )
        fields["since"].label = t("登记日期自", "Recorded since")
        fields["process"].label = t(
            "同时补做缺失的后台处理（缩略图、指纹、人像检查）",
            "Also do missing background work (thumbnails, hashes, person check)",
        )

    def clean_task(self):
        task = self.cleaned_data.get("task")
        if task and not MonitoringTask.objects.filter(pk=task).exists():
            raise forms.ValidationError(t("没有这个监测任务。", "No such monitoring task."))
        return task


@page(roles={Role.PLATFORM})
@require_http_methods(["GET", "POST"])
def reevaluate(request: HttpRequest) -> HttpResponse:
    form = ReevaluateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job_id = uuid.uuid4()
        reevaluation.save_progress(job_id, reevaluation.Progress(started=time.time()))
        arguments = {
            "agency": data["agency"].pk if data["agency"] else None,
            "task": str(data["task"]) if data["task"] else None,
            "since": data["since"].isoformat() if data["since"] else None,
            "process": data["process"],
        }
        # After the answer's transaction: the worker reads what is committed.
        transaction.on_commit(lambda: reevaluate_photos.delay(str(job_id), **arguments))
        return redirect("workspace:platform-reevaluate-job", job_id=job_id)
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "workspace/platform/reevaluate.html", {"form": form}, status=status, active="reevaluate"
    )


@page(roles={Role.PLATFORM})
def reevaluate_job(request: HttpRequest, job_id) -> HttpResponse:
    progress = reevaluation.read_progress(job_id)
    if progress is None:
        raise DomainError(NOT_FOUND)
    context = {"progress": progress, "job_id": job_id}
    if request.headers.get("HX-Request"):
        return render_page(request, "workspace/platform/partials/reevaluate_progress.html", context)
    return render_page(request, "workspace/platform/reevaluate_job.html", context, active="reevaluate")
