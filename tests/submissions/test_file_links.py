"""Display names, Content-Disposition, signed download links and storage keys."""

from __future__ import annotations

import email.message
import email.utils

import pytest

from hackops.submissions.files.service import (
    FileRejected,
    content_disposition,
    safe_display_name,
    sign_download,
    storage_key,
    verify_download,
)

SECRET = "test-download-secret-" + "x" * 20


NASTY_NAMES = [
    ("report\r\nSet-Cookie: a=b.pdf", "reportSet-Cookie: a=b.pdf"),
    ("evil\x00.exe.pdf", "evil.exe.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ada\\Pitch Deck.pdf", "Pitch Deck.pdf"),
    ('quote"semi;colon%20.pdf', 'quote"semi;colon%20.pdf'),
    ("Cafe\u0301 \u202egnp.pdf", "Café gnp.pdf"),
    ("файл проекта.pdf", "файл проекта.pdf"),
    ("", "file"),
    ("..", "file"),
    ("\r\n\x00", "file"),
]


@pytest.mark.parametrize(("raw", "expected"), NASTY_NAMES)
def test_names_are_made_safe_and_survive_the_header(raw: str, expected: str) -> None:
    assert safe_display_name(raw) == expected
    header = content_disposition(raw)
    assert header.isascii()
    assert not any(char in header for char in "\r\n\x00")
    message = email.message.Message()
    message["Content-Disposition"] = header
    params = message.get_params(header="content-disposition")
    assert params is not None
    assert len(params) == 3
    assert params[0] == ("attachment", "")
    fallback, extended = params[1], params[2]
    assert fallback[0] == "filename"
    assert fallback[1].isascii()
    assert not any(char in fallback[1] for char in '"\\%;')
    assert extended[0] == "filename"
    assert email.utils.collapse_rfc2231_value(extended[1]) == expected


def test_a_5000_character_name_keeps_its_extension() -> None:
    raw = "é" * 5000 + ".pdf"
    safe = safe_display_name(raw)
    assert len(safe) == 255
    assert safe == "é" * 251 + ".pdf"
    header = content_disposition(raw)
    assert len(header) < 2000
    message = email.message.Message()
    message["Content-Disposition"] = header
    params = message.get_params(header="content-disposition")
    assert params is not None
    assert email.utils.collapse_rfc2231_value(params[2][1]) == safe
    assert params[1][1].endswith(".pdf")


def test_signed_links_expire_after_15_minutes() -> None:
    key = storage_key(
        "7d0f6a4e-0000-4000-8000-000000000001",
        "7d0f6a4e-0000-4000-8000-000000000002",
        "7d0f6a4e-0000-4000-8000-000000000003",
    )
    token = sign_download(SECRET, key, filename="deck\r\n.pdf", now=1_000_000.0)
    grant = verify_download(SECRET, token, now=1_000_000.0 + 899)
    assert (grant.key, grant.filename) == (key, "deck.pdf")
    for later in (1_000_000.0 + 900, 1_000_000.0 + 86_400):
        with pytest.raises(FileRejected) as caught:
            verify_download(SECRET, token, now=later)
        assert caught.value.code == "link_expired"


def test_signed_links_cannot_be_reused_altered_or_forged() -> None:
    now = 2_000_000.0
    token = sign_download(SECRET, "org/a/event/b/team/c/one", filename="a.pdf", now=now)
    other = sign_download(SECRET, "org/a/event/b/team/c/two", filename="a.pdf", now=now)
    assert verify_download(SECRET, token, now=now, expected_key="org/a/event/b/team/c/one")
    payload, signature = token.rsplit(".", 1)
    other_payload = other.rsplit(".", 1)[0]
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    attempts = [
        (token, {"expected_key": "org/a/event/b/team/c/two"}),  # valid token, another file
        (f"{other_payload}.{signature}", {}),  # another key's payload, this signature
        (f"{flipped}.{signature}", {}),
        (f"{payload}.{signature[:-2]}", {}),
        ("garbage", {}),
        (token, {"secret": "another-secret-" + "y" * 20}),
    ]
    for attempt, options in attempts:
        secret = str(options.pop("secret", SECRET))
        with pytest.raises(FileRejected) as caught:
            verify_download(secret, attempt, now=now, **options)
        assert caught.value.code == "link_invalid"


def test_storage_keys_come_from_ids_only() -> None:
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3)]
    first, second = storage_key(*ids), storage_key(*ids)
    assert first != second
    prefix = f"org/{ids[0]}/event/{ids[1]}/team/{ids[2]}/"
    assert first.startswith(prefix)
    assert len(first.removeprefix(prefix)) == 32
    with pytest.raises(ValueError, match="UUID"):
        storage_key("../../etc", ids[1], ids[2])
