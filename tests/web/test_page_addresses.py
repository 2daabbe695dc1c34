"""Every page route with a path parameter, each parameter in turn made malformed (an id that is
no UUID, a slug too long to exist, a word outside the route's choices): the 404 page, never a
500 or a 422. Sign-in comes first: a signed-out visitor is sent to log in wherever the same
address with a well-formed value sends them (docs/conventions.md, "A page")."""

from __future__ import annotations

import re
import uuid
from enum import Enum
from typing import Any

import httpx2
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from hackops.browser import CSRF_COOKIE, CSRF_HEADER
from hackops.web.deps import page_user
from tests.people import Cast
from tests.web.test_account_pages import use_session

NO_PAGE = "There is no page at this address."
#: A path value no UUID, enum, choice or length-limited text accepts.
TOO_LONG = "x" * 300


def _annotation(field: Any) -> Any:
    return field.field_info.annotation


def _pattern(field: Any) -> str | None:
    return next((m.pattern for m in field.field_info.metadata if hasattr(m, "pattern")), None)


def _max_length(field: Any) -> int | None:
    return next((m.max_length for m in field.field_info.metadata if hasattr(m, "max_length")), None)


def well_formed(field: Any, cast: Cast) -> str:
    """A value the route accepts (it may name nothing: the check stops at the address)."""
    kind = _annotation(field)
    if field.name == "slug":
        return cast.org.slug
    if field.name == "event_slug":
        return cast.event.slug
    if field.name == "team_id":
        return str(cast.team.id)
    if kind is uuid.UUID:
        return str(uuid.uuid4())
    if isinstance(kind, type) and issubclass(kind, Enum):
        return str(next(iter(kind)).value)
    pattern = _pattern(field)
    if pattern is not None:
        match = re.fullmatch(r"\^\(([^|)]+)[|)].*", pattern)
        assert match, f"no first choice in {pattern!r} ({field.name})"
        return match.group(1)
    return "edit" if field.name == "action" else "a-word"


def malformed(field: Any) -> str | None:
    """A value the route refuses, or None where any text is a valid address (a board's action,
    which the route itself answers)."""
    kind = _annotation(field)
    if kind is uuid.UUID:
        return "not-an-id"
    if isinstance(kind, type) and issubclass(kind, Enum):
        return "not-a-choice"
    if _pattern(field) is not None:
        return "not-a-choice"
    return TOO_LONG if _max_length(field) is not None else None


def path_fields(dependant: Dependant) -> dict[str, Any]:
    """The path parameters of a route and of every dependency it has, by name."""
    fields = {f.name: f for f in dependant.path_params}
    for sub in dependant.dependencies:
        fields = {**path_fields(sub), **fields}
    return fields


def needs_sign_in(dependant: Dependant) -> bool:
    """Whether the route depends on the signed-in user (`PageUserDep`, or a dependency built
    on it)."""
    return any(sub.call is page_user or needs_sign_in(sub) for sub in dependant.dependencies)


def page_addresses(app: FastAPI, cast: Cast) -> list[tuple[str, str, bool]]:
    """(method, malformed address, whether the page needs sign-in) for every page route and
    each of its path parameters."""
    found = []
    for context in iter_route_contexts(app.routes):  # included routers, flattened
        route = context.original_route
        # "hackops.web." with its dot: hackops.webhooks is an API domain, not pages.
        if not isinstance(route, APIRoute) or not route.endpoint.__module__.startswith(
            "hackops.web."
        ):
            continue
        fields = list(path_fields(route.dependant).values())
        values = {f.name: well_formed(f, cast) for f in fields}
        for field in fields:
            bad = malformed(field)
            if bad is None:
                continue
            address = context.path_format.format(**{**values, field.name: bad})
            for method in sorted(set(context.methods or ()) - {"HEAD"}):
                found.append((method, address, needs_sign_in(route.dependant)))
    return found


async def _request(client: httpx2.AsyncClient, method: str, address: str) -> httpx2.Response:
    headers = {CSRF_HEADER: client.cookies.get(CSRF_COOKIE) or ""}
    return await client.request(method, address, headers=headers)


async def test_a_malformed_id_in_a_page_address_is_the_404_page(
    client: httpx2.AsyncClient, app: FastAPI, cast: Cast
) -> None:
    """As an organizer (the owner) and as a team's captain (the only ones who see its board):
    the 404 page for each; "no page here" (not the 404 of what holds it, e.g. a board the
    owner is not on) for at least one of them."""
    assert (await client.get("/login")).status_code == 200  # the CSRF cookie
    addresses = page_addresses(app, cast)
    assert len(addresses) > 50  # every page module's routes are in the app
    told = set()
    for visitor in ("owner", "captain"):
        use_session(client, cast.tokens[visitor])
        for method, address, _ in addresses:
            response = await _request(client, method, address)
            assert response.status_code == 404, (visitor, method, address, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), (method, address)
            if NO_PAGE in response.text:
                told.add((method, address))
    assert told == {(method, address) for method, address, _ in addresses}


async def test_signed_out_the_log_in_page_comes_before_the_address(
    client: httpx2.AsyncClient, app: FastAPI, cast: Cast
) -> None:
    assert (await client.get("/login")).status_code == 200  # the CSRF cookie
    for method, address, signing_in in page_addresses(app, cast):
        response = await _request(client, method, address)
        if signing_in:
            assert response.status_code == 303, (method, address, response.status_code)
            assert response.headers["location"].startswith("/login"), (method, address)
        else:
            assert response.status_code == 404, (method, address, response.status_code)
            assert NO_PAGE in response.text, (method, address)
