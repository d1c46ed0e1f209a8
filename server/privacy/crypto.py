"""The keys and ciphers that keep personal information unreadable at rest: resident ID numbers (a column
of ``registry.Person``) and face photos (files in storage, ``media_rules.private_files``).

Keys live outside the database, in the environment or in files a container mounts:

- ``PII_KEYS`` (or ``PII_KEYS_FILE``): ``id:base64key,id:base64key,...``, each key 32 random bytes
  (AES-256). The first encrypts; every one listed decrypts. To rotate, put a new key first and keep
  the old ones until ``manage.py privacy_rekey`` has re-encrypted everything under the new one.
- ``PII_INDEX_KEY`` (or ``PII_INDEX_KEY_FILE``): base64 of at least 32 random bytes, the HMAC key of
  the blind index (below). It cannot be rotated by listing two: every lookup needs the one index.

Local runs (DEBUG on) generate both once under VAR_DIR (``local_keys``), like the secret key. Without
DEBUG nothing is generated: servers refuse to start without them (``require_keys``, called by
``server/wsgi.py`` and ``server/asgi.py``: runserver, gunicorn), ``check --deploy`` reports them
missing (privacy.E001), and anything else that needs them (a Celery task, ``migrate`` over existing
people) fails with ImproperlyConfigured at first use. Commands that touch no personal data
(``makemigrations``, ``check``, the test suite's settings) run without keys.

Encryption is AES-256-GCM (authenticated: a wrong key or a changed byte fails, never decrypts to
garbage). A sealed value is ``MAGIC | len(key id) | key id | 12-byte nonce | ciphertext+tag``; the
*purpose* (which column or file it belongs to) is the associated data, so a ciphertext moved to
another column or another photo does not decrypt. Text columns hold its URL-safe base64.

A random nonce makes equal numbers encrypt differently, so equality is looked up through a *blind
index*: HMAC-SHA256 of the normalised number under ``PII_INDEX_KEY``, unique in the database. Without
the index key the index cannot be brute-forced over the ~10^10 valid ID numbers of a region.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

from server.errors import DomainError
from server.privacy import errors

logger = logging.getLogger(__name__)

MAGIC = b"FTPII1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class UnreadableError(DomainError):
    """A sealed value this server cannot open: its key is not configured, or it was changed."""

    def __init__(self) -> None:
        super().__init__(errors.PII_UNREADABLE)


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, AESGCM]  # in the order given: the first encrypts
    index_key: bytes

    @property
    def current(self) -> str:
        return next(iter(self.keys))


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (what ``openssl rand -base64 32`` or Python gives)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def parse_keys(value: str, *, name: str = "PII_KEYS") -> dict[str, bytes]:
    """``id:base64key,...`` into ``{id: key}``, refusing anything that is not 32-byte keys with ids."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                f"{name}: each key is id:base64key, the id made of letters, digits, '.', '_' or '-'."
            )
        try:
            key = _b64decode(encoded)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"{name}: the key {key_id!r} is not base64.") from None
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"{name}: the key {key_id!r} is {len(key)} bytes; AES-256 needs 32.")
        if key_id in keys:
            raise ImproperlyConfigured(f"{name}: the key id {key_id!r} is listed twice.")
        keys[key_id] = key
    if not keys:
        raise ImproperlyConfigured(f"{name} lists no key.")
    return keys


def parse_index_key(value: str, *, name: str = "PII_INDEX_KEY") -> bytes:
    try:
        key = _b64decode(value)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} is not base64.") from None
    if len(key) < KEY_BYTES:
        raise ImproperlyConfigured(f"{name} is {len(key)} bytes; give at least 32 random bytes.")
    return key


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _generated_once(path: Path, content: str) -> str:
    try:
        # O_EXCL: two processes starting together (runserver's reloader) must not write two keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    return path.read_text(encoding="utf-8").strip()


def local_keys(var_dir: Path, keys: str, index_key: str) -> tuple[str, str]:
    """For local runs (DEBUG on): the keys not given, generated once under ``var_dir`` and kept there
    (owner-readable only), so that data encrypted yesterday still reads today."""
    var_dir.mkdir(parents=True, exist_ok=True)
    keys = keys or _generated_once(var_dir / "pii_keys", f"local1:{new_key()}")
    index_key = index_key or _generated_once(var_dir / "pii_index_key", new_key())
    return keys, index_key


@functools.lru_cache(maxsize=4)
def _ring_of(keys: str, index_key: str) -> KeyRing:
    if not keys or not index_key:
        raise ImproperlyConfigured(
            "PII_KEYS and PII_INDEX_KEY (or PII_KEYS_FILE and PII_INDEX_KEY_FILE) are required when "
            "DEBUG is off: personal information is encrypted at rest. For a local run set DEBUG=1 and "
            "keys are generated under var/."
        )
    return KeyRing(
        keys={key_id: AESGCM(key) for key_id, key in parse_keys(keys).items()},
        index_key=parse_index_key(index_key),
    )


def ring() -> KeyRing:
    """The configured keys (cached per configuration, so tests that change the settings see it)."""
    from django.conf import settings

    return _ring_of(settings.PII_KEYS, settings.PII_INDEX_KEY)


def require_keys() -> None:
    """Refuse to start a server without keys (ImproperlyConfigured), as for SECRET_KEY."""
    ring()


# --- Sealing --------------------------------------------------------------------------------------


def is_sealed(data: bytes) -> bool:
    return data[: len(MAGIC)] == MAGIC


def seal(data: bytes, *, purpose: str) -> bytes:
    key_ring = ring()
    key_id = key_ring.current
    nonce = secrets.token_bytes(NONCE_BYTES)
    kid = key_id.encode("ascii")
    ciphertext = key_ring.keys[key_id].encrypt(nonce, data, purpose.encode("utf-8"))
    return b"".join((MAGIC, bytes([len(kid)]), kid, nonce, ciphertext))


def key_id_of(sealed: bytes) -> str:
    if not is_sealed(sealed) or len(sealed) < len(MAGIC) + 1:
        raise UnreadableError
    length = sealed[len(MAGIC)]
    return sealed[len(MAGIC) + 1 : len(MAGIC) + 1 + length].decode("ascii", "replace")


def unseal(sealed: bytes, *, purpose: str) -> bytes:
    """The plaintext, or ``UnreadableError`` (a 503 with a code) when the key is missing or it was changed."""
    key_id = key_id_of(sealed)
    cipher = ring().keys.get(key_id)
    if cipher is None:
        logger.error("privacy: a %s value is sealed under key %r, which is not in PII_KEYS", purpose, key_id)
        raise UnreadableError
    start = len(MAGIC) + 1 + len(key_id.encode("ascii"))
    nonce, ciphertext = sealed[start : start + NONCE_BYTES], sealed[start + NONCE_BYTES :]
    try:
        return cipher.decrypt(nonce, ciphertext, purpose.encode("utf-8"))
    except InvalidTag:
        logger.error("privacy: a %s value does not open under key %r (wrong key or changed)", purpose, key_id)
        raise UnreadableError from None


def encrypt_text(value: str, *, purpose: str) -> str:
    return base64.urlsafe_b64encode(seal(value.encode("utf-8"), purpose=purpose)).decode("ascii")


def decrypt_text(token: str, *, purpose: str) -> str:
    try:
        sealed = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise UnreadableError from None
    return unseal(sealed, purpose=purpose).decode("utf-8")


def needs_rekey(token_or_bytes: str | bytes) -> bool:
    """Whether a sealed value is under a key other than the current one."""
    sealed = (
        base64.urlsafe_b64decode(token_or_bytes.encode("ascii"))
        if isinstance(token_or_bytes, str)
        else token_or_bytes
    )
    return key_id_of(sealed) != ring().current


# --- Blind index ----------------------------------------------------------------------------------


def normalise(value: str) -> str:
    """ID numbers compare without surrounding blanks and with the check character X upper-case."""
    return str(value).strip().upper()


def blind_index(value: str, *, purpose: str) -> str:
    message = purpose.encode("utf-8") + b"\x00" + normalise(value).encode("utf-8")
    return hmac.new(ring().index_key, message, hashlib.sha256).hexdigest()
