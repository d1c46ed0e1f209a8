"""Accounts, sub-accounts, devices, tokens and the three ways to sign in (password, WeChat code,
WeChat binding). The REST views call these; nothing else creates users or tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from media_rules.signing import load_public_key
from server.accounts import errors
from server.accounts.models import AGENCY_ROLES, STAFF_ROLES, Device, DeviceToken, Role, User, WeChatBinding
from server.accounts.standing import in_service, in_service_q, sign_out_everywhere
from server.accounts.wechat import exchange_code
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.lookups import unique_or_none
from server.privacy.crypto import UnreadableError, decrypt_text, encrypt_text
from server.registry.models import Agency, Employment, Enterprise, Person

TOKEN_BYTES = 32
BIND_TICKET_SALT = "fieldtrace.wechat-bind"
BIND_TICKET_MAX_AGE = 600  # seconds: long enough to type a password, short enough to be useless if leaked


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(errors.WEAK_PASSWORD, details={"password": exc.messages}) from None


def _check_username(username: str) -> None:
    """What the model allows (letters of any script, digits and @ . + - _), checked here because
    accounts are created by services, not forms: no spaces or control characters in a sign-in name."""
    try:
        if not username:
            raise ValidationError("用户名不能为空。")
        User._meta.get_field("username").run_validators(username)
    except ValidationError as exc:
        raise DomainError(VALIDATION_FAILED, details={"username": exc.messages}) from None


def check_staff_person(*, person: Person | None, agency: Agency | None) -> None:
    """Field and reviewer accounts belong to a person on the agency's active staff."""
    on_staff = (
        person is not None
        and agency is not None
        and Employment.objects.filter(person=person, agency=agency, status=Employment.Status.ACTIVE).exists()
    )
    if not on_staff:
        raise DomainError(errors.STAFF_ACCOUNT_NEEDS_PERSON)


@transaction.atomic
def account_create(
    *,
    username: str,
    password: str,
    role: str,
    created_by: User | None,
    agency: Agency | None = None,
    person: Person | None = None,
    enterprise: Enterprise | None = None,
    region_code: str = "",
    phone: str = "",
    first_name: str = "",
) -> User:
    username = username.strip()
    _check_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(errors.USERNAME_TAKEN, username=username)
    if role in STAFF_ROLES:
        check_staff_person(person=person, agency=agency)
        check_person_free(person=person)
        first_name = first_name or person.name
    if phone:
        phone = normalize_mobile(phone)
        check_phone_free(phone=phone)
    user = User(
        username=username,
        role=role,
        agency=agency if role in AGENCY_ROLES else None,
        person=person if role in STAFF_ROLES else None,
        enterprise=enterprise if role == Role.ENTERPRISE else None,
        region_code=region_code,
        phone=phone,
        first_name=first_name,
        created_by=created_by,
    )
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # A race with another request: the constraints decide (user_one_account_per_person,
        # user_phone_unique_active, the username) and the check that lost is said again.
        if person is not None and role in STAFF_ROLES:
            check_person_free(person=person)
        if phone:
            check_phone_free(phone=phone)
        raise DomainError(errors.USERNAME_TAKEN, username=username) from None
    return user


def check_person_free(*, person: Person, exclude: User | None = None) -> None:
    """Seed 002 账号分配 and seed 001 一人一机构: a person is given one account, never a second beside
    it (F10 item 9). Every path that gives an account calls this (the services, the admin); the
    ``user_one_account_per_person`` constraint refuses what slips past it."""
    held = User.objects.filter(person=person, is_active=True)
    if exclude is not None and exclude.pk is not None:
        held = held.exclude(pk=exclude.pk)
    username = held.values_list("username", flat=True).first()
    if username is not None:
        raise DomainError(errors.PERSON_HAS_ACCOUNT, username=username)


# Mainland China mobile numbers (GB/T 13399 numbering; MIIT's 13x-19x blocks): eleven digits from 1[3-9].
MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalize_mobile(phone: str) -> str:
    """The eleven digits of a mainland mobile number as people type it (spaces, hyphens, +86 or 0086
    before it), or phone_invalid."""
    text = re.sub(r"[\s\-()（）]", "", phone or "")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not MAINLAND_MOBILE.fullmatch(text):
        raise DomainError(errors.PHONE_INVALID, details={"phone": [errors.PHONE_INVALID.message("zh")]})
    return text


def check_phone_free(*, phone: str, exclude: User | None = None) -> None:
    """Seed 001 §2.3.2 signs in by the bound phone number and a text code: a number names one
    account in service (the ``user_phone_unique_active`` constraint holds it too)."""
    taken = User.objects.filter(phone=phone, is_active=True)
    if exclude is not None and exclude.pk is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise DomainError(errors.PHONE_TAKEN, details={"phone": [errors.PHONE_TAKEN.message("zh")]})


def _mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else ("****" if phone else "")


def _require_password(user: User, password: str) -> None:
    if not password or not user.check_password(password):
        raise DomainError(
            errors.WRONG_PASSWORD, details={"current_password": [errors.WRONG_PASSWORD.message("zh")]}
        )


@transaction.atomic
def account_phone_change(*, user: User, password: str, phone: str) -> User:
    """Seed 001 §3.7.1 (绑定手机号更换): the user changes the bound phone number, proving who they
    are with the current password (a session left open on a shared office PC must not move the
    number that signs in). Audited with the number masked."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _require_password(user, password)
    phone = normalize_mobile(phone)
    if phone == user.phone:
        raise DomainError(errors.PHONE_UNCHANGED, details={"phone": [errors.PHONE_UNCHANGED.message("zh")]})
    check_phone_free(phone=phone, exclude=user)
    old = user.phone
    user.phone = phone
    try:
        with transaction.atomic():
            user.save(update_fields=["phone"])
    except IntegrityError:
        raise DomainError(errors.PHONE_TAKEN, details={"phone": [errors.PHONE_TAKEN.message("zh")]}) from None
    audit.record(
        "account.phone_changed",
        subject=user,
        actor=user,
        summary=f"更换绑定手机号：{_mask_phone(old) or '（无）'} → {_mask_phone(phone)}",
        changes={"phone": [_mask_phone(old), _mask_phone(phone)]},
    )
    return user


@transaction.atomic
def account_password_change(
    *, user: User, current_password: str, new_password: str, keep_token: DeviceToken | None = None
) -> User:
    """Seed 001 §3.7.1 (登录密码修改). A new password ends every other sign-in of the account: its
    other browser sessions (their session hash no longer matches; the caller keeps its own with
    ``update_session_auth_hash``) and its phones' tokens, except ``keep_token``, the phone asking.
    Someone who learnt the old password is signed out wherever they used it."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _require_password(user, current_password)
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise DomainError(errors.WEAK_PASSWORD, details={"new_password": exc.messages}) from None
    if user.check_password(new_password):
        raise DomainError(
            errors.PASSWORD_UNCHANGED, details={"new_password": [errors.PASSWORD_UNCHANGED.message("zh")]}
        )
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens = DeviceToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_token is not None:
        tokens = tokens.exclude(pk=keep_token.pk)
    revoked = tokens.update(revoked_at=timezone.now(), revoked_by=user)
    audit.record(
        "account.password_changed",
        subject=user,
        actor=user,
        summary="修改登录密码" + (f"，{revoked} 台手机已退出登录" if revoked else ""),
        changes={"tokens_revoked": revoked},
    )
    return user


SUB_ACCOUNT_ROLES = {Role.AGENCY_MANAGER, Role.AGENCY_REVIEWER, Role.AGENCY_FIELD}


def sub_account_create(
    *, main: User, username: str, password: str, role: str, person: Person | None = None, phone: str = ""
) -> User:
    """Seed 001 §3.7.2: the agency's main account creates (and closes) the sub-accounts under it."""
    if role not in SUB_ACCOUNT_ROLES:
        raise DomainError(errors.ROLE_NOT_ALLOWED, role=role)
    return account_create(
        username=username,
        password=password,
        role=role,
        agency=main.agency,
        person=person,
        phone=phone,
        created_by=main,
    )


@transaction.atomic
def account_close(*, user: User, actor: User) -> User:
    if user.role == Role.AGENCY_MAIN:
        raise DomainError(errors.MAIN_ACCOUNT_CANNOT_BE_CLOSED)
    user.is_active = False
    user.save(update_fields=["is_active"])
    sign_out_everywhere(user=user, actor=actor)
    return user


# --- Devices and tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    platform: str
    app_version: str
    model_name: str = ""
    public_key: str = ""


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, to the phone that signed in
    record: DeviceToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def device_enroll(*, user: User, info: DeviceInfo) -> Device:
    """The phone names itself with its own UUID. A UUID already enrolled by someone else is refused,
    signed in or not: a device id never changes hands, so its sync state, journal and answers stay
    its first user's (F9 item 3: a sampler's held work and op results passed to whoever signed in
    next with the same id). The phone answers the refusal by generating a new id."""
    if info.public_key:
        load_public_key(info.public_key)  # a key we could never verify with is refused, not stored
    now = timezone.now()
    device = Device.objects.select_for_update().filter(pk=info.id).first()
    if device is not None and device.user_id != user.pk:
        raise DomainError(errors.DEVICE_OF_ANOTHER_USER)
    if device is None:
        device = Device(id=info.id, user=user, enrolled_at=now)
    device.platform = info.platform
    device.app_version = info.app_version
    device.model_name = info.model_name
    if info.public_key:
        device.public_key = info.public_key
    device.last_seen_at = now
    device.save()
    return device


@transaction.atomic
def token_issue(*, user: User, info: DeviceInfo) -> IssuedToken:
    if not in_service(user):
        # Every sign-in ends here (password, WeChat code, binding): no token for a departed
        # employee's account (F9 item 7), answered as any refused sign-in.
        raise DomainError(errors.LOGIN_FAILED)
    device = device_enroll(user=user, info=info)
    now = timezone.now()
    # Signing in again on the same phone replaces its token.
    DeviceToken.objects.filter(device=device, revoked_at__isnull=True).update(revoked_at=now, revoked_by=user)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = DeviceToken.objects.create(
        key_hash=hash_token(token),
        prefix=token[:8],
        device=device,
        user=user,
        created_at=now,
        last_used_at=now,
    )
    user.last_login = now
    user.save(update_fields=["last_login"])
    return IssuedToken(token=token, record=record)


def token_lookup(token: str) -> DeviceToken | None:
    """A live token, or None. Lapsed tokens (unused for DEVICE_TOKEN_IDLE_DAYS) count as revoked, and
    so do the tokens of an account no longer in service (``standing``, F9 item 7)."""
    record = unique_or_none(
        DeviceToken.objects.select_related("user", "device").filter(in_service_q("user__")),
        key_hash=hash_token(token),
        revoked_at__isnull=True,
    )
    if record is None:
        return None
    now = timezone.now()
    if now - record.last_used_at > timedelta(days=settings.DEVICE_TOKEN_IDLE_DAYS):
        return None
    # Written at most once a minute: a phone syncing in bursts must not turn every read into a write.
    if now - record.last_used_at > timedelta(minutes=1):
        DeviceToken.objects.filter(pk=record.pk).update(last_used_at=now)
        Device.objects.filter(pk=record.device_id).update(last_seen_at=now)
    return record


@transaction.atomic
def token_revoke(*, record: DeviceToken, actor: User) -> DeviceToken:
    if record.revoked_at is None:
        record.revoked_at = timezone.now()
        record.revoked_by = actor
        record.save(update_fields=["revoked_at", "revoked_by"])
    return record


@transaction.atomic
def device_revoke(*, device: Device, actor: User) -> Device:
    DeviceToken.objects.filter(device=device, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    return device


# --- Signing in -----------------------------------------------------------------------------------


def _password_user(username: str, password: str) -> User:
    user = authenticate(username=username.strip(), password=password)
    if user is None:
        raise DomainError(errors.LOGIN_FAILED)
    return user


def login_with_password(*, username: str, password: str, device: DeviceInfo) -> IssuedToken:
    return token_issue(user=_password_user(username, password), info=device)


def _bind_ticket(openid: str, unionid: str | None) -> str:
    """The openid and unionid, timestamped and sealed (AES-256-GCM under the PII keys): the phone holds
    the ticket but can neither read who it names nor forge another (F9 item 11: a signed-only ticket
    was base64 a reader could decode to the openid and unionid)."""
    signed = signing.dumps({"openid": openid, "unionid": unionid or ""}, salt=BIND_TICKET_SALT)
    return encrypt_text(signed, purpose=BIND_TICKET_SALT)


def _open_bind_ticket(ticket: str) -> tuple[str, str]:
    """The ticket's openid and unionid, or wechat_bind_ticket_invalid (changed, forged or expired)."""
    try:
        signed = decrypt_text(ticket, purpose=BIND_TICKET_SALT)
        data = signing.loads(signed, salt=BIND_TICKET_SALT, max_age=BIND_TICKET_MAX_AGE)
        return str(data["openid"]), str(data["unionid"])
    except (UnreadableError, signing.BadSignature, UnicodeDecodeError, TypeError, KeyError):
        raise DomainError(errors.WECHAT_BIND_TICKET_INVALID) from None


def login_with_wechat(*, code: str, device: DeviceInfo) -> IssuedToken:
    """Log in by a wx.login() code alone, once the openid is bound. Unbound: wechat_not_bound with a
    short-lived ticket, so that the phone can bind with a password without asking WeChat again."""
    session = exchange_code(code)
    binding = (
        WeChatBinding.objects.select_related("user")
        .filter(appid=settings.WECHAT_APPID, openid=session.openid, user__is_active=True)
        .first()
    )
    if binding is None:
        raise DomainError(
            errors.WECHAT_NOT_BOUND,
            details={
                "bind_ticket": _bind_ticket(session.openid, session.unionid),
                "expires_in": BIND_TICKET_MAX_AGE,
            },
        )
    return token_issue(user=binding.user, info=device)


@transaction.atomic
def wechat_bind(
    *, username: str, password: str, device: DeviceInfo, code: str = "", bind_ticket: str = ""
) -> IssuedToken:
    """Bind a WeChat user to an account after one password check, then sign in."""
    user = _password_user(username, password)
    if bind_ticket:
        openid, unionid = _open_bind_ticket(bind_ticket)
    else:
        session = exchange_code(code)
        openid, unionid = session.openid, session.unionid or ""
    appid = settings.WECHAT_APPID
    existing = WeChatBinding.objects.filter(appid=appid, openid=openid).first()
    if existing is not None and existing.user_id != user.pk:
        raise DomainError(errors.WECHAT_ALREADY_BOUND)
    if existing is None:
        if WeChatBinding.objects.filter(appid=appid, user=user).exists():
            raise DomainError(errors.WECHAT_ALREADY_BOUND)
        try:
            with transaction.atomic():
                WeChatBinding.objects.create(
                    appid=appid, openid=openid, unionid=unionid, user=user, bound_at=timezone.now()
                )
        except IntegrityError:
            raise DomainError(errors.WECHAT_ALREADY_BOUND) from None
    return token_issue(user=user, info=device)
