"""``manage.py check --deploy``: a production configuration without the personal-information keys."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register(deploy=True)
def check_pii_keys(app_configs, **kwargs):
    from server.privacy.crypto import require_keys

    try:
        require_keys()
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="Set PII_KEYS and PII_INDEX_KEY (or their *_FILE variants): server/privacy/crypto.py.",
                id="privacy.E001",
            )
        ]
    return []
