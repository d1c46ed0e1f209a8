"""System checks for the notifications app's settings."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_wechat_subscribe_templates(app_configs, **kwargs):
    """A broken template would only show as failed sends at the first reminder: refuse it at start."""
    from server.notifications.reminders import PLACEHOLDERS
    from server.notifications.wechat_messages import template_problems

    return [
        Error(
            f"WECHAT_SUBSCRIBE_TEMPLATES: {problem}",
            hint='Expected {"<kind>": {"template_id": "...", "page": "...", "fields": {"thing1": "{...}"}}}.',
            id="notifications.E001",
        )
        for problem in template_problems(settings.WECHAT_SUBSCRIBE_TEMPLATES, PLACEHOLDERS)
    ]
