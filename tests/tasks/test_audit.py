"""Every task write writes exactly one audit row: team boards (in the organization's log) and my
own list (no organization)."""

from __future__ import annotations

from typing import Any

import httpx2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.security.audit import TEAM_TASKS, Recorder, owned_by
from tests.tasks.world import build_world

ME = "/api/v1/me/tasks"


async def test_every_task_write_is_audited_once(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    w = await build_world(session)
    r = Recorder(client, connection)
    auth = w.auth("alice")

    for template, base in ((TEAM_TASKS, w.base), (ME, ME)):
        first: Any = (
            await r.call("POST", template, base, headers=auth, json={"title": "first"})
        ).json()
        second = (await r.call("POST", template, base, headers=auth, json={"title": "b"})).json()
        await r.call(
            "PATCH",
            template + "/{task_id}",
            f"{base}/{first['id']}",
            headers=auth,
            json={"status": "doing", "assignee_id": str(w.alice.id)},
        )
        await r.call(
            "POST",
            template + "/{task_id}/move",
            f"{base}/{second['id']}/move",
            headers=auth,
            json={"before": first["id"]},
        )
        await r.call("DELETE", template + "/{task_id}", f"{base}/{first['id']}", headers=auth)

    # A change that changes nothing records nothing.
    before = await r.audit_actions()
    tasks = (await client.get(ME, headers=auth)).json()["items"]
    await client.patch(f"{ME}/{tasks[0]['id']}", headers=auth, json={"title": "b"})
    await client.post(f"{ME}/{tasks[0]['id']}/move", headers=auth, json={"direction": "up"})
    assert await r.audit_actions() == before

    # Team task entries land in the organization's log; personal ones in none.
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    rows = (
        await connection.execute(
            text(
                "SELECT org_id, count(*) FROM audit_log WHERE action LIKE 'task.%'"
                " GROUP BY org_id ORDER BY org_id NULLS LAST"
            )
        )
    ).all()
    assert [(r[0], r[1]) for r in rows] == [(w.org.id, 5), (None, 5)]

    assert (
        owned_by(("/api/v1/organizations", "/api/v1/me"), excluding=())
        & {k for k in owned_by(("/api/v1/",), excluding=()) if "/tasks" in k[1]}
        == r.covered
    )
