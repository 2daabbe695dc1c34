"""A transaction's `public_bump` sends one notification with every scope it bumped (migration
0036), and each process's view learns every line of it."""

from __future__ import annotations

import uuid
from typing import cast

import psycopg

from hackops.db import Database
from hackops.publiccache import LISTING, event_scope, org_scope
from hackops.publiccache.versions import CHANNEL, Versions


async def test_one_notification_carries_every_scope_of_the_call(app_database_url: str) -> None:
    event, org = event_scope(uuid.uuid4()), org_scope(uuid.uuid4())
    async with (
        await psycopg.AsyncConnection.connect(app_database_url, autocommit=True) as listener,
        await psycopg.AsyncConnection.connect(app_database_url) as writer,
    ):
        await listener.execute(f"LISTEN {CHANNEL}")
        await writer.execute("SELECT public_bump(%s)", ([LISTING, event, org, event],))
        await writer.execute("SELECT public_bump(%s)", ([org],))
        await writer.commit()
        payloads = [n.payload async for n in listener.notifies(timeout=2.0, stop_after=2)]
        versions = dict(
            await (
                await writer.execute(
                    "SELECT scope, version FROM public_versions WHERE scope = ANY(%s)",
                    ([event, org, LISTING],),
                )
            ).fetchall()
        )
    first = "\n".join(f"{s} {versions[s] - (s == org)}" for s in sorted([LISTING, event, org]))
    assert payloads == [first, f"{org} {versions[org]}"]


async def test_every_line_of_a_payload_is_learned() -> None:
    view = Versions(cast(Database, None), None)  # no database: this test never polls
    view.known = {"event:a": 1, "listing": 4}
    view.wanted = {"org:b"}
    await view._on_payload("event:a 2\nlisting 5\norg:b 7\nevent:unknown 3\nnot-a-line")
    assert view.known == {"event:a": 2, "listing": 5, "org:b": 7}
    await view._on_payload("listing 3")  # older than known: ignored
    assert view.known["listing"] == 5
