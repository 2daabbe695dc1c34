"""Every write route of announcements and reminders writes exactly one audit row (see
tests/security/audit.py); a scheduled announcement that goes out adds the job's own row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.announcements.helpers import body, build_crowd
from tests.security.audit import AUDITED, EVENT, Recorder

ROUTES = {
    key for key in AUDITED if key[1].startswith((EVENT + "/announcements", EVENT + "/reminders"))
}


async def test_every_announcement_write_writes_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(session)
    r = Recorder(client, connection)
    base = crowd.base
    headers = crowd.organizer
    await r.call("POST", EVENT + "/announcements", base, headers=headers, json=body())
    draft = await r.call(
        "POST", EVENT + "/announcements", base, headers=headers, json=body(deliver="draft")
    )
    one = f"{base}/{draft.json()['id']}"
    template = EVENT + "/announcements/{announcement_id}"
    edit = {k: v for k, v in body().items() if k != "deliver"}
    await r.call("PATCH", template, one, headers=headers, json=edit)
    await r.call("POST", template + "/send", one + "/send", headers=headers)
    later = await r.call(
        "POST", EVENT + "/announcements", base, headers=headers, json=body(deliver="draft")
    )
    two = f"{base}/{later.json()['id']}"
    send_at = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    await r.call(
        "POST",
        template + "/schedule",
        two + "/schedule",
        headers=headers,
        json={"send_at": send_at},
    )
    await r.call("POST", template + "/cancel", two + "/cancel", headers=headers)
    await r.call(
        "PUT",
        EVENT + "/reminders",
        crowd.scene.base + "/reminders",
        headers=headers,
        json={"submissions_closing": True},
    )
    assert r.covered == ROUTES
