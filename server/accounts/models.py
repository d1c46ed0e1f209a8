from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    PLATFORM = "platform", "平台管理员"
    REGULATOR = "regulator", "监管方"
    AGENCY_MAIN = "agency_main", "机构主账号"
    AGENCY_MANAGER = "agency_manager", "机构子账号（管理）"
    AGENCY_REVIEWER = "agency_reviewer", "机构子账号（运维审核）"
    AGENCY_FIELD = "agency_field", "现场人员"
    ENTERPRISE = "enterprise", "排污企业确认人"


AGENCY_ROLES = {Role.AGENCY_MAIN, Role.AGENCY_MANAGER, Role.AGENCY_REVIEWER, Role.AGENCY_FIELD}
# Roles whose account is a person on the agency's staff (they act on tasks from a phone).
STAFF_ROLES = {Role.AGENCY_REVIEWER, Role.AGENCY_FIELD}


class FieldtraceUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.PLATFORM)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in, with exactly one scope: an agency, an enterprise or a region.

    Declared at the start of the project so that accounts could grow without swapping the user model.
    What a user may see follows from ``role`` and its scope (``server/access.py``).
    """

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    # No default: an account without a role would have no scope, and the database refuses it.
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    agency = models.ForeignKey(
        "registry.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name="所属机构",
    )
    person = models.ForeignKey(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name="人员",
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="confirmers",
        verbose_name="所属企业",
    )
    region_code = models.CharField("辖区行政区划", max_length=6, blank=True)
    phone = models.CharField("手机号", max_length=30, blank=True)
    created_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="创建人"
    )

    objects = FieldtraceUserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_role",
                condition=(
                    Q(role="platform", agency__isnull=True, enterprise__isnull=True)
                    | Q(
                        role="regulator",
                        agency__isnull=True,
                        enterprise__isnull=True,
                        region_code__regex=r"^\d{6}$",
                    )
                    | Q(
                        role__in=["agency_main", "agency_manager"],
                        agency__isnull=False,
                        enterprise__isnull=True,
                    )
                    | Q(
                        role__in=["agency_reviewer", "agency_field"],
                        agency__isnull=False,
                        person__isnull=False,
                        enterprise__isnull=True,
                    )
                    | Q(role="enterprise", enterprise__isnull=False, agency__isnull=True)
                ),
            ),
            # Each agency has one main account (seed 001: 主账号 creates and closes the sub-accounts).
            models.UniqueConstraint(
                fields=["agency"],
                condition=Q(role="agency_main", is_active=True),
                name="user_one_main_per_agency",
            ),
            # The same person is never given two accounts in service (seed 002 账号分配; issue 23):
            # services.check_person_free says so first, this holds against every other path.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(is_active=True, person__isnull=False),
                name="user_one_account_per_person",
            ),
            # Seed 001 §2.3.2 signs in by the bound phone number: one number, one account in service.
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(is_active=True) & ~Q(phone=""),
                name="user_phone_unique_active",
            ),
        ]


class Device(models.Model):
    """A phone enrolled by a user. Its id is generated on the phone, so offline work can name it."""

    class Platform(models.TextChoices):
        WECHAT = "wechat", "微信小程序"
        ANDROID = "android", "安卓（Android）"
        IOS = "ios", "苹果（iOS）"
        HARMONY = "harmony", "鸿蒙（HarmonyOS）"
        WEB = "web", "网页（Web）"

    id = models.UUIDField("设备编号", primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices", verbose_name="用户"
    )
    platform = models.CharField("平台", max_length=16, choices=Platform.choices)
    app_version = models.CharField("应用版本", max_length=32)
    model_name = models.CharField("手机型号", max_length=100, blank=True)
    public_key = models.TextField(
        "签名公钥", blank=True, help_text="PEM public key for signed capture, when the app has one."
    )
    enrolled_at = models.DateTimeField("登记时间")
    last_seen_at = models.DateTimeField("最近使用时间")

    class Meta:
        verbose_name = "设备"
        verbose_name_plural = "设备"
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.model_name or self.id}"


class DeviceToken(models.Model):
    """A bearer token issued to one device. Only its SHA-256 is stored; the token is shown once."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    key_hash = models.CharField("令牌摘要", max_length=64, unique=True)
    prefix = models.CharField(
        "令牌前缀", max_length=8, help_text="The first characters, to tell tokens apart in lists."
    )
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="tokens", verbose_name="设备")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens", verbose_name="用户"
    )
    created_at = models.DateTimeField("签发时间")
    last_used_at = models.DateTimeField("最近使用时间")
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="撤销人",
    )

    class Meta:
        verbose_name = "设备令牌"
        verbose_name_plural = "设备令牌"
        ordering = ["-created_at"]
        constraints = [
            # A device holds one live token: signing in again on it replaces the old one.
            models.UniqueConstraint(
                fields=["device"], condition=Q(revoked_at__isnull=True), name="one_live_token"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class WeChatBinding(models.Model):
    """A WeChat mini-program user (openid under one appid) bound to an account after a password check."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    appid = models.CharField("小程序 AppID", max_length=64)
    openid = models.CharField("微信 OpenID", max_length=128)
    unionid = models.CharField("微信 UnionID", max_length=128, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="wechat_bindings",
        verbose_name="用户",
    )
    bound_at = models.DateTimeField("绑定时间")

    class Meta:
        verbose_name = "微信绑定"
        verbose_name_plural = "微信绑定"
        constraints = [
            models.UniqueConstraint(fields=["appid", "openid"], name="wechat_openid_unique"),
            models.UniqueConstraint(fields=["appid", "user"], name="wechat_one_binding_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.openid[:6]}… → {self.user}"
