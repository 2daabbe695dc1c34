"""A person's private calendar feed: the ICS of "my events" at an address only they know.

- The address is `/calendar/<token>.ics`; the token (256 random bits) is the credential, so the
  feed needs no sign-in (calendar programs have no cookies). Only its SHA-256 is stored: the
  address is shown once, when it is made (as an API token's secret); whoever lost it makes a
  new one. Making a new address replaces the hash, so the old address stops working at once
  (404, as an address that never existed); turning the feed off deletes the row.
- My events: those I am registered for (registered, waitlisted or checked in; published and not
  archived), those I organize (an event role, or an organization role of organizer and up) and
  those I judge — in every organization, each read under its own tenant with me as the actor.
  Their windows come from `events.calendar.calendar_ics` (one function over event rows, so an
  event's schedule can join it later).
- Each change (made, renewed, turned off) is audited; a fetch changes nothing but
  `last_used_at`, written at most once an hour (the account page says when a calendar last
  fetched it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import digest, new_secret
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.events.calendar import CalendarRow, calendar_ics
from hackops.models import (
    ROLE_RANK,
    CalendarFeed,
    Event,
    EventRole,
    EventRoleGrant,
    Membership,
    Organization,
    OrgRole,
    Registration,
    RegistrationStatus,
    User,
)
from hackops.tenancy import set_actor, set_tenant

FEED_PATH = "/calendar/{token}.ics"
TOUCH_EVERY = timedelta(hours=1)
ATTENDING = (
    RegistrationStatus.REGISTERED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CHECKED_IN,
)


def feed_url(base_url: str, raw: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=raw)


async def feed_of(session: AsyncSession, user: User) -> CalendarFeed | None:
    return await session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


async def new_address(session: AsyncSession, actor: Actor, user: User) -> str:
    """A new address for my feed (the token; the old address, if any, stops working)."""
    raw, hashed = new_secret()
    current = await feed_of(session, user)
    if current is None:
        session.add(CalendarFeed(user_id=user.id, token_hash=hashed))
        action = "calendar_feed.created"
    else:
        current.token_hash = hashed
        current.created_at = await db_now(session)
        current.last_used_at = None
        action = "calendar_feed.renewed"
    await session.flush()
    await record(session, actor, action, resource_type="user", resource_id=user.id)
    return raw


async def turn_off(session: AsyncSession, actor: Actor, user: User) -> bool:
    """Delete my feed (its address answers 404 from now on); False when there was none."""
    gone = await session.execute(
        delete(CalendarFeed).where(CalendarFeed.user_id == user.id).returning(CalendarFeed.id)
    )
    if gone.first() is None:
        return False
    await record(session, actor, "calendar_feed.revoked", resource_type="user", resource_id=user.id)
    return True


async def owner_of(session: AsyncSession, raw: str) -> User | None:
    """The person whose feed `raw` opens (None: no such address, or the account is gone), made
    the actor of the transaction so their own rows become readable."""
    feed = await session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == digest(raw)))
    if feed is None:
        return None
    user = await session.get(User, feed.user_id)
    if user is None or user.deleted_at is not None or user.disabled_at is not None:
        return None
    now = await db_now(session)
    if feed.last_used_at is None or feed.last_used_at < now - TOUCH_EVERY:
        await session.execute(
            update(CalendarFeed).where(CalendarFeed.id == feed.id).values(last_used_at=now)
        )
    await set_actor(session, user.id, platform_admin=False)
    return user


@dataclass(frozen=True)
class MyEvent:
    org: Organization
    event: Event
    roles: frozenset[str]


async def my_events(session: AsyncSession, user: User) -> list[MyEvent]:
    """The events of my calendar, soonest first (see the module), whatever the tenant was."""
    await set_tenant(session, None)
    roles: dict[tuple[object, object], set[str]] = {}  # (org id, event id) -> roles
    by_org: dict[object, set[str]] = {}  # org id -> roles on every event of it
    for org_id, event_id in await session.execute(
        select(Registration.org_id, Registration.event_id).where(
            Registration.user_id == user.id, Registration.status.in_(ATTENDING)
        )
    ):
        roles.setdefault((org_id, event_id), set()).add("participant")
    for org_id, event_id, role in await session.execute(
        select(EventRoleGrant.org_id, EventRoleGrant.event_id, EventRoleGrant.role).where(
            EventRoleGrant.user_id == user.id,
            EventRoleGrant.role.in_((EventRole.ORGANIZER, EventRole.JUDGE)),
        )
    ):
        roles.setdefault((org_id, event_id), set()).add(str(role))
    for org_id, org_role in await session.execute(
        select(Membership.org_id, Membership.role).where(Membership.user_id == user.id)
    ):
        if ROLE_RANK[OrgRole(org_role)] >= ROLE_RANK[OrgRole.ORGANIZER]:
            by_org.setdefault(org_id, set()).add("organizer")
    org_ids = {o for o, _ in roles} | set(by_org)
    orgs = {
        org.id: org
        for org in await session.scalars(
            select(Organization).where(
                Organization.id.in_(org_ids), Organization.deleted_at.is_(None)
            )
        )
    }
    found: list[MyEvent] = []
    for org_id in sorted(orgs):
        await set_tenant(session, org_id)
        wanted = [e for o, e in roles if o == org_id]
        query = select(Event).where(Event.org_id == org_id, Event.archived_at.is_(None))
        if org_id not in by_org:  # an organization's organizers see all its events
            query = query.where(Event.id.in_(wanted))
        for event in await session.scalars(query):
            mine = roles.get((org_id, event.id), set()) | by_org.get(org_id, set())
            if mine == {"participant"} and event.published_at is None:
                continue  # a registration alone does not show a draft
            found.append(MyEvent(orgs[org_id], event, frozenset(mine)))
    await set_tenant(session, None)
    found.sort(key=lambda m: (m.event.starts_at is None, _start(m.event), m.event.name))
    return found


def _start(event: Event) -> float:
    return event.starts_at.timestamp() if event.starts_at is not None else 0.0


async def feed_ics(session: AsyncSession, user: User, base_url: str) -> bytes:
    """My calendar (see the module), stamped with the database clock."""
    events = await my_events(session, user)
    base = base_url.rstrip("/")
    rows = [
        CalendarRow(m.event, f"{base}/orgs/{m.org.slug}/events/{m.event.slug}", m.roles)
        for m in events
    ]
    return calendar_ics(rows, name="My events · HackOps", stamp=await db_now(session))
