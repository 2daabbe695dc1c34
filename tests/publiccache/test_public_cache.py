"""The public pages' versioned cache, through the real app on a database whose writes commit:
two signed-in people and a visitor never see each other's page; another tenant's draft or private
event never appears; results are never served before publication and vanish when taken back; a
change made through one app instance is served by a second one (same database) within the bound;
ETag/304; Cache-Control only for visitors; a flash cookie bypasses the cache; Redis down is no
failure; a hit runs no SQL statement."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeSerializer
from sqlalchemy import event as sa_event
from sqlalchemy import text

from hackops.accounts.deps import SESSION_COOKIE
from hackops.browser import FLASH_COOKIE
from hackops.db import Database
from hackops.main import create_app
from hackops.publiccache.middleware import PublicCache
from hackops.publiccache.versions import FRESH_SECONDS
from hackops.tenancy import set_tenant
from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.factories import (
    create_event,
    create_event_result,
    create_organization,
    create_submission,
)
from tests.helpers import serving
from tests.people import Cast, build_cast

#: How long a change may take to show in another process: the versions' freshness bound plus
#: room for a loaded machine (a request there can take a second).
BOUND = FRESH_SECONDS + 4.0
#: How long reaching a cached state may take (three requests: unknown scopes, stored, hit).
PATIENCE = 30.0


@dataclass
class World:
    cast: Cast
    other_draft: str  # paths of the other tenant's hidden events
    other_private: str

    @property
    def page(self) -> str:
        return f"/orgs/{self.cast.org.slug}/events/{self.cast.event.slug}"

    def session(self, name: str) -> dict[str, str]:
        return {SESSION_COOKIE: self.cast.tokens[name]}


@pytest.fixture
async def world(committed_db: Database) -> World:
    async with committed_db.transaction() as session:
        cast = await build_cast(session, name="Open Harbour Hack")
        other = await create_organization(session, name="Other Tenant")
        draft = await create_event(session, other, name="Secret Draft Plan")
        private = await create_event(
            session,
            other,
            name="Private Gathering",
            visibility="private",
            published_at=datetime.now(UTC) - timedelta(days=1),
        )
        paths = (f"/orgs/{other.slug}/events/{e.slug}" for e in (draft, private))
        return World(cast, *paths)


def cached_settings(database_url: str, storage_dir: Path, **overrides: Any) -> Any:
    return make_settings(database_url, storage_dir, public_cache=True, **overrides)


@pytest.fixture
async def apps(
    database_url: str, storage_dir: Path, committed_db: Database
) -> AsyncIterator[list[tuple[FastAPI, httpx2.AsyncClient]]]:
    """Two app instances (two processes, as far as the cache knows) on the committed database."""
    async with AsyncExitStack() as stack:
        made = []
        for _ in range(2):
            app = create_app(cached_settings(database_url, storage_dir))
            made.append((app, await stack.enter_async_context(serving(app))))
        for app, _ in made:
            await until(lambda a=app: fresh(a))  # type: ignore[misc]
        yield made


def cache_of(app: FastAPI) -> PublicCache:
    cache = app.state.public_cache
    assert isinstance(cache, PublicCache)
    return cache


async def fresh(app: FastAPI) -> bool:
    return cache_of(app).versions.fresh()


async def until(check: Callable[[], Awaitable[bool]], within: float = BOUND) -> float:
    """Seconds until `check` held (fails after `within`)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, "not within the bound"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def cached_twice(http: httpx2.AsyncClient, app: FastAPI, path: str) -> httpx2.Response:
    """GET `path` as a visitor until it is served from the cache; that response."""
    cache = cache_of(app)

    async def hit() -> bool:
        before = cache.hits
        response = await http.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return cache.hits == before + 1

    await until(hit, PATIENCE)
    response = await http.get(path)
    assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"
    return response


async def test_a_cached_page_is_never_another_visitors(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World
) -> None:
    (app, http), _ = apps
    participant = await http.get(world.page, cookies=world.session("participant"))
    assert participant.status_code == 200
    assert "Log out" in participant.text
    assert "cache-control" not in participant.headers
    visitor = await cached_twice(http, app, world.page)
    assert "Open Harbour Hack" in visitor.text
    assert "Log out" not in visitor.text
    assert "Participant" not in visitor.text
    assert "set-cookie" not in visitor.headers
    # Signed in after a visitor's page was cached: their own page, never the cached one.
    hits = cache_of(app).hits
    outsider = await http.get(world.page, cookies=world.session("outsider"))
    bearer = await http.get(world.page, headers=world.cast.auth("participant"))
    assert cache_of(app).hits == hits
    for mine in (outsider, bearer):
        assert mine.status_code == 200
        assert "Log out" in mine.text
        assert "cache-control" not in mine.headers
        assert "etag" not in mine.headers
    assert participant.text != outsider.text  # the registration panel is each person's own
    again = await http.get(world.page)
    assert again.text == visitor.text


async def test_another_tenants_hidden_events_never_appear(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World
) -> None:
    (app, http), _ = apps
    for path in ("/", "/api/v1/events", f"/orgs/{world.cast.org.slug}/public"):
        shown = await cached_twice(http, app, path)
        assert "Secret Draft Plan" not in shown.text
        assert "Private Gathering" not in shown.text
    for path in (world.other_draft, world.other_private):
        for _ in range(2):
            assert (await http.get(path)).status_code == 404
    assert not any("Secret" in key or "Private" in key for key in cache_of(app).local.items)


async def test_results_are_never_served_before_publication(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World, committed_db: Database
) -> None:
    (app, http), (app2, http2) = apps
    api = world.cast.base + "/results"
    page = world.page + "/results"
    for client in (http, http2):
        for path in (api, page, api, page):
            assert (await client.get(path)).status_code == 404
    event = world.cast.event
    async with committed_db.transaction() as session:
        await create_event_result(session, event)
        await session.execute(
            text("UPDATE events SET results_published_at = now() WHERE id = :id"), {"id": event.id}
        )

    async def published(client: httpx2.AsyncClient) -> bool:
        return (await client.get(api)).status_code == 200

    await until(lambda: published(http2))
    await cached_twice(http2, app2, api)
    await cached_twice(http, app, page)
    async with committed_db.transaction() as session:
        await set_tenant(session, event.org_id)
        await session.execute(
            text("DELETE FROM event_results WHERE event_id = :id"), {"id": event.id}
        )
        await session.execute(
            text("UPDATE events SET results_published_at = NULL WHERE id = :id"), {"id": event.id}
        )

    async def withdrawn(client: httpx2.AsyncClient, path: str) -> bool:
        return (await client.get(path)).status_code == 404

    await until(lambda: withdrawn(http2, api))
    await until(lambda: withdrawn(http, page))


async def test_an_edit_through_one_instance_is_served_by_the_other_within_the_bound(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World
) -> None:
    (_, http), (app2, http2) = apps
    await cached_twice(http2, app2, world.page)
    json_twin = await cached_twice(http2, app2, world.cast.base)
    assert json_twin.json()["name"] == "Open Harbour Hack"
    # The second instance hears no notification: its poll alone must catch the change.
    listener = cache_of(app2).versions.listener
    assert listener is not None
    await listener.stop()
    edited = await http.patch(
        world.cast.base, json={"name": "Renamed Harbour Hack"}, headers=world.cast.auth("owner")
    )
    assert edited.status_code == 200, edited.text

    async def renamed() -> bool:
        return "Renamed Harbour Hack" in (await http2.get(world.page)).text

    took = await until(renamed)
    assert took < BOUND
    assert (await http2.get(world.cast.base)).json()["name"] == "Renamed Harbour Hack"


async def test_etag_and_304(apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World) -> None:
    (app, http), _ = apps
    first = await cached_twice(http, app, world.page)
    etag = first.headers["etag"]
    assert first.headers["vary"] == "Cookie, Authorization"
    unchanged = await http.get(world.page, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    # Signed in: never a 304 from the visitors' cache.
    mine = await http.get(
        world.page, headers={"If-None-Match": etag}, cookies=world.session("participant")
    )
    assert mine.status_code == 200


async def test_a_flash_cookie_bypasses_the_cache(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World
) -> None:
    (app, http), _ = apps
    await cached_twice(http, app, world.page)
    flash = URLSafeSerializer(TEST_SECRET_KEY, salt="flash").dumps(
        [{"category": "info", "message": "Welcome back, flash"}]
    )
    shown = await http.get(world.page, cookies={FLASH_COOKIE: flash})
    assert "Welcome back, flash" in shown.text
    assert "cache-control" not in shown.headers
    assert "Welcome back, flash" not in (await http.get(world.page)).text


async def test_a_hit_runs_no_statement(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World
) -> None:
    (app, http), _ = apps
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = app.state.db.engine.sync_engine
    for path in (world.page, world.cast.base + "", "/api/v1/events", "/"):
        await cached_twice(http, app, path)
        sa_event.listen(engine, "before_cursor_execute", record)
        try:
            assert (await http.get(path)).status_code == 200
        finally:
            sa_event.remove(engine, "before_cursor_execute", record)
        assert statements == [], path


async def test_redis_down_is_no_failure(
    database_url: str, storage_dir: Path, committed_db: Database, world: World
) -> None:
    settings = cached_settings(database_url, storage_dir, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    async with serving(app) as http:
        await until(lambda: fresh(app))
        shown = await cached_twice(http, app, world.page)
        assert "Open Harbour Hack" in shown.text
        cache = cache_of(app)
        assert cache.shared is not None
        assert cache.shared.fallback.down


@pytest.mark.redis
async def test_redis_shares_renderings_between_instances(
    database_url: str, storage_dir: Path, committed_db: Database, world: World
) -> None:
    from tests.conftest import redis_url

    settings = cached_settings(database_url, storage_dir, redis_url=redis_url())
    first, second = create_app(settings), create_app(settings)
    async with serving(first) as http, serving(second) as http2:
        await until(lambda: fresh(first))
        await until(lambda: fresh(second))
        await cached_twice(http, first, world.page)
        await until(lambda: fresh(second))
        stored = cache_of(second).stored
        assert (await http2.get(world.page)).status_code == 200
        assert (await http2.get(world.page)).status_code == 200
        assert cache_of(second).stored == stored  # served what the first rendered


async def test_readiness_reports_the_versions(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World
) -> None:
    (app, http), _ = apps
    ready = await http.get("/health/ready")
    assert ready.json()["checks"]["public_cache"] == {"ok": True, "state": "ok"}
    # Versions that cannot be confirmed: degraded, and nothing is served from the cache.
    await cached_twice(http, app, world.page)
    versions = cache_of(app).versions
    await versions.stop()
    versions.confirmed_at -= FRESH_SECONDS + 1
    hits = cache_of(app).hits
    assert (await http.get(world.page)).status_code == 200
    assert cache_of(app).hits == hits
    degraded = await http.get("/health/ready")
    assert degraded.json()["checks"]["public_cache"] == {"ok": True, "state": "degraded"}


async def test_a_withdrawn_project_leaves_the_cached_gallery_within_the_bound(
    apps: list[tuple[FastAPI, httpx2.AsyncClient]], world: World, committed_db: Database
) -> None:
    _, (app2, http2) = apps
    event = world.cast.event
    async with committed_db.transaction() as session:
        project = await create_submission(
            session, world.cast.team, status="approved", title="Gleaming Gadget"
        )
        await session.execute(
            text("UPDATE events SET gallery_opened_at = now() WHERE id = :id"), {"id": event.id}
        )
    gallery = world.page + "/gallery"
    page = f"{gallery}/{project.id}"
    shown = await cached_twice(http2, app2, gallery)
    assert "Gleaming Gadget" in shown.text
    assert "Gleaming Gadget" in (await cached_twice(http2, app2, page)).text
    async with committed_db.transaction() as session:
        await set_tenant(session, event.org_id)
        await session.execute(
            text("UPDATE submissions SET status = 'disqualified' WHERE id = :id"),
            {"id": project.id},
        )

    async def gone() -> bool:
        listed = await http2.get(gallery)
        return "Gleaming Gadget" not in listed.text and (await http2.get(page)).status_code == 404

    await until(gone)
