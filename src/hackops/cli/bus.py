"""`hackops events …`: the RabbitMQ event bus (watch its stream, run its relay), and the relay the
worker runs beside its jobs."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from hackops.cli.settings import console, load_settings
from hackops.config import Settings

events_app = typer.Typer(
    help="The RabbitMQ event bus (when AMQP_URL is set).", no_args_is_help=True
)


async def start_bus_relay(settings: Settings) -> asyncio.Task[None] | None:
    """The RabbitMQ relay beside the worker, when AMQP_URL is set (one is active at a time)."""
    if settings.amqp_url is None:
        return None
    # lazy: RabbitMQ's relay is loaded only when AMQP_URL is set
    from hackops.bus import relay

    console.print(f"Event bus relay to {settings.amqp_url_shown} ({settings.amqp_exchange})")
    return asyncio.create_task(relay.run(settings), name="bus-relay")


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
    task = await start_bus_relay(settings)
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        console.print("Relay stopped.")
