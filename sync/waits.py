"""What a held operation waits for: a ``WaitKey``, stored as one indexed string (``Operation.wait_key``).

Two families. A device's own order (``seq``: its queue has not reached this position; ``op``: an
earlier operation of the device on the same entity is held) is decided and released under the
device's sync state lock, so a hold and its release are serialised. Everything else (``entity``: an
object another phone creates; domain keys such as ``stages``: another phone's photos) is produced by
another device's transaction, which runs in parallel: the engine re-checks such a hold after its own
commit (F10 item 1), see ``sync.engine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class WaitKey:
    kind: str
    parts: tuple[str, ...]

    SEQ: ClassVar[str] = "seq"
    OP: ClassVar[str] = "op"
    ENTITY: ClassVar[str] = "entity"
    # How many parts each kind has (the last part may itself hold ":", an entity id from a phone).
    _ARITY: ClassVar[dict[str, int]] = {"seq": 2, "op": 1, "entity": 2}

    @classmethod
    def seq(cls, device_id, seq: int) -> WaitKey:
        """The device's queue reaching position ``seq``."""
        return cls(cls.SEQ, (str(device_id), str(seq)))

    @classmethod
    def op(cls, op_id) -> WaitKey:
        """The device's held operation ``op_id`` being resolved."""
        return cls(cls.OP, (str(op_id),))

    @classmethod
    def entity(cls, entity: str, entity_id) -> WaitKey:
        """An object, created by another phone, reaching the server."""
        return cls(cls.ENTITY, (entity, str(entity_id)))

    @classmethod
    def of(cls, kind: str, *parts) -> WaitKey:
        """A domain's own key (``stages`` of a task): released by the domain's ``Outcome.releases``."""
        return cls(kind, tuple(str(p) for p in parts))

    @classmethod
    def parse(cls, text: str) -> WaitKey:
        kind, _, rest = text.partition(":")
        return cls(kind, tuple(rest.split(":", cls._ARITY.get(kind, 1) - 1)))

    @classmethod
    def prefix(cls, kind: str) -> str:
        """What every stored key of ``kind`` starts with (for a query on ``Operation.wait_key``)."""
        return f"{kind}:"

    @property
    def within_device(self) -> bool:
        """Decided and released under the device's own lock: no cross-device race."""
        return self.kind in (self.SEQ, self.OP)

    def __str__(self) -> str:
        return ":".join((self.kind, *self.parts))
