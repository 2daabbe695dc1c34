"""Every write route of the notification centre records exactly one audit row."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.accounts.helpers import bearer
from tests.factories import create_notification
from tests.people import person
from tests.security.audit import Recorder, owned_by


async def test_each_write_route_records_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    ada, token = await person(session)
    first = await create_notification(session, ada)
    await create_notification(session, ada)
    auth = bearer(token)
    r = Recorder(client, connection)
    await r.call(
        "POST",
        "/api/v1/me/notifications/{notification_id}/read",
        f"/api/v1/me/notifications/{first.id}/read",
        headers=auth,
    )
    await r.call("POST", "/api/v1/me/notifications/read-all", headers=auth)
    await r.call(
        "PUT",
        "/api/v1/me/notification-preferences",
        headers=auth,
        json={"categories": [{"category": "team", "in_app": True, "email": False}]},
    )
    ours = owned_by(("/api/v1/me/notification",), excluding=())
    assert len(ours) == 3
    assert r.covered == ours
