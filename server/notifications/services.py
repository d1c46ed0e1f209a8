"""In-app notifications: the one writer (``notify``), reading them, and the reads the API needs.

Other apps call ``notify`` when something happens that a person must act on (a project returned, a
violation opened, a reminder). It writes in the caller's transaction: an event that rolls back leaves
no notification behind. A push to phones, if one is ever added, belongs in ``transaction.on_commit``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from server.accounts.models import User
from server.notifications.models import Notification

_KIND = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")
TITLE_MAX = Notification._meta.get_field("title").max_length
LATEST = 5  # how many the home screen shows


def _subject_id(value: str | int | uuid.UUID | None) -> str:
    return "" if value is None else str(value).strip()


def notify(
    *,
    recipients: Iterable[User | int],
    kind: str,
    title: str,
    body: str,
    subject_type: str = "",
    subject_id: str | int | uuid.UUID | None = "",
) -> list[int]:
    """Notify each recipient (users or user ids; repeats count once) of one event.

    A recipient who still has an unread notification of this kind about this subject is not notified
    again, so a retried event notifies once; the unique constraint ``notification_unread_once``
    settles two concurrent calls. Returns the ids of the recipients notified now.

    Raises ValueError for a call no event should make (a kind that is not a slug, an empty or too
    long title, half a subject): a bug in the caller, not the user's input."""
    if not _KIND.fullmatch(kind or ""):
        raise ValueError(f"notification kind must be a lowercase slug, not {kind!r}")
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise ValueError(f"notification title must be 1 to {TITLE_MAX} characters")
    subject_type, subject = (subject_type or "").strip(), _subject_id(subject_id)
    if bool(subject_type) != bool(subject):
        raise ValueError("a notification's subject needs both its type and its id, or neither")
    wanted = {r if isinstance(r, int) else r.pk for r in recipients if r is not None}
    if not wanted:
        return []
    same_event = {"kind": kind, "subject_type": subject_type, "subject_id": subject}
    with transaction.atomic():
        unread = set(
            Notification.objects.filter(
                recipient_id__in=wanted, read_at__isnull=True, **same_event
            ).values_list("recipient_id", flat=True)
        )
        new = sorted(wanted - unread)
        now = timezone.now()
        Notification.objects.bulk_create(
            [
                Notification(recipient_id=pk, title=title, body=body, created_at=now, **same_event)
                for pk in new
            ],
            ignore_conflicts=True,  # a concurrent identical call got there first: once is enough
        )
    return new


def mark_read(user: User, ids: Iterable[int]) -> int:
    """Mark these of the user's notifications read (others' ids are ignored); a notification read
    before keeps its first read time. Returns how many were unread."""
    return Notification.objects.filter(recipient=user, pk__in=list(ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read. Returns how many there were."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- Reads ----------------------------------------------------------------------------------------
def notifications_for(user: User) -> QuerySet[Notification]:
    """A user sees their own notifications only, whatever their role (platform administrators too)."""
    return Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def latest(user: User, limit: int = LATEST) -> list[Notification]:
    return list(notifications_for(user)[:limit])


def access_notification(user: User, pk) -> Notification:
    """The user's own notification, or not_found (another's id does not reveal that it exists)."""
    from server.access import get_visible

    return get_visible(notifications_for(user), pk)


def agency_admins(agency_id: int) -> QuerySet[User]:
    """Who acts for an agency on what a regulator decides: its main account and managers."""
    from server.accounts.models import Role

    return User.objects.filter(
        agency_id=agency_id, role__in=[Role.AGENCY_MAIN, Role.AGENCY_MANAGER], is_active=True
    )
