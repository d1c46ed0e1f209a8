"""Field-by-field merge of concurrent updates, independent of arrival order.

Every change to a field carries an order key: ``[base_version, corrected_time_us, device_id, seq]``.
A field's value is the value of the change with the greatest key (a max-register), which is the same
whichever order the changes arrive in. The key puts what a writer had seen first: a change made on top
of version v sorts after every change that produced v or an earlier version, so a phone that saw a
value and then changed it always wins over that value.

Two changes to the same field clash when neither writer saw the other's (the field was set at a
version above the incoming change's base): both values are kept for review, whichever one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Key = list  # [base_version: int, corrected_time_us: int, device_id: str, seq: int]


@dataclass(frozen=True)
class Clash:
    field: str
    kept: Any
    other: Any
    kept_op: int | None
    other_op: int | None


@dataclass
class MergeOutcome:
    values: dict[str, Any] = field(default_factory=dict)  # fields to write
    stamps: dict[str, dict] = field(default_factory=dict)  # new stamps of all touched fields
    clashes: list[Clash] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.values)


def merge_fields(
    *,
    current: dict[str, Any],
    stamps: dict[str, dict],
    changes: dict[str, Any],
    base_version: int,
    key: Key,
    new_version: int,
    op: int | None = None,
) -> MergeOutcome:
    """Decide, field by field, what an update does to a record.

    ``stamps[field]`` is ``{"v": version that set it, "k": its key, "op": operation pk or None}``.
    """
    outcome = MergeOutcome()
    for name, incoming in changes.items():
        stamp = stamps.get(name)
        present = current.get(name)
        concurrent = stamp is not None and stamp["v"] > base_version
        if incoming == present:
            if stamp is None or key > stamp["k"]:
                outcome.stamps[name] = {"v": stamp["v"] if stamp else new_version, "k": key, "op": op}
            continue
        if stamp is None or key > stamp["k"]:
            outcome.values[name] = incoming
            outcome.stamps[name] = {"v": new_version, "k": key, "op": op}
            if concurrent:
                outcome.clashes.append(Clash(name, incoming, present, op, stamp["op"]))
        elif concurrent:
            outcome.clashes.append(Clash(name, present, incoming, stamp["op"], op))
        # else: unreachable — a writer that saw the stamp has a greater key (see the module doc).
    return outcome
