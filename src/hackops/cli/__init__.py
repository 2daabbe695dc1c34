"""The `hackops` command: serve, worker, db, demo, backup, restore; `admin …` (`admin.py`) and
`events …` (`bus.py`) in modules of their own, every command starting from `settings.py`. Each
command is one transaction edge."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hackops import __version__, migrate
from hackops.cli.admin import admin_app
from hackops.cli.bus import events_app, start_bus_relay
from hackops.cli.processes import default_workers
from hackops.cli.settings import console, load_settings
from hackops.config import Settings, get_settings

app = typer.Typer(
    help="HackOps: hackathons and competitions, from registration to results.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(events_app, name="events")


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
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=(
                "Web processes. Default: in production (HACKOPS_ENV=prod) one per usable core"
                " (CPU count, affinity and cgroup quota; WEB_CONCURRENCY overrides), else 1."
            ),
            show_default=False,
        ),
    ] = None,
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

    settings = load_settings(serving=True)
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
    if workers is None:
        workers = default_workers(settings)
    if workers > 1:
        _prepare_multiprocess_metrics(settings)
    processes = f"{workers} web processes" if workers > 1 else "1 web process"
    console.print(
        f"HackOps {__version__} on [bold]http://{host}:{port}[/] ({processes}; API docs at /docs)"
    )
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
        relay = await start_bus_relay(settings)
        try:
            await task
        except asyncio.CancelledError:
            console.print("Worker stopped.")
        finally:
            if relay is not None:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
    await db.dispose()


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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)
