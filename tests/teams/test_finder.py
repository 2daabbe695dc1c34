"""The team finder: both directions ranked by skill overlap then text relevance, filters,
pagination with a hard maximum, suggestions, and constant query counts."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Event, JoinRequest, Registration, Team, TeamInvitation, TeamMember
from tests.factories import create_registration, create_team, create_user
from tests.helpers import count_queries
from tests.people import person
from tests.teams.helpers import Stage, stage


async def finder_profile(
    client: httpx2.AsyncClient, s: Stage, who: str, skills: list[str], note: str = ""
) -> None:
    response = await client.patch(
        f"{s.base}/finder/me",
        headers=s.auth(who),
        json={"looking_for_team": True, "skills": skills, "note": note},
    )
    assert response.status_code == 200, response.text


async def team_of(
    session: AsyncSession, event: Event, name: str, skills: list[str], **values: object
) -> Team:
    captain = await create_user(session)
    await create_registration(session, event, captain)
    return await create_team(session, event, captain, name=name, skills_wanted=skills, **values)


async def test_profile_lives_on_my_registration(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    await finder_profile(client, s, "alice", ["Python", " SQL ", "python"], "Backend person")
    me = await client.get(f"{s.base}/finder/me", headers=s.auth("alice"))
    assert me.json() == {
        "looking_for_team": True,
        "skills": ["python", "sql"],
        "note": "Backend person",
    }
    waitlisted = await client.patch(
        f"{s.base}/finder/me", headers=s.auth("walt"), json={"looking_for_team": True}
    )
    assert waitlisted.status_code == 409
    stranger = await client.patch(
        f"{s.base}/finder/me", headers=s.auth("otto"), json={"looking_for_team": True}
    )
    assert stranger.status_code == 404
    for path in ("/finder/teams", "/finder/people", "/finder/suggestions/teams"):
        assert (await client.get(s.base + path, headers=s.auth("otto"))).status_code == 404
        # An organizer (no registration, no skills) browses both ways.
        assert (await client.get(s.base + path, headers=s.auth("olga"))).status_code == 200


async def test_teams_for_me_ranked_by_overlap_then_text(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    await finder_profile(client, s, "alice", ["python", "sql", "design"])
    two = await team_of(session, s.event, "Data crew", ["python", "sql", "go"])
    one = await team_of(session, s.event, "Pixel", ["design"])
    none = await team_of(session, s.event, "Rustaceans", ["rust"])
    closed = await team_of(session, s.event, "Closed", ["python"], recruiting=False)
    found = await client.get(f"{s.base}/finder/teams", headers=s.auth("alice"))
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [i["team"]["id"] for i in items] == [str(two.id), str(one.id), str(none.id)]
    assert [(i["overlap"], i["matching_skills"]) for i in items] == [
        (2, ["python", "sql"]),
        (1, ["design"]),
        (0, []),
    ]
    assert all(i["team"]["join_code"] is None for i in items)
    everyone = await client.get(
        f"{s.base}/finder/teams", headers=s.auth("alice"), params={"recruiting": "false"}
    )
    assert str(closed.id) in [i["team"]["id"] for i in everyone.json()["items"]]
    by_skill = await client.get(
        f"{s.base}/finder/teams", headers=s.auth("alice"), params={"skill": "RUST"}
    )
    assert [i["team"]["id"] for i in by_skill.json()["items"]] == [str(none.id)]
    by_text = await client.get(
        f"{s.base}/finder/teams", headers=s.auth("alice"), params={"q": "pixel"}
    )
    assert [i["team"]["id"] for i in by_text.json()["items"]] == [str(one.id)]
    paged = await client.get(
        f"{s.base}/finder/teams", headers=s.auth("alice"), params={"limit": 1, "offset": 1}
    )
    assert [i["team"]["id"] for i in paged.json()["items"]] == [str(one.id)]
    too_many = await client.get(
        f"{s.base}/finder/teams", headers=s.auth("alice"), params={"limit": 51}
    )
    assert too_many.status_code == 422

    # Equal overlap: text relevance decides (name weighs more than description).
    a = await team_of(session, s.event, "Alpha", ["rust"], description="we like robots")
    b = await team_of(session, s.event, "Robots united", ["rust"])
    ranked = await client.get(
        f"{s.base}/finder/teams", headers=s.auth("alice"), params={"q": "robots"}
    )
    assert [i["team"]["id"] for i in ranked.json()["items"]] == [str(b.id), str(a.id)]

    suggested = await client.get(f"{s.base}/finder/suggestions/teams", headers=s.auth("alice"))
    assert [i["team"]["id"] for i in suggested.json()] == [str(two.id), str(one.id)]


async def test_people_for_my_team(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await stage(session)
    created = await client.post(
        f"{s.base}/teams",
        headers=s.auth("alice"),
        json={"name": "Builders", "skills_wanted": ["react", "css", "ml"]},
    )
    assert created.status_code == 201
    await finder_profile(client, s, "bob", ["react", "css"], "Frontend")
    await finder_profile(client, s, "carol", ["ml"], "Kaggle nerd")
    await finder_profile(client, s, "dave", ["cobol"], "Mainframes and frontend")
    found = await client.get(f"{s.base}/finder/people", headers=s.auth("alice"))
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [(i["user_id"], i["overlap"]) for i in items] == [
        (s.id("bob"), 2),
        (s.id("carol"), 1),
        (s.id("dave"), 0),
    ]
    text_match = await client.get(
        f"{s.base}/finder/people", headers=s.auth("alice"), params={"q": "frontend"}
    )
    assert [i["user_id"] for i in text_match.json()["items"]] == [s.id("bob"), s.id("dave")]
    by_skill = await client.get(
        f"{s.base}/finder/people", headers=s.auth("alice"), params={"skill": "ml"}
    )
    assert [i["user_id"] for i in by_skill.json()["items"]] == [s.id("carol")]
    suggested = await client.get(f"{s.base}/finder/suggestions/people", headers=s.auth("alice"))
    assert [i["user_id"] for i in suggested.json()] == [s.id("bob"), s.id("carol")]
    # Someone who joins a team leaves the pool.
    code = created.json()["join_code"]
    await client.post(f"{s.base}/teams/join", headers=s.auth("bob"), json={"code": code})
    after = await client.get(f"{s.base}/finder/suggestions/people", headers=s.auth("alice"))
    assert [i["user_id"] for i in after.json()] == [s.id("carol")]
    no_team = await client.get(f"{s.base}/finder/suggestions/people", headers=s.auth("dave"))
    assert no_team.status_code == 404


async def _fill(session: AsyncSession, s: Stage, n: int) -> None:
    for i in range(n):
        await team_of(session, s.event, f"T{i}-{secrets.token_hex(2)}", ["python"])
        user, _ = await person(session)
        reg: Registration = await create_registration(
            session, s.event, user, looking_for_team=True, skills=["python"]
        )
        assert reg.looking_for_team


async def test_list_query_counts_do_not_grow(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session)
    await client.post(
        f"{s.base}/teams", headers=s.auth("alice"), json={"name": "Mine", "skills_wanted": ["py"]}
    )
    await finder_profile(client, s, "bob", ["python"])
    paths = ("/teams", "/finder/teams", "/finder/people", "/finder/suggestions/teams")
    counts: dict[int, list[int]] = {}
    for total, more in ((1, 1), (20, 19)):
        await _fill(session, s, more)
        counts[total] = []
        for path in paths:
            with count_queries(connection) as log:
                response = await client.get(
                    s.base + path, headers=s.auth("bob"), params={"limit": 50}
                )
            assert response.status_code == 200, (path, response.text)
            body = response.json()
            items = body if isinstance(body, list) else body["items"]
            assert len(items) >= min(total, 10), (path, total, len(items))
            counts[total].append(log.count)
    assert counts[1] == counts[20], counts


async def test_team_page_lists_count_the_same_for_1_and_20(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session, team_max=30)
    created = await client.post(f"{s.base}/teams", headers=s.auth("alice"), json={"name": "Big"})
    team_id = created.json()["id"]
    counts: dict[int, list[int]] = {}
    for total, more in ((1, 1), (20, 19)):
        for _ in range(more):
            user, _token = await person(session)
            await create_registration(session, s.event, user)
            session.add_all(
                [
                    TeamMember(
                        org_id=s.org.id, event_id=s.event.id, team_id=team_id, user_id=user.id
                    ),
                    TeamInvitation(
                        org_id=s.org.id,
                        event_id=s.event.id,
                        team_id=team_id,
                        email=user.email,
                        token_hash=secrets.token_hex(32),
                        invited_by_id=s.users["alice"].id,
                        expires_at=datetime.now(UTC) + timedelta(days=1),
                    ),
                ]
            )
            other, _token = await person(session)
            await create_registration(session, s.event, other)
            session.add(
                JoinRequest(org_id=s.org.id, event_id=s.event.id, team_id=team_id, user_id=other.id)
            )
            await session.flush()
        counts[total] = []
        for suffix in ("", "/invitations", "/join-requests"):
            with count_queries(connection) as log:
                response = await client.get(s.team_url(team_id, suffix), headers=s.auth("alice"))
            assert response.status_code == 200, response.text
            body = response.json()
            assert len(body["members"] if suffix == "" else body) >= total
            counts[total].append(log.count)
    assert counts[1] == counts[20], counts


async def test_the_finder_reads_teams_in_one_statement_and_people_in_two(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    """Beyond loading the caller and the event, "teams for me" is one statement (the caller's own
    team is left out inside it) and "people for my team" two (my team and its wanted skills in
    one, then the people): a round trip each saved on the finder's hot path."""
    s = await stage(session)
    await client.post(
        f"{s.base}/teams", headers=s.auth("alice"), json={"name": "Mine", "skills_wanted": ["py"]}
    )
    await finder_profile(client, s, "bob", ["python"])
    await _fill(session, s, 3)
    touching_teams = re.compile(r"\b(teams|team_members)\b")
    for who, path, expected in (("bob", "/finder/teams", 1), ("alice", "/finder/people", 2)):
        with count_queries(connection) as log:
            response = await client.get(s.base + path, headers=s.auth(who))
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) >= 1
        statements = [st for st in log.statements if touching_teams.search(st)]
        assert len(statements) == expected, (path, statements)
