"""`hackops admin …`: platform administration (create an administrator, an organization's plan)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from hackops.cli.settings import console, load_settings
from hackops.config import Settings
from hackops.errors import AppError

admin_app = typer.Typer(help="Platform administration.", no_args_is_help=True)


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


@admin_app.command("plan")
def admin_plan(
    slug: Annotated[str, typer.Argument(help="The organization's address, as in /orgs/<slug>.")],
    plan: Annotated[str | None, typer.Option(help="The plan's name, e.g. free or pro.")] = None,
    max_active_events: Annotated[
        int | None,
        typer.Option(min=0, max=10000, help="Events not archived (drafts count) at one time."),
    ] = None,
    max_announcements_per_month: Annotated[
        int | None,
        typer.Option(min=0, max=100_000, help="Announcements sent or scheduled in any 30 days."),
    ] = None,
) -> None:
    """Show an organization's plan and limits; with options, change them (recorded in the
    organization's audit log, as the API's PATCH /api/v1/admin/organizations/{slug})."""
    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.orgs.schemas import PlanUpdate

    changes = {
        "plan": plan,
        "max_active_events": max_active_events,
        "max_announcements_per_month": max_announcements_per_month,
    }
    try:
        body = PlanUpdate.model_validate({k: v for k, v in changes.items() if v is not None})
    except ValidationError:
        console.print("[bold red]A plan's name is 1 to 32 characters.[/]", soft_wrap=True)
        raise typer.Exit(2) from None
    settings = load_settings()
    try:
        lines = asyncio.run(_admin_plan(settings, slug, body))
    except AppError as exc:
        console.print(f"[bold red]{escape(exc.message)}[/] ({exc.code})", soft_wrap=True)
        raise typer.Exit(1) from None
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)


async def _admin_plan(settings: Settings, slug: str, body: Any) -> list[str]:
    """What the plan is now (and what changed), one line each."""
    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.actor import Actor

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.db import Database

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.events.service import active_event_count

    # lazy: commands load only what they run, so `hackops --help` stays quick
    from hackops.orgs import service as orgs

    shown = ("plan", "max_active_events", "max_announcements_per_month")
    actor = Actor(user=None, user_agent="hackops admin plan")
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            before = await orgs.get_organization_by_slug(session, slug)
            was = {key: getattr(before, key) for key in shown}
            org = await orgs.set_plan(session, actor, slug, body)
            active = await active_event_count(session, org)
    finally:
        await db.dispose()
    lines = [
        f"{key.replace('_', ' ')}: {was[key]} → {getattr(org, key)}"
        for key in shown
        if was[key] != getattr(org, key)
    ]
    lines.append(
        f"{org.name} ({org.slug}): plan {org.plan}, {active} of {org.max_active_events} active"
        f" events in use, {org.max_announcements_per_month} announcements a month."
    )
    return lines
