"""Queue an email in the current transaction; a job sends it after commit."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hackops import jobs
from hackops.models import OutboundEmail


async def queue_email(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    user_id: uuid.UUID | None = None,
) -> OutboundEmail:
    from hackops.mail.tasks import send_email

    email = OutboundEmail(to_address=to, subject=subject, body_text=body, user_id=user_id)
    session.add(email)
    await session.flush()
    await jobs.enqueue(session, send_email, queue="notifications", email_id=str(email.id))
    return email
