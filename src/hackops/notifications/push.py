"""Live push, the sending half: tell every web process that some people have news.

`announce(session, user_ids, key=…)` runs `pg_notify('hackops_notifications', …)` in the
session's transaction. PostgreSQL delivers a notification only when (and if) its transaction
commits, so an open page never sees a notification that was rolled back, and no extra service
is needed: Redis stays optional. Each web process holds one listening connection and fans the
news out to its own sockets (`live.Hub`).

Why PostgreSQL LISTEN/NOTIFY rather than Redis pub/sub: the news is written in a PostgreSQL
transaction, and NOTIFY is part of that transaction (sent at commit, dropped on rollback), so
"pushed" and "stored" cannot disagree; Redis would need the publish after the commit (lost when
the process dies in between) and is optional in this product.

A payload is JSON `{"k": key, "u": [user ids as hex]}`: `k` is the dedupe key of the in-app
notifications just inserted (the listener loads them by it), or null when only the unread count
changed (marked read). PostgreSQL refuses a payload of 8000 bytes or more, so the people are
split into payloads under `PAYLOAD_LIMIT`, all sent by one statement.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "hackops_notifications"
#: Under PostgreSQL's 8000-byte payload limit, with room to spare.
PAYLOAD_LIMIT = 7800
#: One user id in a payload: 32 hex digits, its quotes and a comma.
_ID_BYTES = 35


def payloads(user_ids: Iterable[uuid.UUID], key: str | None = None) -> list[str]:
    """The NOTIFY payloads telling about `user_ids` (each under PAYLOAD_LIMIT bytes)."""
    ids = [user_id.hex for user_id in dict.fromkeys(user_ids)]
    if not ids:
        return []
    empty = len(json.dumps({"k": key, "u": []}, separators=(",", ":")).encode())
    per_payload = max(1, (PAYLOAD_LIMIT - empty) // _ID_BYTES)
    return [
        json.dumps({"k": key, "u": ids[start : start + per_payload]}, separators=(",", ":"))
        for start in range(0, len(ids), per_payload)
    ]


def parse(payload: str) -> tuple[str | None, set[uuid.UUID]]:
    """(dedupe key, people) of a payload; nothing for one that is not ours."""
    try:
        data = json.loads(payload)
        key = data.get("k")
        people = {uuid.UUID(hex=value) for value in data.get("u", [])}
    except (ValueError, TypeError, AttributeError):
        return None, set()
    return (key if isinstance(key, str) else None), people


async def announce(
    session: AsyncSession, user_ids: Iterable[uuid.UUID], *, key: str | None = None
) -> None:
    """Tell the web processes, at commit, that `user_ids` have news (`key`: the dedupe key of
    their new in-app notifications; None: their unread count changed)."""
    chunks = payloads(user_ids, key)
    if chunks:
        await session.execute(
            text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p"),
            {"channel": CHANNEL, "payloads": chunks},
        )
