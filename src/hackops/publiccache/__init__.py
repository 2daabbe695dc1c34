"""Public pages from a versioned cache (issue 15).

The public pages and their JSON twins — an event's page, the landing page and the public events
list, an organization's public page, published results, the gallery and its project pages — are
rendered once per version of what they show and served from a cache to anonymous visitors:

- a route says its answer may be cached with `declare(request, scopes, until=…, query=…)`: the
  scopes it was rendered from (`event_scope`, `content_scope`, `org_scope`, `LISTING`), the moment
  the clock alone changes it, and the query parameters it reads;
- triggers bump each scope's version in the transaction of every change that alters what such a
  page shows (`public_versions`, migration 0029) and announce it at commit; each process keeps
  the versions in memory (`versions.Versions`: LISTEN + a poll every second as the net);
- the middleware (`middleware.PublicCacheMiddleware`) answers an anonymous GET from the cache
  without touching the route, the ORM or the database while the entry's versions are current,
  with an `ETag` (→ 304 on `If-None-Match`) and `Cache-Control: public, max-age=0,
  must-revalidate`; anything else goes through to the route.

Who is "anonymous": a GET with no `Authorization` header and no session or flash cookie. Anyone
else is answered by the route, personalized, and nothing of theirs is stored: the middleware
stores only a 200 the route declared, for an anonymous request, that sets no cookie and rendered
no CSRF token. Keys are the page's path and query, so an entry can only ever answer its own
address, and its tags name the organization's and event's scopes it was rendered from.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

#: The landing page and the public events list.
LISTING = "listing"
STATE_KEY = "public_cache"
#: Set by the middleware on a request whose answer it may store.
CANDIDATE_KEY = "public_cache_candidate"


def event_scope(event_id: uuid.UUID) -> str:
    """Everything an event's own page shows (its seat counts too)."""
    return f"event:{event_id}"


def content_scope(event_id: uuid.UUID) -> str:
    """What an event's results, gallery and project pages show."""
    return f"content:{event_id}"


def org_scope(org_id: uuid.UUID) -> str:
    """An organization's public face: its name, branding and listed events."""
    return f"org:{org_id}"


@dataclass(frozen=True, slots=True)
class Declared:
    scopes: tuple[str, ...]
    until: datetime | None
    query: frozenset[str]


def candidate(request: Request) -> bool:
    """Whether the cache may store this request's answer (a visitor's GET, the cache on): what a
    route computes only for the cache (the clock's next change of a list) is skipped otherwise."""
    return bool(request.scope.get("state", {}).get(CANDIDATE_KEY))


def declare(
    request: Request,
    scopes: Iterable[str],
    *,
    until: datetime | None = None,
    query: Iterable[str] = (),
) -> None:
    """This answer may be served from the cache to anonymous visitors while `scopes` keep their
    versions and until `until` (the clock's next change of it, None: none); `query`: the query
    parameters the route reads (an address with any other is rendered, never stored)."""
    request.scope.setdefault("state", {})[STATE_KEY] = Declared(
        tuple(scopes), until, frozenset(query)
    )
