"""The Celery app. Settings come from Django's (the CELERY_* names in server/settings.py).

Without CELERY_BROKER_URL the tasks run inline (``task_always_eager``): ``make run`` needs no
worker. Production sets the broker (Redis) and runs ``celery -A server worker``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("fieldtrace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
