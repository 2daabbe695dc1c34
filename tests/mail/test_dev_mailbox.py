"""The dev mailbox shows a mail's HTML part (in a sandboxed frame, served with a policy of its
own, its inline QR code as a data: image), its text part, its attachments and its headers — the
registration confirmation as a person trying `make run` sees it. Outside dev mode none of it
exists."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.actor import SYSTEM
from hackops.db import Database
from hackops.main import create_app
from hackops.models import OutboundEmail
from hackops.outbox.catalog import RegistrationCreated
from hackops.outbox.service import emit
from hackops.outbox.tasks import fan_out
from hackops.registrations.checkin import qr_png
from hackops.web.dev import HTML_PART_CSP
from tests.conftest import make_settings
from tests.factories import create_registration
from tests.helpers import database_on, serving
from tests.people import person
from tests.registrations.helpers import NOW, scene

HOSTILE = '<script>alert("x")</script> Robo'


@pytest.fixture
async def dev_client(
    database_url: str, storage_dir: Path, bound_database: Database, connection: AsyncConnection
) -> AsyncIterator[httpx2.AsyncClient]:
    settings = make_settings(database_url, storage_dir, hackops_env="dev")
    app = create_app(settings, database=database_on(bound_database.engine, connection))
    async with serving(app) as http:
        yield http


async def confirmation(session: AsyncSession) -> tuple[OutboundEmail, str]:
    s = await scene(session, name=HOSTILE, starts_at=NOW, timezone="Europe/Berlin")
    user, _ = await person(session, verified=True)
    registration = await create_registration(session, s.event, user=user)
    row = await emit(
        session,
        SYSTEM,
        RegistrationCreated(registration_id=registration.id, user_id=user.id, status="registered"),
        org_id=s.org.id,
        event_id=s.event.id,
    )
    await fan_out(session, row.id)
    email = await session.scalar(
        select(OutboundEmail).where(OutboundEmail.dedupe_key == f"{row.id}:{user.id}")
    )
    assert email is not None
    return email, registration.checkin_code


async def test_the_mailbox_shows_html_text_attachments_and_headers(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    email, code = await confirmation(session)
    page = await dev_client.get("/dev/mailbox", params={"to": email.to_address})
    assert page.status_code == 200
    text = page.text
    assert (
        f'<iframe class="mail-html" src="/dev/mailbox/{email.id}/html"'
        ' sandbox="allow-popups allow-popups-to-escape-sandbox"'
    ) in text
    assert f"Your check-in code: {code}" in text  # the text part
    assert "<script>alert" not in text
    assert f'href="/dev/mailbox/{email.id}/attachments/0" download="checkin-qr.png"' in text
    assert "inline image of the HTML part" in text
    assert re.search(
        rf'href="/dev/mailbox/{email.id}/attachments/1" download="[a-z0-9-]+\.ics"', text
    )
    assert f"Message-ID: &lt;{email.id}@localhost&gt;" in text
    assert "Auto-Submitted: auto-generated" in text
    assert "multipart/mixed" in text
    assert "    image/png (checkin-qr.png)" in text

    part = await dev_client.get(f"/dev/mailbox/{email.id}/html")
    assert part.status_code == 200
    assert part.headers["content-security-policy"] == HTML_PART_CSP
    assert part.headers["x-frame-options"] == "SAMEORIGIN"
    assert "cid:" not in part.text
    assert 'src="data:image/png;base64,' in part.text
    assert '<base target="_blank">' in part.text
    assert "&lt;script&gt;" in part.text
    assert "<script>" not in part.text

    qr = await dev_client.get(f"/dev/mailbox/{email.id}/attachments/0")
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/png"
    assert qr.content == qr_png(code)
    ics = await dev_client.get(f"/dev/mailbox/{email.id}/attachments/1")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.headers["content-disposition"].startswith("attachment; filename=")
    assert ics.content.startswith(b"BEGIN:VCALENDAR\r\n")

    for missing in (
        f"/dev/mailbox/{email.id}/attachments/2",
        f"/dev/mailbox/{email.id}/attachments/-1",
        "/dev/mailbox/01a24ddd-3951-7319-b755-9972dbc73ec1/html",
        "/dev/mailbox/not-an-id/html",
    ):
        assert (await dev_client.get(missing)).status_code == 404, missing


async def test_a_text_only_mail_has_no_html_frame(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    email = OutboundEmail(to_address="plain@example.org", subject="Plain", body_text="Just text.")
    session.add(email)
    await session.flush()
    page = await dev_client.get("/dev/mailbox", params={"to": "plain@example.org"})
    assert "Just text." in page.text
    assert "<iframe" not in page.text
    assert (await dev_client.get(f"/dev/mailbox/{email.id}/html")).status_code == 404


async def test_nothing_of_the_mailbox_exists_outside_dev(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    email, _ = await confirmation(session)
    for path in (f"/dev/mailbox/{email.id}/html", f"/dev/mailbox/{email.id}/attachments/0"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "There is no page at this address." in response.text
