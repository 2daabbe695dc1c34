"""The outbox: an event is written in the transaction of the change (a rollback drops it and
its dispatch job), and its fan-out reaches each person once however often it runs."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import SYSTEM
from hackops.models import Notification, OutboundEmail, OutboxEvent
from hackops.outbox.catalog import RegistrationCreated
from hackops.outbox.service import emit
from hackops.outbox.tasks import fan_out
from tests.factories import create_registration
from tests.registrations.helpers import scene


async def dispatch_jobs(session: AsyncSession, event_id: object) -> int:
    return int(
        await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'outbox.dispatch'"
                " AND args ->> 'event_id' = :id"
            ),
            {"id": str(event_id)},
        )
        or 0
    )


async def test_a_rollback_drops_the_event_and_its_job(session: AsyncSession) -> None:
    s = await scene(session)
    registration = await create_registration(session, s.event, user=s.organizer)
    payload = RegistrationCreated(
        registration_id=registration.id, user_id=s.organizer.id, status="registered"
    )
    savepoint = await session.begin_nested()
    dropped = await emit(session, SYSTEM, payload, org_id=s.org.id, event_id=s.event.id)
    dropped_id = dropped.id
    assert await dispatch_jobs(session, dropped_id) == 1
    await savepoint.rollback()
    assert await session.get(OutboxEvent, dropped_id, populate_existing=True) is None
    assert await dispatch_jobs(session, dropped_id) == 0

    kept = await emit(session, SYSTEM, payload, org_id=s.org.id, event_id=s.event.id)
    assert await dispatch_jobs(session, kept.id) == 1
    assert kept.type == "registration.created"
    assert kept.version == 1
    assert kept.subject_type == "registration"
    assert kept.subject_id == registration.id
    assert kept.payload == {
        "registration_id": str(registration.id),
        "user_id": str(s.organizer.id),
        "status": "registered",
    }


async def test_fan_out_tells_each_person_once(session: AsyncSession) -> None:
    s = await scene(session)
    registration = await create_registration(session, s.event, user=s.organizer)
    row = await emit(
        session,
        SYSTEM,
        RegistrationCreated(
            registration_id=registration.id, user_id=s.organizer.id, status="registered"
        ),
        org_id=s.org.id,
        event_id=s.event.id,
    )
    assert await fan_out(session, row.id) == "registration.created"
    assert await fan_out(session, row.id) is None
    # even with the mark undone (a run that could not see it), nothing is added twice
    row.dispatched_at = None
    await session.flush()
    assert await fan_out(session, row.id) == "registration.created"
    notes = list(
        await session.scalars(select(Notification).where(Notification.user_id == s.organizer.id))
    )
    assert [n.title for n in notes] == [f"You are registered for {s.event.name}"]
    assert notes[0].link == f"/orgs/{s.org.slug}/events/{s.event.slug}"
    mails = await session.scalar(
        select(func.count())
        .select_from(OutboundEmail)
        .where(OutboundEmail.dedupe_key == f"{row.id}:{s.organizer.id}")
    )
    assert mails == 1
