"""Without a broker, queued work runs inline and says nothing about a broker (F10 item 9: every
manage command that queued work logged kombu's "No hostname was supplied")."""

from tests.conftest import run_django

CODE = """
import logging
logging.basicConfig(level=logging.WARNING)
from server.celery import app
assert app.conf.task_always_eager
# Celery 5's eager apply_async takes a producer from the pool: the path that warned.
with app.producer_or_acquire(None):
    pass
print("ok")
"""


def test_no_broker_warning_when_tasks_run_inline(tmp_path):
    done = run_django(CODE, {"SECRET_KEY": "x", "VAR_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "hostname" not in done.stderr.lower(), done.stderr
