"""Emails, passwords and secrets: normalization, hashing (argon2id, bounded), random tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib.resources import files

from email_validator import EmailNotValidError, validate_email
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from hackops.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


class InvalidEmail(ValidationFailed):
    code = "invalid_email"
    message = "That is not a valid email address."


class WeakPassword(ValidationFailed):
    code = "weak_password"
    message = "Choose a stronger password."


def normalize_email(raw: str) -> str:
    """Trim, NFKC, casefold; then check the syntax. The result is the only form ever stored or
    looked up, so ` Admin@Example.com`, `admin@example.com ` and the full-width form are one."""
    candidate = unicodedata.normalize("NFKC", raw.strip()).casefold()
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(details={"reason": str(exc)}) from exc
    normalized = unicodedata.normalize("NFKC", checked.normalized).casefold()
    if len(normalized) > 320:
        raise InvalidEmail(details={"reason": "too long"})
    return normalized


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = (files("hackops.accounts") / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def check_new_password(password: str, *, email: str | None = None) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Use at least {MIN_PASSWORD_LENGTH} characters.", code="password_too_short"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Use at most {MAX_PASSWORD_LENGTH} characters.", code="password_too_long"
        )
    folded = password.casefold()
    if folded in _common_passwords():
        raise WeakPassword(
            "This password is too common; choose another.", code="password_too_common"
        )
    if email and (folded == email or folded == email.split("@")[0]):
        raise WeakPassword("Do not use your email address as password.", code="password_is_email")


class PasswordHasher:
    """argon2id through pwdlib, run in threads with at most `concurrency` hashes at once, so a
    flood of logins queues up instead of exhausting memory (each hash takes memory_cost KiB).

    Callers that read the database for a hash take the slot first (`reserve`), so requests
    waiting for a slot hold no pooled connection: at most `concurrency` connections ever wait
    on hashing. `hash` and `verify` inside a reservation use it instead of taking another."""

    def __init__(self, *, time_cost: int, memory_kib: int, concurrency: int) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
        self._slots = asyncio.Semaphore(concurrency)
        # A real hash to verify against when the account does not exist (same timing).
        self._dummy = self._hash.hash(secrets.token_urlsafe(16))

    @asynccontextmanager
    async def reserve(self) -> AsyncIterator[None]:
        """Hold a hashing slot for the block (re-entrant within one task)."""
        if _holding.get() is self:
            yield
            return
        async with self._slots:
            token = _holding.set(self)
            try:
                yield
            finally:
                _holding.reset(token)

    async def hash(self, password: str) -> str:
        async with self.reserve():
            return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """(matches, new hash when the parameters changed and it should be rehashed)."""
        async with self.reserve():
            return await asyncio.to_thread(
                self._hash.verify_and_update, password, stored or self._dummy
            )


_holding: ContextVar[PasswordHasher | None] = ContextVar("hashing_slot", default=None)


def new_secret(nbytes: int = 32) -> tuple[str, str]:
    """A random token (256 bits by default) and the SHA-256 hex digest that is stored."""
    raw = secrets.token_urlsafe(nbytes)
    return raw, digest(raw)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
