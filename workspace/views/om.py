"""O&M records in the workspace: a record's page, the enterprise's day (签字确认) and its history of
confirmations, the agency's review queue (confirm / void, one by one or in batches), and the
signature images of confirmations and reviews.

Views parse the forms and call ``workspace.signing``, which calls the services the API calls; what
they refuse is said in the form, beside the field it is about."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from mobile_api.exports import pdf_response
from mobile_api.photos import CONTENT_TYPES, open_stored
from server import access
from server.accounts.models import Role
from server.errors import NOT_FOUND, DomainError
from server.fields import EARLIEST_DAY, LATEST_DAY
from server.om import printing
from server.om.models import OmRecord, Review
from workspace import records, signing
from workspace.i18n import t
from workspace.nav import REVIEW_ROLES
from workspace.om_forms import DayConfirmForm, QueueFilterForm, ReviewForm
from workspace.pages import page, render_page


def _day(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise DomainError(NOT_FOUND) from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise DomainError(NOT_FOUND)
    return day


def _version(request: HttpRequest) -> int | None:
    value = request.GET.get("version", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise DomainError(NOT_FOUND)
    return int(value)


def _file(blob) -> FileResponse:
    return FileResponse(open_stored(blob), content_type=CONTENT_TYPES.get(blob.format))


def _reviewed(request: HttpRequest, form: ReviewForm) -> bool:
    """Confirm or void the form's records; False (the form saying why) when refused."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        review, created = signing.review(
            request.user,
            record_ids=data["records"],
            decision=data["decision"],
            reason=data["reason"],
            signing=form.signing(),
        )
    except signing.SigningError as refused:
        form.add_error(refused.field or None, refused.message)
        form.refused_status = refused.error.error.status
        return False
    n = len(data["records"])
    if not created:
        messages.info(request, t("这次审核已提交过。", "This review was sent already."))
    elif review.decision == Review.Decision.APPROVE:
        messages.success(request, t(f"已审核通过 {n} 条运维记录。", f"{n} record(s) approved."))
    else:
        messages.success(request, t(f"已作废 {n} 条运维记录。", f"{n} record(s) voided."))
    return True


def _status(form) -> int:
    return getattr(form, "refused_status", 200)


# --- A record -------------------------------------------------------------------------------------
def _record_page(request: HttpRequest, record_id, form: ReviewForm | None = None, status: int = 200):
    user = request.user
    detail = records.record_page(user, record_id, version=_version(request))
    record = detail.record
    reviewable = record.status == OmRecord.Status.CONFIRMED and user.role in REVIEW_ROLES
    if reviewable and form is None:
        form = ReviewForm(initial={"records": [record.pk]})
    return render_page(
        request,
        "workspace/om_record.html",
        {
            "page": detail,
            "record": record,
            "review_form": form if reviewable else None,
            "confirm_url": (
                reverse("workspace:enterprise-day", args=[record.om_date.isoformat()])
                if user.role == Role.ENTERPRISE and record.status == OmRecord.Status.SUBMITTED
                else ""
            ),
        },
        status=status,
    )


@page()
def record(request: HttpRequest, record_id) -> HttpResponse:
    return _record_page(request, record_id)


@page()
def record_pdf(request: HttpRequest, record_id) -> HttpResponse:
    """打印 PDF: the record as the signed form, for whoever sees the record (as ``GET
    /om/records/{id}/pdf``)."""
    doc = printing.printable(request.user, record_id)
    return pdf_response(printing.record_pdf(doc), printing.filename(doc.record))


@page(roles=REVIEW_ROLES)
@require_POST
def record_review(request: HttpRequest, record_id) -> HttpResponse:
    """One record confirmed or voided from its page (as a batch of one)."""
    access.access_om_record(request.user, record_id)  # another side's record: not found
    data = request.POST.copy()
    data.setlist("records", [str(record_id)])
    form = ReviewForm(data, request.FILES)
    if _reviewed(request, form):
        return redirect("workspace:om-record", record_id=record_id)
    return _record_page(request, record_id, form, status=_status(form))


@page()
def confirmation_signature(request: HttpRequest, act_id) -> FileResponse:
    """The signature drawn for an enterprise's confirmation: seen by whoever sees a record it
    confirmed."""
    confirmation = access.get_visible(
        records.confirmations_for(request.user).select_related("signature"), act_id
    )
    return _file(confirmation.signature)


@page()
def review_signature(request: HttpRequest, act_id) -> FileResponse:
    review = access.get_visible(records.reviews_for(request.user).select_related("signature"), act_id)
    return _file(review.signature)


# --- The enterprise -------------------------------------------------------------------------------
@page(roles={Role.ENTERPRISE})
def enterprise_day(request: HttpRequest, day: str) -> HttpResponse:
    """A day's records awaiting confirmation, each linking to its page, and 签字确认 for all of them
    at the versions shown."""
    user, day = request.user, _day(day)
    status = 200
    if request.method == "POST":
        form = DayConfirmForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                done = signing.confirm_day(
                    user, day=day, seen=form.cleaned_data["seen"], signing=form.signing()
                )
            except signing.SigningError as refused:
                form.add_error(refused.field or None, refused.message)
                status = refused.error.error.status
            else:
                if not done.created:
                    messages.info(request, t("这次确认已提交过。", "This confirmation was sent already."))
                elif done.confirmed:
                    n = len(done.confirmed)
                    messages.success(
                        request, t(f"已确认 {day} 的 {n} 条运维记录。", f"{n} record(s) of {day} confirmed.")
                    )
                if done.stale:
                    n = len(done.stale)
                    messages.warning(
                        request,
                        t(
                            f"{n} 条记录在您查看后被修改，未确认：请查看修改后的记录再确认。",
                            f"{n} record(s) changed after you opened them and were not confirmed: "
                            "check them again, then confirm.",
                        ),
                    )
                return redirect("workspace:enterprise-day", day=day.isoformat())
    pending = records.day_pending(user, day)
    if request.method != "POST":
        form = DayConfirmForm(initial={"seen": " ".join(f"{r.pk}:{r.version}" for r in pending)})
    confirmed = list(records.confirmations_for(user).filter(om_date=day))
    return render_page(
        request,
        "workspace/om_day.html",
        {"day": day, "records": pending, "form": form, "confirmations": confirmed},
        status=status,
        active="home",
    )


@page(roles={Role.ENTERPRISE})
def enterprise_confirmations(request: HttpRequest) -> HttpResponse:
    """确认记录: the enterprise's confirmations, newest first."""
    rows = records.page_of(records.confirmations_for(request.user), request.GET.get("page"))
    return render_page(request, "workspace/om_confirmations.html", {"rows": rows}, active="confirmations")


# --- The agency's review queue --------------------------------------------------------------------
@page(roles=REVIEW_ROLES)
def review_queue(request: HttpRequest) -> HttpResponse:
    """Records the enterprise confirmed, to confirm or void: filtered, a page at a time, ticked and
    decided together."""
    user = request.user
    outlets, templates = records.queue_choices(user)
    filters = QueueFilterForm(request.GET or None, outlets=outlets, templates=templates)
    query = filters.query() if request.GET else records.QueueQuery()
    form = ReviewForm(request.POST, request.FILES) if request.method == "POST" else ReviewForm()
    if request.method == "POST" and _reviewed(request, form):
        return redirect(request.get_full_path())
    rows = records.page_of(records.filtered_queue(user, query), request.GET.get("page"))
    ticked = {str(v) for v in (form["records"].value() or [])} if form.is_bound else set()
    paging = request.GET.copy()
    paging.pop("page", None)
    return render_page(
        request,
        "workspace/om_review_queue.html",
        {"filters": filters, "rows": rows, "form": form, "ticked": ticked, "paging": paging.urlencode()},
        status=_status(form),
        active="reviews",
    )
