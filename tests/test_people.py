"""The shared cast: everyone in it signs in with their token and holds the role they are named
after, as the API answers it."""

from __future__ import annotations

import httpx2

from tests.people import CAST_ROLES, Cast


async def test_everyone_in_the_cast_signs_in_as_themselves(
    client: httpx2.AsyncClient, cast: Cast
) -> None:
    for name in CAST_ROLES:
        me = await client.get("/api/v1/me", headers=cast.auth(name))
        assert me.status_code == 200, (name, me.text)
        assert (me.json()["id"], me.json()["email_verified"]) == (cast.id(name), True)


async def test_the_cast_holds_the_roles_it_is_named_after(
    client: httpx2.AsyncClient, cast: Cast
) -> None:
    event_roles = {}
    for name in CAST_ROLES:
        mine = await client.get("/api/v1/me/event-roles", headers=cast.auth(name))
        event_roles[name] = {(r["event_slug"], r["role"]) for r in mine.json()}
    slug = cast.event.slug
    assert {name: roles for name, roles in event_roles.items() if roles} == {
        "event_organizer": {(slug, "organizer")},
        "judge": {(slug, "judge")},
        "mentor": {(slug, "mentor")},
    }
    members = await client.get(
        f"/api/v1/organizations/{cast.org.slug}/members", headers=cast.auth("owner")
    )
    assert {(m["user_id"], m["role"]) for m in members.json()} == {
        (cast.id("owner"), "owner"),
        (cast.id("org_organizer"), "organizer"),
    }
    registrations = await client.get(
        f"{cast.base}/registrations", headers=cast.auth("event_organizer")
    )
    assert {(r["user"]["id"], r["status"]) for r in registrations.json()["items"]} == {
        (cast.id("participant"), "registered"),
        (cast.id("checked_in"), "checked_in"),
        (cast.id("captain"), "registered"),
        (cast.id("member"), "registered"),
    }
    team = await client.get(f"{cast.base}/teams/{cast.team.id}", headers=cast.auth("member"))
    assert team.status_code == 200, team.text
    assert {(m["user_id"], m["role"]) for m in team.json()["members"]} == {
        (cast.id("captain"), "captain"),
        (cast.id("member"), "member"),
    }
    assert cast.users["platform_admin"].is_platform_admin
    assert cast.event.published_at is not None
