"""Sending holds no database connection across the SMTP conversation, and every message carries
`Date` and a `Message-ID` made from the email's id (the same on every send of one email, so a
receiver can drop the duplicate of an at-least-once send). A stalled SMTP server of the test's
own (tests/outage.py) that accepts the connection and answers nothing until released."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops import jobs
from hackops.config import Settings
from hackops.db import Database
from hackops.mail.service import queue_email
from hackops.mail.tasks import message_id, send_email
from hackops.models import OutboundEmail
from tests.core.test_jobs import running_worker, wait_until
from tests.outage import SmtpServer

pytestmark = pytest.mark.slow


async def idle_in_transaction(admin_engine: AsyncEngine) -> int:
    """The app's connections to the test database sitting inside an open transaction for over a
    second (a transaction between two of its statements is idle for an instant: not that)."""
    async with admin_engine.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'hackops' AND state LIKE 'idle in transaction%'"
                " AND state_change < clock_timestamp() - interval '1 second'"
            )
        )
    return int(count or 0)


async def row(database: Database, email_id: uuid.UUID) -> OutboundEmail:
    async with database.transaction() as session:
        found = await session.scalar(select(OutboundEmail).where(OutboundEmail.id == email_id))
        assert found is not None
        return found


def received(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_a_stalled_smtp_server_holds_no_database_connection(
    settings: Settings, committed_db: Database, admin_engine: AsyncEngine
) -> None:
    """With a pool of one connection, a mail job stuck on an SMTP server that does not answer
    leaves that connection to everyone else; once the server answers, the mail is recorded sent."""
    smtp = SmtpServer()
    smtp.hold()
    await smtp.start()
    settings = smtp.configure(
        settings, database_pool_size=1, database_max_overflow=0, mail_from="x@mail.example"
    )
    async with committed_db.transaction() as session:
        email = await queue_email(session, to="ada@example.org", subject="Hello", body="Hi Ada")
    email_id = email.id
    pool_of_one = Database.from_settings(settings)

    async def connected() -> bool:
        return smtp.connections >= 1

    async def sent() -> bool:
        return (await row(committed_db, email_id)).sent_at is not None

    try:
        async with running_worker(settings, pool_of_one):
            await wait_until(connected, within=30)  # the job is in the SMTP conversation now
            await asyncio.sleep(1.5)  # a transaction held across the stall is idle by now
            assert await idle_in_transaction(admin_engine) == 0
            async with pool_of_one.transaction() as session:  # the only pooled connection
                assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            smtp.release()
            await wait_until(sent, within=30)
    finally:
        await smtp.stop()
        await pool_of_one.dispose()

    delivered = await row(committed_db, email_id)
    assert delivered.transport == "smtp"
    assert delivered.last_error == ""
    assert delivered.body_text is None
    # Only this email's (a mail job another test of this database left queued may run too).
    (message,) = [
        m for m in map(received, smtp.messages) if m["Message-ID"] == f"<{email_id}@mail.example>"
    ]
    assert parsedate_to_datetime(message["Date"]).utcoffset() == timedelta(0)
    assert message.get_content().strip() == "Hi Ada"


async def test_two_runs_of_one_mail_send_the_same_message_id(
    settings: Settings, committed_db: Database
) -> None:
    """Two runs of one email's job at once (as after a worker restart): both reach the server,
    both messages carry the same Message-ID, and the row is recorded sent once."""
    smtp = SmtpServer()
    smtp.hold()
    await smtp.start()
    settings = smtp.configure(settings, worker_concurrency=2)
    async with committed_db.transaction() as session:
        email = await queue_email(session, to="ada@example.org", subject="Twice", body="Once")
        await jobs.enqueue(session, send_email, queue="notifications", email_id=str(email.id))
    email_id = email.id

    async def both_connected() -> bool:
        return smtp.connections >= 2

    async def both_delivered() -> bool:
        return len(smtp.messages) >= 2

    async def jobs_done() -> bool:
        async with committed_db.engine.connect() as conn:
            undone = await conn.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'mail.send_email'"
                    " AND status NOT IN ('succeeded')"
                )
            )
        return undone == 0

    try:
        async with running_worker(settings, committed_db):
            await wait_until(both_connected, within=30)
            smtp.release()
            await wait_until(both_delivered, within=30)
            await wait_until(jobs_done, within=30)
    finally:
        await smtp.stop()

    first, second = (received(raw) for raw in smtp.messages)
    assert first["Message-ID"] == second["Message-ID"] == f"<{email_id}@localhost>"
    assert first["Date"]
    assert second["Date"]
    delivered = await row(committed_db, email_id)
    assert delivered.sent_at is not None
    assert delivered.transport == "smtp"
    assert delivered.body_text is None


def test_the_message_id_domain_is_the_senders_else_the_sites(settings: Settings) -> None:
    email_id = uuid.UUID(int=7)
    sender = settings.model_copy(update={"mail_from": "Hack <noreply@hack.example>"})
    assert message_id(email_id, sender) == f"<{email_id}@hack.example>"
    no_domain = settings.model_copy(
        update={"mail_from": "noreply", "base_url": "https://events.example:8443/x"}
    )
    assert message_id(email_id, no_domain) == f"<{email_id}@events.example>"
