"""The page a team invitation mail links to: the invited person sees the team, the event, the
organization and who invited them (the inviter's name only); anyone else holding the link, and a
link that names nothing, get the refusal and learn nothing about the team."""

from __future__ import annotations

import re

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.helpers import last_link
from tests.factories import create_team
from tests.teams.helpers import stage
from tests.web.test_account_pages import submit, text_of, use_session


def summary_of(page: httpx2.Response) -> str:
    found = re.search(r'id="invitation-summary">(.*?)</p>', page.text, re.S)
    assert found, page.text
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


async def test_the_invited_person_sees_the_team_event_organization_and_inviter(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create_team(session, s.event, s.users["alice"], name="Night Owls")
    base = f"/orgs/{s.org.slug}/events/{s.event.slug}"
    use_session(client, s.tokens["alice"])
    team_page = f"{base}/teams/{team.id}"
    invited = await submit(client, team_page, team_page + "/invite", email=s.users["bob"].email)
    assert invited.status_code == 303
    token = await last_link(session, s.users["bob"].email, "/team-invitations")
    link = f"{base}/team-invitations?token={token}"

    use_session(client, s.tokens["bob"])
    page = await client.get(link)
    assert page.status_code == 200
    assert summary_of(page) == (
        f"Alice invites you to join the team Night Owls at {s.event.name}, organized by"
        f" {s.org.name}."
    )
    assert "<h1>Join Night Owls</h1>" in page.text
    assert s.users["alice"].email not in page.text  # the inviter's name, nothing else

    # Someone else with the link learns nothing about the team.
    use_session(client, s.tokens["carol"])
    other = await client.get(link)
    assert other.status_code == 403
    assert "This invitation was sent to someone else" in text_of(other)
    assert "Night Owls" not in other.text
    unknown = await client.get(f"{base}/team-invitations?token={'x' * 43}")
    assert unknown.status_code == 404
    assert "Night Owls" not in unknown.text
