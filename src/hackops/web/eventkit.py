"""What the event pages share: their addresses, the event's clock, and the admin header.

- `event_url` / `admin_base`: the addresses of an event's public and admin pages.
- `clock(zone)`: how a moment is shown on an event's pages (in the event's time zone), and
  `local_value` / `parse_local` for the date-time fields of its forms.
- `admin_context` is what every event admin page shows in its header; `AdminPage` (built by
  `web.deps.OrganizerPageDep`) is one admin page's request, session and access in one object: it
  renders its tab and forwards to the kit's form and button actions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import db_now
from hackops.events.access import EventAccess
from hackops.events.lifecycle import EventState, state_at
from hackops.models import OrgRole
from hackops.orgs.service import rank
from hackops.web.kit import ADMIN, EVENT_BASE, Form, act, act_checked, form_action, render

R = TypeVar("R")


def event_url(access: EventAccess) -> str:
    return EVENT_BASE.format(slug=access.org.slug, event_slug=access.event.slug)


def admin_base(access: EventAccess) -> str:
    return ADMIN.format(slug=access.org.slug, event_slug=access.event.slug)


def clock(zone_name: str) -> Callable[[datetime | None], str]:
    """Format instants on the event's wall clock, with the zone's abbreviation."""
    zone = ZoneInfo(zone_name)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else ""

    return when


def local_value(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored instant as the `datetime-local` value of the event's wall clock."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def parse_local(value: str, zone: ZoneInfo) -> datetime | None:
    """A `datetime-local` value read in the event's zone (empty: None). ValueError if invalid."""
    value = value.strip()
    if not value:
        return None
    wall = datetime.fromisoformat(value)
    if wall.tzinfo is not None:
        raise ValueError("A date and time without a zone, like 2031-06-04T09:30.")
    moment = wall.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise ValueError(f"This time does not exist in {zone.key} (the clocks change).")
    return moment


def can_grant_roles(access: EventAccess) -> bool:
    """Event roles are handed out by organization organizers and up (as the API)."""
    if access.actor.is_platform_admin:
        return True
    return access.org_role is not None and rank(access.org_role) >= rank(OrgRole.ORGANIZER)


def lifecycle_buttons(state: str) -> list[tuple[str, str]]:
    """(action, label) of the lifecycle buttons that make sense in this state."""
    if state == EventState.ARCHIVED.value:
        return []
    if state == EventState.DRAFT.value:
        return [("publish", "Publish"), ("archive", "Archive")]
    if state == EventState.JUDGING.value:
        return [("publish-results", "Publish results"), ("archive", "Archive")]
    return [("unpublish", "Back to draft"), ("archive", "Archive")]


async def admin_context(
    session: AsyncSession, access: EventAccess, tab: str, **extra: Any
) -> dict[str, Any]:
    """What every admin page shows in its header: the event, its state, the tabs."""
    state = state_at(access.event, await db_now(session)).value
    return {
        "org": access.org,
        "event": access.event,
        "access": access,
        "state": state,
        "buttons": lifecycle_buttons(state),
        "admin": admin_base(access),
        "public_url": event_url(access),
        "tab": tab,
        "can_grant": can_grant_roles(access),
        **extra,
    }


@dataclass(frozen=True)
class AdminPage:
    """An event admin page being answered: its request, its transaction, the organizer's access.
    A route takes this one object (`deps.OrganizerPageDep`) instead of the three; what it renders
    carries the admin header, and its forms and buttons run in its session."""

    request: Request
    session: AsyncSession
    access: EventAccess

    def at(self, path: str = "") -> str:
        """The address of an admin page of this event (`path` under `…/admin`)."""
        return admin_base(self.access) + path

    async def render(
        self,
        template: str,
        tab: str,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> Response:
        """`template` with the admin header (`admin_context`) on `tab` and `extra`."""
        context = await admin_context(self.session, self.access, tab, **extra)
        return render(self.request, template, context, status_code=status_code, headers=headers)

    async def form_action(self, form: Form, **options: Any) -> Response:
        """`form_action` of this page's request and session (same options)."""
        return await form_action(self.request, self.session, form, **options)

    async def act(
        self,
        back: str,
        action: Callable[[], Awaitable[R]],
        done: str | Callable[[R], str],
        **options: Any,
    ) -> Response:
        """`act` of this page's request and session (same options)."""
        return await act(self.request, self.session, back, action, done, **options)

    async def act_checked(self, back: str, **options: Any) -> Response:
        """`act_checked` of this page's request and session (same options)."""
        return await act_checked(self.request, self.session, back, **options)
