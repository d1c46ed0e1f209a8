"""The production server's allocator setting (server/gunicorn_conf.py ``tune_malloc``): a photo-sized
buffer comes from the heap, and its memory stays in the worker for the next request instead of being
mapped and unmapped (page by page faulted in again) each time."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: the setting is process-wide, and must not leak into the test run.
PROBE = """
import ctypes, json, os, sys
os.environ["GUNICORN_MALLOC_KEEP_MB"] = sys.argv[1]
import server.gunicorn_conf as conf

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
before = libc.mallinfo2()
block = bytearray(6 * 1024 * 1024)  # a phone photo's bytes
during = libc.mallinfo2()
del block
after = libc.mallinfo2()
print(json.dumps({
    "tuned": conf.malloc_tuned,
    "mapped_for_block": during.hblkhd - before.hblkhd,
    "heap_free_after": after.fordblks,
}))
"""


def _probe(keep_mb: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, keep_mb], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_photo_sized_buffer_comes_from_the_heap_and_its_memory_is_kept_for_the_next_request():
    tuned = _probe("32")
    assert tuned["tuned"] is True
    assert tuned["mapped_for_block"] == 0
    assert tuned["heap_free_after"] >= 6 * 1024 * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_turned_off_glibc_maps_a_photo_sized_buffer_on_its_own():
    default = _probe("0")
    assert default["tuned"] is False
    assert default["mapped_for_block"] >= 6 * 1024 * 1024
