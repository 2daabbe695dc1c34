"""The yardstick: a bare FastAPI app doing the same single indexed query on the raw driver.

No middleware, no ORM, no transaction edge, no logging: what the hardware and the framework cost
on their own. Run by http_baseline.py, events_load.py, submissions_load.py and perf.py with
BENCH_DATABASE_URL set (the database's owner: no row-level security).

- `/health`: a constant;
- `/organizations/{slug}`: one indexed row (the "raw one-row read");
- `/gallery/{org}/{event}?q=`: the gallery API's full-text search in one statement (below).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

# BENCH_AUTOCOMMIT=1: each statement its own transaction (one round trip instead of BEGIN,
# SELECT, COMMIT), the mode HackOps' read pool uses for its hottest read.
pool = AsyncConnectionPool(
    os.environ["BENCH_DATABASE_URL"],
    min_size=4,
    max_size=20,
    open=False,
    kwargs={"autocommit": os.environ.get("BENCH_AUTOCOMMIT") == "1"},
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await pool.open(wait=True)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": "0.1.0"}


@app.get("/organizations/{slug}")
async def organization(slug: str) -> dict[str, Any]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, slug, name, created_at FROM organizations"
            " WHERE slug = %s AND deleted_at IS NULL",
            (slug,),
        )
        row = await cur.fetchone()
    if row is None:
        raise HTTPException(404)
    return row


@app.get("/gallery/{org}/{event}")
async def gallery(org: str, event: str, q: str) -> list[dict[str, Any]]:
    """What `GET /api/v1/organizations/{org}/events/{event}/gallery?q=` asks the database, as
    one statement: the event's approved submissions matching `websearch_to_tsquery('english',
    q)` on `submissions.search`, with their team's name, ordered by lower(title) then id, the
    first 50 (the API's default page), only while the event is published, not private and its
    gallery open. As the tables' owner, so the GIN index on `search` can serve the `@@`."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT s.id, s.title, s.tagline, t.name AS team_name, s.technologies, s.track_ids,"
            " s.submitted_at"
            " FROM organizations o JOIN events e ON e.org_id = o.id"
            " JOIN submissions s ON s.event_id = e.id JOIN teams t ON t.id = s.team_id"
            " WHERE o.slug = %s AND e.slug = %s AND e.published_at IS NOT NULL"
            " AND e.visibility <> 'private' AND e.gallery_opened_at IS NOT NULL"
            " AND s.status = 'approved' AND s.search @@ websearch_to_tsquery('english', %s)"
            " ORDER BY lower(s.title), s.id LIMIT 50",
            (org, event, q),
        )
        return await cur.fetchall()
