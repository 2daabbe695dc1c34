"""The application factory: lifespan, routers, error handlers, middleware."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from datetime import timedelta
from importlib.resources import files
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import URLPath

from hackops import __version__, jobs, route_index, wiring
from hackops.accounts import identities_router
from hackops.accounts import router as accounts_router
from hackops.accounts.credentials import PasswordHasher
from hackops.accounts.deps import (
    SECURITY_REQUIREMENT,
    bearer_scheme,
    get_actor,
    require_user,
    session_cookie_scheme,
)
from hackops.accounts.service import Services
from hackops.admin import mail_router
from hackops.announcements import router as announcements_router
from hackops.bodylimit import BodyLimitMiddleware
from hackops.browser import SAFE_METHODS, BrowserStateMiddleware
from hackops.bus import relay as bus_relay
from hackops.cache import make_redis
from hackops.config import Settings, get_settings
from hackops.db import Database
from hackops.errors import error_responses, install_error_handlers
from hackops.events import router as events_router
from hackops.events.roles import invitations_router as role_invitations_router
from hackops.events.roles import mine as my_roles
from hackops.events.roles import router as event_roles_router
from hackops.events.schedule import router as event_schedule_router
from hackops.events.tracks import router as event_tracks_router
from hackops.exports import router as exports_router
from hackops.health.router import router as health_router
from hackops.idempotency.middleware import install as install_idempotency
from hackops.judging import router as judging_router
from hackops.judging.flags import router as flags_router
from hackops.judging.leaderboard import router as leaderboard_router
from hackops.judging.voting import router as voting
from hackops.notifications import router as notifications_router
from hackops.notifications import socket as notification_socket
from hackops.notifications.live import Hub as NotificationHub
from hackops.observability import (
    RequestContextMiddleware,
    configure_logging,
    instrument_pool,
    process_exiting,
)
from hackops.orgs import router as orgs_router
from hackops.publiccache.middleware import PublicCache, PublicCacheMiddleware
from hackops.ratelimit import Limiter
from hackops.registrations import router as registrations_router
from hackops.results import router as results_router
from hackops.storage import make_store
from hackops.submissions import router as submissions_router
from hackops.tasks import router as tasks_router
from hackops.teams import finder_router as teams_finder_router
from hackops.teams import router as teams_router
from hackops.web import dashboard
from hackops.web import deps as page_deps
from hackops.web import dev as dev_mailbox
from hackops.web import home as home_page
from hackops.web.accounts import account as account_pages
from hackops.web.accounts import auth as auth_pages
from hackops.web.accounts import calendar as calendar_pages
from hackops.web.accounts import oauth as oauth_pages
from hackops.web.analytics import dashboard as event_dashboard
from hackops.web.analytics import overview as overview_pages
from hackops.web.announcements import admin as announcement_admin
from hackops.web.announcements import public as announcement_pages
from hackops.web.events import admin as event_admin
from hackops.web.events import content as event_content
from hackops.web.events import public as event_pages
from hackops.web.events import roles as event_roles
from hackops.web.events import schedule as event_schedule
from hackops.web.events import tracks as event_tracks
from hackops.web.exports import pages as export_pages
from hackops.web.judging import admin as judging_admin
from hackops.web.judging import flags as judging_flags
from hackops.web.judging import leaderboard as judging_leaderboard
from hackops.web.judging import score as judging_score
from hackops.web.notifications import pages as notification_pages
from hackops.web.notifications import unsubscribe as unsubscribe_pages
from hackops.web.orgs import accept as org_accept
from hackops.web.orgs import audit as org_audit
from hackops.web.orgs import pages as org_pages
from hackops.web.orgs import public as org_public
from hackops.web.orgs import webhooks as org_webhooks
from hackops.web.registrations import desk as registration_desk
from hackops.web.registrations import pages as registration_pages
from hackops.web.registrations import waitlist as registration_waitlist
from hackops.web.results import pages as results_pages
from hackops.web.results import reveal as results_reveal
from hackops.web.submissions import gallery as gallery_pages
from hackops.web.submissions import pages as submission_pages
from hackops.web.submissions import review as review_pages
from hackops.web.teams import board as task_pages
from hackops.web.teams import pages as team_pages
from hackops.web.templating import STATIC_DIR, make_templates
from hackops.webhooks import openapi as webhooks_openapi
from hackops.webhooks import router as webhooks_router

log = structlog.get_logger("hackops.app")

API_PREFIX = "/api/v1"

API_DESCRIPTION = """
HackOps runs hackathons and competitions for many organizations on one installation.

Every error has the same shape: `{"error": {"code": "...", "message": "...", "details": ...}}`.
Input bodies reject unknown fields. Lists paginate.

**Authentication**: `Authorization: Bearer <token>` (a personal API token, or a session token)
or the browser's session cookie; use the Authorize button to try routes here. Personal API tokens
carry scopes: `read` allows GET, HEAD and OPTIONS; `write` allows every method, as
`write` implies `read` (a `write` token needs no `read` too). A token may only do what its user
may; a refused scope is 403 `insufficient_scope`, an invalid token 401 `invalid_token`.

Writes are safe to retry: send `Idempotency-Key: <unique string>` (1-255 printable ASCII
characters, e.g. a UUID) with a signed-in `POST` or `PATCH`. The first response is kept for 24
hours and a retry with the same key and the same request gets it back (header
`Idempotent-Replayed: true`) without a second write. The same key with another request is 422
`idempotency_key_reused`; a retry while the first runs is 409 `idempotency_key_in_use`. Errors
5xx, 401, 403, 408 and 429 are not kept. Anonymous requests (register, sign-in) ignore the key.

**Live notifications**: a WebSocket at `/ws/notifications` (not listed below), signed in with
`Authorization: Bearer <token>` (a `read` scope suffices) or the session cookie. It sends JSON
frames `{"type": "unread", "unread": N}` at once and on every change, and
`{"type": "notification", "notification": {...}}` for each new notification (as
`GET /api/v1/me/notifications` lists them). A refused handshake is an HTTP 401/403 with the error
envelope; a session or token revoked later closes the socket with code 4401.
"""


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app. `database` lets tests bind every request to one rolled-back connection."""
    settings = settings or get_settings()
    wiring.connect()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or Database.from_settings(settings)
        app.state.db = db
        instrument_pool(db.engine)
        app.state.redis = make_redis(settings)
        app.state.store = make_store(settings)
        previous_jobs_binding = jobs.bind_database(db, settings)
        app.state.limiter = Limiter.from_settings(settings, app.state.redis)
        app.state.account_services = Services(
            hasher=PasswordHasher(
                time_cost=settings.password_hash_time_cost,
                memory_kib=settings.password_hash_memory_kib,
                concurrency=settings.password_hash_concurrency,
            ),
            limiter=app.state.limiter,
            base_url=settings.base_url,
            session_lifetime=timedelta(days=settings.session_lifetime_days),
        )
        opened_reads = await db.open_reads()
        # Live notifications: this process's one listener (started by its first socket).
        app.state.notification_hub = NotificationHub(
            db, settings.libpq_url if settings.database_url else None
        )
        # Public pages' versioned cache (None when PUBLIC_CACHE is off).
        app.state.public_cache = PublicCache.from_settings(settings, db, app.state.redis)
        if app.state.public_cache is not None:
            app.state.public_cache.start()
        try:
            await db.detect_extensions()
        except Exception as exc:  # the app starts while the database is down; /health/ready says so
            log.warning("extension_detection_failed", error=str(exc))
        worker: asyncio.Task[None] | None = None
        relay: asyncio.Task[None] | None = None
        async with jobs.open_queue(settings) as queue:
            app.state.queue = queue
            if settings.run_worker_in_process:
                worker = asyncio.create_task(jobs.supervise_worker(settings), name="worker")
                if settings.amqp_url is not None:  # the event bus relay runs beside the worker
                    relay = asyncio.create_task(bus_relay.run(settings), name="bus-relay")
            log.info("started", version=__version__, env=settings.hackops_env.value)
            settle_garbage_collector()
            try:
                yield
            finally:
                for task in (worker, relay):
                    if task is not None:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                await app.state.notification_hub.close()
                if app.state.public_cache is not None:
                    await app.state.public_cache.close()
        if app.state.redis is not None:
            await app.state.redis.aclose()
        if database is None:
            await db.dispose()
        elif opened_reads:
            await db.close_reads()
        jobs.bind_database(*previous_jobs_binding)
        process_exiting()

    app = FastAPI(
        title="HackOps",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        responses=error_responses(500),
        # Prometheus and structlog are this app's telemetry. FastAPI's native OpenTelemetry
        # hook otherwise asks on every request whether a provider was configured (three
        # environment lookups and the global providers: ~10 µs, bench/asgi_profile.py).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.templates = make_templates()

    install_error_handlers(app)
    page_deps.install(app)
    # The middleware, innermost first. Every one is pure ASGI (no BaseHTTPMiddleware) and passes
    # a request it has nothing to do for straight through: each layer is paid by every request,
    # `/health` included (bench/asgi_profile.py gives the CPU µs per request of the stack).
    # 1. idempotency: API POST/PATCH with a key only; spools and hashes a body the limit below
    #    has already bounded.
    install_idempotency(app)
    # 2. the public-page cache: anonymous GET/HEAD of public pages; inside the body limit and
    #    the browser state, so a cached answer still gets the security headers and request id.
    #    A new per-request layer goes here, between 1 and 3, unless it must see the raw body.
    app.add_middleware(PublicCacheMiddleware)
    # 3. body limits: a request with a body (a bodiless GET skips it); its 413/408 answers
    #    still get the security headers and the request id.
    app.add_middleware(BodyLimitMiddleware, **BodyLimitMiddleware.options(settings))  # type: ignore[arg-type]
    # 4. security headers (precomputed bytes) and the CSRF/flash cookies pages asked for.
    app.add_middleware(BrowserStateMiddleware, settings=settings)
    # 5. outermost: request id, access log, metrics, the last-resort 500.
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health_router)
    # The live leaderboard's JSON board is polled by every organizer's screen during judging:
    # matched first (its path is specific, nothing else can match it).
    app.include_router(leaderboard_router.board_router, prefix=API_PREFIX)
    # API routers are included flat (not under one parent router): route matching walks fewer
    # levels, measured with bench/http_baseline.py.
    for api_router in (
        orgs_router.router,
        accounts_router.auth,
        accounts_router.me,
        identities_router.router,
        orgs_router.invitations,
        orgs_router.mine,
        orgs_router.admin,
        mail_router.admin,
        events_router.router,
        events_router.public,
        results_router.event_actions,
        event_tracks_router.router,
        event_roles_router.router,
        event_schedule_router.router,
        role_invitations_router.router,
        role_invitations_router.accept_router,
        registrations_router.router,
        exports_router.registrations,
        registrations_router.mine,
        my_roles.router,
        tasks_router.team_tasks,
        tasks_router.my_tasks,
        teams_router.router,
        teams_finder_router.router,
        submissions_router.router,
        submissions_router.downloads,
        judging_router.router,
        flags_router.router,
        leaderboard_router.router,
        results_router.router,
        exports_router.router,
        voting.router,
        announcements_router.router,
        webhooks_router.router,
        notifications_router.router,
    ):
        app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(oauth_pages.router)
    # Every page resolves who is signed in (once per request, web.deps.page_router): the header
    # shows it.
    app.include_router(home_page.router)
    app.include_router(auth_pages.router)
    app.include_router(account_pages.router)
    app.include_router(account_pages.password_forms)
    app.include_router(calendar_pages.router)
    app.include_router(calendar_pages.feed)
    app.include_router(org_pages.router)
    app.include_router(org_public.router)
    app.include_router(org_audit.router)
    app.include_router(org_accept.router)
    app.include_router(org_webhooks.router)
    app.include_router(event_pages.router)
    # Before the judging pages: /judging/pairwise must not be read as /judging/{submission_id}.
    app.include_router(results_pages.router)
    app.include_router(event_admin.router)
    app.include_router(event_content.router)
    app.include_router(event_roles.router)
    app.include_router(event_tracks.router)
    app.include_router(event_schedule.router)
    app.include_router(event_dashboard.router)
    app.include_router(overview_pages.router)
    app.include_router(registration_pages.router)
    app.include_router(export_pages.router)
    app.include_router(registration_desk.router)
    app.include_router(registration_waitlist.router)
    app.include_router(dashboard.router)
    app.include_router(task_pages.router)
    app.include_router(team_pages.router)
    app.include_router(submission_pages.router)
    app.include_router(review_pages.router)
    app.include_router(gallery_pages.router)
    app.include_router(judging_score.router)
    app.include_router(judging_admin.router)
    app.include_router(judging_flags.router)
    app.include_router(judging_leaderboard.router)
    app.include_router(results_reveal.router)
    app.include_router(announcement_admin.router)
    app.include_router(announcement_pages.router)
    app.include_router(dev_mailbox.router)
    app.include_router(notification_pages.router)
    app.include_router(unsubscribe_pages.router)
    app.include_router(notification_socket.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _mount_api_docs(app)
    _memoize_url_paths(app)
    _document_auth(app)
    webhooks_openapi.install(app)
    route_index.install(app.router)  # last: it indexes every route above
    return app


def _memoize_url_paths(app: FastAPI) -> None:
    """`url_for` answers from memory after its first answer for the same name and arguments.

    FastAPI finds a name by walking every route context of the table, building Starlette
    routes as it goes: ~1 ms a call with our ~420 routes, and a page calls it five times (the
    stylesheet, the scripts, the home link: bench/asgi_profile.py on any page). The table does
    not change once the app serves, and routes added later (tests) come after the ones found.
    """
    find = app.router.url_path_for
    known: dict[tuple[str, tuple[tuple[str, Any], ...]], URLPath] = {}

    def url_path_for(name: str, /, **path_params: Any) -> URLPath:
        key = (name, tuple(sorted(path_params.items())))
        try:
            path = known.get(key)
        except TypeError:  # an unhashable argument: looked up every time
            return find(name, **path_params)
        if path is None:
            path = find(name, **path_params)
            if len(known) < 10_000:
                known[key] = path
        return path

    app.router.url_path_for = url_path_for  # type: ignore[method-assign]


def _needs(dependant: Dependant, call: Any) -> bool:
    return dependant.call is call or any(_needs(d, call) for d in dependant.dependencies)


def _document_auth(app: FastAPI) -> None:
    """Every operation that reads the caller (it depends on `get_actor`) lists the two ways of
    signing in as its security, and the document declares both schemes: `get_actor` does not
    depend on them (FastAPI would run them for every request), so FastAPI does not write them.
    Such an operation can answer 401 (a bearer token that is invalid, expired or revoked) and,
    unless it is safe, 403 (an API token without the `write` scope): the document says so where
    a route did not already. Where a route also serves anonymous callers (it does not depend on
    `require_user`), its security lists the empty requirement `{}` too: signing in is optional
    there. A route that reads the token itself declares its security in `openapi_extra`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        reads_caller, required = set(), set()
        for route in iter_route_contexts(app.routes):  # included routers flattened
            if not isinstance(route.original_route, APIRoute):
                continue
            for method in route.methods or ():
                if _needs(route.dependant, get_actor):
                    reads_caller.add((route.path_format, method.lower()))
                if _needs(route.dependant, require_user):
                    required.add((route.path_format, method.lower()))
        if reads_caller:
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            for scheme in (bearer_scheme, session_cookie_scheme):
                schemes[scheme.scheme_name] = scheme.model.model_dump(
                    mode="json", by_alias=True, exclude_none=True
                )
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if (path, method) in reads_caller and not operation.get("security"):
                    operation["security"] = [dict(r) for r in SECURITY_REQUIREMENT]
                if not operation.get("security"):
                    continue
                if (path, method) not in required:
                    operation["security"] = [*operation["security"], {}]
                responses = operation.setdefault("responses", {})
                responses.setdefault("401", {"description": "Not authenticated", "content": error})
                if method.upper() not in SAFE_METHODS:
                    responses.setdefault("403", {"description": "Forbidden", "content": error})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def settle_garbage_collector() -> None:
    """Move everything alive after start-up out of the collector's sight, and collect less often.

    Full collections otherwise rescan every imported module's objects; measured with
    bench/http_baseline.py this cut p99 of a one-row read from ~75 ms to ~25 ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _mount_api_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, its assets served from the installed fastapi-swagger package."""
    assets = str(files("fastapi_swagger") / "resources")
    app.mount("/swagger", StaticFiles(directory=assets), name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="HackOps API",
            swagger_js_url=str(request.url_for("swagger", path="swagger-ui-bundle.js").path),
            swagger_css_url=str(request.url_for("swagger", path="swagger-ui.css").path),
            swagger_favicon_url=str(request.url_for("static", path="favicon.svg").path),
            swagger_ui_parameters={"persistAuthorization": True, "tryItOutEnabled": True},
        )


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory hackops.main:app_factory` (one per web process)."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(settings)
