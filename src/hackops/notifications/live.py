"""Live push, the receiving half: one listening connection per web process, fanning the news
out to that process's open sockets.

- A `hackops.listening.Listener` holds ONE PostgreSQL connection per process with
  `LISTEN hackops_notifications` (started by the first socket, so a process nobody watches
  holds none). When the connection dies it reconnects with backoff, without a restart, and
  then re-sends every open socket its unread count, so nothing missed in the gap stays wrong.
  Readiness reports it (`Hub.check`): degraded while it is down (pages fall back to polling).
- `Hub` keeps the process's subscribers by person. A payload (`push.parse`) names people and
  the dedupe key of their new notifications; for the people with a socket here, ONE short
  transaction loads those notifications and their unread counts, and each subscriber's queue
  gets them. A queue is bounded: a socket that cannot keep up loses the oldest messages (the
  unread count, sent last, is always current; the centre lists everything).
- Who may keep a socket: `allowed` resolves the session or token again, as the request path
  does (revoked, expired, a disabled account: None); the socket calls it periodically.

The hub reads across people as the platform (as the outbox's dispatcher does), and only ever
hands each person's rows to that person's own subscribers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.auth_tokens import resolve_token
from hackops.db import Database
from hackops.health.checks import Degraded
from hackops.listening import Listener, State
from hackops.models import Notification, TokenKind
from hackops.notifications.centre import BADGE_CAP, unread_count
from hackops.notifications.push import CHANNEL, parse
from hackops.notifications.schemas import notification_out
from hackops.tenancy import set_actor

log = structlog.get_logger("hackops.notifications.live")

APPLICATION_NAME = "hackops-notify"
#: Messages waiting for one socket; beyond it the oldest are dropped.
QUEUE_SIZE = 50

Message = dict[str, Any]


@dataclass(eq=False)
class Subscriber:
    """One open socket of one person: the messages waiting for it."""

    user_id: uuid.UUID
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, message: Message) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # the oldest goes; the unread count comes last anyway
        self.queue.put_nowait(message)


class Hub:
    """This process's subscribers by person, fed by the listener (see the module's docstring)."""

    def __init__(self, database: Database, url: str | None) -> None:
        self.database = database
        self.listener = (
            Listener(
                url, CHANNEL, self._on_payload, self._resync, application_name=APPLICATION_NAME
            )
            if url
            else None
        )
        self.subscribers: dict[uuid.UUID, set[Subscriber]] = {}

    @property
    def sockets(self) -> int:
        return sum(len(subs) for subs in self.subscribers.values())

    def subscribe(self, user_id: uuid.UUID) -> Subscriber:
        subscriber = Subscriber(user_id)
        self.subscribers.setdefault(user_id, set()).add(subscriber)
        if self.listener is not None:
            self.listener.start()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subs = self.subscribers.get(subscriber.user_id)
        if subs is not None:
            subs.discard(subscriber)
            if not subs:
                del self.subscribers[subscriber.user_id]

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.stop()

    async def check(self) -> dict[str, Any]:
        """Readiness: degraded while the listener is down (open pages poll meanwhile)."""
        details: dict[str, Any] = {"sockets": self.sockets}
        listener = self.listener
        if listener is None:
            return {**details, "listener": "off"}
        details.update(listener=listener.state.value, connects=listener.connects)
        if listener.state in (State.DOWN, State.CONNECTING) and (
            listener.connects or listener.last_error
        ):
            raise Degraded(
                "live notifications cannot reach the database; open pages poll until it is back",
                details,
            )
        return details

    def _here(self, people: Iterable[uuid.UUID]) -> list[uuid.UUID]:
        return [person for person in people if person in self.subscribers]

    async def _on_payload(self, payload: str) -> None:
        key, people = parse(payload)
        here = self._here(people)
        if here:
            await self.push(here, key)

    async def _resync(self) -> None:
        here = list(self.subscribers)
        for start in range(0, len(here), 500):
            await self.push(here[start : start + 500], None)

    async def push(self, people: list[uuid.UUID], key: str | None) -> None:
        """Send `people`'s new notifications (by `key`) and unread counts to their sockets."""
        async with self.database.transaction() as session:
            await set_actor(session, None, platform_admin=True)
            rows = await _new_rows(session, people, key)
            counts = await _unread_counts(session, people)
        for person in people:
            subs = self.subscribers.get(person, ())
            messages: list[Message] = [
                {"type": "notification", "notification": row} for row in rows.get(person, [])
            ]
            messages.append({"type": "unread", "unread": counts.get(person, 0)})
            for subscriber in list(subs):
                for message in messages:
                    subscriber.offer(message)


async def _new_rows(
    session: AsyncSession, people: list[uuid.UUID], key: str | None
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    if key is None:
        return {}
    rows = await session.scalars(
        select(Notification).where(Notification.dedupe_key == key, Notification.user_id.in_(people))
    )
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.user_id, []).append(notification_out(row).model_dump(mode="json"))
    return found


async def _unread_counts(session: AsyncSession, people: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    unread = (
        select(Notification.user_id, func.count())
        .where(Notification.user_id.in_(people), Notification.read_at.is_(None))
        .group_by(Notification.user_id)
    )
    return {user_id: min(int(count), BADGE_CAP) for user_id, count in await session.execute(unread)}


@dataclass(frozen=True)
class Access:
    user_id: uuid.UUID
    unread: int


async def allowed(database: Database, raw_token: str) -> Access | None:
    """Whether the session or token may (still) hold a socket, and the person's unread count;
    None when it is unknown, revoked or expired, or the account disabled — as the request
    path's `get_actor` decides. An API token needs the `read` (or `write`) scope."""
    async with database.transaction() as session:
        resolved = await resolve_token(session, raw_token)
        if resolved is None:
            return None
        token, user = resolved
        if token.kind == TokenKind.API and not {"read", "write"} & set(token.scopes):
            return None
        await set_actor(session, user.id)
        return Access(user.id, await unread_count(session, user.id, cap=BADGE_CAP))
