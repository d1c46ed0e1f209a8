"""Settings of the gunicorn server that bench/photo_http.py starts: Fieldtrace's own settings, plus
one bench-only URL (the floor's sink, bench/_http_urls.py) and a Celery queue of the bench's own, so
the background tasks its uploads queue can be dropped afterwards without touching anyone else's."""

import os

from server.settings import *  # noqa: F403

ROOT_URLCONF = "bench._http_urls"
CELERY_TASK_DEFAULT_QUEUE = os.environ["BENCH_CELERY_QUEUE"]
