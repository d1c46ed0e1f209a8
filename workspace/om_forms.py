"""The O&M pages' forms: the signing part every act shares (a signature drawn on the page, a work
photo), the enterprise's day confirmation, the reviewer's decision, the review queue's filters.
They parse; ``server.om.records`` decides (through ``workspace.signing``)."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings

from server.fields import EARLIEST_DAY, LATEST_DAY, MAX_ID
from server.om.errors import OM_BATCH_EMPTY
from server.om.models import Review
from workspace.i18n import message_language, t
from workspace.records import QueueQuery
from workspace.signing import Signing

MAX_RECORDS = 500  # as POST /om/reviews


class SigningForm(forms.Form):
    # Made when the page is shown: a form sent twice (a double tap, a retry) acts once.
    act = forms.UUIDField(widget=forms.HiddenInput)
    photo_id = forms.UUIDField(widget=forms.HiddenInput)
    signature = forms.CharField(widget=forms.HiddenInput, strip=True)
    work_photo = forms.FileField(
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/heic", "capture": "user"}
        )
    )
    # The browser's location when the photo was chosen, if it gave one (signature.js).
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(required=False, min_value=0, max_value=100_000, widget=forms.HiddenInput)
    fix_time = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", {}).update(act=uuid.uuid4(), photo_id=uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["signature"].label = t("手写签名", "Signature")
        self.fields["signature"].error_messages["required"] = t(
            "请在签名框内签名。", "Sign in the box above."
        )
        self.fields["work_photo"].label = t("工作照（本人正脸）", "Work photo (your face)")
        self.fields["work_photo"].help_text = t(
            "手机上会打开前置摄像头；须看清本人面部。",
            "On a phone the front camera opens; your face must be clear.",
        )
        self.fields["work_photo"].error_messages["required"] = t(
            "请拍摄或选择工作照。", "Take or choose a work photo."
        )

    def clean_work_photo(self):
        photo = self.cleaned_data["work_photo"]
        if photo is not None and photo.size > settings.MEDIA_MAX_BYTES:
            mb = settings.MEDIA_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(t(f"照片不能超过 {mb} MB。", f"The photo may be at most {mb} MB."))
        return photo

    def clean(self):
        data = super().clean()
        located = [data.get("longitude") is not None, data.get("latitude") is not None]
        if not all(located):  # a half fix is no fix
            for name in ("longitude", "latitude", "accuracy_m", "fix_time"):
                data[name] = None
        return data

    def signing(self) -> Signing:
        data = self.cleaned_data
        fix = {}
        if data.get("longitude") is not None:
            fix = {
                "longitude": data["longitude"],
                "latitude": data["latitude"],
                "coordinate_system": "wgs84",
                "accuracy_m": data.get("accuracy_m"),
                "fix_time": data.get("fix_time"),
            }
        return Signing(
            act_id=data["act"],
            photo_id=data["photo_id"],
            signature=data["signature"],
            photo=data["work_photo"],
            fix=fix,
        )


class DayConfirmForm(SigningForm):
    """签字确认: the day's records at the versions the page showed, ``<id>:<version>`` each."""

    seen = forms.CharField(widget=forms.HiddenInput, max_length=MAX_RECORDS * 48)

    def clean_seen(self) -> dict[str, int]:
        seen: dict[str, int] = {}
        for part in self.cleaned_data["seen"].split():
            record, _, version = part.partition(":")
            try:
                seen[str(uuid.UUID(record))] = int(version)
            except ValueError:
                raise forms.ValidationError(t("记录列表无效，请刷新页面。", "Reload the page.")) from None
        if not seen:
            raise forms.ValidationError(OM_BATCH_EMPTY.message(message_language()))
        return seen


class RecordsField(forms.Field):
    """The records ticked in a list (checkboxes named ``records``) or the one a record's page names."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[uuid.UUID]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        try:
            ids = list(dict.fromkeys(uuid.UUID(str(v)) for v in values))
        except ValueError:
            raise forms.ValidationError(t("记录无效，请刷新页面。", "Reload the page.")) from None
        if len(ids) > MAX_RECORDS:
            raise forms.ValidationError(
                t(f"一次最多审核 {MAX_RECORDS} 条。", f"At most {MAX_RECORDS} records at once.")
            )
        return ids


class ReviewForm(SigningForm):
    records = RecordsField()
    decision = forms.ChoiceField(choices=Review.Decision.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["records"].error_messages["required"] = OM_BATCH_EMPTY.message(message_language())
        self.fields["reason"].label = t("作废原因（作废时必填）", "Reason (needed to void)")


def _day() -> forms.DateField:
    return forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class QueueFilterForm(forms.Form):
    """The review queue's filters: a range of days, an outlet, a form."""

    since = _day()
    until = _day()
    # Offered as lists of what the queue holds; anything else shows an empty queue, not an error (a
    # filter kept in a bookmark after its records were reviewed).
    outlet = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.Select)
    template = forms.SlugField(required=False, max_length=64, widget=forms.Select)

    def __init__(self, *args, outlets=(), templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["since"].label = t("从", "From")
        self.fields["until"].label = t("到", "To")
        for name in ("since", "until"):
            self.fields[name].error_messages["invalid"] = t(
                "请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04."
            )
        self.fields["outlet"].label = t("排口", "Outlet")
        self.fields["outlet"].widget.choices = [("", t("全部", "All")), *outlets]
        self.fields["template"].label = t("运维内容", "Form")
        self.fields["template"].widget.choices = [("", t("全部", "All")), *templates]

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            day = data.get(name)
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(name, t("日期超出范围。", "The date is out of range."))
        return data

    def query(self) -> QueueQuery:
        self.is_valid()
        data = self.cleaned_data  # the fields that are valid; the others are said beside them
        return QueueQuery(
            since=data.get("since"),
            until=data.get("until"),
            outlet=data.get("outlet"),
            template=data.get("template") or "",
        )
