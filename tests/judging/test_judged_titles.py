"""What a judge meets names the project by its latest submitted version, never by the working copy
the team keeps editing: the queue, the pairwise pair (API here; the pages in
tests/web/test_judging_pages.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import EventRoleGrant
from tests.factories import create_team
from tests.people import person
from tests.teams.helpers import Stage, stage

NOW = datetime.now(UTC)


async def edited_after_submitting(
    client: httpx2.AsyncClient, session: AsyncSession, *, teams: int = 2, judges: int = 1
) -> tuple[Stage, list[uuid.UUID]]:
    """Teams that submitted "Submitted pN" through the API, then renamed their working copy
    "Draft pN" (a new tagline too) without submitting again; judges who are not participants."""
    names = tuple(f"p{i}" for i in range(teams))
    s = await stage(
        session,
        registered=names,
        registration_opens_at=NOW - timedelta(days=5),
        starts_at=NOW - timedelta(days=2),
        submissions_close_at=NOW + timedelta(days=1),
    )
    projects = []
    for name in names:
        team = await create_team(session, s.event, s.users[name], name=f"Team {name}")
        url = s.team_url(team.id, "/submission")
        submitted = {"title": f"Submitted {name}", "tagline": f"Submitted tagline {name}"}
        first = await client.patch(url, headers=s.auth(name), json=submitted)
        assert first.status_code == 200, first.text
        version = await client.post(url + "/submit", headers=s.auth(name))
        assert version.status_code == 201, version.text
        draft = {"title": f"Draft {name}", "tagline": f"Draft tagline {name}"}
        edited = await client.patch(url, headers=s.auth(name), json=draft)
        assert edited.status_code == 200, edited.text
        projects.append(uuid.UUID(edited.json()["id"]))
    for i in range(judges):
        name = f"judge{i}"
        user, token = await person(session, name=name, email=f"{name}-{uuid.uuid4().hex[:6]}@x.org")
        s.users[name], s.tokens[name] = user, token
        session.add(
            EventRoleGrant(org_id=s.org.id, event_id=s.event.id, user_id=user.id, role="judge")
        )
    await session.flush()
    return s, projects


async def test_the_queue_names_projects_by_their_submitted_version(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, projects = await edited_after_submitting(client, session, teams=2, judges=1)
    assigned = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 1, "seed": 1}
    )
    assert assigned.status_code == 200, assigned.text
    queue = await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))
    assert queue.status_code == 200, queue.text
    titles = {item["submission_id"]: item["title"] for item in queue.json()["items"]}
    assert titles == {str(projects[0]): "Submitted p0", str(projects[1]): "Submitted p1"}


async def test_the_pair_names_projects_by_their_submitted_version(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _ = await edited_after_submitting(client, session, teams=2, judges=1)
    pair = await client.get(f"{s.base}/judging/pairwise", headers=s.auth("judge0"))
    assert pair.status_code == 200, pair.text
    body = pair.json()
    assert {body["first_title"], body["second_title"]} == {"Submitted p0", "Submitted p1"}
