"""``{% load om_manage %}``: the O&M management pages' codes in the user's language (a task's status
and kind, a staff role, a plan's frequency and state, a report's category, a violation's status and a
rectification's outcome), and the badge each state is shown with."""

from __future__ import annotations

from django import template

from server.om import plans
from server.om.models import OmPlan, OmReport, OmTask, OmTaskStaff
from server.registry.models import OutletKind
from server.violations.models import Rectification, Violation
from workspace import om_manage_forms as names

register = template.Library()

STATE_BADGES = {
    plans.State.DONE: "ok",
    plans.State.OPEN: "warn",
    plans.State.OVERDUE: "fail",
    plans.State.UPCOMING: "muted",
}
OUTCOME_BADGES = {
    Rectification.Outcome.PENDING: "warn",
    Rectification.Outcome.ACCEPTED: "ok",
    Rectification.Outcome.REJECTED: "fail",
}


@register.filter
def om_task_status(value: str) -> str:
    return names.named(OmTask.Status.choices, names.TASK_STATUS_EN, value)


@register.filter
def outlet_kind(value: str) -> str:
    return names.named(OutletKind.choices, names.KIND_EN, value)


@register.filter
def staff_role(value: str) -> str:
    return names.named(OmTaskStaff.Role.choices, names.STAFF_ROLE_EN, value)


@register.filter
def frequency(value: str) -> str:
    return names.named(OmPlan.Frequency.choices, names.FREQUENCY_EN, value)


@register.filter
def report_category(value: str) -> str:
    return names.named(OmReport.Category.choices, names.CATEGORY_EN, value)


@register.filter
def plan_state(value: str) -> str:
    return names.named(plans.STATE_LABELS.items(), names.STATE_EN, value)


@register.filter
def plan_state_badge(value: str) -> str:
    return STATE_BADGES.get(value, "muted")


@register.filter
def violation_status(value: str) -> str:
    return names.named(Violation.Status.choices, names.VIOLATION_STATUS_EN, value)


@register.filter
def rectification_outcome(value: str) -> str:
    return names.named(Rectification.Outcome.choices, names.OUTCOME_EN, value)


@register.filter
def outcome_badge(value: str) -> str:
    return OUTCOME_BADGES.get(value, "muted")


@register.simple_tag
def contract_change(contract) -> dict:
    """The 信息变更申请 waiting beside a contract (``changes.pending_for``), with its fields' labels,
    for the contract's page: ``{"pending": request or None, "changes": [...]}``."""
    from server.om import changes

    pending = changes.pending_for(contract=contract)
    return {"pending": pending, "changes": changes.changes_shown(pending) if pending else []}
