"""Hooks: how a lower domain has an upper one follow up on a change without importing it.

The layer order (`docs/conventions.md`) lets imports point down only. When a change in a lower
domain needs a follow-up that belongs to an upper one (a judge granted → the judging assignment
is re-balanced), the lower domain declares a `Hook` next to its service, with the domain event it
sends: a frozen dataclass named for what happened (`JudgeAdded`), holding ids and plain values,
whose `name` is "<domain>.<what happened>". The upper domain writes the handler; `hackops.wiring`
connects every handler, and every entry point (create_app, the worker and the CLI commands that
run domain code, the tests) calls it before any service runs.

Invariants:
- One handler per hook. Connecting the same handler again changes nothing (create_app runs many
  times in one test process); connecting another raises `HookAlreadyConnected`.
- `send` with no handler raises `HookNotConnected`: a follow-up is never skipped silently.
- The handler runs before `send` returns, in the sender's session and transaction, with the
  sender's actor: what it writes (rows, audit records, mails, jobs) commits or rolls back with
  the change, at the point of the sender's choosing, so the order of effects is the sender's.
- A handler loads what it needs by the event's ids (`session.get`: the objects the sender holds,
  from the session's identity map), so an event stays plain data that a persistent outbox can
  store later (issue 13). What a handler returns is for the sender's caller only (a sentence to
  the person who acted); it is not part of the event.

A lookup is the same mechanism for one read across the layers: a lower domain that shows what an
upper one computed (a submission's standing in the published results) declares the question as a
hook whose handler answers it. Lookups change nothing and never go to an outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor


class DomainEvent(Protocol):
    """What a hook carries: a frozen dataclass of ids and plain values with a stable name."""

    name: ClassVar[str]


E = TypeVar("E", bound=DomainEvent)
R = TypeVar("R")

Handler = Callable[[AsyncSession, Actor, E], Awaitable[R]]


class HookNotConnected(RuntimeError):
    """A hook was sent before its handler was connected (`hackops.wiring.connect()` not called
    by this entry point): the change is refused rather than left without its follow-up."""


class HookAlreadyConnected(RuntimeError):
    """A second, different handler for one hook: each follow-up has exactly one place."""


class Hook(Generic[E, R]):
    """A domain event's hook: declared by the domain that sends it, handled by the one above."""

    def __init__(self, event: type[E]) -> None:
        self.event = event
        self.name: str = event.name
        self._handler: Handler[E, R] | None = None

    def __repr__(self) -> str:
        return f"Hook({self.name})"

    @property
    def handler(self) -> Handler[E, R] | None:
        return self._handler

    def connect(self, handler: Handler[E, R]) -> None:
        if self._handler is not None and self._handler is not handler:
            raise HookAlreadyConnected(
                f"{self.name} is handled by {_qualname(self._handler)};"
                f" {_qualname(handler)} cannot handle it too"
            )
        self._handler = handler

    async def send(self, session: AsyncSession, actor: Actor, event: E) -> R:
        """Run the handler in this transaction and return what it answers."""
        if not isinstance(event, self.event):
            raise TypeError(f"{self.name} carries {self.event.__name__}, not {event!r}")
        if self._handler is None:
            raise HookNotConnected(
                f"{self.name} was sent but has no handler: the entry point must call"
                " hackops.wiring.connect() first"
            )
        return await self._handler(session, actor, event)


def _qualname(handler: Any) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
