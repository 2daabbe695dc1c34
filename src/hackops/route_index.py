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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter
from fastapi.routing import APIWebSocketRoute
from fastapi.telemetry._api import _route_selected  # the loop's own bookkeeping
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

#: A segment where the route has a parameter (it matches any one segment).
ANY = ""


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    #: Top-level routes that end here (their index in the router's list).
    routes: set[int] = field(default_factory=set)


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

    def build(self) -> None:
        root, everywhere = _Node(), set()
        for position, route in enumerate(self.router.routes):
            paths = _leaf_paths(route)
            for path in paths or ():
                segments = _segments(path)
                if segments is None:
                    paths = None
                    break
                node = root
                for segment in segments:
                    node = node.children.setdefault(segment, _Node())
                node.routes.add(position)
            if paths is None:
                everywhere.add(position)
        self.root, self.everywhere = root, everywhere
        self.built_for = self._version()

    def _version(self) -> tuple[int, int]:
        routes = self.router.routes
        return len(routes), id(routes[-1]) if routes else 0

    def candidates(self, path: str) -> list[int]:
        """The top-level routes (positions, in order) that can match `path` fully."""
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        if self.built_for != self._version():
            self.build()
        if "router" not in scope:
            scope["router"] = self.router
        routes = self.router.routes
        for position in self.candidates(get_route_path(scope)):
            route = routes[position]
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                scope.update(child_scope)
                _route_selected(
                    scope=scope,
                    path=getattr(route, "path_format", None),
                    mount=isinstance(route, Mount),
                )
                await route.handle(scope, receive, send)
                return
        await self.fallback(scope, receive, send)


def install(router: APIRouter) -> RouteIndex:
    """Put the index in front of `router`'s loop (after every route is included)."""
    index = RouteIndex(router)
    index.build()
    router.middleware_stack = index
    return index
