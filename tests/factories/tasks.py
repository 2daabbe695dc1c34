"""Tasks: on a team's board, or on a person's own list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Task, Team, User
from hackops.tenancy import set_tenant
from tests.factories.accounts import create_user
from tests.factories.rows import insert, unique
from tests.factories.teams import create_team


async def create_task(session: AsyncSession, team: Team | None = None, **overrides: Any) -> Task:
    """A task on `team`'s board, made by its captain."""
    team = team or await create_team(session)
    await set_tenant(session, team.org_id)
    values: dict[str, Any] = {
        "org_id": team.org_id,
        "team_id": team.id,
        "title": f"Task {unique()}",
        "position": 1024,
        "created_by_id": team.captain_id,
    }
    values.update(overrides)
    return await insert(session, Task, values)


async def create_personal_task(
    session: AsyncSession, owner: User | None = None, **overrides: Any
) -> Task:
    """A task on `owner`'s own list (no team, no organization)."""
    owner = owner or await create_user(session)
    values: dict[str, Any] = {
        "owner_id": owner.id,
        "title": f"Task {unique()}",
        "position": 1024,
        "created_by_id": owner.id,
    }
    values.update(overrides)
    return await insert(session, Task, values)
