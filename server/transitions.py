"""State machines as tables, and the one function that applies them.

A machine names the status field, the allowed moves ``(from, to) -> roles that may make them``, the
targets that need a reason, and the history model that gets one row per move, written in the same
transaction. Nothing else assigns a status field (rule in DESIGN.md: "State machines are tables").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone

from server.errors import DomainError, ErrorCode


@dataclass(frozen=True)
class StateMachine:
    status_field: str
    moves: dict[tuple[str, str], set[str]]
    history: type[models.Model]
    history_fk: str
    not_allowed: ErrorCode
    actor_not_allowed: ErrorCode
    reason_required: ErrorCode
    needs_reason: set[str] = field(default_factory=set)
    reason_field: str = ""  # where the latest reason is kept on the object, if anywhere
    # What the actor is, for the table: their account role by default; a task's machine asks which
    # posts the actor holds on the task's project (sampler, courier, lab analyst).
    roles_of: Callable[[models.Model, object], set[str]] | None = None

    def label(self, model: type[models.Model], value: str) -> str:
        return dict(model._meta.get_field(self.status_field).choices).get(value, value)

    @transaction.atomic
    def apply(
        self,
        obj: models.Model,
        *,
        to: str,
        actor,
        reason: str = "",
        check: Callable[[models.Model, str], None] | None = None,
        at=None,
    ) -> models.Model:
        """Move ``obj`` to ``to`` if the table allows it for the actor's role; ``check`` adds the
        machine's own conditions (it raises DomainError). ``at`` is when the move was made (a
        phone's corrected clock for offline work; now by default). Returns the object as saved."""
        model = type(obj)
        obj = model.objects.select_for_update().get(pk=obj.pk)
        current = getattr(obj, self.status_field)
        roles = self.moves.get((current, to))
        if roles is None:
            raise DomainError(
                self.not_allowed,
                details={"from": current, "to": to},
                from_status=self.label(model, current),
                to_status=self.label(model, to),
            )
        held = self.roles_of(obj, actor) if self.roles_of is not None else {actor.role}
        if not held & roles:
            raise DomainError(self.actor_not_allowed)
        reason = reason.strip()
        if to in self.needs_reason and not reason:
            raise DomainError(self.reason_required)
        if check is not None:
            check(obj, to)
        setattr(obj, self.status_field, to)
        changed = [self.status_field]
        if self.reason_field:
            setattr(obj, self.reason_field, reason if to in self.needs_reason else "")
            changed.append(self.reason_field)
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            changed.append("updated_at")
        obj.save(update_fields=changed)
        self.history.objects.create(
            **{self.history_fk: obj},
            from_status=current,
            to_status=to,
            actor=actor,
            reason=reason,
            at=at or timezone.now(),
        )
        return obj

    def roles_into(self, to: str) -> set[str]:
        """Every role that may make some move into ``to``."""
        return set().union(*(roles for (_, target), roles in self.moves.items() if target == to))

    def replay(self, obj: models.Model, *, initial: str) -> bool:
        """Derive ``obj``'s status from its whole history in time order (``at``, then arrival): each
        row whose move the table allows from where the replay stands is applied, the others are
        kept unapplied. Moves made offline on several devices arrive in any order; replaying them in
        the order they were made gives the same status whatever the order of arrival. History rows
        need ``from_status`` and ``applied`` fields; roles were checked when each row was written.
        Returns whether the status changed; the caller saves ``obj``."""
        current = initial
        rows = list(self.history.objects.filter(**{self.history_fk: obj}).order_by("at", "id"))
        for row in rows:
            fits = row.to_status != current and (current, row.to_status) in self.moves
            if (row.from_status, row.applied) != (current, fits):
                row.from_status, row.applied = current, fits
                row.save(update_fields=["from_status", "applied"])
            if fits:
                current = row.to_status
        changed = getattr(obj, self.status_field) != current
        setattr(obj, self.status_field, current)
        return changed
