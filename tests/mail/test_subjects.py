"""Every mail's subject is one safe line (mail/service.py `queue_email`): hostile names with
CR/LF or of any length neither fail the transaction nor the sending."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.mail.service import queue_email
from hackops.mail.tasks import build_message


async def test_a_subject_with_line_breaks_and_500_characters_is_queued_and_sendable(
    session: AsyncSession, settings: Settings
) -> None:
    hostile = "Join team Evil\r\nBcc: everyone@example.org\u2028\x00 at " + "Ü" * 500
    email = await queue_email(session, to="someone@example.org", subject=hostile, body="Hello")

    assert email.subject.startswith("Join team Evil Bcc: everyone@example.org at ÜÜ")
    assert email.subject.endswith("…")
    assert len(email.subject) == 200  # mail.service.SUBJECT_MAX_CHARS
    assert not any(ch in email.subject for ch in "\r\n\x00\u2028")
    message = build_message(email, settings)  # what mail.tasks.send_email sends
    headers = message.as_string().split("\n\n", 1)[0].splitlines()
    assert not any(line.lower().startswith("bcc:") for line in headers)


async def test_an_ordinary_subject_is_kept(session: AsyncSession) -> None:
    email = await queue_email(
        session, to="someone@example.org", subject="  You have a seat at  Robo Cup ", body="x"
    )
    assert email.subject == "You have a seat at Robo Cup"
