"""The final state must not depend on arrival order (DESIGN: offline sync semantics).

Three phones (sampler, courier, lab analyst) work offline on the same tasks. Their operation logs
are delivered once in order, and again as random batches: split anywhere, interleaved across phones,
a phone's batches out of its own order, some sent twice (a retry after a timeout). Every delivery
must end in the same tasks with the same fields.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.fieldwork.models import MonitoringTask
from server.fieldwork.services import project_assign
from sync.engine import IncomingOp, push
from tests.factories import hire, staff_account
from tests.sync.helpers import Phone

T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
NAMES = ["采样任务", "入河排口采样", "雨后补采"]
NOTES = ["", "现场有雨", "样品已冷藏", "送达实验室", "复测"]
CODES = [[], ["W-01"], ["W-01", "W-02"], ["G-07"]]
FIELD_VALUES = {"name": NAMES, "note": NOTES, "sample_codes": CODES}


@pytest.fixture
def phones(world):
    side = world.shanghai
    courier = hire(side.agency, ["courier"])
    lab = world.shanghai.project.assignments.get(post__code="lab_analyst").employment
    project_assign(project=side.project, employment=courier, post_code="courier")
    return {
        "sampler": Phone.enrol(side.field_user, clock_skew=dt.timedelta(minutes=3)),
        "courier": Phone.enrol(staff_account(side.main, courier), clock_skew=dt.timedelta(minutes=-11)),
        "lab": Phone.enrol(
            staff_account(side.main, lab), clock_skew=dt.timedelta(hours=-8)
        ),  # a phone set to UTC
        "project": side.project,
    }


edits = st.tuples(
    st.sampled_from(["courier", "lab", "sampler"]),
    st.integers(min_value=0, max_value=2),  # which task
    st.sampled_from(sorted(FIELD_VALUES)),
    st.integers(min_value=0, max_value=3),  # which value
)


@st.composite
def scenarios(draw):
    """Operation logs (as plain data) and how the network delivers them."""
    edit_list = draw(st.lists(edits, min_size=1, max_size=12))
    delete = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2)))
    # Distinct minutes for every operation: corrected times never tie within measurement noise.
    minutes = draw(st.permutations(range(len(edit_list) + 4)))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    duplicates = draw(st.integers(min_value=0, max_value=3))
    return edit_list, delete, minutes, seed, duplicates


def build_logs(phones, edit_list, delete, minutes):
    """Each phone's queue, in its own order, with its own (skewed) clock."""
    task_ids = [uuid.UUID(int=n + 1) for n in range(3)]
    logs = {"sampler": [], "courier": [], "lab": []}
    clock = iter(sorted(minutes))
    for n, task_id in enumerate(task_ids):
        logs["sampler"].append(
            ("task.create", task_id, {"project": phones["project"].pk, "name": NAMES[n]}, None)
        )
    for device, task, field, value in edit_list:
        values = FIELD_VALUES[field]
        logs[device].append(("task.update", task_ids[task], {field: values[value % len(values)]}, 1))
    if delete is not None:
        logs["sampler"].append(("task.delete", task_ids[delete], {}, 1))
    incoming = {}
    for device, entries in logs.items():
        phone = phones[device]
        ops = []
        for seq, (op_type, entity, payload, base) in enumerate(entries, start=1):
            moment = T0 + dt.timedelta(minutes=next(clock)) + phone.clock_skew
            ops.append(
                IncomingOp(
                    op_id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"{device}-{seq}")),
                    seq=seq,
                    type=op_type,
                    entity_id=str(entity),
                    base_version=base,
                    device_time=moment,
                    payload=payload,
                )
            )
        incoming[device] = ops
    return incoming


def deliver(phones, batches):
    from server.accounts.models import Device

    for device, ops in batches:
        phone = phones[device]
        push(
            user=phone.user,
            device=Device.objects.get(pk=phone.device_id),
            device_clock=phone.now(),
            ops=ops,
        )


def final_state() -> dict:
    return {
        str(task.pk): ("deleted",)
        if task.deleted_at
        else (task.name, task.note, tuple(task.sample_codes), task.status)
        for task in MonitoringTask.objects.order_by("pk")
    }


def run_isolated(phones, batches) -> dict:
    """Deliver inside a savepoint that is rolled back, so each delivery starts from the same world."""
    with transaction.atomic():
        deliver(phones, batches)
        state = final_state()
        held = sorted(
            (op.op_type, op.wait_key)
            for op in __import__("sync.models", fromlist=["Operation"]).Operation.objects.filter(
                status="held"
            )
        )
        transaction.set_rollback(True)
    return state, held


def shuffled_batches(incoming, seed, duplicates):
    rng = random.Random(seed)  # noqa: S311 (a reproducible delivery order, not a secret)
    chunks = []
    for device, ops in incoming.items():
        cuts = (
            sorted(rng.sample(range(1, len(ops)), k=min(len(ops) - 1, rng.randint(0, 3))))
            if len(ops) > 1
            else []
        )
        bounds = [0, *cuts, len(ops)]
        chunks += [(device, ops[a:b]) for a, b in itertools.pairwise(bounds) if ops[a:b]]
    rng.shuffle(chunks)
    for _ in range(duplicates):  # a retry after a timeout: the same batch again, later
        chunk = rng.choice(chunks)
        chunks.insert(rng.randint(chunks.index(chunk), len(chunks)), chunk)
    return chunks


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_any_delivery_order_converges_to_the_in_order_state(phones, scenario):
    edit_list, delete, minutes, seed, duplicates = scenario
    incoming = build_logs(phones, edit_list, delete, minutes)
    in_order, held = run_isolated(phones, [(device, ops) for device, ops in incoming.items()])
    assert held == []
    assert len(in_order) == 3
    shuffled, held = run_isolated(phones, shuffled_batches(incoming, seed, duplicates))
    assert held == []  # everything held along the way was released
    assert shuffled == in_order


def test_the_property_can_fail_without_the_merge_order_key(phones, monkeypatch):
    """Guard against a property that holds trivially: with last-arrival-wins instead of the order
    key, some delivery orders end differently."""
    import sync.merge

    def last_arrival_wins(**kwargs):
        outcome = sync.merge.MergeOutcome()
        for name, value in kwargs["changes"].items():
            if kwargs["current"].get(name) != value:
                outcome.values[name] = value
                outcome.stamps[name] = {"v": kwargs["new_version"], "k": kwargs["key"], "op": kwargs["op"]}
        return outcome

    monkeypatch.setattr(sync.merge, "merge_fields", last_arrival_wins)
    edit_list = [("courier", 0, "note", 1), ("lab", 0, "note", 2)]
    incoming = build_logs(phones, edit_list, None, list(range(6)))
    in_order, _ = run_isolated(phones, [(d, ops) for d, ops in incoming.items()])
    reversed_order, _ = run_isolated(phones, [(d, ops) for d, ops in reversed(list(incoming.items()))])
    assert in_order != reversed_order
