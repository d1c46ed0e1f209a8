"""Whether an account may still act, and ending every sign-in of one that may not (F9 item 7: a
departed employee's token still read projects, photos, exports and pulls).

The rule is checked where a request becomes a user, so that it holds for every scope by design:
password sign-in and Django sessions (``backends.InServiceBackend``), device tokens
(``services.token_lookup``) and every token issued (``services.token_issue``). An account tied to
a person (field and reviewer accounts) is in service while that person is on the active staff of
the account's agency; accounts of no person (an agency's main account, managers, regulators,
enterprises, platform administrators) while they are active.

Lower floor: only accounts and registry models, so that the registry's departure can call it.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from server.accounts.models import DeviceToken, User
from server.registry.models import Employment


def in_service_q(prefix: str = "") -> Q:
    """The rule as a filter on users (``prefix``: the path to the user, e.g. ``"user__"``)."""
    employed = Employment.objects.filter(
        person_id=OuterRef(f"{prefix}person_id"),
        agency_id=OuterRef(f"{prefix}agency_id"),
        status=Employment.Status.ACTIVE,
    )
    return Q(**{f"{prefix}is_active": True}) & (
        Q(**{f"{prefix}person__isnull": True}) | Q(**{f"{prefix}agency__isnull": True}) | Q(Exists(employed))
    )


def in_service(user: User) -> bool:
    if not user.is_active:
        return False
    if user.person_id is None or user.agency_id is None:
        return True
    return Employment.objects.filter(
        person_id=user.person_id, agency_id=user.agency_id, status=Employment.Status.ACTIVE
    ).exists()


def sign_out_everywhere(*, user: User, actor: User | None) -> None:
    """Revoke the user's device tokens and end its Django sessions (back office, admin site)."""
    now = timezone.now()
    DeviceToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now, revoked_by=actor)
    _end_sessions(user)


def _end_sessions(user: User) -> None:
    # Sessions are stored by key, not by user: read the live ones (a departure or a closing is rare;
    # the backend refuses the user on every request anyway, this only clears what is left).
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return  # not a database session engine: nothing to list; the backend's check suffices
    model = store.get_model_class()
    for session in model.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            store(session.session_key).delete()
