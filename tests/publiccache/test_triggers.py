"""What each change bumps in `public_versions` (migration 0029), in the transaction of the change:
every page that shows it gets a new version, and writes no public page shows bump nothing (the
deadline's working copies, a draft's edits)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Organization
from hackops.publiccache import LISTING, content_scope, event_scope, org_scope
from tests.factories import (
    create_award,
    create_event,
    create_event_result,
    create_organization,
    create_registration,
    create_schedule_item,
    create_submission,
    create_submission_file,
    create_team,
    create_team_member,
    create_track,
    create_user,
)


async def versions(session: AsyncSession, scopes: list[str]) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT scope, version FROM public_versions WHERE scope = ANY(:s)"), {"s": scopes}
    )
    found = {scope: int(version) for scope, version in rows}
    return {scope: found.get(scope, 0) for scope in scopes}


async def bumped(
    session: AsyncSession, scopes: list[str], change: Callable[[], Awaitable[object]]
) -> set[str]:
    """Which of `scopes` the change bumped."""
    before = await versions(session, scopes)
    await change()
    after = await versions(session, scopes)
    return {scope for scope in scopes if after[scope] > before[scope]}


async def listed_event(session: AsyncSession) -> tuple[Organization, Event, list[str]]:
    org = await create_organization(session)
    event = await create_event(
        session, org, published_at=datetime.now(UTC) - timedelta(days=1), visibility="public"
    )
    scopes = [event_scope(event.id), content_scope(event.id), org_scope(org.id), LISTING]
    return org, event, scopes


async def test_event_edits_seats_and_children(session: AsyncSession) -> None:
    org, event, scopes = await listed_event(session)

    async def rename() -> None:
        await session.execute(
            text("UPDATE events SET name = 'New name' WHERE id = :id"), {"id": event.id}
        )

    assert await bumped(session, scopes, rename) == set(scopes)
    # A seat taken: the event page and the lists (their seat counts), not the gallery/results.
    user = await create_user(session)
    assert await bumped(session, scopes, lambda: create_registration(session, event, user)) == {
        scopes[0],
        scopes[2],
        LISTING,
    }
    for child in (create_track, create_award, create_schedule_item):
        assert await bumped(session, scopes, lambda c=child: c(session, event)) == set(scopes[:2])  # type: ignore[misc]
    assert await bumped(session, scopes, lambda: create_event_result(session, event)) == {scopes[1]}

    async def rebrand() -> None:
        await session.execute(
            text("UPDATE organizations SET name = 'Renamed org' WHERE id = :id"), {"id": org.id}
        )

    assert await bumped(session, scopes, rebrand) == {scopes[2], LISTING}


async def test_back_to_draft_is_seen_by_the_lists(session: AsyncSession) -> None:
    _, event, scopes = await listed_event(session)

    async def unpublish() -> None:
        await session.execute(
            text("UPDATE events SET published_at = NULL WHERE id = :id"), {"id": event.id}
        )

    assert await bumped(session, scopes, unpublish) == set(scopes)

    async def edit_draft() -> None:
        await session.execute(
            text("UPDATE events SET tagline = 'draft' WHERE id = :id"), {"id": event.id}
        )

    assert await bumped(session, scopes, edit_draft) == set(scopes[:2])


async def test_projects_bump_only_once_public(session: AsyncSession) -> None:
    _, event, scopes = await listed_event(session)
    content = [scopes[1]]
    captain = await create_user(session)
    await create_registration(session, event, captain)
    team = await create_team(session, event, captain)
    submission = await create_submission(session, team)

    async def set_status(status: str) -> None:
        await session.execute(
            text("UPDATE submissions SET status = :s WHERE id = :id"),
            {"s": status, "id": submission.id},
        )

    async def edit() -> None:
        await session.execute(
            text("UPDATE submissions SET title = 'Edited' WHERE id = :id"), {"id": submission.id}
        )

    assert await bumped(session, content, edit) == set()  # a working copy
    assert await bumped(session, content, lambda: set_status("submitted")) == set()
    assert await bumped(session, content, lambda: set_status("approved")) == set(content)
    assert await bumped(session, content, edit) == set(content)  # the gallery shows it
    file = await create_submission_file(session, submission)
    assert await bumped(session, content, lambda: create_team_member(session, team)) == set(content)

    async def publish_file() -> None:
        await session.execute(
            text("UPDATE submission_files SET public = true WHERE id = :id"), {"id": file.id}
        )

    assert await bumped(session, content, publish_file) == set(content)
    assert await bumped(session, content, lambda: set_status("disqualified")) == set(content)
    assert await bumped(session, content, edit) == set()  # gone from the gallery


async def test_a_seat_count_alone_takes_the_short_path_to_the_same_scopes(
    session: AsyncSession,
) -> None:
    """Migration 0037: an UPDATE of the seat count alone bumps the event page and the lists; the
    seat count with anything else, or a draft's seats, bump what the JSON comparison decides."""
    _, event, scopes = await listed_event(session)

    def update(sql: str) -> Callable[[], Awaitable[object]]:
        return lambda: session.execute(
            text(f"UPDATE events SET {sql} WHERE id = :id"), {"id": event.id}
        )

    assert await bumped(session, scopes, update("registered_count = registered_count + 1")) == {
        scopes[0],
        scopes[2],
        LISTING,
    }
    # The seat count and the name in one statement: every scope (content: too).
    both = update("registered_count = registered_count - 1, name = 'Both at once'")
    assert await bumped(session, scopes, both) == set(scopes)
    # Nothing that shows changed: nothing bumped, whether or not updated_at moved.
    assert await bumped(session, scopes, update("registered_count = registered_count")) == set()
    assert await bumped(session, scopes, update("updated_at = updated_at")) == set()
    # A draft's seats: its own page only (no list shows it).
    await update("published_at = NULL")()
    assert await bumped(session, scopes, update("registered_count = registered_count + 1")) == {
        scopes[0]
    }
