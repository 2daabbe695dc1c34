"""Team pages through HTTP: the teams area (create, join by code, finder profile and search),
a team's page (edit, invite, requests, leave), the invitation page, and who sees what."""

from __future__ import annotations

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Registration, Team, TeamMember
from tests.accounts.helpers import last_link
from tests.teams.helpers import Stage, stage
from tests.web.test_account_pages import follow, submit, text_of, use_session


def area(s: Stage) -> str:
    return f"/orgs/{s.org.slug}/events/{s.event.slug}/teams"


async def test_create_invite_accept_and_ask_to_join(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    use_session(client, s.tokens["alice"])
    page = await client.get(area(s))
    assert page.status_code == 200
    assert '<label for="team-name">' in page.text
    created = await submit(
        client, area(s), area(s) + "/create", name="Owls", skills_wanted="Python, SQL"
    )
    team = await session.scalar(select(Team).where(Team.name == "Owls"))
    assert team is not None
    assert team.skills_wanted == ["python", "sql"]
    assert created.headers["location"] == f"{area(s)}/{team.id}"
    shown = await follow(client, created)
    assert "Team created." in text_of(shown)
    assert team.join_code in shown.text

    team_page = f"{area(s)}/{team.id}"
    invited = await submit(client, team_page, team_page + "/invite", email=s.users["bob"].email)
    assert "Invitation mailed; its link is valid for 7 days." in text_of(
        await follow(client, invited)
    )
    token = await last_link(session, s.users["bob"].email, "/team-invitations")
    link = f"/orgs/{s.org.slug}/events/{s.event.slug}/team-invitations?token={token}"

    use_session(client, s.tokens["bob"])
    accepted = await submit(
        client,
        link,
        f"/orgs/{s.org.slug}/events/{s.event.slug}/team-invitations/accept",
        token=token,
    )
    assert accepted.headers["location"] == team_page
    assert "Welcome to the team." in text_of(await follow(client, accepted))

    use_session(client, s.tokens["carol"])
    profile = await submit(
        client, area(s), area(s) + "/profile", looking_for_team="on", skills="Go", note="hi"
    )
    assert (await follow(client, profile)).status_code == 200
    registration = await session.scalar(
        select(Registration).where(Registration.user_id == s.users["carol"].id)
    )
    assert registration is not None
    await session.refresh(registration)
    assert (registration.looking_for_team, registration.skills) == (True, ["go"])
    asked = await submit(client, team_page, team_page + "/request", message="Let me in")
    assert "Request sent" in text_of(await follow(client, asked))

    use_session(client, s.tokens["alice"])
    captain_view = await client.get(team_page)
    assert "Let me in" in captain_view.text
    request_id = captain_view.text.split('action="' + team_page + '/approve"')[1]
    request_id = request_id.split('name="id" value="')[1].split('"')[0]
    approved = await submit(client, team_page, team_page + "/approve", id=request_id)
    assert "Approved" in text_of(await follow(client, approved))
    members = await session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id))
    assert {str(m) for m in members} == {s.id("alice"), s.id("bob"), s.id("carol")}

    refused = await submit(client, team_page, team_page + "/leave")
    assert "captain" in text_of(await follow(client, refused)).lower()


async def test_pages_follow_the_api_rules(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    use_session(client, s.tokens["alice"])
    await submit(client, area(s), area(s) + "/create", name="Owls")
    team = await session.scalar(select(Team).where(Team.name == "Owls"))
    assert team is not None
    use_session(client, s.tokens["otto"])  # registered nowhere
    assert (await client.get(area(s))).status_code == 404
    assert (await client.get(f"{area(s)}/{team.id}")).status_code == 404
    client.cookies.clear()
    signed_out = await client.get(f"{area(s)}/{team.id}")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login")
    use_session(client, s.tokens["bob"])
    no_token = await client.post(
        f"{area(s)}/{team.id}/edit",
        data={"name": "Hijack"},
        headers={"Origin": "http://testserver"},
    )
    assert no_token.status_code in (400, 403)
    not_captain = await submit(
        client, f"{area(s)}/{team.id}", f"{area(s)}/{team.id}/edit", name="X"
    )
    assert "No such team." in text_of(await follow(client, not_captain))  # bob is no member
    await session.refresh(team)
    assert team.name == "Owls"
