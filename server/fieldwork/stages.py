"""A monitoring task's stages (seed 002 拍照 → 照片类型): sampling, then delivery, then the lab.

A photo's type fixes its stage. Which types a monitoring type takes, and which are required, is data
(``TaskPhotoType``). Seed 002: 采样作业照片、采样点现场照片为必传项，完成后才能进行送样照片的上传，送样照片
上传后才能进行实验室分析照片的上传，当实验室分析完成后，任务才能结束. So a stage opens when every
required type of the stages before it is on the task, and the task ends when every required type is.

Whether the photos were *taken* in that order is judged on their verified capture times by the photo
rules (``stage_order_violated``), not here: here only what the server holds counts, and an offline
phone's photo for a stage not open yet is held by the sync engine until the earlier photos arrive
(the wait key below), while the online endpoint answers 409 ``photo_stage_not_open``.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import DomainError
from server.fieldwork import errors
from server.fieldwork.models import MonitoringTask, TaskPhotoType
from sync.waits import WaitKey

# The photo stages that follow one another on a task; other stages (a work photo) stand apart.
STAGE_ORDER = {"sampling": 0, "delivery": 1, "lab": 2}


def stage_wait_key(task_id) -> WaitKey:
    """What a sync operation held for a task's earlier photos waits on; a new photo on the task
    releases it."""
    return WaitKey.of("stages", task_id)


@dataclass(frozen=True)
class StageState:
    stage: str
    label: str
    types: list[dict]  # code, name, hint, required, photos (how many the task has)
    open: bool  # its photos may be taken (the earlier stages' required photos are in)
    complete: bool  # every required type has a photo


def _catalogue(monitoring_type: str) -> list[TaskPhotoType]:
    return list(
        TaskPhotoType.objects.filter(monitoring_type=monitoring_type)
        .select_related("photo_type")
        .order_by("photo_type__position", "photo_type__code")
    )


def _present(task: MonitoringTask) -> dict[str, int]:
    from django.db.models import Count

    return dict(
        task.photos.values_list("photo_type_id").annotate(n=Count("id")).values_list("photo_type_id", "n")
    )


def task_stages(task: MonitoringTask) -> list[StageState]:
    """The task's stages in order, with their photo types, what is in and what is open."""
    catalogue = _catalogue(task.project.monitoring_type)
    present = _present(task)
    by_stage: dict[str, list[TaskPhotoType]] = {}
    for entry in catalogue:
        by_stage.setdefault(entry.photo_type.stage, []).append(entry)
    ordered = sorted(by_stage, key=lambda stage: (STAGE_ORDER.get(stage, len(STAGE_ORDER)), stage))
    out: list[StageState] = []
    earlier_complete = True
    for stage in ordered:
        entries = by_stage[stage]
        complete = all(present.get(e.photo_type_id) for e in entries if e.required)
        in_order = stage in STAGE_ORDER
        label = entries[0].photo_type.get_stage_display()
        types = [
            {
                "code": e.photo_type_id,
                "name": e.photo_type.name,
                "hint": e.photo_type.hint,
                "required": e.required,
                "photos": present.get(e.photo_type_id, 0),
            }
            for e in entries
        ]
        out.append(
            StageState(
                stage=stage,
                label=label,
                types=types,
                open=earlier_complete or not in_order,
                complete=complete,
            )
        )
        if in_order:
            earlier_complete = earlier_complete and complete
    return out


def missing_required_photos(task: MonitoringTask) -> list[str]:
    """The required photo types the task has no photo of yet (their names), in stage order."""
    return [t["name"] for s in task_stages(task) for t in s.types if t["required"] and not t["photos"]]


def ensure_photo_allowed(task: MonitoringTask, photo_type) -> None:
    """A photo of this type may be recorded on the task now: its type belongs to the task's monitoring
    type, and the required photos of the stages before its stage are in."""
    catalogue = _catalogue(task.project.monitoring_type)
    if photo_type.pk not in {e.photo_type_id for e in catalogue}:
        raise DomainError(
            errors.PHOTO_TYPE_NOT_FOR_TASK,
            details={"allowed": [e.photo_type_id for e in catalogue]},
            photo_type=photo_type.name,
            monitoring_type=task.project.get_monitoring_type_display(),
        )
    rank = STAGE_ORDER.get(photo_type.stage)
    if rank is None:
        return
    needed = [e for e in catalogue if e.required and STAGE_ORDER.get(e.photo_type.stage, rank) < rank]
    if not needed:  # a photo of the first stage: no earlier photos to count
        return
    present = _present(task)
    missing = [e.photo_type.name for e in needed if not present.get(e.photo_type_id)]
    if missing:
        raise DomainError(
            errors.PHOTO_STAGE_NOT_OPEN,
            details={"missing": missing, "stage": photo_type.stage},
            stage=photo_type.get_stage_display(),
            missing="、".join(missing),
        )
