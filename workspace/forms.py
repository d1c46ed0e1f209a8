"""The workspace's forms: they parse what was typed and say what is wrong beside the field. Rules
stay in the services the views call."""

from __future__ import annotations

import datetime as dt

from django import forms

from workspace.i18n import t


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
