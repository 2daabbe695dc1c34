"""Hooks (`hackops.hooks`): a follow-up is never skipped silently, each hook has one handler,
and `wiring.connect()` (called by every entry point) connects every hook a domain declares."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import hackops
from hackops import wiring
from hackops.actor import SYSTEM, Actor
from hackops.hooks import Hook, HookAlreadyConnected, HookNotConnected


@dataclass(frozen=True)
class Happened:
    name: ClassVar[str] = "tests.happened"
    thing_id: uuid.UUID


async def answer(session: AsyncSession, actor: Actor, happened: Happened) -> str:
    return f"handled {happened.thing_id}"


async def other(session: AsyncSession, actor: Actor, happened: Happened) -> str:
    return "someone else"


async def test_a_send_with_no_handler_fails_loudly(session: AsyncSession) -> None:
    hook: Hook[Happened, str] = Hook(Happened)
    with pytest.raises(HookNotConnected, match=r"tests\.happened was sent but has no handler"):
        await hook.send(session, SYSTEM, Happened(uuid.uuid4()))


async def test_one_handler_per_hook_runs_in_the_senders_session(session: AsyncSession) -> None:
    hook: Hook[Happened, str] = Hook(Happened)
    hook.connect(answer)
    hook.connect(answer)  # every entry point connects again: nothing changes
    with pytest.raises(HookAlreadyConnected):
        hook.connect(other)
    thing = uuid.uuid4()
    assert await hook.send(session, SYSTEM, Happened(thing)) == f"handled {thing}"


def declared_hooks() -> list[Hook[Any, Any]]:
    """Every hook the domains declare (in their `hooks` modules, docs/conventions.md)."""
    found = []
    for module in pkgutil.walk_packages(hackops.__path__, "hackops."):
        if module.name.rsplit(".", 1)[-1] != "hooks" or module.name == "hackops.hooks":
            continue
        loaded = importlib.import_module(module.name)
        found += [value for value in vars(loaded).values() if isinstance(value, Hook)]
    return found


def test_wiring_connects_every_declared_hook() -> None:
    wiring.connect()
    hooks = declared_hooks()
    assert sorted(h.name for h in hooks) == [
        "events.capacity_changed",
        "events.judge_added",
        "events.judge_removed",
        "registrations.registration_cancelled",
        "submissions.standing_asked",
    ]
    assert [h.name for h in hooks if h.handler is None] == []
