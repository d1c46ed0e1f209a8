"""The Django project: settings, urls, the Celery app and the domain apps."""

from server.celery import app as celery_app

__all__ = ["celery_app"]
