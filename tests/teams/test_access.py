"""Who reaches a team: every route that takes a team id is 404 to people outside the event's
participants and staff, and the team's inside (member and captain routes) is 404 to non-members.
The route list comes from the OpenAPI document, so new team routes join by themselves."""

from __future__ import annotations

import re
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.people import person
from tests.security.world import example
from tests.teams.helpers import stage

TEAM = "/api/v1/organizations/{slug}/events/{event_slug}/teams/{team_id}"
#: What a registered participant who is not on the team may do with it.
OPEN_TO_PARTICIPANTS = {("get", TEAM), ("post", TEAM + "/join-requests")}


def team_routes(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """The team routes of the API (task boards and submissions have their own access tests)."""
    spec = app.openapi()
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if path.startswith(TEAM) and "/tasks" not in path and "/submission" not in path
    ]


async def test_team_routes_are_404_to_everyone_outside(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    s = await stage(session)
    _, s.tokens["stranger"] = await person(session, name="Signed in, nothing else")
    created = await client.post(
        f"{s.base}/teams", headers=s.auth("alice"), json={"name": "Inner circle"}
    )
    team_id = created.json()["id"]
    code = created.json()["join_code"]
    await client.post(f"{s.base}/teams/join", headers=s.auth("bob"), json={"code": code})
    invitation = await client.post(
        s.team_url(team_id, "/invitations"), headers=s.auth("alice"), json={"user_id": s.id("dave")}
    )
    request = await client.post(
        s.team_url(team_id, "/join-requests"), headers=s.auth("dave"), json={}
    )
    ids = {
        "slug": s.org.slug,
        "event_slug": s.event.slug,
        "team_id": team_id,
        "user_id": s.id("bob"),
        "invitation_id": invitation.json()["id"],
        "request_id": request.json()["id"],
    }
    components = app.openapi()["components"]["schemas"]
    routes = team_routes(app)
    assert len(routes) >= 14
    for who in ("otto", "walt", "stranger", "anonymous", "carol"):
        for method, path, op in routes:
            if who == "carol" and (method, path) in OPEN_TO_PARTICIPANTS:
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            body = example(content["schema"], components) if content else None
            if isinstance(body, dict) and ("user_id" in body or path.endswith("/invitations")):
                body = {"user_id": s.id("dave")}  # a valid body: the refusal must be the 404
            response = await client.request(method.upper(), url, headers=s.auth(who), json=body)
            assert response.status_code == 404, (who, method, url, response.text)
            assert response.json()["error"]["code"].endswith("not_found"), response.text
    # Nothing changed: the team, its members, the invitation and the request are as they were.
    seen = await client.get(s.team_url(team_id), headers=s.auth("alice"))
    assert [m["user_id"] for m in seen.json()["members"]] == [s.id("alice"), s.id("bob")]
    assert seen.json()["name"] == "Inner circle"
    pending = await client.get(s.team_url(team_id, "/invitations"), headers=s.auth("alice"))
    assert [i["id"] for i in pending.json()] == [invitation.json()["id"]]
    asked = await client.get(s.team_url(team_id, "/join-requests"), headers=s.auth("alice"))
    assert [r["id"] for r in asked.json()] == [request.json()["id"]]
