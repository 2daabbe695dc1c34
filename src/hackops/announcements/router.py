"""Announcements API under an event: organizers write, preview, send, schedule and cancel them and
read their delivery figures; whoever takes part reads the ones meant for them. The event's
reminder switches live beside them."""

from __future__ import annotations

import uuid

from fastapi import status
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ServicesDep
from hackops.announcements import audience, content, reading, reminders, service
from hackops.announcements.schemas import (
    AnnouncementContent,
    AnnouncementIn,
    AnnouncementOut,
    FiguresOut,
    PreviewOut,
    ReceivedOut,
    RemindersIn,
    RemindersOut,
    ScheduleIn,
)
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.models import Announcement, Event
from hackops.routing import Router

router = Router(prefix="/organizations", tags=["announcements"])

EVENT = "/{slug}/events/{event_slug}"
BASE = EVENT + "/announcements"
ONE = BASE + "/{announcement_id}"
READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
SEND_ERRORS = error_responses(401, 403, 404, 409, 422, 429)


def announcement_out(
    event: Event, announcement: Announcement, figures: reading.Figures | None
) -> AnnouncementOut:
    return AnnouncementOut(
        id=announcement.id,
        title=announcement.title,
        body=announcement.body,
        body_html=announcement.body_html,
        audience=announcement.audience,
        track_id=announcement.track_id,
        channels=list(announcement.channels),
        status=announcement.status.value,
        send_at=announcement.send_at,
        send_at_local=content.with_offset(announcement.send_at, event.timezone),
        sent_at=announcement.sent_at,
        cancelled_at=announcement.cancelled_at,
        created_at=announcement.created_at,
        dispatched=announcement.recipient_count is not None,
        figures=FiguresOut.model_validate(figures) if figures is not None else None,
    )


async def _one_out(
    session: AsyncSession, event: Event, announcement: Announcement
) -> AnnouncementOut:
    figures = await reading.figures(session, [announcement])
    return announcement_out(event, announcement, figures.get(announcement.id))


@router.get(BASE, response_model=list[AnnouncementOut], responses=READ_ERRORS)
async def list_announcements(
    session: SessionDep, access: EventOrganizerDep
) -> list[AnnouncementOut]:
    """The event's announcements, newest first, with delivery figures (organizers)."""
    found = await reading.list_for_organizers(session, access.event)
    figures = await reading.figures(session, found)
    return [announcement_out(access.event, a, figures.get(a.id)) for a in found]


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    response_model=AnnouncementOut,
    responses=SEND_ERRORS,
)
async def create_announcement(
    body: AnnouncementIn, session: SessionDep, access: EventOrganizerDep, services: ServicesDep
) -> AnnouncementOut:
    """Write an announcement: keep it as a draft, send it now, or schedule it (organizers).
    Sending or scheduling spends the organization's hourly budget and its plan's monthly cap."""
    announcement = await service.create(
        session,
        access,
        services.limiter,
        body.draft(),
        deliver=body.deliver,
        send_at=body.send_at,
    )
    return await _one_out(session, access.event, announcement)


@router.get(BASE + "/received", response_model=list[ReceivedOut], responses=READ_ERRORS)
async def received_announcements(session: SessionDep, access: EventDep) -> list[ReceivedOut]:
    """The sent announcements meant for me: those I received and those whose audience I belong
    to now (organizers: all of them), newest first."""
    zone = access.event.timezone
    return [
        ReceivedOut(
            id=a.id,
            title=a.title,
            body_html=a.body_html,
            sent_at=a.sent_at,
            sent_at_local=content.with_offset(a.sent_at, zone),
        )
        for a in await reading.readable(session, access)
    ]


@router.get(ONE, response_model=AnnouncementOut, responses=READ_ERRORS)
async def get_announcement(
    announcement_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> AnnouncementOut:
    """One announcement with its delivery figures (organizers)."""
    announcement = await service.get(session, access.event, announcement_id)
    return await _one_out(session, access.event, announcement)


@router.patch(ONE, response_model=AnnouncementOut, responses=WRITE_ERRORS)
async def update_announcement(
    announcement_id: uuid.UUID,
    body: AnnouncementContent,
    session: SessionDep,
    access: EventOrganizerDep,
) -> AnnouncementOut:
    """Rewrite a draft (organizers); a sent, scheduled or cancelled one is 409."""
    announcement = await service.get(session, access.event, announcement_id)
    await service.update_draft(session, access, announcement, body.draft())
    return await _one_out(session, access.event, announcement)


@router.get(ONE + "/preview", response_model=PreviewOut, responses=READ_ERRORS)
async def preview_announcement(
    announcement_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> PreviewOut:
    """Exactly what people will read, and how many the audience holds now (organizers)."""
    announcement = await service.get(session, access.event, announcement_id)
    shown = await reading.preview(
        session, access.event, reading.draft_of(announcement), announcement.id
    )
    return PreviewOut(
        subject=shown.subject,
        title=shown.title,
        text=shown.text,
        html=shown.html,
        link=shown.link,
        audience=shown.audience,
        audience_label=audience.LABELS[announcement.audience],
        channels=shown.channels,
        recipients_now=shown.recipients_now,
    )


@router.post(ONE + "/send", response_model=AnnouncementOut, responses=SEND_ERRORS)
async def send_announcement(
    announcement_id: uuid.UUID,
    session: SessionDep,
    access: EventOrganizerDep,
    services: ServicesDep,
) -> AnnouncementOut:
    """Send a draft now (organizers)."""
    announcement = await service.get(session, access.event, announcement_id)
    await service.send_now(session, access, services.limiter, announcement)
    return await _one_out(session, access.event, announcement)


@router.post(ONE + "/schedule", response_model=AnnouncementOut, responses=SEND_ERRORS)
async def schedule_announcement(
    announcement_id: uuid.UUID,
    body: ScheduleIn,
    session: SessionDep,
    access: EventOrganizerDep,
    services: ServicesDep,
) -> AnnouncementOut:
    """Schedule a draft for a moment (organizers)."""
    announcement = await service.get(session, access.event, announcement_id)
    await service.schedule(session, access, services.limiter, announcement, body.send_at)
    return await _one_out(session, access.event, announcement)


@router.post(ONE + "/cancel", response_model=AnnouncementOut, responses=WRITE_ERRORS)
async def cancel_announcement(
    announcement_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> AnnouncementOut:
    """Cancel a scheduled announcement before it goes out (organizers)."""
    announcement = await service.get(session, access.event, announcement_id)
    await service.cancel(session, access, announcement)
    return await _one_out(session, access.event, announcement)


@router.get(EVENT + "/reminders", response_model=RemindersOut, responses=READ_ERRORS)
async def get_reminders(session: SessionDep, access: EventOrganizerDep) -> RemindersOut:
    """The reminders switched on for the event (organizers)."""
    return RemindersOut.model_validate(await reminders.switches_of(session, access.event))


@router.put(EVENT + "/reminders", response_model=RemindersOut, responses=WRITE_ERRORS)
async def set_reminders(
    body: RemindersIn, session: SessionDep, access: EventOrganizerDep
) -> RemindersOut:
    """Switch the event's reminders on or off (organizers)."""
    switches = await reminders.set_switches(session, access.actor, access.event, body.model_dump())
    return RemindersOut.model_validate(switches)
