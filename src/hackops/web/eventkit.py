"""What the event pages share: their addresses, the event's clock, and the admin header.

- `event_url` / `admin_base`: the addresses of an event's public and admin pages.
- `clock(zone)`: how a moment is shown on an event's pages (in the event's time zone), and
  `local_value` / `parse_local` for the date-time fields of its forms.
- `judging_checklist`: the way from criteria to published results, step by step with what is
  missing and where it is done, every judging mode, and the "Publish results" control with the
  reason it is not available yet; shown on the tabs in `CHECKLIST_TABS` (the judging pages,
  tracks and awards, roles, and the event's settings, its overview).
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
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import wallclock
from hackops.db import db_now
from hackops.events.access import EventAccess
from hackops.events.lifecycle import EventState, state_at
from hackops.models import OrgRole
from hackops.orgs.service import rank
from hackops.results import readiness
from hackops.web.kit import (
    ADMIN,
    EVENT_BASE,
    Confirmation,
    Form,
    act,
    act_checked,
    act_confirmed,
    form_action,
    render,
)

R = TypeVar("R")


def event_url(access: EventAccess) -> str:
    return EVENT_BASE.format(slug=access.org.slug, event_slug=access.event.slug)


def admin_base(access: EventAccess) -> str:
    return ADMIN.format(slug=access.org.slug, event_slug=access.event.slug)


class Moment(str):
    """An instant as text on an event's wall clock ("Sat 12 Dec 2026, 14:00 (Europe/Berlin,
    UTC+01:00)"): plain text in a sentence or a flash, and in a template a `<time>` element
    carrying the instant and the zone's offset, beside which `static/localtime.js` adds the
    viewer's own time when their zone's offset differs."""

    instant: datetime
    offset_minutes: int

    def __new__(cls, moment: datetime, zone: ZoneInfo) -> Moment:
        made = super().__new__(cls, wallclock.on_clock(moment, zone))
        made.instant = moment.astimezone(zone)
        made.offset_minutes = wallclock.offset_minutes(made.instant)
        return made

    def __html__(self) -> str:
        return (
            f'<time datetime="{self.instant.isoformat()}" data-offset="{self.offset_minutes}"'
            f' class="event-time">{escape(str(self))}</time>'
        )


def in_zone(moment: datetime | None, zone_name: str) -> str:
    """`moment` on the wall clock of the zone named (an event's), as a `Moment`; "" for none."""
    return Moment(moment, ZoneInfo(zone_name)) if moment else ""


def clock(zone_name: str) -> Callable[[datetime | None], str]:
    """Format instants on the event's wall clock, with the zone's name and offset (`Moment`)."""
    zone = ZoneInfo(zone_name)

    def when(moment: datetime | None) -> str:
        return Moment(moment, zone) if moment else ""

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
    if state == EventState.RESULTS_PUBLISHED.value:  # no way back to draft from here
        return [("archive", "Archive")]
    return [("unpublish", "Back to draft"), ("archive", "Archive")]


#: The admin tabs that show the judging checklist (the judging pages share the tab "judging").
CHECKLIST_TABS = frozenset({"settings", "roles", "tracks", "judging"})


@dataclass(frozen=True)
class Step:
    """One step of the checklist: done or not, what stands, and where it is done."""

    label: str
    done: bool
    status: str
    href: str
    action: str
    optional: bool = False


@dataclass(frozen=True)
class Mode:
    """A way of judging: the judges' page, the organizers' view of it, how much was judged."""

    name: str
    judges_href: str | None
    ranking_href: str | None
    status: str


@dataclass(frozen=True)
class Checklist:
    steps: list[Step]
    modes: list[Mode]
    progress: readiness.Progress
    publish_href: str
    results_href: str
    judging_closes: str  # the window's end as the event shows it ("" when it has none)

    @property
    def next_step(self) -> Step | None:
        """The first step still to do; none once the results are out (nothing moves them)."""
        if self.progress.published:
            return None
        return next((s for s in self.steps if not s.done and not s.optional), None)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.done)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


async def judging_checklist(session: AsyncSession, access: EventAccess, now: datetime) -> Checklist:
    """What is missing before results can be published, each step linking where it is done."""
    p = await readiness.progress(session, access, now)
    admin, public = admin_base(access), event_url(access)
    judging = admin + "/judging"
    all_done = p.assigned > 0 and p.evaluated == p.assigned
    steps = [
        Step(
            "Criteria defined",
            p.criteria > 0,
            _plural(p.criteria, "criterion", "criteria") if p.criteria else "None yet.",
            judging + "#criteria-heading",
            "Add criteria",
        ),
        Step(
            "Judges invited",
            p.judges > 0,
            _plural(p.judges, "judge") if p.judges else "No judge yet.",
            admin + "/roles",
            "Invite judges",
        ),
        Step(
            "Assignment run",
            p.assigned > 0,
            f"{p.assigned_projects} of {_plural(p.projects, 'project')} assigned"
            if p.assigned
            else (
                f"Not run yet; {_plural(p.projects, 'project')} to judge."
                if p.projects
                else "Not run yet; no project is submitted yet."
            ),
            judging + "#assign-heading",
            "Run the assignment",
        ),
        Step(
            "Evaluations done",
            all_done,
            f"{p.evaluated} of {p.assigned} done" if p.assigned else "Nothing assigned yet.",
            judging + "/leaderboard",
            "Follow the judges' progress",
        ),
        Step(
            "Awards chosen",
            p.awards > 0,
            (
                f"{_plural(p.awards, 'award')}; winners picked for {p.picked}, the others go"
                " to the top ranks"
                if p.picked
                else f"{_plural(p.awards, 'award')}; winners: the top ranks"
            )
            if p.awards
            else "No awards: the results show the ranking only.",
            admin + "/tracks",
            "Add awards",
            optional=True,
        ),
        Step(
            "Results published",
            p.published,
            p.publish_blocker
            if p.publish_blocker
            else "Ready to publish: check the preview, then publish.",
            public + "/results",
            "See the published results" if p.published else "Preview the results",
        ),
    ]
    modes = [
        Mode(
            "Scores (rubric)",
            public + "/judging",
            judging + "#ranking-heading",
            f"{p.evaluated} of {p.assigned} assigned evaluations done"
            if p.assigned
            else "Judges score the projects assigned to them.",
        ),
        Mode(
            "Pairwise comparisons",
            public + "/judging/pairwise",
            judging + "?method=crowd_bt#ranking-heading",
            _plural(p.comparisons, "comparison")
            if p.comparisons
            else "Judges compare two projects at a time, at the expo tables.",
        ),
    ]
    if p.votes is not None:
        modes.append(
            Mode(
                "Public voting",
                None,
                None,
                f"{_plural(p.votes, 'vote')} in the voting window",
            )
        )
    closes = access.event.judging_closes_at
    return Checklist(
        steps,
        modes,
        p,
        admin + "/publish-results",
        public + "/results",
        clock(access.event.timezone)(closes) if closes else "",
    )


async def admin_context(
    session: AsyncSession, access: EventAccess, tab: str, **extra: Any
) -> dict[str, Any]:
    """What every admin page shows in its header: the event, its state, the tabs (and, on the
    tabs of `CHECKLIST_TABS`, the judging checklist)."""
    now = await db_now(session)
    state = state_at(access.event, now).value
    if tab in CHECKLIST_TABS:
        extra.setdefault("checklist", await judging_checklist(session, access, now))
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

    async def confirm(self, confirmation: Confirmation) -> Response:
        """The confirmation page of the action at this address, under the admin header."""
        return await self.render("events/admin/confirm.html", "", confirmation=confirmation)

    async def act_confirmed(
        self,
        back: str,
        action: Callable[[], Awaitable[R]],
        done: str | Callable[[R], str],
        **options: Any,
    ) -> Response:
        """`act_confirmed` of this page's request and session (same options)."""
        return await act_confirmed(self.request, self.session, back, action, done, **options)

    async def act_checked(self, back: str, **options: Any) -> Response:
        """`act_checked` of this page's request and session (same options)."""
        return await act_checked(self.request, self.session, back, **options)
