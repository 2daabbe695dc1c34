"""Events of an organization: create, edit, and the explicit lifecycle actions.

Limits and where they hold:
- the plan's active events (not archived): the organization row is locked (FOR UPDATE) while
  counting, so two concurrent creations cannot both take the last slot;
- slug unique per organization: checked for a clear error, held by `uq_events_org_id_slug`;
- windows: checked here with a 422 naming the fields; the pairwise orders are also CHECKs;
- capacity not below the seats taken: the event row is locked before the check, and the CHECK
  `registered_within_capacity` holds it against any other path;
- team_max not below any team's size: teams' `max_members` are updated in the same statement
  family, and the CHECK `size_within_max` on teams holds it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, ValidationFailed
from hackops.events import hooks
from hackops.events.lifecycle import EventState, state_at
from hackops.events.schemas import EventUpdate
from hackops.models import Event, EventMode, Organization, Registration, Team, Visibility


class EventSlugTaken(Conflict):
    code = "event_slug_taken"
    message = "This organization already has an event at that address."


class EventLimitReached(Conflict):
    code = "event_limit_reached"
    message = "The organization's plan allows no more active events; archive one or upgrade."

    @classmethod
    def of(cls, org: Organization, active: int) -> EventLimitReached:
        """The refusal saying the limit, what is used, and who can raise it and how."""
        events = "event" if org.max_active_events == 1 else "events"
        are = "is" if active == 1 else "are"
        raise_with = f"hackops admin plan {org.slug} --max-active-events <number>"
        return cls(
            f"{org.name} has reached its plan's limit: {org.max_active_events} active {events}"
            f" (plan “{org.plan}”), and {active} {are} active now — drafts and published"
            " events count until they are archived. To create another, archive an event that is"
            " over, or ask a platform administrator to raise the limit (they run"
            f" “{raise_with}”, or use PATCH /api/v1/admin/organizations/{org.slug}).",
            details={
                "plan": org.plan,
                "max_active_events": org.max_active_events,
                "active_events": active,
                "raised_by": "a platform administrator",
                "raise_with": raise_with,
            },
        )


class InvalidWindows(ValidationFailed):
    code = "invalid_windows"
    message = "The event's dates do not fit together; see details."


class CapacityBelowRegistered(Conflict):
    code = "capacity_below_registered"
    message = "More people are already registered than this capacity allows."


class TeamMaxBelowMembers(Conflict):
    code = "team_max_below_members"
    message = "A team of this event already has more members than this maximum."


class EventArchived(Conflict):
    code = "event_archived"
    message = "This event is archived; it can no longer change."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = "The event is not in a state that allows this."


_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_description(text: str) -> str:
    """Markdown to HTML (raw HTML in the source is escaped), then sanitized with nh3."""
    if not text.strip():
        return ""
    return nh3.clean(_markdown.render(text), link_rel="noopener noreferrer nofollow")


def check_event(event: Event) -> None:
    """Reject impossible windows and settings with one 422 naming every offending field."""
    problems: list[dict[str, str]] = []

    def after(later: str, earlier: str, *, strict: bool = True, label: str = "") -> None:
        a: datetime | None = getattr(event, later)
        b: datetime | None = getattr(event, earlier)
        if a is None or b is None:
            return
        if a < b or (strict and a == b):
            word = "after" if strict else "at or after"
            problems.append({"field": later, "message": f"must be {word} {label or earlier}"})

    after("registration_closes_at", "registration_opens_at")
    after("starts_at", "registration_opens_at", strict=False)
    after("submissions_close_at", "starts_at")
    after("submissions_close_at", "registration_closes_at", strict=False)
    if event.judging_closes_at is not None and event.submissions_close_at is not None:
        deadline = event.submissions_close_at + timedelta(minutes=event.grace_minutes)
        if event.judging_closes_at <= deadline:
            problems.append(
                {
                    "field": "judging_closes_at",
                    "message": "must be after submissions_close_at plus grace_minutes",
                }
            )
    after("voting_closes_at", "voting_opens_at")
    if event.team_min > event.team_max:
        problems.append({"field": "team_max", "message": "must be at least team_min"})
    if event.mode != EventMode.ONLINE and not event.venue:
        problems.append({"field": "venue", "message": f"is required for a {event.mode} event"})
    if problems:
        raise InvalidWindows(details=problems)


async def _lock_org(session: AsyncSession, org: Organization) -> None:
    await session.execute(
        select(Organization.id).where(Organization.id == org.id).with_for_update()
    )


async def active_event_count(session: AsyncSession, org: Organization) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.org_id == org.id, Event.archived_at.is_(None))
    )
    return int(count or 0)


async def create_event(
    session: AsyncSession, actor: Actor, org: Organization, values: dict[str, Any]
) -> Event:
    """Create a draft event (organizers and up; the caller has authorized)."""
    await _lock_org(session, org)
    active = await active_event_count(session, org)
    if active >= org.max_active_events:
        raise EventLimitReached.of(org, active)
    taken = await session.scalar(
        select(Event.id).where(Event.org_id == org.id, Event.slug == values["slug"])
    )
    if taken is not None:
        raise EventSlugTaken
    event = Event(org_id=org.id, **values)
    # Server defaults are not on the object before the insert; check with the real defaults.
    for key, default in (("mode", "online"), ("venue", ""), ("grace_minutes", 0)):
        if getattr(event, key) is None:
            setattr(event, key, default)
    for key, default in (("team_min", 1), ("team_max", 5)):
        if getattr(event, key) is None:
            setattr(event, key, default)
    check_event(event)
    event.description_html = render_description(event.description or "")
    session.add(event)
    await session.flush()
    await session.refresh(event)
    await record(
        session,
        actor,
        "event.created",
        resource_type="event",
        resource_id=event.id,
        org_id=org.id,
        details={"slug": event.slug, "name": event.name},
    )
    return event


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def update_event(
    session: AsyncSession, actor: Actor, event: Event, body: EventUpdate
) -> Event:
    """Edit an event's settings. Capacity and team size changes are checked against what exists."""
    changes = body.changes()
    if event.archived_at is not None:
        raise EventArchived
    # Lock the row: registrations take seats by updating it, so the capacity check cannot race.
    await session.refresh(event, with_for_update=True)
    changed = {k: v for k, v in changes.items() if getattr(event, k) != v}
    if not changed:
        return event
    for key, value in changed.items():
        setattr(event, key, value)
    check_event(event)
    if (
        "capacity" in changed
        and event.capacity is not None
        and event.capacity < event.registered_count
    ):
        raise CapacityBelowRegistered(details={"registered_count": event.registered_count})
    if "team_max" in changed:
        largest = await session.scalar(
            select(func.max(Team.member_count)).where(
                Team.event_id == event.id, Team.disbanded_at.is_(None)
            )
        )
        if largest is not None and largest > event.team_max:
            raise TeamMaxBelowMembers(details={"largest_team": largest})
        await session.execute(
            update(Team)
            .where(Team.event_id == event.id, Team.disbanded_at.is_(None))
            .values(max_members=event.team_max)
            .execution_options(synchronize_session=False)
        )
    if "description" in changed:
        event.description_html = render_description(event.description)
    await session.flush()
    await session.refresh(event)
    await record(
        session,
        actor,
        "event.updated",
        resource_type="event",
        resource_id=event.id,
        org_id=event.org_id,
        details={k: _plain(v) for k, v in changed.items() if k != "description"},
    )
    if "capacity" in changed:
        # Seats freed by a larger (or no) capacity go to the waitlist, first come first served,
        # in this same transaction (each promotion is audited and mailed on its own).
        await hooks.capacity_changed.send(session, actor, hooks.CapacityChanged(event_id=event.id))
        await session.refresh(event)  # the seat counter may have moved
    return event


async def _transition(
    session: AsyncSession, actor: Actor, event: Event, action: str, **values: Any
) -> Event:
    for key, value in values.items():
        setattr(event, key, value)
    await session.flush()
    await session.refresh(event)
    await record(
        session,
        actor,
        f"event.{action}",
        resource_type="event",
        resource_id=event.id,
        org_id=event.org_id,
    )
    return event


async def _locked_state(session: AsyncSession, event: Event) -> tuple[EventState, datetime]:
    await session.refresh(event, with_for_update=True)
    now: datetime = await db_now(session)
    return state_at(event, now), now


async def publish(session: AsyncSession, actor: Actor, event: Event) -> Event:
    """draft -> published: the event becomes visible (and, by its windows, open)."""
    state, now = await _locked_state(session, event)
    if state is EventState.ARCHIVED:
        raise EventArchived
    if state is not EventState.DRAFT:
        raise InvalidTransition("The event is already published.", code="already_published")
    return await _transition(session, actor, event, "published", published_at=now)


async def unpublish(session: AsyncSession, actor: Actor, event: Event) -> Event:
    """published -> draft, only while nobody has registered (registrations would dangle)."""
    state, _ = await _locked_state(session, event)
    if state is EventState.ARCHIVED:
        raise EventArchived
    if state is EventState.DRAFT:
        raise InvalidTransition("The event is not published.", code="not_published")
    if state is EventState.RESULTS_PUBLISHED:
        raise InvalidTransition("Results are published; archive the event instead.")
    if await session.scalar(select(exists().where(Registration.event_id == event.id))):
        raise InvalidTransition(
            "People have registered; the event can no longer go back to draft.",
            code="event_has_registrations",
        )
    return await _transition(session, actor, event, "unpublished", published_at=None)


async def publish_results(session: AsyncSession, actor: Actor, event: Event) -> Event:
    """judging -> results published: allowed once submissions (with grace) have closed.

    Publishing closes judging: a judging window still open (or without an end) ends now, so the
    event's dates say what happened; from here on no judge's action moves a ranking (the
    judging services refuse, and the database too: migration 0022)."""
    state, now = await _locked_state(session, event)
    if state is EventState.ARCHIVED:
        raise EventArchived
    if state is EventState.RESULTS_PUBLISHED:
        raise InvalidTransition("Results are already published.", code="results_already_published")
    if state is not EventState.JUDGING:
        raise InvalidTransition(
            "Results can be published once submissions have closed.", code="results_too_early"
        )
    values: dict[str, Any] = {"results_published_at": now}
    if (event.judging_closes_at is None or event.judging_closes_at > now) and (
        event.submissions_close_at is None or now > event.submissions_close_at
    ):  # the CHECK: judging closes after submissions do
        values["judging_closes_at"] = now
    return await _transition(session, actor, event, "results_published", **values)


async def archive(session: AsyncSession, actor: Actor, event: Event) -> Event:
    """any -> archived: read-only from now on; no longer counts against the plan."""
    state, now = await _locked_state(session, event)
    if state is EventState.ARCHIVED:
        raise EventArchived("The event is already archived.")
    return await _transition(session, actor, event, "archived", archived_at=now)


async def list_org_events(
    session: AsyncSession, org: Organization, *, everything: bool, offset: int, limit: int
) -> list[Event]:
    """An organization's events, newest first, archived last. `everything` (organizers) includes
    drafts and private events; other members see what the public can open (as `EventDep`)."""
    query = select(Event).where(Event.org_id == org.id)
    if not everything:
        query = query.where(
            Event.published_at.is_not(None),
            Event.visibility.in_([Visibility.PUBLIC, Visibility.UNLISTED]),
        )
    rows = await session.scalars(
        query.order_by(
            Event.archived_at.is_not(None),
            Event.starts_at.desc().nulls_first(),
            Event.created_at.desc(),
            Event.id,
        )
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


def require_writable(event: Event) -> None:
    """Tracks, awards and roles of an archived event are frozen."""
    if event.archived_at is not None:
        raise EventArchived


async def audit_event_child(
    session: AsyncSession,
    actor: Actor,
    action: str,
    kind: str,
    ident: uuid.UUID,
    event: Event,
    details: dict[str, Any],
) -> None:
    """Audit a change to one of the event's tracks, awards or roles."""
    await record(
        session,
        actor,
        action,
        resource_type=kind,
        resource_id=ident,
        org_id=event.org_id,
        details={"event_id": str(event.id), **details},
    )
