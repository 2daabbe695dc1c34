"""An event's per-event roles (organizer, judge, mentor), granted to accounts.

Roles go to accounts whose address is confirmed; any other address gets an invitation instead
(`events.roles.invitations`). Granting or revoking the judge role re-balances an existing
assignment run in the same transaction: the `roles.hooks` judge events, handled by
`judging.assignment.rebalance`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import normalize_email
from hackops.actor import Actor
from hackops.errors import Conflict, NotFound
from hackops.events.roles import hooks
from hackops.events.service import audit_event_child, require_writable
from hackops.models import Event, EventRole, EventRoleGrant, User


class RoleGrantNotFound(NotFound):
    code = "role_grant_not_found"
    message = "No such role in this event."


class RoleAlreadyGranted(Conflict):
    code = "role_already_granted"
    message = "That person already has this role in this event."


@dataclass(frozen=True)
class Granted:
    """A role given to someone with an account; `rebalance` is what granting the judge role did
    to an existing assignment run (None: no run, or not a judge)."""

    grant: EventRoleGrant
    user: User
    rebalance: hooks.Reassigned | None


async def list_role_grants(
    session: AsyncSession, event: Event
) -> list[tuple[EventRoleGrant, User]]:
    rows = await session.execute(
        select(EventRoleGrant, User)
        .join(User, User.id == EventRoleGrant.user_id)
        .where(EventRoleGrant.event_id == event.id)
        .order_by(EventRoleGrant.role, User.email)
    )
    return [(grant, user) for grant, user in rows]


async def find_account(session: AsyncSession, email: str) -> User | None:
    """The account using this address (422 if it is not an address), or None."""
    return await session.scalar(
        select(User).where(User.email == normalize_email(email), User.deleted_at.is_(None))
    )


async def grant_role(
    session: AsyncSession,
    actor: Actor,
    event: Event,
    user: User,
    role: str,
    *,
    details: dict[str, Any] | None = None,
) -> Granted:
    """Give an account a role in this event. A new judge joins an existing assignment run
    (re-balanced in this transaction: `hooks.judge_added`)."""
    require_writable(event)
    existing = await session.scalar(
        select(EventRoleGrant.id).where(
            EventRoleGrant.event_id == event.id,
            EventRoleGrant.user_id == user.id,
            EventRoleGrant.role == role,
        )
    )
    if existing is not None:
        raise RoleAlreadyGranted
    grant = EventRoleGrant(org_id=event.org_id, event_id=event.id, user_id=user.id, role=role)
    session.add(grant)
    await session.flush()
    await session.refresh(grant)
    await audit_event_child(
        session,
        actor,
        "event_role.granted",
        "event_role",
        grant.id,
        event,
        {"user_id": str(user.id), "role": role, **(details or {})},
    )
    rebalance = None
    if role == EventRole.JUDGE:
        rebalance = await hooks.judge_added.send(
            session, actor, hooks.JudgeAdded(event_id=event.id, judge_id=user.id)
        )
    return Granted(grant, user, rebalance)


async def revoke_role(
    session: AsyncSession, actor: Actor, event: Event, grant_id: uuid.UUID
) -> hooks.Reassigned | None:
    """Take a role back. A judge's unstarted reviews go to the others; their submitted
    evaluations stay and count (`hooks.judge_removed`)."""
    grant = await session.scalar(
        select(EventRoleGrant).where(
            EventRoleGrant.event_id == event.id, EventRoleGrant.id == grant_id
        )
    )
    if grant is None:
        raise RoleGrantNotFound
    await session.delete(grant)
    await session.flush()
    await audit_event_child(
        session,
        actor,
        "event_role.revoked",
        "event_role",
        grant.id,
        event,
        {"user_id": str(grant.user_id), "role": grant.role},
    )
    if grant.role != EventRole.JUDGE:
        return None
    return await hooks.judge_removed.send(
        session, actor, hooks.JudgeRemoved(event_id=event.id, judge_id=grant.user_id)
    )
