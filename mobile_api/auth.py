"""Sign-in for phones and the back office: password, WeChat mini-program code, per-device tokens."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import (
    DeviceSerializer,
    MaskedIdField,
    SignInAccountThrottle,
    SignInThrottle,
    device_info,
    parse,
)
from server.access import devices_for, get_visible
from server.accounts import services
from server.accounts.models import Device, User
from server.regions import region_name
from server.registry.models import Employment


class PasswordLoginIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device = DeviceSerializer()


class WeChatLoginIn(serializers.Serializer):
    code = serializers.CharField(max_length=256, help_text="wx.login() 返回的 code。")
    device = DeviceSerializer()


class WeChatBindIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    code = serializers.CharField(max_length=256, required=False, default="", allow_blank=True)
    bind_ticket = serializers.CharField(max_length=1000, required=False, default="", allow_blank=True)
    device = DeviceSerializer()

    def validate(self, attrs):
        if not attrs["code"] and not attrs["bind_ticket"]:
            raise serializers.ValidationError({"code": ["请提供 code 或 bind_ticket。"]})
        return attrs


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    agency = serializers.SerializerMethodField()
    person = serializers.SerializerMethodField()
    posts = serializers.SerializerMethodField()
    enterprise = serializers.SerializerMethodField()
    region_code = serializers.CharField()
    region_name = serializers.SerializerMethodField(
        help_text="The region's name (a regulator's), e.g. 上海市徐汇区."
    )
    phone = serializers.CharField(help_text="The bound phone number (the account's own).")

    def get_region_name(self, user: User) -> str:
        return region_name(user.region_code)

    def get_name(self, user: User) -> str:
        return user.person.name if user.person_id else user.get_full_name() or user.username

    def get_agency(self, user: User) -> dict | None:
        return {"id": user.agency_id, "name": user.agency.name} if user.agency_id else None

    def get_person(self, user: User) -> dict | None:
        if not user.person_id:
            return None
        return {
            "name": user.person.name,
            "id_number": MaskedIdField().to_representation(user.person.id_number),
        }

    def get_posts(self, user: User) -> list[str]:
        if not user.person_id:
            return []
        employment = Employment.objects.filter(
            person_id=user.person_id, agency_id=user.agency_id, status=Employment.Status.ACTIVE
        ).first()
        return list(employment.posts.values_list("code", flat=True)) if employment else []

    def get_enterprise(self, user: User) -> dict | None:
        return {"id": user.enterprise_id, "name": user.enterprise.name} if user.enterprise_id else None


class TokenOut(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`. Shown once.")
    token_prefix = serializers.CharField()
    device_id = serializers.UUIDField()
    user = MeSerializer()


def _token_response(issued: services.IssuedToken) -> Response:
    record = issued.record
    body = {
        "token": issued.token,
        "token_prefix": record.prefix,
        "device_id": record.device_id,
        "user": record.user,
    }
    return Response(TokenOut(body).data, status=status.HTTP_200_OK)


class SignInView(APIView):
    """Sign-in endpoints: no authentication, throttled per address. WeChat login and binding call
    WeChat's code2session, so the throttle also bounds how fast one address spends that quota."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [SignInThrottle]


class PasswordLoginView(SignInView):
    throttle_classes = [SignInThrottle, SignInAccountThrottle]

    @extend_schema(request=PasswordLoginIn, responses=TokenOut, auth=[])
    def post(self, request: Request) -> Response:
        data = parse(PasswordLoginIn, request.data)
        issued = services.login_with_password(
            username=data["username"], password=data["password"], device=device_info(data["device"])
        )
        return _token_response(issued)


class WeChatLoginView(SignInView):
    @extend_schema(request=WeChatLoginIn, responses=TokenOut, auth=[])
    def post(self, request: Request) -> Response:
        data = parse(WeChatLoginIn, request.data)
        return _token_response(
            services.login_with_wechat(code=data["code"], device=device_info(data["device"]))
        )


class WeChatBindView(SignInView):
    throttle_classes = [SignInThrottle, SignInAccountThrottle]  # it checks a password too

    @extend_schema(request=WeChatBindIn, responses=TokenOut, auth=[])
    def post(self, request: Request) -> Response:
        data = parse(WeChatBindIn, request.data)
        issued = services.wechat_bind(
            username=data["username"],
            password=data["password"],
            code=data["code"],
            bind_ticket=data["bind_ticket"],
            device=device_info(data["device"]),
        )
        return _token_response(issued)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        record = getattr(request, "device_token", None)
        if record is not None:
            services.token_revoke(record=record, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class DeviceOut(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    signed_in = serializers.BooleanField(help_text="Holds a live token.")

    class Meta:
        model = Device
        fields = [
            "id",
            "user",
            "platform",
            "app_version",
            "model_name",
            "enrolled_at",
            "last_seen_at",
            "signed_in",
        ]


class DeviceListView(APIView):
    @extend_schema(responses=DeviceOut(many=True))
    def get(self, request: Request) -> Response:
        return Response(DeviceOut(devices_for(request.user), many=True).data)


class DeviceRevokeView(APIView):
    @extend_schema(request=None, responses=DeviceOut)
    def post(self, request: Request, device_id) -> Response:
        device = get_visible(devices_for(request.user), device_id)
        services.device_revoke(device=device, actor=request.user)
        return Response(DeviceOut(get_visible(devices_for(request.user), device_id)).data)


# --- The account's own settings (seed 001 §3.7.1 主账号管理) -------------------------------------------
class PasswordChangeIn(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PhoneChangeIn(serializers.Serializer):
    password = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        help_text="The current password: a phone change is re-verified.",
    )
    phone = serializers.CharField(max_length=30, help_text="An 11-digit mainland China mobile number.")


class PasswordChangeView(APIView):
    """Change the password (``current_password`` checked; ``wrong_password``, ``weak_password``).
    Every other phone of the account is signed out (its token revoked) and every browser session
    ends; the phone asking keeps its token."""

    @extend_schema(request=PasswordChangeIn, responses=MeSerializer)
    def post(self, request: Request) -> Response:
        data = parse(PasswordChangeIn, request.data)
        user = services.account_password_change(
            user=request.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
            keep_token=getattr(request, "device_token", None),
        )
        return Response(MeSerializer(user).data)


class PhoneChangeView(APIView):
    """Change the bound phone number, re-verified by the current password (``wrong_password``,
    ``phone_invalid``, ``phone_taken``: bound to another account in service, ``phone_unchanged``)."""

    @extend_schema(request=PhoneChangeIn, responses=MeSerializer)
    def post(self, request: Request) -> Response:
        data = parse(PhoneChangeIn, request.data)
        user = services.account_phone_change(
            user=request.user, password=data["password"], phone=data["phone"]
        )
        return Response(MeSerializer(user).data)
