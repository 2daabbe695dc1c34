"""`route_index`: for every route of the application, the index chooses the route FastAPI's own
loop over the top-level routes chooses; what is no plain match still answers as before."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx2
from fastapi import FastAPI
from starlette.routing import Match

from hackops.db import Database
from hackops.main import create_app
from hackops.route_index import RouteIndex

PARAM = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


def concrete(path_format: str) -> str:
    """A path the format matches (a value of each parameter's type)."""

    def value(match: re.Match[str]) -> str:
        kind = match.group(2) or "str"
        return {"uuid": str(uuid.uuid4()), "int": "7", "float": "1.5", "path": "a/b.txt"}.get(
            kind, f"x{match.group(1)[:3]}"
        )

    return PARAM.sub(value, path_format)


def http_scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "state": {},
    }


def chosen_by_fastapi(app: FastAPI, method: str, path: str) -> object | None:
    """What FastAPI's loop hands the request to: the first top-level route that matches fully,
    then, down through included routers as their `handle` goes, the route context they choose."""
    scope = http_scope(method, path)
    for route in app.router.routes:
        if route.matches(scope)[0] != Match.FULL:
            continue
        chosen: object = route
        while hasattr(chosen, "effective_candidates"):  # an included router
            match, _, inner, context = chosen._match(scope)  # type: ignore[attr-defined]
            assert match == Match.FULL, (method, path)
            chosen = context if context is not None else inner
        return chosen
    return None


def chosen_by_index(index: RouteIndex, method: str, path: str) -> object | None:
    selected = index.select(http_scope(method, path))
    if selected is None:
        return None
    entry, _ = selected
    return entry.context if entry.context is not None else entry.route


def test_every_route_is_chosen_as_fastapi_chooses_it(settings: Any) -> None:
    app = create_app(settings)
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    checked = leaves = 0
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else ():
            for method in getattr(context, "methods", None) or ():
                path = concrete(context.path_format)
                expected = chosen_by_fastapi(app, method, path)
                assert expected is not None, (method, path)
                chosen = chosen_by_index(index, method, path)
                assert chosen is expected, (method, path)
                leaves += chosen is context
                checked += 1
    assert checked > 300  # every HTTP operation of the application
    assert leaves > 300  # handed straight to the API route inside its included routers
    # Near misses: a trailing slash, a segment too many or too few, another method.
    for method, path in (
        ("GET", "/api/v1/me/"),
        ("GET", "/api/v1/events/extra/segments/here"),
        ("DELETE", "/health"),
        ("GET", "/static/hackops.css"),
        ("GET", "/"),
        ("GET", ""),
    ):
        assert chosen_by_index(index, method, path) is chosen_by_fastapi(app, method, path)


async def test_the_route_sees_the_scope_fastapi_leaves(settings: Any) -> None:
    """The index hands a request to an API route inside included routers with the scope FastAPI's
    own two passes leave: the route, its path parameters, the route context (whose full path the
    metrics and the access log name) and the included router."""
    app = create_app(settings)
    path = "/api/v1/organizations/acme/events/spring-hack"
    seen = {}
    for name, dispatch in (("index", app.router.middleware_stack), ("fastapi", app.router.app)):
        captured: dict[str, Any] = {}

        async def endpoint_app(
            s: dict[str, Any], receive: Any, send: Any, captured: dict[str, Any] = captured
        ) -> None:
            captured.update(s)

        route_context: Any = chosen_by_fastapi(app, "GET", path)
        original = route_context.app
        route_context.app = endpoint_app
        dispatcher: Any = dispatch
        try:
            await dispatcher(http_scope("GET", path) | {"app": app}, None, None)
        finally:
            route_context.app = original
        seen[name] = captured
    index_scope, fastapi_scope = seen["index"], seen["fastapi"]
    for key in ("route", "endpoint", "path_params", "router"):
        assert index_scope[key] == fastapi_scope[key], key
    assert index_scope["path_params"] == {"slug": "acme", "event_slug": "spring-hack"}
    assert index_scope["fastapi"] == fastapi_scope["fastapi"]
    assert index_scope["fastapi"]["effective_route_context"].path_format == (
        "/api/v1/organizations/{slug}/events/{event_slug}"
    )


async def test_what_is_no_plain_match_answers_as_before(client: httpx2.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing/here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = await client.delete("/health")
    assert wrong_method.status_code == 405
    assert (await client.get("/static/does-not-exist.css")).status_code == 404


async def test_a_route_added_after_the_app_was_built_is_served(
    settings: Any, bound_database: Database
) -> None:
    app = create_app(settings, database=bound_database)  # its own: the route stays out of others

    @app.get("/api/v1/added-later/{name}")
    async def added(name: str) -> dict[str, str]:
        return {"name": name}

    transport = httpx2.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        response = await http.get("/api/v1/added-later/ada")
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "ada"}
