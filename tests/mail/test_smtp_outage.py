"""SMTP down: mail stays queued and is retried with backoff, the reason is recorded on the row
(no secrets) and platform admins see the stuck mail; when the server is back the mail goes out.
An SMTP server of the test's own, on its own port."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hackops.config import Settings
from hackops.db import Database
from hackops.mail.service import list_unsent, queue_email
from hackops.main import create_app
from hackops.models import OutboundEmail
from tests.core.test_jobs import running_worker, wait_until
from tests.helpers import serving
from tests.outage import SmtpServer
from tests.people import person

pytestmark = pytest.mark.slow

SECRET = "smtp-password-never-shown"


async def test_mail_waits_for_the_smtp_server_and_admins_see_why(
    settings: Settings, committed_db: Database
) -> None:
    smtp = SmtpServer()  # not started: connections are refused
    settings = smtp.configure(settings)
    async with committed_db.transaction() as session:
        _, admin_token = await person(
            session, "root@example.com", is_platform_admin=True, verified=True
        )
        _, someone_token = await person(session, "someone@example.com", verified=True)
        email = await queue_email(
            session, to="ada@example.org", subject="Your team", body="Welcome aboard."
        )
    email_id = email.id

    async def row() -> OutboundEmail:
        async with committed_db.transaction() as session:
            found = await session.scalar(select(OutboundEmail).where(OutboundEmail.id == email_id))
            assert found is not None
            return found

    async def failed() -> bool:
        return (await row()).last_error != ""

    async def sent() -> bool:
        return (await row()).sent_at is not None

    app = create_app(settings, database=committed_db)
    async with running_worker(settings, committed_db), serving(app) as http:
        await wait_until(failed, within=30)
        stuck = await row()
        assert stuck.sent_at is None
        assert stuck.last_error == f"connection refused by 127.0.0.1:{smtp.port}"

        listing = await http.get(
            "/api/v1/admin/mail", headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert listing.status_code == 200, listing.text
        (item,) = [i for i in listing.json()["items"] if i["id"] == str(email_id)]
        assert item["to"] == "ada@example.org"
        assert item["subject"] == "Your team"
        assert item["last_error"] == stuck.last_error
        assert item["attempts"] >= 1
        assert item["state"] in {"waiting", "sending"}
        assert "body" not in str(item).lower()
        refused = await http.get(
            "/api/v1/admin/mail", headers={"Authorization": f"Bearer {someone_token}"}
        )
        assert refused.status_code == 403

        await smtp.start()
        try:
            await wait_until(sent, within=30)
        finally:
            await smtp.stop()
        delivered = await row()
        assert delivered.last_error == ""
        assert delivered.transport == "smtp"
        # Only this test's mail counts: a mail another test left queued may go out through
        # the same worker, and that is not what this test is about.
        (message,) = [m for m in smtp.messages if b"Subject: Your team" in m]
        assert b"ada@example.org" in message
        after = await http.get(
            "/api/v1/admin/mail", headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert str(email_id) not in after.text


async def test_a_permanent_refusal_is_not_retried(
    settings: Settings, committed_db: Database
) -> None:
    smtp = SmtpServer(refuse_recipients=True)
    await smtp.start()
    settings = smtp.configure(settings)
    async with committed_db.transaction() as session:
        email = await queue_email(session, to="nobody@example.org", subject="Hi", body="…")
    email_id = email.id

    async def given_up() -> bool:
        async with committed_db.transaction() as session:
            (unsent,) = [m for m in await list_unsent(session) if m.id == email_id]
            return unsent.state == "given_up"

    try:
        async with running_worker(settings, committed_db):
            await wait_until(given_up, within=30)
    finally:
        await smtp.stop()
    async with committed_db.transaction() as session:
        (unsent,) = [m for m in await list_unsent(session) if m.id == email_id]
    assert unsent.attempts == 1
    assert unsent.last_error == f"127.0.0.1:{smtp.port} refused the recipient (550)"
    assert smtp.messages == []
