"""Two invitations to the same new address (judge of two events) accepted at the same moment,
with real commits: both succeed, one account is made, both roles are granted — never a 409
from the unique email."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, select

from hackops.accounts.credentials import new_secret
from hackops.config import Settings
from hackops.db import Database
from hackops.main import create_app
from hackops.models import EventRoleGrant, EventRoleInvitation, User
from hackops.tenancy import set_tenant
from tests.factories import create_event, create_organization

ROUNDS = 8
ACCEPT = "/api/v1/events/invitations/accept"


@pytest.mark.slow
async def test_two_invitations_to_a_new_address_accepted_at_once(
    settings: Settings, committed_db: Database
) -> None:
    app = create_app(settings, database=committed_db)
    async with app.router.lifespan_context(app):
        async with committed_db.transaction() as session:
            org = await create_organization(session, slug=f"race-{secrets.token_hex(3)}")
            published = {"published_at": datetime.now(UTC) - timedelta(days=1)}
            events = [
                await create_event(session, org, slug=f"event-{n}", **published) for n in range(2)
            ]
            await set_tenant(session, org.id)
            rounds = []
            for n in range(ROUNDS):
                email = f"new-judge-{n}-{secrets.token_hex(3)}@example.org"
                tokens = []
                for event in events:
                    raw, hashed = new_secret()
                    session.add(
                        EventRoleInvitation(
                            org_id=org.id, event_id=event.id, email=email, role="judge",
                            token_hash=hashed, expires_at=datetime.now(UTC) + timedelta(days=7),
                        )
                    )  # fmt: skip
                    tokens.append(raw)
                rounds.append((email, tokens))
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for email, tokens in rounds:
                answers = await asyncio.gather(
                    *(client.post(ACCEPT, json={"org": org.slug, "token": t}) for t in tokens)
                )
                assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
                assert sorted(a.json()["account_created"] for a in answers) == [False, True]
                assert len({a.json()["user"]["id"] for a in answers}) == 1
                async with committed_db.transaction() as session:
                    users = await session.scalar(
                        select(func.count()).select_from(User).where(User.email == email)
                    )
                    await set_tenant(session, org.id)
                    grants = await session.scalar(
                        select(func.count())
                        .select_from(EventRoleGrant)
                        .join(User, User.id == EventRoleGrant.user_id)
                        .where(User.email == email, EventRoleGrant.role == "judge")
                    )
                assert (users, grants) == (1, 2), email
