from celery import shared_task

from sync.engine import expire_holds, release_stranded


@shared_task(name="sync.expire_holds")
def expire_holds_task() -> dict[str, int]:
    """Run hourly (CELERY_BEAT_SCHEDULE): held work past its deadline is processed or flagged."""
    return expire_holds()


@shared_task(name="sync.release_stranded")
def release_stranded_task() -> int:
    """Run every minute (CELERY_BEAT_SCHEDULE) and after pushes: held work whose prerequisite is on
    the server is retried (F10 item 1's safety net)."""
    return release_stranded()
