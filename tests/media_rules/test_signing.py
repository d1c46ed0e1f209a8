"""Device-signed capture manifests: the canonical message, accepted keys, signature checks (no database)."""

import base64
import dataclasses
import datetime as dt
import hashlib
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from media_rules.errors import DEVICE_KEY_INVALID, DEVICE_KEY_UNSUPPORTED
from media_rules.signing import capture_message, load_public_key, verify
from server.errors import DomainError
from server.geo import CoordinateSystem

SHANGHAI_TZ = dt.timezone(dt.timedelta(hours=8))


@dataclasses.dataclass(frozen=True)
class Capture:
    sha256: str = hashlib.sha256(b"a photo").hexdigest()
    lon: float = 121.4737123
    lat: float = 31.2304456
    system: str = "gcj02"
    capture_time: dt.datetime = dt.datetime(2026, 11, 23, 16, 15, 30, 123456, tzinfo=SHANGHAI_TZ)
    task_id: str = "3f2b8c1e-7d4a-4b6e-9a51-2c0d8e7f6a14"

    def message(self) -> bytes:
        return capture_message(**dataclasses.asdict(self))


CAPTURE = Capture()


def pem(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def p256():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def ed():
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa2048():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_p256_der(key, message: bytes) -> bytes:
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def sign_p256_raw(key, message: bytes) -> bytes:
    r, s = decode_dss_signature(sign_p256_der(key, message))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_rsa(key, message: bytes) -> bytes:
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


# --- The canonical message ------------------------------------------------------------------------


def test_the_canonical_message_is_pinned_byte_for_byte():
    """The format app developers reproduce; the example in the module docstring. Must never drift."""
    message = capture_message(
        sha256="E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",  # sha256(b"")
        lon=121.4737,
        lat=31.2304,
        system="GCJ02",
        capture_time=dt.datetime(2026, 11, 23, 16, 15, 30, 123456, tzinfo=SHANGHAI_TZ),
        task_id="3F2B8C1E-7D4A-4B6E-9A51-2C0D8E7F6A14",
    )
    assert message == (
        b"fieldtrace-capture-v1\n"
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        b"121.4737000\n"
        b"31.2304000\n"
        b"gcj02\n"
        b"2026-11-23T08:15:30.123Z\n"
        b"3f2b8c1e-7d4a-4b6e-9a51-2c0d8e7f6a14"
    )
    assert len(message) == 177


def test_without_a_task_the_last_line_is_empty_and_southern_western_points_keep_their_sign():
    message = capture_message(
        sha256="0" * 64,
        lon=-70.6482999,
        lat=-33.4569,
        system=CoordinateSystem.WGS84,
        capture_time=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        task_id="",
    )
    assert message.decode().split("\n") == [
        "fieldtrace-capture-v1",
        "0" * 64,
        "-70.6482999",
        "-33.4569000",
        "wgs84",
        "2026-01-02T03:04:05.000Z",
        "",
    ]
    assert capture_message(**(dataclasses.asdict(CAPTURE) | {"task_id": None})).endswith(b"Z\n")
    assert capture_message(**(dataclasses.asdict(CAPTURE) | {"task_id": uuid.UUID(CAPTURE.task_id)})) == (
        CAPTURE.message()
    )


@pytest.mark.parametrize(
    ("lon", "expected"),
    [
        (-1e-9, "0.0000000"),  # no negative zero: Java's BigDecimal has none
        (116.00390625, "116.0039062"),  # exact ties (116 + 1/256, 116 + 3/256) round half to even
        (116.01171875, "116.0117188"),
        (116.00390875, "116.0039087"),  # the double is just below ...875: Java's String.format says 088
        (120, "120.0000000"),
    ],
)
def test_coordinates_have_exactly_seven_decimals_rounded_half_to_even(lon, expected):
    message = capture_message(**(dataclasses.asdict(CAPTURE) | {"lon": lon}))
    assert message.split(b"\n")[2].decode() == expected


def test_milliseconds_are_truncated_not_rounded():
    late = CAPTURE.capture_time.replace(microsecond=999999)
    message = capture_message(**(dataclasses.asdict(CAPTURE) | {"capture_time": late}))
    assert message.split(b"\n")[5] == b"2026-11-23T08:15:30.999Z"


@pytest.mark.parametrize(
    "change",
    [
        {"capture_time": dt.datetime(2026, 11, 23, 8, 15, 30)},  # noqa: DTZ001 (the naive datetime refused)
        {"sha256": "abc"},
        {"sha256": "g" * 64},
        {"sha256": "a" * 64 + "\n"},
        {"lon": float("nan")},
        {"lat": float("inf")},
        {"lon": 180.5},
        {"lat": -91.0},
        {"lon": True},
        {"lon": "121.47"},
        {"system": "mercator"},
        {"task_id": "task-7"},
    ],
)
def test_values_a_phone_could_not_have_signed_are_value_errors(change):
    with pytest.raises(ValueError):  # noqa: PT011 (the message varies by field; the type is the contract)
        capture_message(**(dataclasses.asdict(CAPTURE) | change))


# --- Round trips ----------------------------------------------------------------------------------


def test_ecdsa_p256_der_signature_verifies(p256):
    message = CAPTURE.message()
    assert verify(pem(p256.public_key()), message, b64(sign_p256_der(p256, message)))


def test_ecdsa_p256_raw_r_s_signature_verifies(p256):
    message = CAPTURE.message()
    raw = sign_p256_raw(p256, message)
    assert len(raw) == 64
    assert verify(pem(p256.public_key()), message, b64(raw))


def test_ed25519_signature_verifies(ed):
    message = CAPTURE.message()
    assert verify(pem(ed.public_key()), message, b64(ed.sign(message)))


def test_rsa_pkcs1v15_sha256_signature_verifies(rsa2048):
    message = CAPTURE.message()
    assert verify(pem(rsa2048.public_key()), message, b64(sign_rsa(rsa2048, message)))


def test_url_safe_and_unpadded_base64_are_accepted(p256, ed):
    message = CAPTURE.message()
    for key, signature in (
        (p256, sign_p256_der(p256, message)),
        (p256, sign_p256_raw(p256, message)),
        (ed, ed.sign(message)),
    ):
        url_safe = base64.urlsafe_b64encode(signature).decode()
        assert verify(pem(key.public_key()), message, url_safe)
        assert verify(pem(key.public_key()), message, url_safe.rstrip("="))
        assert verify(pem(key.public_key()), message, b64(signature).rstrip("="))


def test_an_ios_x963_point_wrapped_with_the_documented_header_loads(p256):
    point = p256.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + point
    wrapped = "-----BEGIN PUBLIC KEY-----\n" + b64(der) + "\n-----END PUBLIC KEY-----\n"
    message = CAPTURE.message()
    assert verify(wrapped, message, b64(sign_p256_der(p256, message)))


# --- Tampering ------------------------------------------------------------------------------------

TAMPERED = [
    pytest.param({"sha256": hashlib.sha256(b"another photo").hexdigest()}, id="other-file"),
    pytest.param({"lon": CAPTURE.lon + 1e-7}, id="lon+1e-7"),
    pytest.param({"lat": CAPTURE.lat - 1e-7}, id="lat-1e-7"),
    pytest.param({"system": "wgs84"}, id="other-system"),
    pytest.param({"task_id": str(uuid.uuid4())}, id="other-task"),
    pytest.param({"task_id": ""}, id="no-task"),
    pytest.param(
        {"capture_time": CAPTURE.capture_time + dt.timedelta(milliseconds=1)},
        id="time+1ms",
    ),
]


@pytest.mark.parametrize("change", TAMPERED)
def test_a_changed_capture_record_fails_for_every_key_type(change, p256, ed, rsa2048):
    original = CAPTURE.message()
    tampered = dataclasses.replace(CAPTURE, **change).message()
    assert tampered != original
    for key, signature in (
        (p256, sign_p256_der(p256, original)),
        (p256, sign_p256_raw(p256, original)),
        (ed, ed.sign(original)),
        (rsa2048, sign_rsa(rsa2048, original)),
    ):
        assert verify(pem(key.public_key()), original, b64(signature))
        assert not verify(pem(key.public_key()), tampered, b64(signature))


def test_another_devices_key_fails(p256):
    message = CAPTURE.message()
    other = ec.generate_private_key(ec.SECP256R1())
    assert not verify(pem(other.public_key()), message, b64(sign_p256_der(p256, message)))


# --- Garbage never raises -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "=",
        "not base64 at all!",
        "QUJD",  # valid base64 of "ABC"
        "A",  # impossible base64 length
        b64(b"\x00" * 64),  # raw r = s = 0
        b64(b"\xff" * 64),  # raw r, s beyond the curve order
        b64(b"\x30" * 71),  # DER-looking junk
        b64(bytes(10_000)),  # far too long
        "签名",
        None,
        12345,
    ],
)
def test_garbage_signatures_return_false(signature, p256, ed, rsa2048):
    message = CAPTURE.message()
    for key in (p256, ed, rsa2048):
        assert verify(pem(key.public_key()), message, signature) is False


@pytest.mark.parametrize(
    "key_pem",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        None,
        "-----BEGIN PUBLIC KEY-----\n" + "A" * 20_000 + "\n-----END PUBLIC KEY-----\n",
    ],
)
def test_garbage_keys_return_false(key_pem, p256):
    message = CAPTURE.message()
    assert verify(key_pem, message, b64(sign_p256_der(p256, message))) is False


def test_a_signature_with_a_refused_key_returns_false():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point)
    message = CAPTURE.message()
    assert verify(pem(weak.public_key()), message, b64(sign_rsa(weak, message))) is False


def test_a_message_that_is_not_bytes_returns_false(ed):
    message = CAPTURE.message()
    assert verify(pem(ed.public_key()), message.decode(), b64(ed.sign(message))) is False


# --- Which keys are accepted ----------------------------------------------------------------------


def test_accepted_keys_load(p256, ed, rsa2048):
    assert isinstance(load_public_key(pem(p256.public_key())), ec.EllipticCurvePublicKey)
    assert isinstance(load_public_key(pem(ed.public_key())), ed25519.Ed25519PublicKey)
    assert isinstance(load_public_key(pem(rsa2048.public_key())), rsa.RSAPublicKey)
    pkcs1 = rsa2048.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    assert isinstance(load_public_key(pkcs1.decode()), rsa.RSAPublicKey)


@pytest.mark.parametrize(
    ("make_key", "key_type"),
    [
        (lambda: ec.generate_private_key(ec.SECP384R1()), "ECDSA secp384r1"),
        (lambda: ec.generate_private_key(ec.SECP256K1()), "ECDSA secp256k1"),
        (lambda: rsa.generate_private_key(65537, 1024), "RSA 1024 bits"),  # noqa: S505 (refused)
        (lambda: dsa.generate_private_key(key_size=2048), "DSA"),
        (ed448.Ed448PrivateKey.generate, "Ed448"),
        (x25519.X25519PrivateKey.generate, "X25519"),
    ],
)
def test_other_key_types_and_sizes_are_refused(make_key, key_type):
    with pytest.raises(DomainError) as raised:
        load_public_key(pem(make_key().public_key()))
    assert raised.value.error is DEVICE_KEY_UNSUPPORTED
    assert raised.value.details == {"key_type": key_type}


def test_a_private_key_or_junk_is_not_a_public_key(p256):
    private_pem = p256.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    for junk in (private_pem, "", "   ", "hello", pem(p256.public_key())[:60]):
        with pytest.raises(DomainError) as raised:
            load_public_key(junk)
        assert raised.value.error is DEVICE_KEY_INVALID
