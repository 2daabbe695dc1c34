"""`GET /api/v1/me/event-roles`: the events where I am an organizer, judge or mentor, in every
organization — also where I am no member and the event is a draft — and nobody else's."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import EventRoleGrant
from hackops.tenancy import set_tenant
from tests.accounts.helpers import bearer
from tests.people import person
from tests.teams.helpers import stage


async def test_my_event_roles_across_organizations(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    public = await stage(session)
    draft = await stage(session, published_at=None)
    judge, token = await person(session, email="jude-roles@example.org", name="Jude")
    other, other_token = await person(session, email="ola-roles@example.org", name="Ola")
    for s, role in ((public, "judge"), (draft, "mentor"), (draft, "judge")):
        await set_tenant(session, s.org.id)
        session.add(
            EventRoleGrant(org_id=s.org.id, event_id=s.event.id, user_id=judge.id, role=role)
        )
    await set_tenant(session, public.org.id)
    session.add(
        EventRoleGrant(org_id=public.org.id, event_id=public.event.id, user_id=other.id,
                       role="mentor")
    )  # fmt: skip
    await session.flush()
    await set_tenant(session, None)

    mine = await client.get("/api/v1/me/event-roles", headers=bearer(token))
    assert mine.status_code == 200, mine.text
    rows = {(r["org_slug"], r["event_slug"], r["role"]) for r in mine.json()}
    assert rows == {
        (public.org.slug, public.event.slug, "judge"),
        (draft.org.slug, draft.event.slug, "mentor"),
        (draft.org.slug, draft.event.slug, "judge"),
    }
    assert {r["event_name"] for r in mine.json()} == {public.event.name, draft.event.name}

    theirs = await client.get("/api/v1/me/event-roles", headers=bearer(other_token))
    assert [(r["event_slug"], r["role"]) for r in theirs.json()] == [(public.event.slug, "mentor")]
    nobody = await client.get("/api/v1/me/event-roles")
    assert nobody.status_code == 401
    assert nobody.json()["error"]["code"] == "not_authenticated"
