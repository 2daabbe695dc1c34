"""The headers of every mail (mail.tasks.build_message): a `Date`, a `Message-ID` unique per
email and the same on every send of it, `Auto-Submitted`; and, on the mail of a category a
person can turn off, `List-Unsubscribe` with their own one-click https address (its token reads
back to them and the category) and `List-Unsubscribe-Post` (RFC 8058) — on no transactional
mail. Names people typed reach no header but the one-line subject."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from aiosmtplib.email import flatten_message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.mail.parts import Attachment
from hackops.mail.service import queue_email
from hackops.mail.tasks import build_message
from hackops.models import OutboundEmail
from hackops.notifications.service import Message, deliver
from hackops.notifications.unsubscribe import read_token
from hackops.tenancy import set_actor, set_tenant
from tests.factories import create_organization
from tests.people import person

HOSTILE = '<script>alert("x")</script>\r\nBcc: everyone@example.org\r\n\r\n<b>body</b>'


@pytest.fixture
def https_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"base_url": "https://hack.example", "mail_from": "HackOps <noreply@hack.example>"}
    )


def as_received(message: EmailMessage) -> EmailMessage:
    """The message as an SMTP server receives it (aiosmtplib's flattening), parsed back."""
    parsed = message_from_bytes(flatten_message(message), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_message_id_is_unique_per_email_and_the_same_on_every_send(
    session: AsyncSession, https_settings: Settings
) -> None:
    first = await queue_email(session, to="a@example.org", subject="One", body="1")
    second = await queue_email(session, to="a@example.org", subject="Two", body="2")
    sends = [as_received(build_message(first, https_settings)) for _ in range(2)]
    other = as_received(build_message(second, https_settings))
    assert sends[0]["Message-ID"] == sends[1]["Message-ID"] == f"<{first.id}@hack.example>"
    assert other["Message-ID"] == f"<{second.id}@hack.example>"
    assert sends[0]["Message-ID"] != other["Message-ID"]
    for received in (*sends, other):
        assert parsedate_to_datetime(received["Date"]).tzinfo is not None
        assert received["Auto-Submitted"] == "auto-generated"
        assert received["List-Unsubscribe"] is None  # a system mail: nothing to turn off
        assert received["List-Unsubscribe-Post"] is None


async def deliver_to(
    session: AsyncSession, settings: Settings, category: str, title: str = "Hello"
) -> tuple[OutboundEmail, object]:
    user, _ = await person(session, verified=True)
    org = await create_organization(session)
    # as the outbox dispatcher runs it: the platform, in the organization
    await set_actor(session, None, platform_admin=True)
    await set_tenant(session, org.id)
    await deliver(
        session,
        org_id=org.id,
        user_ids=[user.id],
        message=Message(category=category, title=title, body="Line one.", link="/somewhere"),
        dedupe_key=f"test-{category}-{user.id}",
        settings=settings,
    )
    email = await session.scalar(
        select(OutboundEmail).where(
            OutboundEmail.dedupe_key == f"test-{category}-{user.id}:{user.id}"
        )
    )
    assert email is not None
    return email, user.id


async def test_a_mail_that_can_be_turned_off_has_its_one_click_unsubscribe(
    session: AsyncSession, https_settings: Settings
) -> None:
    email, user_id = await deliver_to(session, https_settings, "team")
    received = as_received(build_message(email, https_settings))
    header = received["List-Unsubscribe"]
    match = re.fullmatch(r"<(https://hack\.example/unsubscribe/([A-Za-z0-9_.-]+))>", header)
    assert match, header
    url, token = match.groups()
    assert read_token(https_settings, token) == (user_id, "team")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.category == "team"
    # the same address in the footer of both parts
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert f"Stop these mails with one click: {url}" in text.get_content()
    assert f'<a href="{url}"' in html.get_content()
    # the link of the message, absolute
    assert "https://hack.example/somewhere" in text.get_content()


async def test_each_person_gets_their_own_unsubscribe_token(
    session: AsyncSession, https_settings: Settings
) -> None:
    first, first_id = await deliver_to(session, https_settings, "results")
    second, second_id = await deliver_to(session, https_settings, "results")
    assert first.list_unsubscribe != second.list_unsubscribe
    for email, user_id in ((first, first_id), (second, second_id)):
        assert email.list_unsubscribe is not None
        token = email.list_unsubscribe.rsplit("/", 1)[1]
        assert read_token(https_settings, token) == (user_id, "results")
        assert email.body_text is not None
        assert email.list_unsubscribe in email.body_text


async def test_a_transactional_mail_has_no_unsubscribe(
    session: AsyncSession, https_settings: Settings
) -> None:
    email, _ = await deliver_to(session, https_settings, "registration")
    received = as_received(build_message(email, https_settings))
    assert received["List-Unsubscribe"] is None
    assert received["List-Unsubscribe-Post"] is None
    assert email.body_text is not None
    assert "unsubscribe" not in email.body_text.lower()
    assert "cannot be turned off" in email.body_text


async def test_no_one_click_post_header_for_an_http_address(
    session: AsyncSession, settings: Settings
) -> None:
    """RFC 8058 asks for an https address; on http (a dev machine) only the RFC 2369 link."""
    email, _ = await deliver_to(session, settings, "team")
    received = as_received(build_message(email, settings))
    assert received["List-Unsubscribe"].startswith("<http://testserver/unsubscribe/")
    assert received["List-Unsubscribe-Post"] is None


async def test_hostile_names_cannot_inject_headers_and_are_text_in_html(
    session: AsyncSession, https_settings: Settings
) -> None:
    email, _ = await deliver_to(session, https_settings, "team", title=HOSTILE)
    raw = flatten_message(build_message(email, https_settings))
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert not any(line.lower().startswith("bcc:") for line in head.splitlines())
    received = as_received(build_message(email, https_settings))
    assert received["Bcc"] is None
    assert (
        received["Subject"] == '<script>alert("x")</script> Bcc: everyone@example.org <b>body</b>'
    )
    html = received.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "<script>" not in content
    assert "<b>body</b>" not in content
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in content


async def test_an_unsubscribe_address_must_be_one_line(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="unsubscribe"):
        await queue_email(
            session,
            to="a@example.org",
            subject="S",
            body="b",
            unsubscribe_url="https://x.example/u\r\nBcc: all@example.org",
        )


def test_attachment_names_and_types_are_the_codes_own() -> None:
    with pytest.raises(ValueError, match="name"):
        Attachment('x".png\r\nBcc: a', "image/png", b"")
    with pytest.raises(ValueError, match="content type"):
        Attachment("x.png", "image/png\r\nX: y", b"")
    with pytest.raises(ValueError, match="content id"):
        Attachment("x.png", "image/png", b"", content_id="<a>")
