"""Telling people: one call, `deliver`, writes the in-app notifications and queues the mail of
one message to a set of people, by their preferences, at most once per person and key.

`deliver(session, org_id=…, user_ids=…, message=…, dedupe_key=…)`:
- in-app: one `notifications` row per person whose preference (or the category's default) has
  the channel on, inserted in bulk with `ON CONFLICT (user_id, dedupe_key) DO NOTHING`;
- email: one queued mail per person with a confirmed address and the channel on (not digest),
  keyed `<dedupe_key>:<user id>` (`mail.queue_emails`: a second queueing is dropped), rendered
  from the message's template (`Message.email_template`, default the generic `notification`:
  title, lines, a button to the link) in the layout of the message's organization; a mail of a
  category the person can turn off carries their one-click unsubscribe link (footer and
  `List-Unsubscribe`). The template is rendered once per message, the person's link put in after.
- digest: people whose email for the category is set to digest get no mail now; the news is
  held for their daily digest (`digest.hold`).
- live push: the people given in-app rows are announced at commit (`push.announce`).
A transactional category ignores preferences. Disabled accounts are told nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import escape
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.jobs import job_settings
from hackops.mail.parts import Attachment
from hackops.mail.render import PLATFORM, PLATFORM_NAME, Rendered, org_brand, render
from hackops.mail.service import EmailDraft, queue_emails
from hackops.models import Channel, NotificationPreference, Organization, User, new_id
from hackops.notifications.categories import Category
from hackops.notifications.categories import category as category_of
from hackops.notifications.digest import hold
from hackops.notifications.push import announce
from hackops.notifications.unsubscribe import unsubscribe_url


@dataclass(frozen=True)
class Message:
    """What people are told: a title, a few lines, and the page it is about (a path)."""

    category: str
    title: str
    body: str = ""
    link: str = ""
    #: The mail's subject when it differs from the title.
    subject: str | None = None
    channels: frozenset[Channel] = frozenset({Channel.IN_APP, Channel.EMAIL})
    #: The mail's template (`hackops/mail/templates/<name>.txt|.html`) when it is not the
    #: generic `notification`; it gets `email_context` besides title, body, link, link_label.
    email_template: str | None = None
    email_context: Mapping[str, Any] = field(default_factory=dict)
    #: Files the mail carries (the confirmation's QR code and calendar entry).
    attachments: tuple[Attachment, ...] = ()
    #: The button's words in the mail.
    link_label: str = "Open in HackOps"


@dataclass
class Delivered:
    in_app: list[uuid.UUID] = field(default_factory=list)
    email: list[uuid.UUID] = field(default_factory=list)
    digest: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class Choice:
    in_app: bool
    email: bool
    digest: bool


async def choices(
    session: AsyncSession, user_ids: Iterable[uuid.UUID], category_key: str
) -> dict[uuid.UUID, Choice]:
    """Each person's channels for a category: their preference, else the category's default."""
    ids = list(dict.fromkeys(user_ids))
    category = category_of(category_key)
    default_in_app = Channel.IN_APP in category.default_channels
    default_email = Channel.EMAIL in category.default_channels
    found: dict[tuple[uuid.UUID, Channel], NotificationPreference] = {}
    if ids and not category.transactional:
        rows = await session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_(ids),
                NotificationPreference.category == category_key,
            )
        )
        found = {(row.user_id, row.channel): row for row in rows}
    out: dict[uuid.UUID, Choice] = {}
    for uid in ids:
        in_app = found.get((uid, Channel.IN_APP))
        email = found.get((uid, Channel.EMAIL))
        out[uid] = Choice(
            in_app=default_in_app if in_app is None else in_app.enabled,
            email=default_email if email is None else email.enabled,
            digest=bool(email is not None and email.enabled and email.digest)
            and category.digest_allowed,
        )
    return out


#: One statement for any number of people (one array of ids, `unnest`): a 5,000-row VALUES
#: list cost more to build and compile than to run.
_INSERT_NOTIFICATIONS = text(
    """
    INSERT INTO notifications (id, user_id, org_id, outbox_event_id, dedupe_key, category,
                               title, body, link)
    SELECT t.id, t.user_id, CAST(:org AS uuid), CAST(:event AS uuid), CAST(:key AS text),
           CAST(:category AS text), CAST(:title AS text), CAST(:body AS text), CAST(:link AS text)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:users AS uuid[])) AS t(id, user_id)
    ON CONFLICT (user_id, dedupe_key) DO NOTHING
    RETURNING user_id
    """
)


async def deliver(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None,
    user_ids: Iterable[uuid.UUID],
    message: Message,
    dedupe_key: str,
    outbox_event_id: uuid.UUID | None = None,
    settings: Settings | None = None,
) -> Delivered:
    """Tell `user_ids` the message on their channels; at most once per person and key.
    `settings` (BASE_URL, SECRET_KEY for unsubscribe links) default to the running app's."""
    wanted = await choices(session, user_ids, message.category)
    if not wanted:
        return Delivered()
    people = {
        row.id: row
        for row in await session.execute(
            select(User.id, User.email, User.email_verified_at).where(
                User.id.in_(list(wanted)), User.disabled_at.is_(None)
            )
        )
    }
    done = Delivered()
    in_app = [
        uid
        for uid, choice in wanted.items()
        if uid in people and choice.in_app and Channel.IN_APP in message.channels
    ]
    if in_app:
        inserted = await session.scalars(
            _INSERT_NOTIFICATIONS,
            {
                "ids": [new_id() for _ in in_app],
                "users": in_app,
                "org": org_id,
                "event": outbox_event_id,
                "key": dedupe_key,
                "category": message.category,
                "title": message.title[:300],
                "body": message.body,
                "link": message.link,
            },
        )
        done.in_app = list(inserted)
        # Open pages hear of it at commit (nothing is pushed for a rollback): live.Hub.
        await announce(session, done.in_app, key=dedupe_key)
    if Channel.EMAIL in message.channels:
        drafts: list[EmailDraft] = []
        mail: _Mail | None = None
        for uid, choice in wanted.items():
            person = people.get(uid)
            if person is None or person.email_verified_at is None or not choice.email:
                continue
            if choice.digest:
                done.digest.append(uid)
                continue
            if mail is None:
                mail = await _mail(session, org_id, message, settings or job_settings())
            drafts.append(mail.draft(person.email, uid, f"{dedupe_key}:{uid}"))
        queued = await queue_emails(session, drafts)
        done.email = [draft.user_id for draft in queued if draft.user_id is not None]
        if done.digest:
            await hold(
                session,
                done.digest,
                category=message.category,
                title=message.title,
                body=message.body,
                link=message.link,
                dedupe_key=dedupe_key,
            )
    return done


#: Stands for the person's unsubscribe address while the message is rendered once for all:
#: URL characters only, so it reads the same escaped (HTML) and not (text).
_UNSUBSCRIBE_MARK = "https://unsubscribe.invalid/HACKOPS-UNSUBSCRIBE-MARK"


def _reason(found: Category) -> str:
    if found.transactional:
        return (
            f"You get this mail because it concerns your {PLATFORM_NAME} account"
            f" ({found.label.lower()}); mail like this cannot be turned off."
        )
    return (
        f"You get this mail because you have a {PLATFORM_NAME} account and mail about"
        f" {found.label.lower()} is on."
    )


@dataclass(frozen=True)
class _Mail:
    """One message's mail, rendered once; `draft` makes each person's."""

    message: Message
    rendered: Rendered
    settings: Settings
    can_unsubscribe: bool

    def draft(self, to: str, user_id: uuid.UUID, dedupe_key: str) -> EmailDraft:
        text, html, url = self.rendered.text, self.rendered.html, None
        if self.can_unsubscribe:
            url = unsubscribe_url(self.settings, user_id, self.message.category)
            text = text.replace(_UNSUBSCRIBE_MARK, url)
            html = html.replace(_UNSUBSCRIBE_MARK, str(escape(url)))
        return EmailDraft(
            to=to,
            subject=self.message.subject or self.message.title,
            body=text,
            html=html,
            attachments=self.message.attachments,
            unsubscribe_url=url,
            category=self.message.category,
            user_id=user_id,
            dedupe_key=dedupe_key,
        )


async def _mail(
    session: AsyncSession, org_id: uuid.UUID | None, message: Message, settings: Settings
) -> _Mail:
    found = category_of(message.category)
    org = await session.get(Organization, org_id) if org_id is not None else None
    base_url = settings.base_url.rstrip("/")
    link = message.link
    if link.startswith("/"):
        link = base_url + link
    elif not link.startswith(("https://", "http://")):
        link = ""
    context = {
        "title": message.title,
        "body": message.body,
        "link": link,
        "link_label": message.link_label,
        "reason": _reason(found),
        **message.email_context,
    }
    rendered = render(
        message.email_template or "notification",
        subject=message.subject or message.title,
        base_url=base_url,
        brand=org_brand(org) if org is not None else PLATFORM,
        unsubscribe_url=None if found.transactional else _UNSUBSCRIBE_MARK,
        **context,
    )
    return _Mail(message, rendered, settings, can_unsubscribe=not found.transactional)
