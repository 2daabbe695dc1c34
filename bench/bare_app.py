"""The yardstick: a bare FastAPI app doing the same single indexed query on the raw driver.

No middleware, no ORM, no transaction edge, no logging: what the hardware and the framework cost
on their own. Run by http_baseline.py with BENCH_DATABASE_URL set.
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
