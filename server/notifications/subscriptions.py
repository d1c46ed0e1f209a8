"""WeChat subscription-message quota (订阅消息额度): grants reported by the phone, sends that use them.

A one-time subscription entitles the mini-program to one message of a template per "accept" the user
gave in ``wx.requestSubscribeMessage``
(https://developers.weixin.qq.com/miniprogram/dev/api/open-api/subscribe-message/wx.requestSubscribeMessage.html).
WeChat keeps the count to itself, so the server keeps its own: ``subscriptions_report`` adds one per
accepted template, ``quota_take`` removes one before a send (``quota_give_back`` returns it when the
send certainly did not happen), ``quota_clear`` zeroes it when WeChat answers 43101.

Every change is a single ``UPDATE … SET remaining = remaining ± 1`` guarded in its WHERE clause, so
two workers sending at once never spend the same grant twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from server.accounts.models import User
from server.errors import DomainError
from server.notifications.errors import SUBSCRIPTION_REQUEST_REUSED
from server.notifications.models import SubscriptionQuota, SubscriptionReport

# The values wx.requestSubscribeMessage gives per template id. The documented four are accept,
# reject, ban (template banned) and filter (a duplicate title filtered out); phones with voice
# reminders (base library 2.10+) also answer acceptWithAudio / acceptWithAlert, which are accepts.
ACCEPTED = frozenset({"accept", "acceptWithAudio", "acceptWithAlert"})
RESULTS = frozenset({*ACCEPTED, "reject", "ban", "filter"})
TEMPLATE_ID_MAX = SubscriptionQuota._meta.get_field("template_id").max_length


def configured_templates() -> dict[str, list[str]]:
    """Template ids the server sends with (settings.WECHAT_SUBSCRIBE_TEMPLATES), each with its kinds."""
    templates: dict[str, list[str]] = {}
    for kind, config in settings.WECHAT_SUBSCRIBE_TEMPLATES.items():
        template_id = config.get("template_id") if isinstance(config, Mapping) else None
        if isinstance(template_id, str) and template_id:
            templates.setdefault(template_id, []).append(kind)
    return templates


@dataclass(frozen=True)
class ReportOutcome:
    report: SubscriptionReport
    replayed: bool  # the same request id was reported before: nothing changed now
    ignored: list[str]  # template ids the server does not send with: no quota recorded


def subscriptions_report(
    *, user: User, results: Mapping[str, str], request_id: uuid.UUID | None = None
) -> ReportOutcome:
    """Record one wx.requestSubscribeMessage result: each accepted template the server sends with
    gains one send. The same ``request_id`` again (a phone retrying) changes nothing and gets the same
    answer; with different results it is refused (``subscription_request_reused``)."""
    results = dict(results)
    templates = configured_templates()
    ignored = sorted(t for t in results if t not in templates)
    if request_id is not None:
        earlier = SubscriptionReport.objects.filter(user=user, request_id=request_id).first()
        if earlier is not None:
            return _replay(earlier, results, ignored)
    granted = sorted(t for t, result in results.items() if result in ACCEPTED and t in templates)
    try:
        with transaction.atomic():
            now = timezone.now()
            report = SubscriptionReport.objects.create(
                user=user, request_id=request_id, results=results, granted=granted, created_at=now
            )
            if granted:
                SubscriptionQuota.objects.bulk_create(
                    [
                        SubscriptionQuota(user=user, template_id=t, remaining=0, updated_at=now)
                        for t in granted
                    ],
                    ignore_conflicts=True,  # the row exists: the update below counts the grant
                )
                SubscriptionQuota.objects.filter(user=user, template_id__in=granted).update(
                    remaining=F("remaining") + 1, updated_at=now
                )
    except IntegrityError:
        # The same request id arrived twice at once and the other one was stored first.
        earlier = SubscriptionReport.objects.filter(user=user, request_id=request_id).first()
        if earlier is None:
            raise
        return _replay(earlier, results, ignored)
    return ReportOutcome(report=report, replayed=False, ignored=ignored)


def _replay(earlier: SubscriptionReport, results: dict[str, str], ignored: list[str]) -> ReportOutcome:
    if earlier.results != results:
        raise DomainError(SUBSCRIPTION_REQUEST_REUSED, details={"request_id": str(earlier.request_id)})
    return ReportOutcome(report=earlier, replayed=True, ignored=ignored)


def quota_take(*, user: User | int, template_id: str) -> bool:
    """Use one of the user's sends of this template; False when none is left."""
    user_id = user if isinstance(user, int) else user.pk
    return bool(
        SubscriptionQuota.objects.filter(user_id=user_id, template_id=template_id, remaining__gt=0).update(
            remaining=F("remaining") - 1, updated_at=timezone.now()
        )
    )


def quota_give_back(*, user: User | int, template_id: str) -> None:
    """Return a send taken by ``quota_take`` that WeChat certainly did not deliver."""
    user_id = user if isinstance(user, int) else user.pk
    SubscriptionQuota.objects.filter(user_id=user_id, template_id=template_id).update(
        remaining=F("remaining") + 1, updated_at=timezone.now()
    )


def quota_clear(*, user: User | int, template_id: str) -> None:
    """WeChat said the user refused (43101): whatever the count said, nothing is left."""
    user_id = user if isinstance(user, int) else user.pk
    SubscriptionQuota.objects.filter(user_id=user_id, template_id=template_id).update(
        remaining=0, updated_at=timezone.now()
    )


# --- Reads ----------------------------------------------------------------------------------------
def quotas_for(user: User) -> list[dict]:
    """The user's remaining sends per template: every template the server sends with (0 when never
    granted), then any other template the user still holds sends of, by template id."""
    templates = configured_templates()
    remaining = dict(
        SubscriptionQuota.objects.filter(user_id=user.pk).values_list("template_id", "remaining")
    )
    rows = [
        {"template_id": t, "kinds": sorted(kinds), "remaining": remaining.get(t, 0)}
        for t, kinds in sorted(templates.items())
    ]
    rows += [
        {"template_id": t, "kinds": [], "remaining": n}
        for t, n in sorted(remaining.items())
        if t not in templates and n > 0
    ]
    return rows
