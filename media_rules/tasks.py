from celery import shared_task

from media_rules import background


@shared_task(name="media_rules.process_blob", acks_late=True)
def process_blob(sha256: str) -> bool:
    """Thumbnail, perceptual hashes and the person check of a stored file; then its photos are judged."""
    return background.process_blob(sha256)
