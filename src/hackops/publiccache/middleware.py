"""The cache in front of the public routes: a pure ASGI middleware (see the package docstring).

A hit costs a dictionary lookup, a comparison of a few versions and the response: no routing, no
dependency, no session, no database round trip. A miss runs the route; concurrent misses of one
key wait for the first rendering (one render per version, not one per waiting visitor).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import structlog
from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hackops.accounts.deps import SESSION_COOKIE
from hackops.browser import FLASH_COOKIE
from hackops.config import Settings
from hackops.db import Database
from hackops.publiccache import CANDIDATE_KEY, STATE_KEY, Declared
from hackops.publiccache.store import Entry, LocalStore, SharedStore, etag_of
from hackops.publiccache.versions import FRESH_SECONDS, Versions

log = structlog.get_logger("hackops.publiccache")

#: The addresses the cacheable routes live under (anything else is not looked up at all).
PREFIXES = ("/orgs/", "/api/v1/events", "/api/v1/organizations/")
MAX_KEY_LENGTH = 1024
#: How long a miss waits for another request's rendering of the same key before its own.
WAIT_SECONDS = 5.0
CACHE_CONTROL = (b"cache-control", b"public, max-age=0, must-revalidate")
VARY = (b"vary", b"Cookie, Authorization")
_PERSONAL_COOKIES = (f"{SESSION_COOKIE}=".encode(), f"{FLASH_COOKIE}=".encode())


@dataclass(frozen=True, slots=True)
class _Route:
    """What the access log and metrics read of a matched route (`observability._route_template`)."""

    path: str


@dataclass
class PublicCache:
    """This process's cache: the versions it knows, its LRU, Redis when configured."""

    versions: Versions
    local: LocalStore
    shared: SharedStore | None = None
    inflight: dict[str, asyncio.Event] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    stored: int = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, database: Database, redis: Redis | None
    ) -> PublicCache | None:
        if not settings.public_cache:
            return None
        url = settings.libpq_url if settings.database_url else None
        return cls(
            versions=Versions(
                database,
                url,
                poll_seconds=settings.public_cache_poll_seconds,
                # a slower poll widens the bound: at least three polls fit in it
                fresh_seconds=max(FRESH_SECONDS, 3 * settings.public_cache_poll_seconds),
            ),
            local=LocalStore(settings.public_cache_bytes),
            shared=SharedStore(redis) if redis is not None else None,
        )

    def start(self) -> None:
        self.versions.start()

    async def close(self) -> None:
        await self.versions.stop()

    async def check(self) -> dict[str, Any]:
        details = await self.versions.check()
        return {**details, "entries": len(self.local.items), "bytes": self.local.bytes}

    def good(self, entry: Entry) -> bool:
        if time.time() >= entry.expires:
            return False
        known = self.versions.known
        for scope, version in entry.tags:
            current = known.get(scope)
            if current is None:
                self.versions.want((scope,))
                return False
            if version < current:
                return False
        return True

    async def lookup(self, key: str) -> Entry | None:
        entry = self.local.get(key)
        if entry is not None and self.good(entry):
            return entry
        if self.shared is not None:
            shared = await self.shared.get(key)
            if shared is not None and self.good(shared):
                self.local.put(key, shared)
                return shared
        return None


def _anonymous(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return False
        if name == b"cookie" and any(c in value for c in _PERSONAL_COOKIES):
            return False
    return True


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return None


class PublicCacheMiddleware:
    """Anonymous GETs of the public routes from `app.state.public_cache` (when it is on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not (scope["path"] == "/" or scope["path"].startswith(PREFIXES))
        ):
            await self.app(scope, receive, send)
            return
        cache: PublicCache | None = getattr(scope["app"].state, "public_cache", None)
        if cache is None or not cache.versions.fresh() or not _anonymous(scope):
            await self.app(scope, receive, send)
            return
        query = scope["query_string"]
        key = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        if len(key) > MAX_KEY_LENGTH:
            await self.app(scope, receive, send)
            return
        entry = await cache.lookup(key)
        if entry is None and (pending := cache.inflight.get(key)) is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pending.wait(), WAIT_SECONDS)
            entry = await cache.lookup(key)
        if entry is not None:
            cache.hits += 1
            await self._answer(entry, scope, send)
            return
        cache.misses += 1
        if key in cache.inflight:  # still rendering elsewhere after the wait: render too
            await self._render(cache, key, scope, receive, send)
            return
        done = cache.inflight[key] = asyncio.Event()
        try:
            await self._render(cache, key, scope, receive, send)
        finally:
            del cache.inflight[key]
            done.set()

    @staticmethod
    async def _answer(entry: Entry, scope: Scope, send: Send) -> None:
        scope["route"] = _Route(entry.route)
        match = _header(scope, b"if-none-match")
        if match is not None and (entry.etag in match or match.strip() == b"*"):
            headers = [(b"etag", entry.etag), CACHE_CONTROL, VARY]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {"type": "http.response.start", "status": entry.status, "headers": entry.headers}
        )
        await send({"type": "http.response.body", "body": entry.body})

    async def _render(
        self, cache: PublicCache, key: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        versions = cache.versions
        tick = versions.tick
        kept: dict[str, Any] = {}
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                stored = _storable(scope, message, versions, tick, key)
                if stored is not None:
                    tags, expires = stored
                    etag = etag_of(key, tags, expires)
                    headers = [*message.get("headers", ()), (b"etag", etag), CACHE_CONTROL, VARY]
                    message = {**message, "headers": headers}
                    kept.update(tags=tags, expires=expires, etag=etag, headers=headers)
            elif message["type"] == "http.response.body" and kept:
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    kept["complete"] = True
            await send(message)

        scope.setdefault("state", {})[CANDIDATE_KEY] = True
        await self.app(scope, receive, capture)
        if not kept.get("complete"):
            return
        entry = Entry(
            tags=kept["tags"],
            expires=kept["expires"],
            status=200,
            headers=tuple(kept["headers"]),
            body=b"".join(body),
            etag=kept["etag"],
            route=_route_of(scope),
        )
        cache.local.put(key, entry)
        cache.stored += 1
        if cache.shared is not None:
            await cache.shared.put(key, entry)


def _route_of(scope: Scope) -> str:
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else "<unmatched>"


def _storable(
    scope: Scope, message: Message, versions: Versions, tick: int, key: str
) -> tuple[tuple[tuple[str, int], ...], float] | None:
    """(tags, expires) when this response may be stored: declared by its route, a 200 setting
    no cookie, no CSRF token or flash in it, only the query the route reads, and every scope
    known and unchanged since the request began; else None."""
    state = scope.get("state") or {}
    declared: Declared | None = state.get(STATE_KEY)
    if declared is None or message["status"] != 200:
        return None
    if any(name.lower() == b"set-cookie" for name, _ in message.get("headers", ())):
        return None
    if "csrf_token" in state or state.get("flash_out") or state.get("flashes_in"):
        return None
    query = scope["query_string"]
    if (
        query
        and not {name for name, _ in parse_qsl(query.decode("latin-1"), True)} <= declared.query
    ):
        return None
    tags = []
    for name in declared.scopes:
        version = versions.known.get(name)
        if version is None or versions.changed_at.get(name, 0) > tick:
            versions.want(declared.scopes)
            return None
        tags.append((name, version))
    expires = math.inf if declared.until is None else declared.until.timestamp()
    if expires <= time.time():
        return None
    return tuple(sorted(tags)), expires
