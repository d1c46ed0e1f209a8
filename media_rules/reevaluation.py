"""Judging stored photos again (after the rules or thresholds changed, or to catch up on background
work), with its progress: one loop for the command line (``manage.py photos_reevaluate``) and for
platform staff's page in the workspace, where a Celery worker runs it and the page reads the
progress it keeps in the cache (Redis in production) under the job's id."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from media_rules.background import process_blob
from media_rules.models import Photo
from media_rules.services import rejudge

# How long a job's progress is kept after its last step: long enough to come back to the page.
PROGRESS_TTL_S = 24 * 3600


@dataclass
class Progress:
    total: int = 0
    done: int = 0
    changed: int = 0
    processed: int = 0
    finished: bool = False
    started: float = 0.0  # time.time()
    error: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.finished else 0.0)

    @property
    def percent(self) -> int:
        return int(self.fraction * 100)


def photos(*, agency: int | None = None, task=None, since: dt.date | None = None) -> QuerySet[Photo]:
    """The photos to judge again: all, or one agency's, one task's, those recorded since a day."""
    qs = Photo.objects.all()
    if agency:
        qs = qs.filter(agency_id=agency)
    if task:
        qs = qs.filter(task_id=task)
    if since:
        qs = qs.filter(recorded_at__gte=timezone.make_aware(dt.datetime.combine(since, dt.time())))
    return qs


def run(
    qs: QuerySet[Photo], *, process: bool = False, step: Callable[[Progress], None] | None = None
) -> Progress:
    """Judge each photo of ``qs`` again (and, with ``process``, do its file's missing background
    work), oldest first; ``step`` is told the progress after each photo."""
    progress = Progress(total=qs.count(), started=time.time())
    for photo in qs.order_by("recorded_at", "id").only("pk", "blob_id").iterator(chunk_size=500):
        if process and photo.blob_id:
            progress.processed += process_blob(photo.blob_id)
        progress.changed += rejudge(photo) is not None
        progress.done += 1
        if step is not None:
            step(progress)
    progress.finished = True
    if step is not None:
        step(progress)
    return progress


def _key(job_id) -> str:
    return f"photos-reevaluate:{job_id}"


def read_progress(job_id) -> Progress | None:
    stored = cache.get(_key(job_id))
    return Progress(**stored) if stored else None


def save_progress(job_id, progress: Progress) -> None:
    cache.set(_key(job_id), asdict(progress), PROGRESS_TTL_S)


def run_job(job_id, *, agency=None, task=None, since=None, process=False) -> Progress:
    """A job started from the workspace: its progress in the cache every 1 % (and at the end)."""
    last = [-1]

    def step(progress: Progress) -> None:
        if progress.finished or progress.percent != last[0]:
            last[0] = progress.percent
            save_progress(job_id, progress)

    try:
        return run(photos(agency=agency, task=task, since=since), process=process, step=step)
    except Exception as exc:  # the page says it stopped rather than waiting for ever
        failed = read_progress(job_id) or Progress()
        failed.finished, failed.error = True, type(exc).__name__
        save_progress(job_id, failed)
        raise
