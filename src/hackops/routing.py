"""The project's router: every route it makes runs in the request's transaction.

`Router` is FastAPI's `APIRouter` with `TransactionalRoute` as its default route class, so a new
router cannot forget to commit. The few routes that must not open a transaction (liveness,
readiness and metrics, the live leaderboard's one-statement read, the docs page) use a plain
`APIRouter` and are listed, with the reason, in `tests/test_route_table.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from hackops.db import TransactionalRoute

#: An organization's or event's slug in a path (a longer one cannot exist: 404 before any query).
SlugPath = Annotated[str, Path(min_length=1, max_length=63)]


class Router(APIRouter):
    def __init__(self, **options: Any) -> None:
        options.setdefault("route_class", TransactionalRoute)
        super().__init__(**options)
