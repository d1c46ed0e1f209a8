"""Device-signed capture manifests: the canonical message, the accepted keys, signature checks.

A phone may enrol a public key (``Device.public_key``, PEM). When it does, the app signs each photo's
capture record with the matching private key, which never leaves the phone's keystore; the server
rebuilds the same message from what it received and checks the signature. An invalid signature is a
``signature_invalid`` FAIL finding (``rules_media.rule_signature``); a missing one is only reported
where signatures are required.

The message, version 1
----------------------
The UTF-8 bytes of seven lines joined by ``\\n`` (LF), with no trailing newline and no spaces::

    fieldtrace-capture-v1
    <sha256>
    <lon>
    <lat>
    <system>
    <capture time>
    <task id>

- ``sha256``: SHA-256 of the photo file exactly as uploaded, 64 lowercase hex digits.
- ``lon``, ``lat``: the position the phone measured, in the coordinate system it declares, before
  any conversion by the server, in decimal degrees with exactly 7 decimals: the exact value of the
  IEEE-754 double rounded half-to-even. Java/Kotlin:
  ``new BigDecimal(x).setScale(7, RoundingMode.HALF_EVEN).toPlainString()`` (not ``String.format``,
  which rounds the shortest decimal form half-up); Swift/C: ``String(format: "%.7f", x)``; Python:
  ``f"{x:.7f}"``; JavaScript's ``x.toFixed(7)`` differs only on exact ties (such as 116 + 1/256).
  A value that rounds to zero is written ``0.0000000``, never ``-0.0000000``.
- ``system``: the declared coordinate system, lowercase: ``wgs84``, ``gcj02`` or ``bd09``.
- ``capture time``: the capture time in UTC, ``YYYY-MM-DDTHH:MM:SS.mmmZ``, milliseconds truncated
  (not rounded), e.g. ``2026-11-23T08:15:30.123Z``.
- ``task id``: the monitoring task's UUID, lowercase with hyphens; empty (the line is blank) when
  the photo belongs to no task.

For example, an (empty) file taken at GCJ-02 (121.4737, 31.2304) at 16:15:30.123456 Shanghai time
for task ``3F2B8C1E-7D4A-4B6E-9A51-2C0D8E7F6A14`` gives these 177 bytes (``tests/media_rules/
test_signing.py`` pins them)::

    fieldtrace-capture-v1
    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    121.4737000
    31.2304000
    gcj02
    2026-11-23T08:15:30.123Z
    3f2b8c1e-7d4a-4b6e-9a51-2c0d8e7f6a14

Keys and signatures
-------------------
The public key is PEM (``-----BEGIN PUBLIC KEY-----``, X.509 SubjectPublicKeyInfo), one of:

- ECDSA on P-256 (secp256r1), the Android Keystore and iOS Secure Enclave default; signed with
  SHA-256 over the message (Android ``SHA256withECDSA``, iOS
  ``.ecdsaSignatureMessageX962SHA256``, CryptoKit ``P256.Signing``). The signature may be DER (what
  Android and ``SecKeyCreateSignature`` give) or raw ``r || s``, 64 bytes (CryptoKit's
  ``rawRepresentation``). iOS exports the public key as a bare 65-byte X9.63 point: prefix it with
  the DER header ``3059301306072a8648ce3d020106082a8648ce3d030107034200`` and base64 it into PEM;
- Ed25519, over the message itself;
- RSA of at least 2048 bits, PKCS#1 v1.5 with SHA-256 (``SHA256withRSA``).

Other curves, shorter RSA keys and other key types are refused at enrolment (``device_key_invalid``,
``device_key_unsupported``). The signature is sent base64-encoded, standard or URL-safe alphabet,
with or without ``=`` padding.

Nothing here touches the database: the sync engine passes the values in.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
import uuid
from enum import Enum

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from media_rules.errors import DEVICE_KEY_INVALID, DEVICE_KEY_UNSUPPORTED
from server.errors import DomainError
from server.geo import CoordinateSystem

MESSAGE_VERSION = "fieldtrace-capture-v1"
MIN_RSA_BITS = 2048
# A 16384-bit RSA key is under 3,000 characters of PEM and its signature under 2,800 of base64.
MAX_KEY_CHARS = 10_000
MAX_SIGNATURE_CHARS = 4_096
_P256_RAW_SIGNATURE_BYTES = 64

DevicePublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


# --- The canonical message ------------------------------------------------------------------------
def _degrees(value: float, name: str, limit: float) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{name} must be a finite number within ±{limit:g}, not {value!r}")
    text = f"{value:.7f}"
    # Java's BigDecimal has no negative zero: -1e-9 must read 0.0000000 on both sides.
    return text.lstrip("-") if float(text) == 0 else text


def _utc_milliseconds(value: dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("capture_time must be timezone-aware")
    t = value.astimezone(dt.timezone.utc)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}Z"
    )


def _task(task_id: str | uuid.UUID | None) -> str:
    if task_id is None or task_id == "":
        return ""
    if isinstance(task_id, uuid.UUID):
        return str(task_id)
    return str(uuid.UUID(task_id))  # ValueError for anything but a UUID; str() is lowercase, hyphenated


def capture_message(
    *,
    sha256: str,
    lon: float,
    lat: float,
    system: str,
    capture_time: dt.datetime,
    task_id: str | uuid.UUID | None,
) -> bytes:
    """The bytes a phone signs for one photo (format in the module docstring).

    Raises ValueError on values the phone could not have signed: a malformed hash, a non-finite or
    out-of-range coordinate, an unknown system, a naive datetime, a task id that is not a UUID.
    """
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
        raise ValueError("sha256 must be 64 hex digits")
    code = system.value if isinstance(system, Enum) else system
    if not isinstance(code, str):
        raise ValueError("system must be a coordinate system code")
    system_code = CoordinateSystem(code.lower()).value  # ValueError when unknown
    lines = (
        MESSAGE_VERSION,
        sha256.lower(),
        _degrees(lon, "lon", 180.0),
        _degrees(lat, "lat", 90.0),
        system_code,
        _utc_milliseconds(capture_time),
        _task(task_id),
    )
    return "\n".join(lines).encode("utf-8")


# --- Keys -----------------------------------------------------------------------------------------
def _key_type(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    return type(key).__name__.removeprefix("_").removesuffix("PublicKey") or "unknown"


def load_public_key(pem: str) -> DevicePublicKey:
    """The device key in ``pem``, if it is one we accept; ``DomainError`` otherwise.

    ``device_key_invalid``: not a PEM public key at all (a private key, a certificate, garbage).
    ``device_key_unsupported``: a public key of a type or size we refuse (details name it).
    """
    if not isinstance(pem, str) or not pem.strip() or len(pem) > MAX_KEY_CHARS:
        raise DomainError(DEVICE_KEY_INVALID)
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeError):
        raise DomainError(DEVICE_KEY_INVALID) from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
        return key
    key_type = _key_type(key)
    raise DomainError(DEVICE_KEY_UNSUPPORTED, details={"key_type": key_type}, key_type=key_type)


# --- Signatures -----------------------------------------------------------------------------------
def _decode_signature(signature_b64: str) -> bytes:
    """Standard or URL-safe base64, padded or not. Raises ValueError on anything else."""
    if isinstance(signature_b64, bytes):
        signature_b64 = signature_b64.decode("ascii")
    if not isinstance(signature_b64, str) or len(signature_b64) > MAX_SIGNATURE_CHARS:
        raise ValueError("not a signature")
    text = "".join(signature_b64.split()).rstrip("=").replace("-", "+").replace("_", "/")
    if not text:
        raise ValueError("empty signature")
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def _ecdsa_candidates(signature: bytes) -> list[bytes]:
    # A 64-byte signature is raw r || s (CryptoKit); a DER one of exactly 64 bytes is possible but
    # rare, so both readings are tried: each is a real signature check, neither weakens the other.
    candidates = [signature]
    if len(signature) == _P256_RAW_SIGNATURE_BYTES:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        candidates.insert(0, encode_dss_signature(r, s))
    return candidates


def verify(public_key_pem: str, message: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is the device key's signature of ``message``.

    Never raises on what a phone sent: an unreadable or refused key, bad base64, a signature of the
    wrong length or shape all return False.
    """
    try:
        key = load_public_key(public_key_pem)
        if not isinstance(message, (bytes, bytearray)):
            return False
        message = bytes(message)
        signature = _decode_signature(signature_b64)
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
            return True
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        for candidate in _ecdsa_candidates(signature):
            try:
                key.verify(candidate, message, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                continue
            return True
        return False
    except (DomainError, InvalidSignature, ValueError, TypeError, binascii.Error, UnicodeError):
        return False
