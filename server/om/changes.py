"""Editing a contract or an O&M task, and 信息变更申请 (seed 003: 合同管理 and 运维任务管理 each list one).

What the enterprise has agreed to is not changed behind its back:

- a contract the enterprise has not accepted yet (待企业确认 / 已拒绝) is edited by its agency freely;
  once accepted, an edit becomes a change request;
- an O&M task without records is edited freely; once records exist (work the enterprise confirms
  was done under these terms), an edit becomes a change request.

A change request is decided as a contract's acceptance is (``registry.services._party_of``): the
enterprise's own account or a regulator of its region accepts or refuses it (with a reason); the
agency that asked may withdraw it. Until then the values in force stay as they are and the request is
shown beside them. One request waits per contract or task at a time. Accepting applies the asked
values with the same checks as a direct edit, in the transaction of the move.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from server.access import region_prefix
from server.accounts.models import Role, User
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.om import errors
from server.om.models import ChangeRequest, ChangeRequestEvent, OmTask
from server.om.services import ensure_task_active
from server.registry import errors as registry_errors
from server.registry.models import Contract
from server.transitions import StateMachine

# The fields an edit may change, with their labels (shown beside the values in force).
CONTRACT_FIELDS = {
    "number": "合同编号",
    "title": "合同标题",
    "amount": "合同金额（元）",
    "starts_on": "履行开始",
    "ends_on": "履行结束",
}
TASK_FIELDS = {
    "name": "任务名称",
    "starts_on": "任务开始日期",
    "ends_on": "任务结束日期",
    "geofence_policy": "签到超出围栏时",
}
CR = ChangeRequest.Status
DECIDERS = {Role.ENTERPRISE, Role.REGULATOR, Role.PLATFORM}
AGENCY_ADMINS = {Role.AGENCY_MAIN, Role.AGENCY_MANAGER}
CHANGE = StateMachine(
    status_field="status",
    moves={
        (CR.PENDING, CR.ACCEPTED): DECIDERS,
        (CR.PENDING, CR.REFUSED): DECIDERS,
        (CR.PENDING, CR.WITHDRAWN): AGENCY_ADMINS,
    },
    history=ChangeRequestEvent,
    history_fk="request",
    not_allowed=errors.OM_CHANGE_TRANSITION_NOT_ALLOWED,
    actor_not_allowed=errors.OM_CHANGE_ACTOR_NOT_ALLOWED,
    reason_required=errors.OM_CHANGE_REFUSAL_REASON_REQUIRED,
    needs_reason={CR.REFUSED},
    reason_field="refusal_reason",
)


# --- Values as text (a request stores {field: text}) ---------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip() if value is not None else ""


def _value(field: str, text: str) -> Any:
    if field in ("starts_on", "ends_on"):
        return dt.date.fromisoformat(text)
    if field == "amount":
        return Decimal(text)
    return text


def _asked(obj, allowed: dict[str, str], fields: dict[str, Any]) -> tuple[dict, dict]:
    """(changes, before): the fields whose asked value differs from the stored one, as text."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    changes, before = {}, {}
    for name, value in fields.items():
        if value is None:
            continue
        new, old = _text(value), _text(getattr(obj, name))
        if name == "amount":  # 1200 and 1200.00 are the same amount
            try:
                if Decimal(new) == Decimal(old):
                    continue
            except InvalidOperation:
                raise DomainError(VALIDATION_FAILED, details={"amount": ["合同金额须为数字。"]}) from None
        if new != old:
            changes[name], before[name] = new, old
    if not changes:
        raise DomainError(errors.OM_CHANGE_NOTHING)
    return changes, before


def changes_shown(request: ChangeRequest) -> list[dict]:
    """[{field, label, before, after}] for a page or an answer."""
    labels = CONTRACT_FIELDS if request.contract_id else TASK_FIELDS
    return [
        {
            "field": name,
            "label": labels.get(name, name),
            "before": request.before.get(name, ""),
            "after": value,
        }
        for name, value in request.changes.items()
    ]


# --- Applying ---------------------------------------------------------------------------------------
def _apply_contract(contract: Contract, changes: dict[str, str], actor: User | None) -> Contract:
    contract = Contract.objects.select_for_update().select_related("enterprise").get(pk=contract.pk)
    before = audit.snapshot(contract)
    for name, text in changes.items():
        setattr(contract, name, _value(name, text))
    contract.number, contract.title = contract.number.strip(), contract.title.strip()
    if not contract.number or not contract.title:
        field = "number" if not contract.number else "title"
        raise DomainError(VALIDATION_FAILED, details={field: ["不能为空。"]})
    if contract.amount < 0:
        raise DomainError(VALIDATION_FAILED, details={"amount": ["合同金额不能为负数。"]})
    if contract.ends_on < contract.starts_on:
        raise DomainError(VALIDATION_FAILED, details={"ends_on": ["履行结束不能早于履行开始。"]})
    taken = Contract.objects.filter(agency_id=contract.agency_id, number=contract.number)
    if taken.exclude(pk=contract.pk).exists():
        raise DomainError(registry_errors.CONTRACT_NUMBER_TAKEN, number=contract.number)
    contract.save(update_fields=list(changes))
    audit.record(
        "contract.updated",
        subject=contract,
        actor=actor,
        summary=f"修改合同：{contract.number} {contract.title}",
        changes=audit.diff(before, contract),
        agency_id=contract.agency_id,
        enterprise_id=contract.enterprise_id,
        region_code=contract.enterprise.region_code,
    )
    return contract


def _apply_task(task: OmTask, changes: dict[str, str], actor: User | None) -> OmTask:
    task = OmTask.objects.select_for_update().select_related("contract__enterprise").get(pk=task.pk)
    ensure_task_active(task)
    before = audit.snapshot(task)
    for name, text in changes.items():
        setattr(task, name, _value(name, text))
    task.name = task.name.strip()
    if not task.name:
        raise DomainError(VALIDATION_FAILED, details={"name": ["不能为空。"]})
    if task.geofence_policy not in dict(OmTask._meta.get_field("geofence_policy").choices):
        raise DomainError(VALIDATION_FAILED, details={"geofence_policy": ["无效的选项。"]})
    if task.ends_on < task.starts_on:
        raise DomainError(VALIDATION_FAILED, details={"ends_on": ["任务结束日期不能早于开始日期。"]})
    # A plan's window lies within its task's period (om_plan_add): a period that drops a plan's
    # days would leave occurrences of a task that no longer runs then.
    outside = task.plans.exclude(window_start__gte=task.starts_on, window_end__lte=task.ends_on).first()
    if outside is not None:
        raise DomainError(
            errors.OM_TASK_PERIOD_EXCLUDES_PLANS, details={"plan": outside.pk}, title=outside.title
        )
    task.save(update_fields=list(changes))
    audit.record(
        "om_task.updated",
        subject=task,
        actor=actor,
        summary=f"修改运维任务：{task.number} {task.name}",
        changes=audit.diff(before, task),
    )
    return task


def _request(subject, *, agency_id, enterprise, changes, before, actor, explanation) -> ChangeRequest:
    field = "contract" if isinstance(subject, Contract) else "task"
    if ChangeRequest.objects.filter(**{field: subject}, status=CR.PENDING).exists():
        raise DomainError(errors.OM_CHANGE_PENDING)
    request = ChangeRequest.objects.create(
        **{field: subject},
        agency_id=agency_id,
        enterprise=enterprise,
        changes=changes,
        before=before,
        explanation=explanation.strip(),
        requested_by=actor,
        requested_at=timezone.now(),
    )
    ChangeRequestEvent.objects.create(
        request=request, from_status=CR.PENDING, to_status=CR.PENDING, actor=actor, at=request.requested_at
    )
    audit.record(
        f"{'contract' if field == 'contract' else 'om_task'}.change_requested",
        subject=subject,
        actor=actor,
        summary=f"提交信息变更申请：{'、'.join(changes)}",
        changes={name: [before[name], value] for name, value in changes.items()},
        agency_id=agency_id,
        enterprise_id=enterprise.pk,
        region_code=enterprise.region_code,
    )
    return request


def _decides(enterprise, actor: User) -> None:
    """The enterprise's own account, a regulator of its region, or the platform (as a contract's
    acceptance, registry.services.ACCEPTANCE_TRANSITIONS)."""
    if actor.role == Role.ENTERPRISE and actor.enterprise_id == enterprise.pk:
        return
    if actor.role == Role.REGULATOR and enterprise.region_code.startswith(region_prefix(actor.region_code)):
        return
    if actor.role == Role.PLATFORM:
        return
    raise DomainError(errors.OM_CHANGE_ACTOR_NOT_ALLOWED)


def _own(agency_id: int, actor: User) -> None:
    if actor.role not in AGENCY_ADMINS or actor.agency_id != agency_id:
        raise DomainError(errors.OM_EDIT_NOT_ALLOWED)


# --- Public -----------------------------------------------------------------------------------------
@transaction.atomic
def contract_update(
    *, contract: Contract, actor: User, explanation: str = "", **fields: Any
) -> Contract | ChangeRequest:
    """Edit a contract: applied at once while it is not accepted (the result is the contract), a
    信息变更申请 once it is (the result is the request; the contract is unchanged)."""
    contract = Contract.objects.select_for_update().select_related("enterprise").get(pk=contract.pk)
    _own(contract.agency_id, actor)
    changes, before = _asked(contract, CONTRACT_FIELDS, fields)
    if contract.acceptance != Contract.Acceptance.ACCEPTED:
        return _apply_contract(contract, changes, actor)
    # Check now what accepting would check, so that the enterprise is never asked to accept a
    # change that cannot be applied.
    sid = transaction.savepoint()
    _apply_contract(contract, changes, actor)
    transaction.savepoint_rollback(sid)
    return _request(
        contract,
        agency_id=contract.agency_id,
        enterprise=contract.enterprise,
        changes=changes,
        before=before,
        actor=actor,
        explanation=explanation,
    )


@transaction.atomic
def om_task_update(
    *, task: OmTask, actor: User, explanation: str = "", **fields: Any
) -> OmTask | ChangeRequest:
    """Edit an O&M task: applied at once while it has no records, a 信息变更申请 once it has."""
    task = OmTask.objects.select_for_update().select_related("contract__enterprise").get(pk=task.pk)
    _own(task.agency_id, actor)
    ensure_task_active(task)
    changes, before = _asked(task, TASK_FIELDS, fields)
    if not task.records.exists():
        return _apply_task(task, changes, actor)
    sid = transaction.savepoint()
    _apply_task(task, changes, actor)
    transaction.savepoint_rollback(sid)
    return _request(
        task,
        agency_id=task.agency_id,
        enterprise=task.contract.enterprise,
        changes=changes,
        before=before,
        actor=actor,
        explanation=explanation,
    )


def change_request_move(*, request: ChangeRequest, to: str, actor: User, reason: str = "") -> ChangeRequest:
    """Accept, refuse (with a reason) or withdraw a change request; accepting applies it, all in
    one transaction with the history row."""

    def check(obj: ChangeRequest, target: str) -> None:
        if target == CR.WITHDRAWN:
            _own(obj.agency_id, actor)
        else:
            _decides(obj.enterprise, actor)

    with transaction.atomic():
        request = CHANGE.apply(request, to=to, actor=actor, reason=reason, check=check)
        if to == CR.ACCEPTED:
            if request.contract_id:
                _apply_contract(request.contract, request.changes, actor)
            else:
                _apply_task(request.task, request.changes, actor)
    return request


def pending_for(*, contract: Contract | None = None, task: OmTask | None = None) -> ChangeRequest | None:
    """The request waiting beside a contract or task, if any (shown next to the values in force)."""
    if contract is not None:
        return ChangeRequest.objects.filter(contract=contract, status=CR.PENDING).first()
    return ChangeRequest.objects.filter(task=task, status=CR.PENDING).first()
