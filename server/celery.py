"""The Celery app. Settings come from Django's (the CELERY_* names in server/settings.py).

Without CELERY_BROKER_URL the tasks run inline (``task_always_eager``): ``make run`` needs no
worker. Production sets the broker (Redis) and runs ``celery -A server worker``.
"""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("fieldtrace")
app.config_from_object("django.conf:settings", namespace="CELERY")
if not settings.CELERY_BROKER_URL:
    # Inline tasks still take a producer from the pool (Celery 5's eager apply_async): with no broker
    # named that is amqp with no host, and kombu logged "No hostname was supplied" on every command
    # that queued work (F10 item 9). The in-memory transport needs no host and sends nothing.
    app.conf.broker_url = "memory://localhost/"
app.autodiscover_tasks()
