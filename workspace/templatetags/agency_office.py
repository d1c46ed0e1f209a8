"""Names of the agency office pages' codes in the user's language: ``{% load agency_office %}``."""

from __future__ import annotations

from django import template

from workspace import agency_selectors as reads

register = template.Library()

register.filter("acceptance", reads.acceptance_label)
register.filter("contract_status", reads.contract_status_label)
register.filter("nature", reads.nature_label)
register.filter("role_name", reads.role_label)
register.filter("outlet_kind", reads.outlet_kind_label)
register.filter("filing_status", reads.filing_status_label)
