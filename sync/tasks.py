from celery import shared_task

from sync.engine import expire_holds


@shared_task(name="sync.expire_holds")
def expire_holds_task() -> dict[str, int]:
    """Run hourly (CELERY_BEAT_SCHEDULE): held work past its deadline is processed or flagged."""
    return expire_holds()
