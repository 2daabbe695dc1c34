"""Event reminders: switched on by the organizer, they fire once each at the right moment of the
database clock (the daily judging one at a local hour of a zone at UTC+05:30), to the right
people only, however many workers look."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops import jobs
from hackops.announcements import tasks
from hackops.config import Settings
from hackops.db import Database
from hackops.models import OutboxEvent, Submission
from tests.announcements.helpers import Crowd, build_crowd, dispatch, outbox, told
from tests.factories import create_event_reminders, create_registration, create_submission_version
from tests.helpers import frozen_time
from tests.registrations.helpers import as_admin, scene

#: Submissions close at 18:00 in Asia/Kolkata on 24 November.
DEADLINE = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


async def switch_on(client: httpx2.AsyncClient, crowd: Crowd, **switches: object) -> None:
    response = await client.put(
        crowd.scene.base + "/reminders", json=switches, headers=crowd.organizer
    )
    assert response.status_code == 200, response.text


async def fired_at(connection: AsyncConnection, moment: datetime) -> int:
    async with frozen_time(connection, moment):
        return await tasks.remind_all_due()


async def told_names(session: AsyncSession, crowd: Crowd, type_: str) -> list[set[str]]:
    await dispatch(session)
    return [
        crowd.names({n.user_id for n in await told(session, e.id)})
        for e in await outbox(session, type_)
    ]


async def test_submission_reminders_fire_once_to_teams_without_a_version(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(
        session, starts_at=DEADLINE - timedelta(days=3), submissions_close_at=DEADLINE
    )
    assert await fired_at(connection, DEADLINE - timedelta(hours=30)) == 0  # nothing switched on
    await switch_on(client, crowd, submissions_closing=True)
    assert await fired_at(connection, DEADLINE - timedelta(hours=24, seconds=1)) == 0
    assert await fired_at(connection, DEADLINE - timedelta(hours=24)) == 1
    assert await fired_at(connection, DEADLINE - timedelta(hours=24)) == 0  # a second worker
    assert await fired_at(connection, DEADLINE - timedelta(hours=2)) == 0
    [due] = await outbox(session, "reminder.due")
    assert due.payload == {"event_id": str(crowd.scene.event.id), "kind": "submissions_closing_24h"}
    assert await told_names(session, crowd, "reminder.due") == [
        {"a_captain", "a_member", "b_captain"}
    ]
    note = (await told(session, due.id))[0]
    assert note.title == f"Submissions for {crowd.scene.event.name} close in about 24 hours"
    assert "Submissions close on 2026-11-24 18:00 IST (UTC+05:30)." in note.body
    assert note.category == "reminders"

    # team b submits its first version before the last hour: only team a hears it then
    b = await session.scalar(select(Submission).where(Submission.team_id == crowd.teams["b"].id))
    assert b is not None
    await create_submission_version(session, b)
    assert await fired_at(connection, DEADLINE - timedelta(minutes=59)) == 1
    assert await fired_at(connection, DEADLINE - timedelta(minutes=1)) == 0
    assert await fired_at(connection, DEADLINE) == 0
    last = (await outbox(session, "reminder.due"))[-1]
    assert last.payload["kind"] == "submissions_closing_1h"
    names = await told_names(session, crowd, "reminder.due")
    assert names[-1] == {"a_captain", "a_member"}


async def test_moving_the_deadline_arms_its_reminders_again(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(
        session, starts_at=DEADLINE - timedelta(days=3), submissions_close_at=DEADLINE
    )
    await switch_on(client, crowd, submissions_closing=True)
    assert await fired_at(connection, DEADLINE - timedelta(minutes=30)) == 1
    crowd.scene.event.submissions_close_at = DEADLINE + timedelta(days=1)
    await session.flush()
    assert await fired_at(connection, DEADLINE + timedelta(minutes=10)) == 1
    kinds = [e.payload["kind"] for e in await outbox(session, "reminder.due")]
    assert kinds == ["submissions_closing_1h", "submissions_closing_24h"]


async def test_the_registration_closing_reminder_reaches_every_active_registration(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    closes = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # noon in Asia/Kolkata
    crowd = await build_crowd(session, registration_closes_at=closes)
    await switch_on(client, crowd, registration_closing=True)
    assert await fired_at(connection, closes - timedelta(hours=25)) == 0
    assert await fired_at(connection, closes - timedelta(hours=23)) == 1
    assert await fired_at(connection, closes - timedelta(hours=1)) == 0
    assert await fired_at(connection, closes + timedelta(hours=1)) == 0
    [names] = await told_names(session, crowd, "reminder.due")
    expected = {"registered", "checked_in", "waitlisted"}
    expected |= {f"{t}_{r}" for t in "abcde" for r in ("captain",)} | {"a_member", "c_member"}
    assert names == expected
    [due] = await outbox(session, "reminder.due")
    [note, *_] = await told(session, due.id)
    assert note.title == (
        f"Registration for {crowd.scene.event.name} closes on 2026-11-24 12:00 IST (UTC+05:30)"
    )


async def test_judges_are_reminded_daily_at_the_local_hour(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(
        session,
        starts_at=datetime(2026, 11, 18, tzinfo=UTC),
        submissions_close_at=datetime(2026, 11, 20, tzinfo=UTC),
        judging_closes_at=datetime(2026, 11, 30, tzinfo=UTC),
    )
    await switch_on(client, crowd, judging_daily=True, judging_hour=9)
    nine = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)  # 09:00 in Asia/Kolkata
    assert await fired_at(connection, nine - timedelta(seconds=1)) == 0
    assert await fired_at(connection, nine) == 1
    assert await fired_at(connection, nine + timedelta(minutes=1)) == 0
    assert await fired_at(connection, nine + timedelta(hours=2, minutes=59)) == 0
    assert await fired_at(connection, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == 0
    reminders = await outbox(session, "judging.evaluation_reminder")
    people = crowd.people
    assert sorted((e.payload["judge_id"], e.payload["unfinished"]) for e in reminders) == sorted(
        [(str(people["judge_busy"].id), 1), (str(people["judge_draft"].id), 1)]
    )
    names = await told_names(session, crowd, "judging.evaluation_reminder")
    assert sorted(tuple(n) for n in names) == [("judge_busy",), ("judge_draft",)]
    [note] = await told(session, reminders[0].id)
    assert note.title == f"1 project still waits for your evaluation in {crowd.scene.event.name}"
    assert note.body.endswith("Judging closes on 2026-11-30 05:30 IST (UTC+05:30).")
    assert note.link.endswith("/judging")
    # the next local day, again; not once judging closed
    assert await fired_at(connection, nine + timedelta(days=1)) == 1
    assert await fired_at(connection, datetime(2026, 11, 30, 3, 30, tzinfo=UTC)) == 0
    assert len(await outbox(session, "judging.evaluation_reminder")) == 4


async def test_reminder_switches_are_checked(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    url = crowd.scene.base + "/reminders"
    got = await client.get(url, headers=crowd.organizer)
    assert got.json() == {
        "registration_closing": False,
        "submissions_closing": False,
        "judging_daily": False,
        "judging_hour": 9,
    }
    bad = await client.put(url, json={"judging_hour": 24}, headers=crowd.organizer)
    assert bad.status_code == 422
    assert (await client.put(url, json={}, headers=crowd.auth("mentor"))).status_code == 403
    assert (await client.get(url, headers=crowd.auth("registered"))).status_code == 404


async def test_several_workers_fire_a_reminder_once(
    committed_db: Database, settings: Settings
) -> None:
    previous = jobs.bind_database(committed_db, settings)
    try:
        async with committed_db.transaction() as session:
            now = datetime.now(UTC)
            s = await scene(
                session, starts_at=now - timedelta(days=1), submissions_close_at=now + HALF_HOUR
            )
            await create_registration(session, s.event, s.organizer)
            await create_event_reminders(session, s.event)
        counts = await asyncio.gather(*(tasks.remind_all_due() for _ in range(4)))
        assert sum(counts) == 1
        async with committed_db.transaction() as session:
            await as_admin(session)
            found = await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.type == "reminder.due")
            )
            assert found == 1
    finally:
        jobs.bind_database(*previous)


HALF_HOUR = timedelta(minutes=30)
