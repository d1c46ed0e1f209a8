"""Signing in and out, the password, the user's phones.

Sign-in is counted by the API's own throttles (``mobile_api.common``: per address and per account,
on the same cache keys), so guessing a password gains nothing by switching between the page and
``POST /auth/login``. Whoever is refused waits; the account is not locked (as the API)."""

from __future__ import annotations

import math

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework.parsers import FormParser
from rest_framework.request import Request as ApiRequest

from mobile_api.common import SignInAccountThrottle, SignInThrottle
from server.access import devices_for, get_visible
from server.accounts import services
from server.accounts.errors import LOGIN_FAILED
from server.errors import THROTTLED, DomainError
from workspace import nav
from workspace.forms import SignInForm, show_domain_error
from workspace.i18n import message_language, t
from workspace.pages import page, render_page, use_chosen_language


def sign_in_wait(request: HttpRequest) -> float | None:
    """Seconds to wait when the API's sign-in throttles refuse this attempt, else None (the attempt
    is counted)."""
    wrapped = ApiRequest(request, parsers=[FormParser()])
    waits = [
        throttle.wait() or 0.0
        for throttle in (SignInThrottle(), SignInAccountThrottle())
        if not throttle.allow_request(wrapped, None)
    ]
    return max(waits) if waits else None


@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    use_chosen_language(request)
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = ""
    if request.user.is_authenticated:
        return redirect(target or nav.home_url(request.user))
    form = SignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        wait = sign_in_wait(request)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            form.is_valid()
            form.add_error(
                None,
                THROTTLED.message(message_language())
                + t(f"（请 {seconds} 秒后再试）", f" (try again in {seconds} s)"),
            )
            status = 429
        elif form.is_valid():
            user = authenticate(
                request,
                username=form.cleaned_data["username"].strip(),
                password=form.cleaned_data["password"],
            )
            if user is None:
                form.add_error(None, LOGIN_FAILED.message(message_language()))
            else:
                login(request, user)
                return redirect(target or nav.home_url(user))
    return render_page(request, "workspace/sign_in.html", {"form": form, "next": target}, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("workspace:sign-in")


class PhoneForm(forms.Form):
    """Seed 001 §3.7.1 绑定手机号更换: the new number, re-verified by the current password."""

    phone = forms.CharField(max_length=30)
    password = forms.CharField(max_length=128, strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].label = t("新手机号", "New phone number")
        self.fields["phone"].help_text = t("11 位中国大陆手机号", "An 11-digit mainland China mobile number")
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["password"].label = t("当前密码", "Current password")
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


def _settings(
    request: HttpRequest, *, password_form=None, phone_form=None, status: int = 200
) -> HttpResponse:
    """账号设置 (seed 001 §3.7.1 主账号管理): the password and the bound phone, each its own form."""
    context = {
        "form": password_form or PasswordChangeForm(request.user),
        "phone_form": phone_form or PhoneForm(),
        "phone": request.user.phone,
    }
    return render_page(request, "workspace/password.html", context, status=status, active="password")


@page()
def password(request: HttpRequest) -> HttpResponse:
    """Django's form checks the old password and the two new ones; the service
    (``account_password_change``, as ``POST /auth/password``) changes it, signs the account's phones
    out and writes the audit row. Django ends the other browser sessions (their session hash no
    longer matches); ``update_session_auth_hash`` keeps this one."""
    form = PasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_password_change(
                user=request.user,
                current_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except DomainError as error:
            show_domain_error(
                form,
                error,
                {
                    "wrong_password": "old_password",
                    "weak_password": "new_password1",
                    "password_unchanged": "new_password1",
                },
            )
        else:
            update_session_auth_hash(request, user)  # this session stays signed in
            messages.success(
                request,
                t(
                    "密码已修改，其他设备上的登录已退出。",
                    "Your password has been changed; other sign-ins have ended.",
                ),
            )
            return redirect("workspace:password")
    return _settings(request, password_form=form)


@page()
@require_POST
def phone_change(request: HttpRequest) -> HttpResponse:
    form = PhoneForm(request.POST)
    if form.is_valid():
        try:
            services.account_phone_change(
                user=request.user, password=form.cleaned_data["password"], phone=form.cleaned_data["phone"]
            )
        except DomainError as error:
            show_domain_error(form, error, {"wrong_password": "password"})
        else:
            messages.success(request, t("绑定手机号已更换。", "The phone number has been changed."))
            return redirect("workspace:password")
    return _settings(request, phone_form=form, status=400)


@page()
def phones(request: HttpRequest) -> HttpResponse:
    devices = list(devices_for(request.user).select_related("user__person"))
    return render_page(
        request,
        "workspace/phones.html",
        {"devices": devices, "heading": nav.phones_label(request.user)},
        active="phones",
    )


@page()
@require_POST
def phone_revoke(request: HttpRequest, device_id) -> HttpResponse:
    """Signs the phone out (its tokens revoked), as ``POST /devices/{id}/revoke`` does."""
    device = get_visible(devices_for(request.user), device_id)
    services.device_revoke(device=device, actor=request.user)
    device = get_visible(devices_for(request.user), device_id)
    if request.headers.get("HX-Request"):
        return render_page(request, "workspace/partials/phone_row.html", {"device": device, "revoked": True})
    messages.success(request, t("已退出该手机的登录。", "The phone has been signed out."))
    return redirect("workspace:phones")
