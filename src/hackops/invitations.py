"""One invitation core: the life cycle that organization, event-role and team invitations share.

Each domain keeps its own table (`org_invitations`, `event_role_invitations`,
`team_invitations`), routes, pages, mails and error codes. It describes its table once (a
`Kind`: the model, the audit name, its state columns, its errors) and calls this module for each
step, so the rules below hold for all three by construction:

    issued ──► pending ──► exactly one of: accepted · declined · revoked   (stored, once)
                   └─────► expired                                         (derived, never written)

- **issued** (`mint`): a random token is mailed once; only its SHA-256 is stored (`token_hash`,
  unique), with the addressee — a normalized email address, and for a team invitation by user
  id also that account (`Kind.user_column`) — and `expires_at`, `INVITATION_LIFETIME` after the
  database clock. Resending (event roles) is `renew`: a new token and a new expiry, the old link
  stops working; it is the only way an expired invitation becomes pending again.
- **pending** while nothing is settled and the database clock (`app_now()`) is before
  `expires_at` (`state`, `find`, `pending`, `unexpired`). A link that finds no row, or a row
  that is used, revoked or expired, is refused with the domain's own error for that case
  (`Refusals`: organizations and teams answer one 404 for all; event roles tell them apart).
- **settled** (`settle`, `transition`) by ONE guarded statement,
  `UPDATE … SET <outcome> WHERE id = :id AND <still pending> [AND expires_at > app_now()]
  RETURNING …`. Two concurrent accepts (or an accept and a revoke) both reach it; PostgreSQL
  serializes them on the row and re-checks the guard for the second, which updates nothing and is
  refused with the error for what it then finds. Single use is held by the database, whatever
  the domain locked before (domains still lock where their own lock order needs it). Revoking
  does not look at the expiry (an expired invitation can be withdrawn); accepting and declining
  do.
- **accepted only by its addressee**: `require_addressee` — the signed-in account's address is
  the invited one (or, for a team invitation by user id, it is that account). `settle` checks it
  again for every answer (accepted, declined) of the addressee, so no domain can accept without
  it. Holding the link is the proof of the address: a kind whose acceptance proves it
  (`Kind.proves_address`: organizations, event roles) marks the accepting account's address
  verified, with the database clock of the acceptance; teams do not.
- **audited**: every transition writes one audit row in its transaction (`audit`): action
  `<Kind.name>.<created|resent|accepted|declined|revoked>`, resource the invitation — or what an
  acceptance made (a membership, a grant) —, `org_id` the invitation's, details the kind's scope
  (`Kind.scope`: event and team ids) and the step's own. The two unaudited transitions
  (`transition`, `close_pending`) are recorded by the caller with the change that made the
  invitation pointless (a replacement, a direct grant).

The tables hold the stored states in one of two models (`Stamps`, `Status`): timestamps
(`accepted_at` + `accepted_by_id`, `revoked_at`: organizations, event roles) or a status column
(`status`, `decided_at`, the acceptor in `invited_user_id`: teams). Framework-free (held by the
`services-framework-free` contract): the domains' services call it, never a route.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hackops.accounts.credentials import digest, new_secret
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import AppError
from hackops.models import User

INVITATION_LIFETIME = timedelta(days=7)


class State(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


class InvitationRow(Protocol):
    """What every invitation table has (the ORM classes match it structurally)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def org_id(self) -> uuid.UUID: ...
    @property
    def email(self) -> str: ...
    @property
    def token_hash(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


Row = TypeVar("Row", bound=InvitationRow)


@dataclass(frozen=True)
class Refusals:
    """The domain's errors for each way a link or an answer is refused. Their codes, statuses and
    messages are the domain's API (tests assert them); a domain that does not tell the cases
    apart names the same class several times."""

    not_found: type[AppError]
    used: type[AppError]
    revoked: type[AppError]
    expired: type[AppError]
    other_address: type[AppError]

    @classmethod
    def one(cls, unusable: type[AppError], *, other_address: type[AppError]) -> Refusals:
        """One error for every unusable link (unknown, used, revoked, expired alike)."""
        return cls(unusable, unusable, unusable, unusable, other_address)

    def for_state(self, state: State | None) -> type[AppError]:
        """The error for an invitation in `state`; None is no such row (or none in reach)."""
        if state in (State.ACCEPTED, State.DECLINED):
            return self.used
        if state is State.REVOKED:
            return self.revoked
        if state is State.EXPIRED:
            return self.expired
        return self.not_found


@dataclass(frozen=True)
class Stamps:
    """Stored states as timestamps: `accepted_at` (+ `accepted_by_id`), `revoked_at`."""

    def pending(self, model: Any) -> list[ColumnElement[bool]]:
        return [model.accepted_at.is_(None), model.revoked_at.is_(None)]

    def settled(self, outcome: State, by: uuid.UUID | None, at: Any) -> dict[str, Any]:
        if outcome is State.ACCEPTED:
            return {"accepted_at": at, "accepted_by_id": by}
        if outcome is State.REVOKED:
            return {"revoked_at": at}
        raise ValueError(f"this kind of invitation cannot be {outcome}")

    def stored(self, invitation: Any) -> State:
        if invitation.accepted_at is not None:
            return State.ACCEPTED
        if invitation.revoked_at is not None:
            return State.REVOKED
        return State.PENDING


@dataclass(frozen=True)
class Status:
    """Stored states in a `status` column with `decided_at`; an acceptance also records the
    accepting account in `by_column`."""

    by_column: str

    def pending(self, model: Any) -> list[ColumnElement[bool]]:
        return [model.status == State.PENDING.value]

    def settled(self, outcome: State, by: uuid.UUID | None, at: Any) -> dict[str, Any]:
        if outcome not in (State.ACCEPTED, State.DECLINED, State.REVOKED):
            raise ValueError(f"an invitation cannot be settled as {outcome}")
        changes: dict[str, Any] = {"status": outcome.value, "decided_at": at}
        if outcome is State.ACCEPTED:
            changes[self.by_column] = by
        return changes

    def stored(self, invitation: Any) -> State:
        return State(invitation.status)


def _no_scope(invitation: Any) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Kind(Generic[Row]):
    """One domain's invitations: its table, its audit name (action prefix and resource type),
    its stored-state model and its errors."""

    model: type[Row]
    name: str
    states: Stamps | Status
    refusals: Refusals
    #: Audit details every row of this kind carries (the ids that place it).
    scope: Callable[[Row], Mapping[str, str]] = field(default=_no_scope)
    #: The column naming the invited account, when an invitation can name one.
    user_column: str | None = None
    #: Whether accepting with the mailed link proves the account's address (marks it verified).
    proves_address: bool = False


# --- issuing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Minted:
    token: str  #: the raw token, mailed once and never stored
    token_hash: str
    expires_at: datetime


def mint(now: datetime) -> Minted:
    """A new token and the expiry of an invitation issued at `now` (the database clock)."""
    raw, hashed = new_secret()
    return Minted(raw, hashed, now + INVITATION_LIFETIME)


async def renew(session: AsyncSession, invitation: Any) -> str:
    """A new token and a new expiry for a pending invitation (its previous link stops working);
    returns the raw token to mail."""
    minted = mint(await db_now(session))
    invitation.token_hash, invitation.expires_at = minted.token_hash, minted.expires_at
    await session.flush()
    return minted.token


# --- reading -------------------------------------------------------------------------------------


def pending(kind: Kind[Any]) -> list[ColumnElement[bool]]:
    """WHERE clauses: nothing settled yet (expired ones included)."""
    return kind.states.pending(kind.model)


def unexpired(kind: Kind[Any]) -> ColumnElement[bool]:
    """WHERE clause: not expired by the database clock."""
    model: Any = kind.model
    return cast(ColumnElement[bool], model.expires_at > func.app_now())


def state(kind: Kind[Row], invitation: Row, now: datetime) -> State:
    stored = kind.states.stored(invitation)
    if stored is State.PENDING and invitation.expires_at <= now:
        return State.EXPIRED
    return stored


async def find(
    session: AsyncSession,
    kind: Kind[Row],
    token: str,
    *scope: ColumnElement[bool],
    lock: bool = False,
) -> Row:
    """The pending, unexpired invitation of this link within `scope` (locked FOR UPDATE with
    `lock`), or the kind's refusal for what the link finds. Never consumes it."""
    model: Any = kind.model
    query = (
        select(model)
        .where(*scope, model.token_hash == digest(token))
        .execution_options(populate_existing=True)
    )
    invitation: Row | None = await session.scalar(query.with_for_update() if lock else query)
    if invitation is None:
        raise kind.refusals.not_found
    found = state(kind, invitation, await db_now(session))
    if found is not State.PENDING:
        raise kind.refusals.for_state(found)
    return invitation


async def pending_by_id(
    session: AsyncSession,
    kind: Kind[Row],
    invitation_id: uuid.UUID,
    *scope: ColumnElement[bool],
    missing: type[AppError],
) -> Row:
    """The pending invitation with this id within `scope` (expired ones included: they can be
    revoked or resent), locked FOR UPDATE; `missing` otherwise."""
    model: Any = kind.model
    invitation: Row | None = await session.scalar(
        select(model)
        .where(model.id == invitation_id, *scope, *pending(kind))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        raise missing
    return invitation


async def inviter_name(session: AsyncSession, invitation: Any) -> str:
    """The name of who sent the invitation, as the invited person sees it ("" when the account
    is gone or has no name). Only the name: never their address or anything else."""
    inviter_id = getattr(invitation, "invited_by_id", None)
    inviter = await session.get(User, inviter_id) if inviter_id is not None else None
    return inviter.name if inviter is not None and inviter.deleted_at is None else ""


def is_addressee(kind: Kind[Row], invitation: Row, user: User) -> bool:
    """The invitation is this account's: its address is the invited one, or (by user id) it is
    the invited account."""
    if invitation.email == user.email:
        return True
    return kind.user_column is not None and getattr(invitation, kind.user_column) == user.id


def require_addressee(kind: Kind[Row], invitation: Row, user: User) -> None:
    """`is_addressee`, or the kind's `other_address` refusal."""
    if not is_addressee(kind, invitation, user):
        raise kind.refusals.other_address


# --- settling ------------------------------------------------------------------------------------


async def transition(
    session: AsyncSession,
    kind: Kind[Row],
    invitation: Row,
    outcome: State,
    *,
    by: User | None = None,
) -> datetime:
    """Pending → `outcome` with one guarded UPDATE … RETURNING (no audit row: see `settle`).
    The guard is "still pending", and for an answer (accepted, declined) "not expired" too; a
    loser of a race, or a settled or expired invitation, gets the kind's refusal for the state
    it finds. The object's columns take the stored values; returns when (the database clock)."""
    model: Any = kind.model
    guard = [model.id == invitation.id, *pending(kind)]
    if outcome is not State.REVOKED:
        guard.append(unexpired(kind))
    changes = kind.states.settled(outcome, by.id if by is not None else None, func.app_now())
    row = (
        await session.execute(
            update(model)
            .where(*guard)
            .values(changes)
            .returning(*(getattr(model, name) for name in changes), func.app_now())
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        raise await _refusal(session, kind, invitation)
    *stored, at = row
    for name, value in zip(changes, stored, strict=True):
        set_committed_value(invitation, name, value)
    return cast(datetime, at)


async def _refusal(session: AsyncSession, kind: Kind[Row], invitation: Row) -> AppError:
    """Why a guarded settlement updated nothing: the state the row is in now."""
    model: Any = kind.model
    current: Row | None = await session.scalar(
        select(model).where(model.id == invitation.id).execution_options(populate_existing=True)
    )
    found = None if current is None else state(kind, current, await db_now(session))
    return kind.refusals.for_state(found)()


async def settle(
    session: AsyncSession,
    kind: Kind[Row],
    actor: Actor,
    invitation: Row,
    outcome: State,
    *,
    by: User | None = None,
    resource: tuple[str, uuid.UUID] | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Close the invitation as `outcome`, once, and audit it. An answer of the addressee
    (accepted, declined) names them as `by` and is refused unless they are the addressee; an
    acceptance records them, and proves their address where the kind says so."""
    if outcome in (State.ACCEPTED, State.DECLINED):
        if by is None:
            raise ValueError("an invitation is answered by its addressee")
        require_addressee(kind, invitation, by)
    accepted = outcome is State.ACCEPTED
    at = await transition(session, kind, invitation, outcome, by=by if accepted else None)
    if accepted and kind.proves_address and by is not None and by.email_verified_at is None:
        by.email_verified_at = at  # the invitation link reached this inbox
    await audit(session, actor, kind, outcome.value, invitation, resource=resource, details=details)


async def close_pending(
    session: AsyncSession,
    kind: Kind[Any],
    *where: ColumnElement[bool],
    at: datetime | None = None,
) -> Sequence[uuid.UUID]:
    """Revoke every pending invitation matching `where` (expired ones too) in one UPDATE, at
    `at` (default: the database clock); returns their ids, for the audit row of the change that
    made them pointless (a direct grant, a disbanded team)."""
    model: Any = kind.model
    when = at if at is not None else await db_now(session)
    closed = await session.scalars(
        update(model)
        .where(*where, *pending(kind))
        .values(kind.states.settled(State.REVOKED, None, when))
        .returning(model.id)
    )
    return list(closed)


# --- the audit log -------------------------------------------------------------------------------


async def audit(
    session: AsyncSession,
    actor: Actor,
    kind: Kind[Row],
    step: str,
    invitation: Row,
    *,
    resource: tuple[str, uuid.UUID] | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """The audit row of one step (`created`, `resent`, or a settlement) of an invitation."""
    resource_type, resource_id = resource or (kind.name, invitation.id)
    await record(
        session,
        actor,
        f"{kind.name}.{step}",
        resource_type=resource_type,
        resource_id=resource_id,
        org_id=invitation.org_id,
        details={**kind.scope(invitation), **(details or {})},
    )
