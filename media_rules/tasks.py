from celery import shared_task

from media_rules import background


@shared_task(name="media_rules.process_blob", acks_late=True)
def process_blob(sha256: str) -> bool:
    """Thumbnail, perceptual hashes and the person check of a stored file; then its photos are judged."""
    return background.process_blob(sha256)


@shared_task(name="media_rules.reevaluate_site", acks_late=True)
def reevaluate_site(outlet_id: int) -> int:
    """A site was moved or its geofence changed: judge its photos again. Returns how many."""
    from media_rules.services import reevaluate_site as judge_site_photos
    from server.registry.models import Outlet

    outlet = Outlet.objects.filter(pk=outlet_id).first()
    return judge_site_photos(outlet) if outlet is not None else 0


@shared_task(name="media_rules.reevaluate_photos", acks_late=True)
def reevaluate_photos(job_id: str, agency=None, task=None, since=None, process=False) -> int:
    """Platform staff's 重新判定 (workspace): judge the chosen photos again, keeping the progress in
    the cache for the page. Returns how many verdicts changed."""
    import datetime as dt

    from media_rules.reevaluation import run_job

    day = dt.date.fromisoformat(since) if since else None
    return run_job(job_id, agency=agency, task=task, since=day, process=process).changed


@shared_task(name="media_rules.expire_uploads")
def expire_uploads() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): abandoned resumable uploads and their chunks are removed."""
    from media_rules.intake import expire_uploads as expire

    return expire()


@shared_task(name="media_rules.process_pending")
def process_pending() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): files whose background work was lost are processed."""
    return background.process_pending()
