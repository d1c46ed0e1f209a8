"""证据队列 (``/evidence/``): the whole evidence queue of ``GET /evidence`` a page at a time, filtered by
kind — a regulator's region, an agency's main and manager accounts their agency — newest first. The
homes show its newest items; this page goes through all of them (keyset pages: a page never repeats or
skips an item while new ones arrive)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode

from server.evidence import items
from server.evidence.selectors import KINDS, QUEUE_ROLES, encode_cursor
from workspace import selectors
from workspace.i18n import t
from workspace.pages import page, render_page

KIND_LABELS = {
    items.PHOTO: ("问题照片", "Flagged photos"),
    items.CHECKIN: ("异常签到", "Flagged check-ins"),
    items.HELD: ("离线数据滞留", "Held offline work"),
    items.CONFLICT: ("离线修改冲突", "Sync conflicts"),
    items.OVERDUE: ("运维计划超期", "Overdue O&M plans"),
    items.JUDGEMENT: ("计算判定不合格的运维记录", "O&M records failing their checks"),
}


class KindFilter(forms.Form):
    kind = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        field.label = t("类型", "Kind")
        field.choices = [("", t("全部", "All")), *((k, t(*KIND_LABELS[k])) for k in KINDS)]


@page(roles=QUEUE_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    form = KindFilter(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    kinds = frozenset([kind]) if kind else frozenset(KINDS)
    shown = selectors.evidence_page(request.user, kinds=kinds, cursor=request.GET.get("cursor", ""))
    next_url = ""
    if shown.next is not None:
        next_url = "?" + urlencode({**({"kind": kind} if kind else {}), "cursor": encode_cursor(shown.next)})
    return render_page(
        request,
        "workspace/evidence.html",
        {"form": form, "queue": shown.items, "next_url": next_url, "first": not request.GET.get("cursor")},
        active="evidence",
    )
