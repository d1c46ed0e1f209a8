"""Who sees which violations and rectifications: regulators and platform administrators those of
the projects and O&M tasks they can see; agency accounts their agency's (field staff: the projects
and O&M tasks they are on; reviewers: all projects, the O&M tasks they are on); enterprises and
everyone else nothing. Outside the scope an object is not found (404)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from server import access
from server.accounts.models import AGENCY_ROLES, Role, User
from server.violations.models import Rectification, Violation, overdue_expression

SEES_VIOLATIONS = {Role.PLATFORM, Role.REGULATOR, *AGENCY_ROLES}


def violations_for(user: User) -> QuerySet[Violation]:
    if user.role not in SEES_VIOLATIONS:
        return Violation.objects.none()
    if user.role == Role.PLATFORM:
        return Violation.objects.all()
    return Violation.objects.filter(
        Q(project__in=access.projects_for(user)) | Q(om_task__in=access.om_tasks_for(user))
    )


def rectifications_for(user: User) -> QuerySet[Rectification]:
    """Each row annotated with its violation's ``violation_overdue``."""
    return Rectification.objects.filter(violation__in=violations_for(user)).annotate(
        violation_overdue=overdue_expression(prefix="violation__")
    )


def access_violation(user: User, pk, **kw) -> Violation:
    return access.get_visible(violations_for(user).with_overdue(), pk, **kw)
