"""The limits the database itself holds, whatever the code above it does."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Task, Team, TeamMember
from tests.factories import (
    add_in_savepoint,
    create_event,
    create_organization,
    create_registration,
    create_team,
    create_user,
)


async def test_capacity_cannot_be_exceeded(session: AsyncSession) -> None:
    org = await create_organization(session)
    event = await create_event(session, org, capacity=2)
    for _ in range(2):
        await create_registration(session, event, await create_user(session))
    await session.refresh(event)
    assert event.registered_count == 2
    with pytest.raises(IntegrityError, match="registered_within_capacity"):
        async with session.begin_nested():
            await create_registration(session, event, await create_user(session))
    waitlisted = await create_registration(
        session, event, await create_user(session), status="waitlisted"
    )
    with pytest.raises(IntegrityError, match="registered_within_capacity"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE registrations SET status = 'registered' WHERE id = :id"),
                {"id": waitlisted.id},
            )


async def test_seat_count_follows_status_changes(session: AsyncSession) -> None:
    org = await create_organization(session)
    event = await create_event(session, org, capacity=10)
    registration = await create_registration(session, event, await create_user(session))
    for status, seats in (
        ("checked_in", 1),
        ("cancelled", 0),
        ("waitlisted", 0),
        ("registered", 1),
    ):
        registration.status = status
        await session.flush()
        count = await session.scalar(select(Event.registered_count).where(Event.id == event.id))
        assert count == seats, status


async def test_team_size_and_one_team_per_person(session: AsyncSession) -> None:
    org = await create_organization(session)
    event = await create_event(session, org, team_max=2)
    people = [await create_user(session) for _ in range(4)]
    for person in people:
        await create_registration(session, event, person)
    team = await create_team(session, event, people[0])
    session.add(TeamMember(org_id=org.id, event_id=event.id, team_id=team.id, user_id=people[1].id))
    await session.flush()
    with pytest.raises(IntegrityError, match="size_within_max"):
        await add_in_savepoint(
            session,
            TeamMember(org_id=org.id, event_id=event.id, team_id=team.id, user_id=people[2].id),
        )
    with pytest.raises(IntegrityError, match="uq_team_members_event_id_user_id"):
        async with session.begin_nested():
            await create_team(session, event, people[1])


async def test_members_must_be_registered_for_the_event(session: AsyncSession) -> None:
    org = await create_organization(session)
    event = await create_event(session, org)
    captain = await create_user(session)
    await create_registration(session, event, captain)
    team = await create_team(session, event, captain)
    stranger = await create_user(session)
    with pytest.raises(IntegrityError, match="fk_team_members_event_id_user_id_registrations"):
        await add_in_savepoint(
            session,
            TeamMember(org_id=org.id, event_id=event.id, team_id=team.id, user_id=stranger.id),
        )


async def test_a_team_cannot_hang_under_another_tenants_event(session: AsyncSession) -> None:
    org_a = await create_organization(session)
    org_b = await create_organization(session)
    event_b = await create_event(session, org_b)
    captain = await create_user(session)
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    with pytest.raises(IntegrityError, match="fk_teams_org_id_event_id_events"):
        await add_in_savepoint(
            session,
            Team(
                org_id=org_a.id,
                event_id=event_b.id,
                name="Cross",
                captain_id=captain.id,
                join_code="CROSS1",
                max_members=3,
            ),
        )


async def test_removing_a_member_unassigns_their_tasks(session: AsyncSession) -> None:
    org = await create_organization(session)
    event = await create_event(session, org)
    captain, member = await create_user(session), await create_user(session)
    for person in (captain, member):
        await create_registration(session, event, person)
    team = await create_team(session, event, captain)
    membership = TeamMember(org_id=org.id, event_id=event.id, team_id=team.id, user_id=member.id)
    session.add(membership)
    task = Task(
        org_id=org.id,
        team_id=team.id,
        title="Pitch deck",
        position=1,
        assignee_id=member.id,
        created_by_id=captain.id,
    )
    session.add(task)
    await session.flush()
    await session.delete(membership)
    await session.flush()
    await session.refresh(task)
    await session.refresh(team)
    assert task.assignee_id is None
    assert team.member_count == 1
