"""Reading announcements: the organizers' list with delivery figures, and what a participant may
read.

Figures (`figures`, one call of the SQL function `announcement_figures` for any number of
announcements): recipients (whom the audience resolved to at dispatch), in-app notifications
delivered and read, mails queued, sent and failed (not sent, the SMTP server's refusal
recorded). Notifications and mails are found by the announcement's outbox event id, the key
`deliver` gave them (`<event id>` in the app, `<event id>:<user id>` for mail).

Who reads a sent announcement: the event's organizers all of them; anyone else those they
received, and those whose audience they belong to now (someone registering after "everyone
registered" was told still reads it on the event's page).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, false, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.announcements import audience, content
from hackops.announcements.service import AnnouncementNotFound, Draft, check_track
from hackops.events.access import EventAccess
from hackops.models import Announcement, AnnouncementRecipient, AnnouncementStatus, Event
from hackops.notifications.links import event_path

#: The organizers' list shows the most recent announcements of an event.
LIST_LIMIT = 200


@dataclass(frozen=True)
class Figures:
    recipients: int = 0
    in_app_delivered: int = 0
    in_app_read: int = 0
    mails_queued: int = 0
    mails_sent: int = 0
    mails_failed: int = 0


async def figures(
    session: AsyncSession, announcements: list[Announcement]
) -> dict[uuid.UUID, Figures]:
    """The delivery figures of announcements of the transaction's tenant (one statement)."""
    ids = [a.id for a in announcements if a.status is AnnouncementStatus.SENT]
    if not ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT announcement_id, recipients, in_app, read, mails_queued, mails_sent,"
            " mails_failed FROM announcement_figures(CAST(:ids AS uuid[]))"
        ),
        {"ids": ids},
    )
    return {row[0]: Figures(*(int(v) for v in row[1:])) for row in rows}


async def list_for_organizers(session: AsyncSession, event: Event) -> list[Announcement]:
    """The event's announcements, newest first."""
    return list(
        await session.scalars(
            select(Announcement)
            .where(Announcement.event_id == event.id)
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def _readable(access: EventAccess) -> Select[Announcement]:
    event = access.event
    query = select(Announcement).where(
        Announcement.event_id == event.id, Announcement.status == AnnouncementStatus.SENT
    )
    if access.is_organizer:
        return query
    user = access.actor.user
    if user is None:
        return query.where(false())
    received = (
        select(AnnouncementRecipient.user_id)
        .where(
            AnnouncementRecipient.announcement_id == Announcement.id,
            AnnouncementRecipient.user_id == user.id,
        )
        .exists()
    )
    member = audience.belongs(event.id, user.id, Announcement.audience, Announcement.track_id)
    return query.where(or_(received, member))


async def readable(
    session: AsyncSession, access: EventAccess, *, limit: int = LIST_LIMIT
) -> list[Announcement]:
    """The sent announcements the caller may read, newest first."""
    return list(
        await session.scalars(
            _readable(access)
            .order_by(Announcement.sent_at.desc(), Announcement.id.desc())
            .limit(limit)
        )
    )


async def readable_one(
    session: AsyncSession, access: EventAccess, announcement_id: uuid.UUID
) -> Announcement:
    found = await session.scalar(_readable(access).where(Announcement.id == announcement_id))
    if found is None:
        raise AnnouncementNotFound
    return found


@dataclass(frozen=True)
class Preview:
    """What people will read (`content.compose`, as the fan-out calls it) and how many the
    audience holds now."""

    subject: str
    title: str
    text: str
    html: str
    link: str
    audience: str
    channels: list[str]
    recipients_now: int


async def preview(
    session: AsyncSession,
    event: Event,
    draft: Draft,
    announcement_id: uuid.UUID | None = None,
) -> Preview:
    """The preview of a draft (saved, with its id, or not yet: the link is then the event's
    announcements page, where it will be)."""
    await check_track(session, event, draft)
    suffix = f"/announcements/{announcement_id}" if announcement_id else "/announcements"
    link = await event_path(session, event, suffix)
    message = content.compose(
        event, title=draft.title, body=draft.body, channels=draft.channels, link=link
    )
    return Preview(
        subject=message.subject or message.title,
        title=message.title,
        text=message.body,
        html=content.render(draft.body),
        link=message.link,
        audience=draft.audience.value,
        channels=sorted(c.value for c in message.channels),
        recipients_now=await audience.count(session, event.id, draft.audience, draft.track_id),
    )


def draft_of(announcement: Announcement) -> Draft:
    return Draft(
        title=announcement.title,
        body=announcement.body,
        audience=announcement.audience,
        track_id=announcement.track_id,
        channels=list(announcement.channels),
    )
