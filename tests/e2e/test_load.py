"""Load (F8), bounded for CI: 200 phones push a short field day each, all at once, to the production
server (gunicorn) on a fresh database of the suite's kind; none gets an error, and every operation,
task, track point, photo and check-in is stored exactly once (bench/load.py has the day, the figures
and the checks; ``python bench/load.py --phones 200`` is the full-size run)."""

import pytest

from bench.load import SMALL, plan_phones, run_load, server_log_problems, setup_world, verify
from tests.e2e.live import Server, django_env, fresh_database, manage

pytestmark = pytest.mark.slow

PHONES = 200


def workers(database_url: str) -> int:
    # SpatiaLite has one writer at a time, waiting on a busy timeout without a queue (settings:
    # timeout 20 s, rollback journal): on a loaded 2-CPU machine, a worker can wait out the timeout
    # behind the others' back-to-back transactions ("database is locked", a 503). PostGIS is the
    # production database and gets the concurrency.
    return 1 if database_url.startswith("spatialite") else 3


def test_200_phones_push_a_field_day_without_an_error_and_each_operation_is_stored_once(tmp_path):
    with fresh_database(tmp_path) as database_url:
        env = django_env(database_url, tmp_path)
        manage(env, "migrate", "--noinput")
        world = setup_world(env, PHONES)
        plans = plan_phones(world, SMALL, seed=8)
        server = Server(env, tmp_path / "server.log", gunicorn_workers=workers(database_url)).start()
        try:
            report = run_load(server.url, world, plans, SMALL, timeout=90)
        finally:
            server.stop()
        print(f"\n{database_url.split(':', 1)[0]}, gunicorn {workers(database_url)} workers")
        print(report.text())
        for line, count in server_log_problems(tmp_path / "server.log").most_common(10):
            print(f"server log: {line} (x{count})")
        problems = verify(env, world, plans, tmp_path)

    assert report.error_count == 0, report.text()
    sent = sum(len(plan.ops) for plan in plans)
    assert report.ops == sent
    assert set(report.op_answers) == {"applied"}
    assert report.resent_answers["duplicate"] > 0  # the resends were exercised
    assert set(report.resent_answers) == {"duplicate"}
    assert report.photos == sum(len(plan.photos) for plan in plans)
    assert len(report.latencies["GET /sync/pull"]) >= 2 * PHONES
    assert problems == []
