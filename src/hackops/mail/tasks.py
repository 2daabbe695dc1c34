"""Sending mail: SMTP when configured; otherwise the message stays in the dev mailbox.

When the SMTP server cannot take a message, the mail stays queued: the reason is written to
the row (`last_error`, in words an administrator can act on and without credentials, listed by
`GET /api/v1/admin/mail`) and the job is retried with a capped exponential backoff for about two
days. A permanent refusal of the message (a 5xx answer other than to authentication) is not
retried: the reason stays on the row.

No database connection is held while the SMTP server talks (it may take up to SMTP_TIMEOUT_S
per answer, and a pooled connection per stuck mail would starve the app): a short transaction
reads the email, the conversation runs with no connection checked out, and a second short
transaction locks the row and records the outcome.

Delivery is at least once, never at most once: the server's acceptance and the recording of it
are not one atomic step. A mail is sent again when the worker dies (or the database is
unreachable) after the server took it but before `sent_at` was committed, or when two runs of the
same job overlap (a job retried after a worker restart while the first run still waits on a
slow server): each run that read the email unsent sends it, and the first to record wins, the
others leave the row as it is. A mail is never marked sent that the server did not take. Every
send of one email carries the same `Message-ID` (`<email id@domain>`, see `message_id`), which
receiving systems use to drop the duplicate.

The message (`build_message`): the text part alone, or multipart/alternative (text, HTML), the
HTML part multipart/related with its inline images (the check-in QR code, `cid:`), the whole
multipart/mixed with attachments (a calendar entry); `Date`, `Message-ID`,
`Auto-Submitted: auto-generated` (RFC 3834: no vacation auto-replies), and for a mail the person
can turn off, `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058; the POST header only for an https address, as the RFC requires)."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import urlsplit

import aiosmtplib
import structlog
from procrastinate import BaseRetryStrategy, RetryDecision
from procrastinate.jobs import Job
from sqlalchemy import select

from hackops.config import Settings
from hackops.db import db_now
from hackops.jobs import job_settings, job_transaction, queue_app
from hackops.mail.parts import MAIL_POLICY, loaded_attachments
from hackops.models import OutboundEmail

log = structlog.get_logger("hackops.mail")

#: Waits of 2, 4, 8 … seconds, at most 10 minutes; given up after ~2 days of attempts.
FIRST_WAIT_S = 2
MAX_WAIT_S = 600
MAX_ATTEMPTS = 300
#: The longest wait for any one answer of the SMTP server.
SMTP_TIMEOUT_S = 30


class MailNotSent(Exception):
    """The SMTP server did not take the message; `permanent` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class MailRetry(BaseRetryStrategy):
    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        attempts = job.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            return None
        if isinstance(exception, MailNotSent) and exception.permanent:
            return None
        wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** min(job.attempts, 20))
        return RetryDecision(retry_in={"seconds": wait})


def failure_reason(exc: BaseException, settings: Settings) -> tuple[str, bool]:
    """Why the server did not take the message, for an administrator (no credentials, no
    message content), and whether that is permanent."""
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"{server} refused the SMTP credentials ({exc.code})", False
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        answer = " ".join(exc.message.split())[:200]
        return f"{server} answered {exc.code} {answer}", exc.code >= 500
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({refusal.code for refusal in exc.recipients})
        return f"{server} refused the recipient ({', '.join(map(str, codes))})", min(codes) >= 500
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return f"no answer from {server} in time", False
    if isinstance(exc.__cause__, ConnectionRefusedError) or isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {server}", False
    if isinstance(exc, aiosmtplib.SMTPConnectError):
        return f"could not connect to {server}", False
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return f"{server} closed the connection", False
    if isinstance(exc, OSError):
        return f"could not reach {server} ({exc.strerror or type(exc).__name__})", False
    return f"sending through {server} failed ({type(exc).__name__})", False


def message_id(email_id: uuid.UUID, settings: Settings) -> str:
    """`<email id@domain>`: the same on every send of one email (receivers drop duplicates by
    it); the domain is MAIL_FROM's, else BASE_URL's host."""
    address = parseaddr(settings.mail_from)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    return f"<{email_id}@{domain or urlsplit(settings.base_url).hostname or 'localhost'}>"


def build_message(email: OutboundEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(email.id, settings)
    message["Auto-Submitted"] = "auto-generated"
    if email.list_unsubscribe:
        message["List-Unsubscribe"] = f"<{email.list_unsubscribe}>"
        if email.list_unsubscribe.startswith("https://"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.body_text or "")
    attachments = loaded_attachments(email.attachments)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None  # just added
        for inline in (a for a in attachments if a.content_id is not None):
            maintype, subtype = inline.content_type.split("/")
            html_part.add_related(
                inline.data,
                maintype,
                subtype,
                cid=f"<{inline.content_id}>",
                filename=inline.filename,
                disposition="inline",
            )
    for attached in attachments:
        if attached.content_id is not None and email.body_html:
            continue
        maintype, subtype = attached.content_type.split("/")
        params = {"charset": "utf-8"} if maintype == "text" else {}
        if attached.content_type == "text/calendar":
            params["method"] = "PUBLISH"
        message.add_attachment(
            attached.data, maintype, subtype, filename=attached.filename, params=params
        )
    return message


async def _prepare(email_id: uuid.UUID, settings: Settings) -> EmailMessage | None:
    """The message to send over SMTP, or None when there is nothing to send (gone, already
    sent, or kept in the dev mailbox here: that needs no I/O, so it is recorded at once)."""
    async with job_transaction() as session:
        email = await session.scalar(
            select(OutboundEmail).where(OutboundEmail.id == email_id).with_for_update()
        )
        if email is None or email.sent_at is not None:
            return None
        if settings.smtp_host is None:
            email.transport = "dev"
            email.sent_at = await db_now(session)
            log.info("email_kept_in_dev_mailbox", to=email.to_address, subject=email.subject)
            return None
        return build_message(email, settings)


async def _record(email_id: uuid.UUID, *, error: str | None) -> None:
    """Write the outcome of one SMTP attempt, unless another run already recorded it sent."""
    async with job_transaction() as session:
        email = await session.scalar(
            select(OutboundEmail).where(OutboundEmail.id == email_id).with_for_update()
        )
        if email is None or email.sent_at is not None:
            return
        if error is not None:
            email.last_error = error
            return
        email.transport = "smtp"
        email.sent_at = await db_now(session)
        email.last_error = ""
        # Sent: links with tokens do not stay in the database.
        email.body_text = None
        email.body_html = None
        email.attachments = []
        email.list_unsubscribe = None


@queue_app.task(name="mail.send_email", queue="notifications", retry=MailRetry())
async def send_email(email_id: str) -> None:
    """Send one queued email; one already sent is not sent again (see the module docstring
    for the at-least-once window). No database connection is held while talking SMTP."""
    settings = job_settings()
    uid = uuid.UUID(email_id)
    message = await _prepare(uid, settings)
    if message is None:
        return
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls,
            timeout=SMTP_TIMEOUT_S,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        reason, permanent = failure_reason(exc, settings)
        log.warning("email_not_sent", email_id=email_id, reason=reason, permanent=permanent)
        await _record(uid, error=reason)
        raise MailNotSent(reason, permanent=permanent) from exc
    await _record(uid, error=None)
    log.info("email_sent", to=message["To"], subject=message["Subject"])
