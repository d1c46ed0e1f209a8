"""A phone's signing key is checked when it enrols: a key we could never verify with is refused."""

import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from media_rules.errors import DEVICE_KEY_INVALID, DEVICE_KEY_UNSUPPORTED
from server.accounts.models import Device, DeviceToken
from tests.factories import PASSWORD


def pem(curve: ec.EllipticCurve) -> str:
    return (
        ec.generate_private_key(curve)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def login(api, user, device_id: str, public_key: str):
    device = {
        "id": device_id,
        "platform": "android",
        "app_version": "2.0.0",
        "model_name": "Pixel 8",
        "public_key": public_key,
    }
    body = {"username": user.username, "password": PASSWORD, "device": device}
    return api.post("/api/v1/auth/login", body, format="json")


def test_a_p256_key_is_stored_at_sign_in(world, api):
    key = pem(ec.SECP256R1())
    device_id = str(uuid.uuid4())
    response = login(api, world.shanghai.field_user, device_id, key)
    assert response.status_code == 200
    assert Device.objects.get(pk=device_id).public_key == key.strip()  # the serializer trims it


@pytest.mark.parametrize(
    ("public_key", "error"),
    [
        ("not a key", DEVICE_KEY_INVALID),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", DEVICE_KEY_INVALID),
        (pem(ec.SECP384R1()), DEVICE_KEY_UNSUPPORTED),
    ],
    ids=["junk", "broken-pem", "p384"],
)
def test_an_unusable_key_is_a_400_and_nothing_is_enrolled(world, api, public_key, error):
    device_id = str(uuid.uuid4())
    response = login(api, world.shanghai.field_user, device_id, public_key)
    assert response.status_code == 400
    assert response.json()["code"] == error.code
    assert not Device.objects.filter(pk=device_id).exists()
    assert not DeviceToken.objects.exists()


def test_an_unusable_key_does_not_replace_the_enrolled_one(world, api, api_en):
    user = world.shanghai.field_user
    device_id = str(uuid.uuid4())
    good = pem(ec.SECP256R1())
    first = login(api, user, device_id, good)
    assert first.status_code == 200

    refused = login(api_en, user, device_id, pem(ec.SECP384R1()))

    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == DEVICE_KEY_UNSUPPORTED.code
    assert body["details"] == {"key_type": "ECDSA secp384r1"}
    assert "ECDSA secp384r1" in body["message"]
    assert Device.objects.get(pk=device_id).public_key == good.strip()
    # The token issued with the good key still works: the refused sign-in changed nothing.
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {first.json()['token']}")
    assert api.get("/api/v1/me").status_code == 200


def test_no_key_is_still_fine(world, api):
    response = login(api, world.shanghai.field_user, str(uuid.uuid4()), "")
    assert response.status_code == 200
