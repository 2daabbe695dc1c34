from __future__ import annotations

import pytest

from hackops.accounts.credentials import (
    InvalidEmail,
    PasswordHasher,
    WeakPassword,
    check_new_password,
    digest,
    new_secret,
    normalize_email,
)


@pytest.mark.parametrize(
    "raw",
    [
        " Admin@Example.com",
        "admin@example.com ",
        "ADMIN@EXAMPLE.COM",
        "ａｄｍｉｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    ],
)
def test_email_forms_normalize_to_one(raw: str) -> None:
    assert normalize_email(raw) == "admin@example.com"


@pytest.mark.parametrize(
    "raw", ["", "no-at-sign", "a@b", "two@@example.com", "x" * 330 + "@example.com"]
)
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_password_rules() -> None:
    check_new_password("a fine long passphrase", email="ada@example.com")
    for weak in ("short", "Password1", "qwerty123", "ada@example.com"):
        with pytest.raises(WeakPassword):
            check_new_password(weak, email="ada@example.com")


async def test_hash_verify_and_rehash_when_parameters_change() -> None:
    old = PasswordHasher(time_cost=1, memory_kib=1024, concurrency=2)
    new = PasswordHasher(time_cost=2, memory_kib=2048, concurrency=2)
    stored = await old.hash("a fine long passphrase")
    assert stored.startswith("$argon2id$")
    assert await old.verify("a fine long passphrase", stored) == (True, None)
    assert (await old.verify("wrong", stored))[0] is False
    ok, rehashed = await new.verify("a fine long passphrase", stored)
    assert ok
    assert rehashed is not None
    assert "m=2048,t=2" in rehashed
    assert await new.verify("a fine long passphrase", None) == (False, None)


def test_secrets_are_random_and_stored_hashed() -> None:
    raw, hashed = new_secret()
    other, _ = new_secret()
    assert raw != other
    assert len(raw) >= 43  # 256 bits, base64url
    assert hashed == digest(raw)
    assert len(hashed) == 64
