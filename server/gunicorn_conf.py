"""gunicorn settings for production: ``gunicorn -c server/gunicorn_conf.py server.wsgi``.

Every value can be set from the environment (the names gunicorn itself reads, GUNICORN_*), so one file
serves a laptop, CI's production-mode tests and a province's app servers (docs/deployment.md).

- Sync workers, one request at a time each: the work of a request is CPU (photo decode, EXIF, JSON)
  and database round trips, not long waits, and a sync worker that is killed mid-request loses only
  that request, which the phone retries (every write is idempotent).
- Workers default to 2 x CPUs + 1, gunicorn's own advice; a photo upload holds its worker for
  about 50 ms of CPU, so more workers than that only queue on the CPUs.
- ``max_requests`` recycles a worker now and then, so a slow leak in a library cannot grow forever.
- ``timeout`` kills a worker stuck past 60 s (a 30 MB upload over a slow link is read by the
  front proxy, which buffers request bodies; see the guide).
- glibc's allocator keeps the memory of big buffers for reuse (``tune_malloc``): a photo upload
  allocates its 3-8 MB several times over (the body's pieces, the file joined, the copy written), and
  by default each such block is a fresh mmap whose every page faults in, then is given back to the
  kernel when freed. Reused, the same work costs a tenth (bench/RESULTS.md). A worker's resident
  memory then stays at its largest request's (GUNICORN_MALLOC_KEEP_MB=0 turns this off).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 500))
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
# The access log's request lines and referers with ID numbers, tokens and the like masked (F9 item 11).
logger_class = "server.logmask.MaskedAccessLogger"
errorlog = "-"
# gunicorn 25+ opens a control socket in $HOME by default; several servers on one host (and the
# tests) would fight over it, and nothing here uses it.
control_socket_disable = True
# Behind nginx or a cloud load balancer: trust its X-Forwarded-* from these addresses only. By default
# the proxies the application trusts for X-Forwarded-For (TRUSTED_PROXIES, F9 item 8), so that one
# list says who the proxies are; without either, the local host.
forwarded_allow_ips = (
    os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS")
    or os.environ.get("TRUSTED_PROXIES", "").strip()
    or "127.0.0.1"
)


# glibc mallopt() parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def tune_malloc(keep_mb: int) -> bool:
    """Blocks up to ``keep_mb`` MB come from the heap and freed memory stays in the worker, instead of
    glibc's default of an mmap per block over 128 KB-32 MB that is unmapped again when freed.
    Set in the master before it forks, so every worker inherits it. False where the C library is not
    glibc (nothing changes there)."""
    if keep_mb <= 0:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    keep = keep_mb * 1024 * 1024
    return bool(mallopt(M_MMAP_THRESHOLD, keep)) and bool(mallopt(M_TRIM_THRESHOLD, 4 * keep))


malloc_tuned = tune_malloc(int(os.environ.get("GUNICORN_MALLOC_KEEP_MB", 32)))
