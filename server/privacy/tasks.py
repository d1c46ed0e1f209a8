from celery import shared_task


@shared_task(name="privacy.daily")
def daily() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE ``privacy-daily``): seal face photo files still plain, then delete
    personal data past its retention period (server/privacy/retention.py)."""
    from media_rules.private_files import seal_pending
    from server.privacy.retention import purge_expired

    sealed = seal_pending()
    run = purge_expired()
    return {"sealed": sealed, "track_points": run.track_points, "face_photos": run.face_photos}
