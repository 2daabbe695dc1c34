"""Standard Webhooks signatures, and the signing secrets sealed at rest.

Signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of 32 random bytes;
each request carries `webhook-id` (the outbox event's id: the same on every retry, receivers
drop duplicates by it), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per valid
secret, separated by spaces — during a rotation's overlap both the new and the previous secret
sign, so a receiver still holding the old one keeps verifying. Written here (a few lines of
`hmac`) rather than with the `standardwebhooks` package, which the tests use to verify what we
send: two implementations agreeing is the check.

At rest (decided so): the secrets must be readable by the app — it signs with them — so they
cannot be hashed like passwords or API tokens. They are sealed with AES-256-GCM under a key
derived from SECRET_KEY (HKDF-SHA256, its own `info` label, so the key is used for nothing
else), with the endpoint's id as associated data (a sealed secret copied onto another endpoint
does not open). A copy of the database (a backup, a replica, a read-only leak) then holds no
usable secret. Changing SECRET_KEY makes the sealed secrets unreadable: deliveries record
"rotate the secret" and the organization rotates them (`SecretUnreadable`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Iterable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's fixed prefix, not a secret
SECRET_BYTES = 32
_SEAL_VERSION = b"\x01"
_NONCE_BYTES = 12
_KDF_INFO = b"hackops/webhooks/signing-secret/v1"


class SecretUnreadable(Exception):
    """A sealed secret does not open with this SECRET_KEY (changed since it was sealed)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `{id}.{timestamp}.{body}`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(
    secrets_in_force: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> str:
    """The `webhook-signature` value: one signature per secret, space-separated."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_force)


@lru_cache(maxsize=4)
def _sealing_key(secret_key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(
        secret_key.encode()
    )
    return AESGCM(derived)


def seal(secret: str, *, endpoint_id: uuid.UUID, secret_key: str) -> bytes:
    """The secret encrypted for storage on the endpoint's row."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _sealing_key(secret_key).encrypt(nonce, secret.encode(), endpoint_id.bytes)
    return _SEAL_VERSION + nonce + sealed


def open_sealed(sealed: bytes, *, endpoint_id: uuid.UUID, secret_key: str) -> str:
    """The secret back from its sealed form; SecretUnreadable when it does not open."""
    if sealed[:1] != _SEAL_VERSION:
        raise SecretUnreadable("unknown sealing version")
    nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        return _sealing_key(secret_key).decrypt(nonce, body, endpoint_id.bytes).decode()
    except (InvalidTag, ValueError, UnicodeDecodeError) as exc:
        raise SecretUnreadable("the sealed secret does not open with this SECRET_KEY") from exc
