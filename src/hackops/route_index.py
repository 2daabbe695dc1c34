"""Routing by a path's literal segments: which of the application's top-level routes can match.

FastAPI tries the application's top-level routes in order (83 included routers here) and asks
each whether the path matches; an included router answers by trying its own routes, regular
expression by regular expression. A request to a route late in that order paid 0.2-0.45 ms of
CPU before its first line of code (`bench/request_profile.py`: a tenth of a submit).

`RouteIndex` takes the place of the router's loop: a tree of the routes' path segments (a
literal segment, or any one segment where the route has a parameter) gives, for a request's
path, the few top-level routes that can match it fully, in their order. Those are tried exactly
as FastAPI's loop tries them (`matches`, the scope update, `handle`); the first full match is
the route FastAPI's loop would have chosen, since no other route can match fully. Whatever is
not a plain full match (no route, a method not allowed, a trailing-slash redirect, a route
added after the index was built, a WebSocket) goes through FastAPI's own loop unchanged. Routes
whose path can span segments (a `:path` parameter, a mount, a host) are tried for every path.

An included router is not one route to FastAPI's loop but a router of its own: asked whether a
path matches, it tries its routes in order, and asked to handle the request it tries them all
again to find the one it matched. The index goes down to those routes instead (an API route
inside included routers, with its prefixes, dependencies and options: FastAPI's effective route
context) and hands the request to the one that matches, with the scope FastAPI's two passes
would have left (the included router, the route context, the route, its path parameters): one
regular expression instead of two walks, ~10 µs of a `/health` request (bench/asgi_profile.py).
An included router holding anything else (a plain Starlette route, a mount, a WebSocket, a
low-priority route) is tried whole, as before. Routes are fixed when the index is built: one
added later to the application is seen (the index is built again), one added later to an
included router only through FastAPI's own loop when no indexed route matches the path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.routing import (  # the loop's own bookkeeping (FastAPI is pinned)
    _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY,
    _FASTAPI_INCLUDED_ROUTER_KEY,
    _FASTAPI_SCOPE_KEY,
    APIRoute,
    APIWebSocketRoute,
)
from fastapi.telemetry._api import _route_selected
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

#: A segment where the route has a parameter (it matches any one segment).
ANY = ""


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    #: Entries that end here (their index in `RouteIndex.entries`).
    routes: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Entry:
    """What the index tries: a top-level route (`context` None), or an API route inside
    included routers (`context`, its effective route context; `router`, the innermost included
    router, which FastAPI's own dispatch leaves in the scope)."""

    route: BaseRoute
    context: Any = None
    router: Any = None


def _api_leaves(included: Any) -> list[_Entry] | None:
    """The API routes of an included router (nested ones flattened), in the order FastAPI's
    loop tries them; None when it holds anything else (then it is tried whole)."""
    if included.original_router._low_priority_routes:
        return None
    leaves: list[_Entry] = []
    for candidate in included.effective_candidates():
        if hasattr(candidate, "effective_candidates"):  # a nested included router
            nested = _api_leaves(candidate)
            if nested is None:
                return None
            leaves.extend(nested)
        elif isinstance(candidate.original_route, APIRoute) and candidate.starlette_route is None:
            leaves.append(_Entry(candidate.original_route, candidate, included))
        else:
            return None
    return leaves


def _leaf_paths(route: BaseRoute) -> list[str] | None:
    """The full path formats a top-level route answers, or None when it may match any path."""
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is not None:  # an included router: its routes with their prefixes
        paths = []
        for context in contexts():
            if isinstance(context.original_route, WebSocketRoute | APIWebSocketRoute):
                continue  # never an HTTP request's (FastAPI's loop tries it in vain)
            path = context.path_format or context.path
            if not path or isinstance(context.starlette_route, Mount):
                return None
            paths.append(path)
        return paths
    path = getattr(route, "path_format", None)
    if isinstance(route, Mount) or not isinstance(path, str) or not path:
        return None
    return [path]


def _segments(path_format: str) -> list[str] | None:
    """A path format's segments (ANY for a parameter), or None when it can span segments."""
    out = []
    for segment in path_format.split("/"):
        if "{" in segment:
            if ":path}" in segment:
                return None
            out.append(ANY)
        else:
            out.append(segment)
    return out


class RouteIndex:
    """The router's loop over its top-level routes, trying only those a path can match."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.fallback: ASGIApp = router.app
        self.built_for: tuple[int, int] | None = None
        self.root = _Node()
        self.everywhere: set[int] = set()
        self.entries: list[_Entry] = []

    def build(self) -> None:
        root, everywhere, entries = _Node(), set[int](), list[_Entry]()
        for route in self.router.routes:
            leaves = _api_leaves(route) if hasattr(route, "effective_candidates") else None
            if leaves is not None:
                for leaf in leaves:
                    segments = _segments(leaf.context.path_format)
                    if segments is None:
                        everywhere.add(len(entries))
                    else:
                        self._add(root, segments, len(entries))
                    entries.append(leaf)
                continue
            paths = _leaf_paths(route)
            position = len(entries)
            entries.append(_Entry(route))
            for path in paths or ():
                segments = _segments(path)
                if segments is None:
                    paths = None
                    break
                self._add(root, segments, position)
            if paths is None:
                everywhere.add(position)
        self.root, self.everywhere, self.entries = root, everywhere, entries
        self.built_for = self._version()

    @staticmethod
    def _add(root: _Node, segments: list[str], position: int) -> None:
        node = root
        for segment in segments:
            node = node.children.setdefault(segment, _Node())
        node.routes.add(position)

    def _version(self) -> tuple[int, int]:
        routes = self.router.routes
        return len(routes), id(routes[-1]) if routes else 0

    def candidates(self, path: str) -> list[int]:
        """The entries (positions in `entries`, in order) that can match `path` fully."""
        found = set(self.everywhere)
        segments = path.split("/")
        last = len(segments)
        level = [self.root]
        for depth, segment in enumerate(segments):
            following = []
            for node in level:
                if (exact := node.children.get(segment)) is not None:
                    following.append(exact)
                if segment and (anything := node.children.get(ANY)) is not None:
                    following.append(anything)
            if not following:
                break
            level = following
            if depth == last - 1:
                for node in level:
                    found |= node.routes
        return sorted(found)

    def select(self, scope: Scope) -> tuple[_Entry, Scope] | None:
        """The entry FastAPI's loop would hand the request to, with its child scope; None when
        no entry matches fully (FastAPI's loop then answers: 404, 405, a redirect)."""
        if self.built_for != self._version():
            self.build()
        entries = self.entries
        for position in self.candidates(get_route_path(scope)):
            entry = entries[position]
            if entry.context is not None:
                match, child_scope = entry.context.matches(scope)
                if match == Match.FULL:
                    child_scope["route"] = entry.route  # as the API route's `matches` adds
            else:
                match, child_scope = entry.route.matches(scope)
            if match == Match.FULL:
                return entry, child_scope
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self.router
        selected = self.select(scope)
        if selected is None:
            await self.fallback(scope, receive, send)
            return
        entry, child_scope = selected
        scope.update(child_scope)
        route = entry.route
        if entry.context is None:
            _route_selected(
                scope=scope,
                path=getattr(route, "path_format", None),
                mount=isinstance(route, Mount),
            )
            await route.handle(scope, receive, send)
            return
        # What the included routers' `handle` and `_handle_selected` leave for their route.
        fastapi_scope = scope.setdefault(_FASTAPI_SCOPE_KEY, {})
        fastapi_scope[_FASTAPI_INCLUDED_ROUTER_KEY] = entry.router
        _route_selected(scope=scope, path=entry.context.path_format)
        fastapi_scope[_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = entry.context
        scope["route"] = route
        await route.handle(scope, receive, send)


def install(router: APIRouter) -> RouteIndex:
    """Put the index in front of `router`'s loop (after every route is included)."""
    index = RouteIndex(router)
    index.build()
    router.middleware_stack = index
    return index
