"""Names of the projects pages' codes in the user's language: ``{% load projects %}``."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import filesizeformat

from server.fieldwork.models import MonitoringProject, ProjectAttachment
from workspace import project_selectors
from workspace.i18n import t
from workspace.project_forms import ATTACHMENT_KIND_EN, COMMISSION_CATEGORY_EN, MONITORING_TYPE_EN, STATUS_EN

register = template.Library()


def _named(choices, english: dict, value: str) -> str:
    label = dict(choices).get(value)
    return t(label, english.get(value, label)) if label else value


@register.filter
def project_status(value: str) -> str:
    return _named(MonitoringProject.Status.choices, STATUS_EN, value)


@register.filter
def monitoring_type(value: str) -> str:
    return _named(MonitoringProject.MonitoringType.choices, MONITORING_TYPE_EN, value)


@register.filter
def commission_category(value: str) -> str:
    return _named(MonitoringProject.CommissionCategory.choices, COMMISSION_CATEGORY_EN, value)


@register.filter
def attachment_kind(value: str) -> str:
    return _named(ProjectAttachment.Kind.choices, ATTACHMENT_KIND_EN, value)


@register.filter
def task_status(value: str) -> str:
    return project_selectors.task_status_label(value)


@register.filter
def file_size(value: int) -> str:
    return filesizeformat(value)
