"""A rule's answer (`Telling`: people and the message for them) and the registry of rules."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboxEvent
from hackops.notifications.service import Message
from hackops.outbox.catalog import Payload


@dataclass(frozen=True)
class Telling:
    user_ids: Sequence[uuid.UUID]
    message: Message


Rule = Callable[[AsyncSession, OutboxEvent, Payload], Awaitable[list[Telling]]]
RULES: dict[str, Rule] = {}


def rule(*types: str) -> Callable[[Rule], Rule]:
    """Register the rule of one or more event types."""

    def register(fn: Rule) -> Rule:
        for type_ in types:
            if type_ in RULES and RULES[type_] is not fn:
                raise RuntimeError(f"{type_} already has a rule")
            RULES[type_] = fn
        return fn

    return register
