"""The registration confirmation, end to end: `registration.created` emitted, fanned out by the
outbox, the mail sent through an SMTP server of the test's own and parsed back with the email
package — text part, HTML part with the QR code inline (cid), the PNG itself, and a calendar
entry that icalendar reads back with the event's times in UTC and its zone named. A waitlisted
registration gets the waitlist mail: no code, no QR, no entrance."""

from __future__ import annotations

import base64
import struct
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import select

from hackops import jobs
from hackops.actor import SYSTEM
from hackops.config import Settings
from hackops.db import Database
from hackops.events.calendar import event_ics
from hackops.mail.tasks import send_email
from hackops.models import (
    Event,
    Organization,
    OutboundEmail,
    OutboxEvent,
    Registration,
    RegistrationStatus,
    User,
)
from hackops.outbox.catalog import RegistrationCreated
from hackops.outbox.service import emit
from hackops.outbox.tasks import fan_out
from hackops.registrations.checkin import qr_png
from hackops.tenancy import set_actor
from tests.factories import create_registration
from tests.outage import SmtpServer
from tests.people import person
from tests.registrations.helpers import scene

HOSTILE_EVENT = 'Hack <script>alert("x")</script>; the "Planet", \\ now\r\nBcc: all@example.org'
STARTS = datetime(2026, 12, 12, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
ENDS = datetime(2026, 12, 13, 17, 0, tzinfo=UTC)  # 18:00 in Berlin


@pytest.fixture
async def smtp(
    settings: Settings, committed_db: Database
) -> AsyncIterator[tuple[SmtpServer, Settings]]:
    server = SmtpServer()
    await server.start()
    sending = server.configure(
        settings, base_url="https://hack.example", mail_from="HackOps <noreply@hack.example>"
    )
    previous = jobs.bind_database(committed_db, sending)
    try:
        yield server, sending
    finally:
        jobs.bind_database(*previous)
        await server.stop()


def unstuffed(raw: bytes) -> bytes:
    """The DATA the test server kept, with SMTP's dot-stuffing undone (RFC 5321 4.5.2)."""
    return b"".join(
        line[1:] if line.startswith(b"..") else line for line in raw.splitlines(keepends=True)
    )


async def registered_and_mailed(
    committed_db: Database, status: str
) -> tuple[Event, Registration, User, OutboundEmail]:
    """An event with a hostile name, a person registered (or waitlisted), the event emitted and
    fanned out; the queued mail."""
    async with committed_db.transaction() as session:
        s = await scene(
            session,
            name=HOSTILE_EVENT,
            tagline="Build; ship, \\ repeat",
            mode="in_person",
            venue="Hall 1, Floor 2; Berlin",
            timezone="Europe/Berlin",
            starts_at=STARTS,
            submissions_close_at=ENDS,
        )
        user, _ = await person(session, verified=True, name="Ada <b>Lovelace</b>")
        registration = await create_registration(
            session,
            s.event,
            user=user,
            status=RegistrationStatus(status),
            checkin_code="ABCD2345EFGH",
        )
        row = await emit(
            session,
            SYSTEM,
            RegistrationCreated(registration_id=registration.id, user_id=user.id, status=status),  # type: ignore[arg-type]
            org_id=s.org.id,
            event_id=s.event.id,
        )
        event = s.event
    async with committed_db.transaction() as session:
        assert await fan_out(session, row.id) == "registration.created"
        email = await session.scalar(
            select(OutboundEmail).where(OutboundEmail.dedupe_key == f"{row.id}:{user.id}")
        )
        assert email is not None
    return event, registration, user, email


async def sent(server: SmtpServer, committed_db: Database, email: OutboundEmail) -> EmailMessage:
    await send_email(str(email.id))  # the job's body, run here
    (raw,) = server.messages
    parsed = message_from_bytes(unstuffed(raw), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    async with committed_db.transaction() as session:
        after = await session.get_one(OutboundEmail, email.id)
        # sent: nothing with a token or a code stays in the database
        assert after.sent_at is not None
        assert after.transport == "smtp"
        assert (after.body_text, after.body_html, after.attachments) == (None, None, [])
        assert after.list_unsubscribe is None
    return parsed


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_confirmation_carries_code_qr_and_calendar_entry(
    smtp: tuple[SmtpServer, Settings], committed_db: Database
) -> None:
    server, _ = smtp
    event, registration, user, email = await registered_and_mailed(committed_db, "registered")
    message = await sent(server, committed_db, email)

    # headers: one line each, the hostile name only in the cleaned subject
    assert message["To"] == user.email
    assert message["Bcc"] is None
    assert message["Subject"] == (
        'You are registered for Hack <script>alert("x")</script>; the "Planet", \\ now'
        " Bcc: all@example.org"
    )
    assert message["Message-ID"] == f"<{email.id}@hack.example>"
    assert message["Date"]
    assert message["List-Unsubscribe"] is None  # a registration's confirmation is transactional
    assert message.get_content_type() == "multipart/mixed"

    code = registration.checkin_code
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    text_content = text.get_content()
    assert f"Your check-in code: {code}" in text_content
    assert (
        "When: Saturday 12 December 2026, 09:00 – Sunday 13 December 2026, 18:00 (Europe/Berlin)"
        in text_content
    )
    assert "Where: Hall 1, Floor 2; Berlin" in text_content
    base = f"https://hack.example/orgs/{(await org_slug(committed_db, event))}/events/{event.slug}"
    assert f"Your registration: {base}/registration" in text_content
    assert f"The event is attached as a calendar entry ({event.slug}.ics)." in text_content
    html_content = html.get_content()
    assert code in html_content
    assert "<script>" not in html_content
    assert "&lt;script&gt;" in html_content
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html_content
    assert f'href="{base}/registration"' in html_content

    # the QR code: an inline image of the HTML part (multipart/related), shown by its cid
    related = [part for part in message.walk() if part.get_content_type() == "multipart/related"]
    assert len(related) == 1
    (image,) = [part for part in message.walk() if part.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_content
    assert image.get_content_disposition() == "inline"
    png = image.get_content()
    assert png == qr_png(code)  # the check-in code's own QR code
    assert png_size(png) == (232, 232)  # a full QR code (version 1), not a Micro QR

    # the calendar entry: an attachment, read back by icalendar
    (attached,) = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == f"{event.slug}.ics"
    assert attached.get_param("method") == "PUBLISH"
    ics = attached.get_payload(decode=True)
    assert isinstance(ics, bytes)
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))  # folded (RFC 5545 3.1)
    calendar = Calendar.from_ical(ics)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
    (entry,) = calendar.walk("VEVENT")
    assert entry.decoded("DTSTART") == STARTS
    assert entry.decoded("DTEND") == ENDS
    assert b"DTSTART:20261212T080000Z" in ics
    assert str(entry["UID"]) == f"registration-{registration.id}@hack.example"
    assert str(entry["SUMMARY"]) == HOSTILE_EVENT.replace("\r\n", "\n")
    assert str(entry["LOCATION"]) == "Hall 1, Floor 2; Berlin"
    assert str(entry["URL"]) == base
    assert "(Europe/Berlin)" in str(entry["DESCRIPTION"])
    assert b'SUMMARY:Hack <script>alert("x")</script>\\; the "Planet"\\, \\\\ now\\nBcc' in ics


async def test_the_calendar_entry_is_the_same_for_the_same_registration(
    smtp: tuple[SmtpServer, Settings], committed_db: Database
) -> None:
    """Fanned out again (a run that could not see the first's mark), the mail is queued once;
    the entry is made from the event and the registration only (same UID, same bytes)."""
    event, registration, _, email = await registered_and_mailed(committed_db, "registered")
    async with committed_db.transaction() as session:
        await set_actor(session, None, platform_admin=True)  # outbox rows are tenant rows
        row = await session.scalar(select(OutboxEvent))
        assert row is not None
        row.dispatched_at = None
        await session.flush()
        assert await fan_out(session, row.id) == "registration.created"
        assert len(list(await session.scalars(select(OutboundEmail.id)))) == 1
        slug = (await session.get_one(Organization, event.org_id)).slug
    (calendar_file,) = [a for a in email.attachments if a["content_type"] == "text/calendar"]
    assert base64.b64decode(calendar_file["data"]) == event_ics(
        event,
        uid=f"registration-{registration.id}@hack.example",
        url=f"https://hack.example/orgs/{slug}/events/{event.slug}",
        stamp=registration.created_at,
    )


async def test_a_waitlisted_registration_gets_the_waitlist_mail_without_qr(
    smtp: tuple[SmtpServer, Settings], committed_db: Database
) -> None:
    server, _ = smtp
    _, registration, _, email = await registered_and_mailed(committed_db, "waitlisted")
    message = await sent(server, committed_db, email)
    assert message["Subject"].startswith("You are on the waitlist for Hack")
    assert message.get_content_type() == "multipart/alternative"  # no attachment
    assert not [part for part in message.walk() if part.get_content_maintype() == "image"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    for content in (text.get_content(), html.get_content()):
        assert registration.checkin_code not in content
        assert "entrance" not in content
        assert "check-in" not in content.lower()
        assert "waitlist" in content
        assert "You are number 1 in line." in content
    assert "When: Saturday 12 December 2026" in text.get_content()


async def org_slug(committed_db: Database, event: Event) -> str:
    async with committed_db.transaction() as session:
        org = await session.get_one(Organization, event.org_id)
        return org.slug


def test_an_event_without_a_start_has_no_calendar_entry() -> None:
    event = Event(name="Later", slug="later", timezone="UTC", starts_at=None)
    assert event_ics(event, uid=f"{uuid.uuid4()}@x", url="https://x", stamp=STARTS) is None
