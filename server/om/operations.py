"""The O&M record operations phones push (offline path). Each calls the same service as its online
endpoint (mobile_api/om_records.py), with the same payload serializers:

- ``om_record.save`` (entity ``om_record``): fill, submit or edit a record. Held until the check-ins
  and the work photo it names reach the server (they are pushed by the same phone, usually first).
  An edit of a record the enterprise has confirmed applies and answers **conflict**
  ``confirmation_invalidated``: the enterprise must confirm the new version.
- ``om_day.confirm`` (entity ``om_confirmation``): the enterprise confirms a day's records.
- ``om_record.review`` (entity ``om_review``): the agency confirms or voids records.
"""

from __future__ import annotations

from django.db.models import Q
from rest_framework import serializers

from media_rules.models import Photo
from media_rules.signatures import store_signature
from server.access import (
    access_enterprise,
    access_om_record,
    access_om_task,
    access_outlet,
    om_tasks_for,
    photos_for,
    referenced,
    region_prefix,
)
from server.accounts.models import AGENCY_ROLES, STAFF_ROLES, Device, Role
from server.errors import DomainError
from server.fields import MAX_ID, DayField, IdField
from server.om import errors, records
from server.om.models import DayConfirmation, FormTemplate, OmRecord, Review
from server.tracks.models import CheckIn
from sync.operations import Entity, OpContext, OpType, Outcome, exists_in, register, register_entity

SIGNATURE_HELP = "手写签名图片（PNG/JPEG），base64，可带 data:image/png;base64, 前缀；空白签名会被拒绝。"


class RecordSavePayload(serializers.Serializer):
    task = IdField(help_text="The O&M task.")
    outlet = IdField(help_text="One of the task's points (排口).")
    template = serializers.SlugField(help_text="The form's code (GET /om/templates).")
    template_version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: the latest version.",
    )
    instruments = serializers.ListField(child=IdField(), required=False, default=list)
    groups = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        default=list,
        help_text="daily / weekly / …",
    )
    answers = serializers.DictField(required=False, default=dict, help_text="See server/om/forms.py.")
    start_checkin = serializers.UUIDField(help_text="The start check-in (开始签到), made before filling.")
    end_checkin = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="The end check-in (结束签到): to submit."
    )
    work_photo = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The filler's work photo (photo type work_photo).",
    )
    signature = serializers.CharField(required=False, allow_blank=True, default="", help_text=SIGNATURE_HELP)
    submit = serializers.BooleanField(
        required=False, default=False, help_text="Submit (提交); a submitted record saved again is an edit."
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="What an edit changed."
    )


class RecordVersionIn(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The version the confirmer saw."
    )


class DayConfirmPayload(serializers.Serializer):
    enterprise = IdField()
    date = DayField(help_text="待确认日期 (Asia/Shanghai).")
    records = RecordVersionIn(many=True, help_text="The day's records as the confirmer saw them.")
    work_photo = serializers.UUIDField(help_text="The confirmer's work photo (clear face).")
    signature = serializers.CharField(help_text=SIGNATURE_HELP)


class ReviewPayload(serializers.Serializer):
    records = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="作废原因 (void)."
    )
    work_photo = serializers.UUIDField(help_text="The reviewer's work photo (clear face).")
    signature = serializers.CharField(help_text=SIGNATURE_HELP)


# --- Resolving what a payload names, as the user sees it --------------------------------------------
def template_of(code: str, version: int | None) -> FormTemplate:
    qs = FormTemplate.objects.filter(code=code)
    template = (qs.filter(version=version) if version else qs.order_by("-version")).first()
    if template is None:
        raise DomainError(errors.OM_TEMPLATE_UNKNOWN, code=code)
    return template


def _own_checkin(user, data: dict, field: str) -> CheckIn | None:
    return referenced(CheckIn.objects.filter(user=user), data, field)


def _photo(user, data: dict) -> Photo | None:
    return referenced(photos_for(user), data, "work_photo")


def signature_of(value: str):
    return store_signature(value) if value else None


def save_record(*, user, device, record_id, data: dict, at=None) -> records.Saved:
    task = access_om_task(user, data["task"], field="task")
    outlet = access_outlet(user, data["outlet"], field="outlet")
    instruments = list(outlet.instruments.filter(pk__in=data["instruments"]))
    unknown = sorted(set(data["instruments"]) - {i.pk for i in instruments})
    if unknown:
        raise DomainError(errors.OM_INSTRUMENT_NOT_AT_POINT, details={"instruments": unknown})
    return records.record_save(
        actor=user,
        record_id=record_id,
        task=task,
        outlet=outlet,
        template=template_of(data["template"], data.get("template_version")),
        instruments=instruments,
        groups=data["groups"],
        answers=data["answers"],
        start_checkin=_own_checkin(user, data, "start_checkin"),
        end_checkin=_own_checkin(user, data, "end_checkin"),
        work_photo=_photo(user, data),
        signature=signature_of(data.get("signature", "")),
        submit=data["submit"],
        note=data.get("note", ""),
        device=device,
        at=at,
    )


def confirm_day(*, user, device, confirmation_id, data: dict, at=None) -> records.DayConfirmed:
    return records.day_confirm(
        actor=user,
        confirmation_id=confirmation_id,
        enterprise=access_enterprise(user, data["enterprise"], field="enterprise"),
        om_date=data["date"],
        versions={str(r["id"]): r["version"] for r in data["records"]},
        work_photo=_photo(user, data),
        signature=signature_of(data["signature"]),
        device=device,
        at=at,
    )


def review_records(*, user, device, review_id, data: dict, at=None) -> tuple[Review, bool]:
    return records.records_review(
        actor=user,
        review_id=review_id,
        records=[access_om_record(user, pk, field="records") for pk in dict.fromkeys(data["records"])],
        decision=data["decision"],
        reason=data.get("reason", ""),
        work_photo=_photo(user, data),
        signature=signature_of(data["signature"]),
        device=device,
        at=at,
    )


# --- Operations ------------------------------------------------------------------------------------
def _device(ctx: OpContext) -> Device | None:
    return Device.objects.filter(pk=ctx.device_id).first()


def _save(ctx: OpContext) -> Outcome:
    saved = save_record(
        user=ctx.user, device=_device(ctx), record_id=ctx.entity_id, data=ctx.payload, at=ctx.corrected_time
    )
    return Outcome(
        entity_id=str(saved.record.pk),
        version=saved.record.version,
        change_seq=saved.change_seq,
        clashes=saved.invalidated,
        conflict_reason="confirmation_invalidated" if saved.invalidated else "",
    )


def _confirm(ctx: OpContext) -> Outcome:
    done = confirm_day(
        user=ctx.user,
        device=_device(ctx),
        confirmation_id=ctx.entity_id,
        data=ctx.payload,
        at=ctx.corrected_time,
    )
    return Outcome(
        entity_id=str(done.confirmation.pk),
        version=1,
        clashes=done.stale,
        conflict_reason="record_changed_since_seen" if done.stale else "",
    )


def _review(ctx: OpContext) -> Outcome:
    review, _ = review_records(
        user=ctx.user, device=_device(ctx), review_id=ctx.entity_id, data=ctx.payload, at=ctx.corrected_time
    )
    return Outcome(entity_id=str(review.pk), version=1)


def _records_on_server(user):
    # The records of the O&M tasks the user sees, drafts included; another tenant's record looks
    # absent, so an operation naming it is held as one naming a record not synced yet (F9 item 10).
    return OmRecord.objects.filter(task__in=om_tasks_for(user))


def _all(model):
    # Confirmations and reviews are never named by another operation: nothing to scope.
    return lambda user: model.objects.all()


def _record_needs(payload: dict) -> list[tuple[str, str]]:
    needs = [("checkin", str(payload[k])) for k in ("start_checkin", "end_checkin") if payload.get(k)]
    if payload.get("work_photo"):
        needs.append(("photo", str(payload["work_photo"])))
    return needs


def _confirm_needs(payload: dict) -> list[tuple[str, str]]:
    return [("photo", str(payload["work_photo"]))] + [("om_record", str(r["id"])) for r in payload["records"]]


def _review_needs(payload: dict) -> list[tuple[str, str]]:
    return [("photo", str(payload["work_photo"]))] + [("om_record", str(r)) for r in payload["records"]]


def _record_pull_scope(user) -> Q:
    if user.role == Role.PLATFORM:
        return Q()
    if user.role == Role.ENTERPRISE:
        return Q(enterprise_id=user.enterprise_id)
    if user.role == Role.REGULATOR:
        return Q(region_code__startswith=region_prefix(user.region_code))
    if user.role in STAFF_ROLES:
        tasks = list(om_tasks_for(user).values_list("pk", flat=True))
        return Q(agency_id=user.agency_id, data__task__in=tasks)
    if user.role in AGENCY_ROLES:
        return Q(agency_id=user.agency_id)
    return Q(pk__in=[])


def _nothing(user) -> Q:
    return Q(pk__in=[])  # what a confirmation or review changed is pulled as its records


def register_operations() -> None:
    register_entity(
        Entity(name="om_record", exists=exists_in(_records_on_server), pull_scope=_record_pull_scope)
    )
    register_entity(
        Entity(name="om_confirmation", exists=exists_in(_all(DayConfirmation)), pull_scope=_nothing)
    )
    register_entity(Entity(name="om_review", exists=exists_in(_all(Review)), pull_scope=_nothing))
    register(
        OpType(
            "om_record.save",
            "om_record",
            RecordSavePayload,
            _save,
            needs_entity=False,
            creates=True,
            prerequisites=_record_needs,
        )
    )
    register(
        OpType(
            "om_day.confirm",
            "om_confirmation",
            DayConfirmPayload,
            _confirm,
            needs_entity=False,
            creates=True,
            prerequisites=_confirm_needs,
        )
    )
    register(
        OpType(
            "om_record.review",
            "om_review",
            ReviewPayload,
            _review,
            needs_entity=False,
            creates=True,
            prerequisites=_review_needs,
        )
    )
