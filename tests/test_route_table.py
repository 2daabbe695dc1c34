"""Every route runs in the request's transaction (commits before its response), except the few
listed here with the reason. A route added with a plain `APIRouter` by mistake would answer
without committing what it wrote: this test names it."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts

from hackops.db import TransactionalRoute

#: (method, path) → why it must not open the request's transaction.
WITHOUT_TRANSACTION = {
    ("GET", "/health"): "liveness touches no dependency",
    ("GET", "/health/ready"): "readiness probes each part on its own connection, with timeouts",
    ("GET", "/metrics"): "metrics read the process's counters and their own short queries",
    (
        "GET",
        "/api/v1/organizations/{slug}/events/{event_slug}/judging/leaderboard",
    ): "the live leaderboard reads through the one-statement gate on the autocommit read pool",
    ("GET", "/docs"): "a static page",
}


def routes(app: Any) -> dict[tuple[str, str], APIRoute]:
    found: dict[tuple[str, str], APIRoute] = {}
    for context in iter_route_contexts(app.routes):  # included routers, flattened
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in context.methods or ():
                found[(method, context.path_format)] = route
    return found


def test_every_route_commits_before_it_answers(app: Any) -> None:
    table = routes(app)
    assert len(table) > 300
    without = {key for key, route in table.items() if not isinstance(route, TransactionalRoute)}
    assert without == set(WITHOUT_TRANSACTION), (
        "routes that would answer without committing (use hackops.routing.Router): "
        f"{sorted(without - set(WITHOUT_TRANSACTION))}"
    )
