"""Sending mail: SMTP when configured; otherwise the message stays in the dev mailbox."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import aiosmtplib
import structlog
from sqlalchemy import select

from hackops.db import db_now
from hackops.jobs import DEFAULT_RETRY, job_settings, job_transaction, queue_app
from hackops.models import OutboundEmail

log = structlog.get_logger("hackops.mail")


@queue_app.task(name="mail.send_email", queue="notifications", retry=DEFAULT_RETRY)
async def send_email(email_id: str) -> None:
    """Send one queued email. Idempotent: an email already sent is not sent again."""
    settings = job_settings()
    async with job_transaction() as session:
        email = await session.scalar(
            select(OutboundEmail).where(OutboundEmail.id == uuid.UUID(email_id)).with_for_update()
        )
        if email is None or email.sent_at is not None:
            return
        if settings.smtp_host is None:
            email.transport = "dev"
            email.sent_at = await db_now(session)
            log.info("email_kept_in_dev_mailbox", to=email.to_address, subject=email.subject)
            return
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = email.to_address
        message["Subject"] = email.subject
        message.set_content(email.body_text or "")
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
        email.transport = "smtp"
        email.sent_at = await db_now(session)
        email.body_text = None  # sent: links with tokens do not stay in the database
        log.info("email_sent", to=email.to_address, subject=email.subject)
