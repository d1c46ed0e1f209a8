"""The workspace's forms: they parse what was typed and say what is wrong beside the field. Rules
stay in the services the views call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from server.errors import VALIDATION_FAILED, DomainError
from workspace.i18n import message_language, t


def show_domain_error(form: forms.Form, error: DomainError, fields: dict[str, str] | None = None) -> None:
    """A service's refusal, on the form, in the user's language: the field errors of
    ``validation_failed`` beside their fields; any other code beside the field ``fields`` maps it to,
    or the first field its details name, else above the form."""
    details = error.details if isinstance(error.details, dict) else None
    if error.error is VALIDATION_FAILED and details:
        for name, messages in details.items():
            for message in messages if isinstance(messages, list) else [messages]:
                form.add_error(name if name in form.fields else None, str(message))
        return
    field = (fields or {}).get(error.error.code)
    if field is None and details:
        field = next((key for key in details if key in form.fields), None)
    form.add_error(
        field if field in form.fields else None, error.error.message(message_language(), **error.params)
    )


def submit(
    request: HttpRequest, form: forms.Form, act: Callable[[dict], tuple[str, HttpResponse]], fields=None
) -> tuple[HttpResponse | None, int]:
    """A form posted to one service call: a valid form goes to ``act``, which calls the service and
    returns what to tell the user and where to go next; a refusal is said beside its field
    (``show_domain_error`` with ``fields``). Returns that redirect, or None and the status of the
    page shown again (400 after a post that did nothing, 200 when nothing was posted)."""
    if request.method != "POST":
        return None, 200
    if form.is_valid():
        try:
            said, then = act(form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error, fields)
        else:
            messages.success(request, said)
            return then, 200
    return None, 400


class SignInForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(max_length=128, strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = t("用户名", "Username")
        self.fields["password"].label = t("密码", "Password")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class DayForm(forms.Form):
    """A day to look at (Asia/Shanghai), as the browser's date input sends it."""

    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].label = t("日期", "Date")
        self.fields["date"].error_messages["invalid"] = t(
            "请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04."
        )

    def clean_date(self) -> dt.date | None:
        day = self.cleaned_data["date"]
        if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise forms.ValidationError(t("日期超出范围。", "The date is out of range."))
        return day
