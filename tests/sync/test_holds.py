"""Held work is released whatever the timing (F10 item 1), and a rejected operation keeps its place in
its device's order (F10 item 2).

Parallel pushes on PostGIS are played for real in tests/e2e/test_sync_race_live.py. Here the same
race is played in-process as the interleaving it produces: one phone's transaction checks for a task
while another phone's transaction creating it has not committed, so the check reads "absent" although
the task is on the server by the time the hold commits, and the creator's look-up of what waits on
the task ran before the hold was visible. The engine must release such a hold by itself.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.fieldwork.models import MonitoringTask
from sync import engine
from sync.models import DeviceSyncState, Operation
from sync.waits import WaitKey
from tests.sync.helpers import Phone
from tests.sync.test_convergence import build_logs, phones, run_isolated, scenarios, shuffled_batches
from tests.sync.test_push import create, team

__all__ = ["phones", "team"]  # fixtures


# --- F10 item 2: a rejected operation keeps its place ---------------------------------------------------


def reuse(phone: Phone, op_id: str, task_id, payload: dict) -> dict:
    """The phone's next operation, sent (by a client bug) under an op id it used before."""
    return phone.op("task.update", task_id, payload, base_version=1) | {"op_id": op_id}


def test_an_op_id_reused_under_a_new_seq_is_rejected_and_its_seq_is_taken(team):
    sampler = team["sampler"]
    task_id, first = create(sampler, team["project"])
    sampler.push([first])
    reused = reuse(sampler, first["op_id"], task_id, {"note": "改过的"})  # seq 2
    later = sampler.op("task.update", task_id, {"note": "之后的"}, base_version=1)  # seq 3

    results = sampler.push([reused, later]).json()["results"]

    assert results[0] == {
        "op_id": first["op_id"],
        "status": "rejected",
        "code": "op_id_reused",
        "details": None,
        "message": "该操作编号已用于内容不同的另一操作，未应用。",
    }
    assert results[1]["status"] == "applied"  # not held on seq 2 until the deadline
    row = Operation.objects.get(device_id=sampler.device_id, seq=2)
    assert (row.status, row.op_type, row.payload, row.wait_key) == (
        "rejected",
        "task.update",
        {"note": "改过的"},
        "",
    )
    assert row.result["code"] == "op_id_reused"
    assert row.result["op_id"] == first["op_id"]  # the phone's op id, in what it is answered
    assert str(row.op_id) != first["op_id"]  # the first operation keeps its own
    state = DeviceSyncState.objects.get(device_id=sampler.device_id)
    assert (state.next_seq, state.held_ops) == (4, 0)
    assert MonitoringTask.objects.get(pk=task_id).note == "之后的"

    again = sampler.push([reused]).json()["results"][0]  # the same mistake sent again
    assert (again["status"], again["code"]) == ("rejected", "op_id_reused")
    assert Operation.objects.filter(device_id=sampler.device_id).count() == 3


def test_a_reused_op_id_ahead_of_the_queue_waits_only_for_its_place(team):
    sampler = team["sampler"]
    task_id, first = create(sampler, team["project"])
    sampler.push([first])
    gap = sampler.op("task.update", task_id, {"note": "补上的"}, base_version=1)  # seq 2, comes last
    reused = reuse(sampler, first["op_id"], task_id, {"name": "改过的"})  # seq 3
    later = sampler.op("task.update", task_id, {"sample_codes": ["W-01"]}, base_version=1)  # seq 4

    rejected, waiting = sampler.push([reused, later]).json()["results"]
    assert (rejected["status"], rejected["code"]) == ("rejected", "op_id_reused")
    assert waiting["status"] == "held"
    assert waiting["waits_for"] == {"kind": "device_seq", "seq": 2}  # only the seq that never arrived
    place = Operation.objects.get(device_id=sampler.device_id, seq=3)
    assert (place.status, place.wait_key) == ("held", str(WaitKey.seq(sampler.device_id, 3)))
    assert place.result["code"] == "op_id_reused"

    assert sampler.push([gap]).json()["results"][0]["status"] == "applied"

    rows = dict(Operation.objects.filter(device_id=sampler.device_id).values_list("seq", "status"))
    assert rows == {1: "applied", 2: "applied", 3: "rejected", 4: "applied"}
    place.refresh_from_db()
    assert (place.result["code"], place.wait_key, place.waits_for) == ("op_id_reused", "", None)
    state = DeviceSyncState.objects.get(device_id=sampler.device_id)
    assert (state.next_seq, state.held_ops) == (5, 0)
    task = MonitoringTask.objects.get(pk=task_id)
    assert (task.name, task.note, task.sample_codes) == ("采样任务", "补上的", ["W-01"])


# --- F10 item 1: the safety net ---------------------------------------------------------------------------


@contextlib.contextmanager
def lost_release():
    """A commit whose release never ran (the process died between the two)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_held_on", lambda key: [])
        yield


def strand(team):
    """The courier's transition held on a task that then arrives without releasing it."""
    sampler, courier = team["sampler"], team["courier"]
    task_id, _ = create(sampler, team["project"])
    move = courier.op("task.transition", task_id, {"to": "running"})
    assert courier.push([move]).json()["results"][0]["status"] == "held"
    with lost_release():
        assert sampler.push().json()["results"][0]["status"] == "applied"
    row = Operation.objects.get(op_id=move["op_id"])
    assert (row.status, row.wait_key) == ("held", f"entity:task:{task_id}")
    return task_id, row


def test_the_safety_net_releases_held_work_whose_prerequisite_is_on_the_server(team, settings):
    settings.SYNC_STRANDED_CHECK_SECONDS = 0
    task_id, row = strand(team)
    waiting = team["courier"].op("task.update", uuid.uuid4(), {"note": "x"}, base_version=1)
    team["courier"].push([waiting])  # held on a task that is nowhere: the net leaves it

    assert engine.release_stranded() == 1

    row.refresh_from_db()
    assert (row.status, row.wait_key, row.result["status"]) == ("applied", "", "applied")
    assert MonitoringTask.objects.get(pk=task_id).status == "running"
    assert Operation.objects.get(op_id=waiting["op_id"]).status == "held"
    assert engine.release_stranded() == 0


def test_the_safety_net_releases_a_devices_own_queue_too(team, settings):
    settings.SYNC_STRANDED_CHECK_SECONDS = 0
    sampler = team["sampler"]
    task_id, first = create(sampler, team["project"])
    second = sampler.op("task.update", task_id, {"note": "第二"}, base_version=1)
    assert sampler.push([second]).json()["results"][0]["waits_for"] == {"kind": "device_seq", "seq": 1}
    with lost_release():
        assert sampler.push([first]).json()["results"][0]["status"] == "applied"
    assert Operation.objects.get(op_id=second["op_id"]).status == "held"

    assert engine.release_stranded() == 1

    assert Operation.objects.get(op_id=second["op_id"]).status == "applied"
    assert MonitoringTask.objects.get(pk=task_id).note == "第二"


def test_the_safety_net_runs_after_a_push(team, settings, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    settings.SYNC_STRANDED_CHECK_SECONDS = 0
    task_id, row = strand(team)
    settings.SYNC_STRANDED_CHECK_SECONDS = 5
    cache.delete("sync:stranded-check")
    with django_capture_on_commit_callbacks(execute=True):
        create(team["sampler"], team["project"], name="别的任务")
        team["sampler"].push(team["sampler"].queue[-1:])  # any push, on any task
    row.refresh_from_db()
    assert row.status == "applied"
    assert MonitoringTask.objects.get(pk=task_id).status == "running"


def test_the_net_is_scheduled_every_minute():
    from django.conf import settings as django_settings

    assert django_settings.CELERY_BEAT_SCHEDULE["sync-release-stranded"] == {
        "task": "sync.release_stranded",
        "schedule": 60.0,
    }


# --- F10 item 1: holds decided on a stale read, over any delivery order ------------------------------------


class StaleChecks:
    """Makes chosen look-ups of an entity read "absent" as a transaction running in parallel with
    the one creating it would. Never where the creator's look-up of waiters must have been seen:
    not in the re-check an operation makes after its own hold committed (the creator committed
    before its look-up of waiters, which ran before that hold committed, or it would have seen the
    hold), and not for an operation already held on that very key (the creator's look-up finds it,
    and retries it after its own commit)."""

    def __init__(self, stale: set[int]):
        self.stale, self.calls, self.rechecks = stale, 0, set()
        self.in_recheck, self.held_on = False, ""

    @contextlib.contextmanager
    def installed(self):
        on_server, hold, release_one = engine._on_server, engine._hold, engine._release_one

        def checked(name, entity_id, user):
            self.calls += 1
            present = on_server(name, entity_id, user)
            may_be_stale = not self.in_recheck and self.held_on != str(WaitKey.entity(name, entity_id))
            return present and not (may_be_stale and self.calls in self.stale)

        def holding(row, *args, **kwargs):
            after = hold(row, *args, **kwargs)
            self.rechecks.update(a for a in after if isinstance(a, int))
            return after

        def releasing(pk):
            self.in_recheck = pk in self.rechecks
            self.rechecks.discard(pk)
            self.held_on = Operation.objects.filter(pk=pk).values_list("wait_key", flat=True).first()
            try:
                return release_one(pk)
            finally:
                self.in_recheck, self.held_on = False, ""

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(engine, "_on_server", checked)
            patch.setattr(engine, "_hold", holding)
            patch.setattr(engine, "_release_one", releasing)
            yield


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios(), stale=st.sets(st.integers(min_value=1, max_value=40), max_size=12))
def test_a_hold_decided_on_a_stale_read_is_released_whatever_the_order(phones, scenario, stale):
    edit_list, delete, minutes, seed, duplicates = scenario
    incoming = build_logs(phones, edit_list, delete, minutes)
    in_order, _ = run_isolated(phones, list(incoming.items()))
    with StaleChecks(stale).installed():
        raced, held = run_isolated(phones, shuffled_batches(incoming, seed, duplicates))
    assert held == []  # nothing stays held once what it waits for is on the server
    assert raced == in_order


def test_the_property_can_fail_without_the_recheck_after_commit(phones, monkeypatch):
    """Guard against a property that holds trivially: when a hold is not re-checked after its commit,
    a stale read leaves it held."""
    edit_list = [("courier", 0, "note", 1)]
    incoming = build_logs(phones, edit_list, None, list(range(6)))
    batches = [("sampler", incoming["sampler"]), ("courier", incoming["courier"])]
    monkeypatch.setattr(WaitKey, "within_device", property(lambda self: True))
    with StaleChecks({1}).installed():
        _, held = run_isolated(phones, batches)
    assert held == [("task.update", f"entity:task:{uuid.UUID(int=1)}")]
