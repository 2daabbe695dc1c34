"""Task boards: a team's board and each person's own list, with one set of functions for both.

Who sees a board: a team's board only its current members (organizers of the event, org admins
and platform admins included — they are not members, so they get 404 like everyone else: the
board is the team's working space, not an organizer tool); a personal list only its owner. Row-
level security is the second wall (tenant rows, or personal rows whose owner is the caller).

Order: each board keeps a sparse `position` (gaps of `GAP`). A move takes the board's lock and
locks its rows FOR UPDATE, puts the task between its new neighbours, and renumbers the whole board
in the same transaction when no integer is left between them. Creating appends after the last
task under the same board lock, so concurrent creates never share a position.

Assignees: on a team board a current member of the team (locked FOR SHARE while assigning, so a
concurrent removal either waits for us and then unassigns through its trigger, or wins and we
refuse); on a personal list only the owner. Removing a member unassigns their tasks (trigger).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Uuid,
    bindparam,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from hackops.actor import Actor
from hackops.audit.service import audit_params, audit_row, record
from hackops.errors import NotFound, ValidationFailed
from hackops.models import (
    PRIORITY_RANK,
    Event,
    Task,
    TaskPriority,
    TaskStatus,
    Team,
    TeamMember,
    new_id,
)
from hackops.rows import Compiled, hydrate

GAP = 1024


class TaskNotFound(NotFound):
    code = "task_not_found"
    message = "No such task."


class BoardNotFound(NotFound):
    code = "team_not_found"
    message = "No such team."


class AssigneeNotMember(ValidationFailed):
    code = "assignee_not_member"
    message = "The assignee must be a current member of the team."


class AssigneeNotSelf(ValidationFailed):
    code = "assignee_not_self"
    message = "Tasks on your own list can only be assigned to you."


class BeforeNotFound(ValidationFailed):
    code = "before_not_on_board"
    message = "The task to move before is not on this board."


@dataclass(frozen=True)
class Board:
    """A team's board (`team` set) or a person's own list (`owner_id` set)."""

    team: Team | None = None
    owner_id: uuid.UUID | None = None

    @property
    def org_id(self) -> uuid.UUID | None:
        return self.team.org_id if self.team is not None else None

    @property
    def key(self) -> uuid.UUID:
        if self.team is not None:
            return self.team.id
        assert self.owner_id is not None
        return self.owner_id

    def scope(self) -> ColumnElement[bool]:
        if self.team is not None:
            return Task.team_id == self.team.id
        return (Task.owner_id == self.owner_id) & Task.org_id.is_(None)


# --- loading and authorizing -----------------------------------------------------------------


async def load_team_board(
    session: AsyncSession, actor: Actor, event: Event, team_id: uuid.UUID
) -> Board:
    """The board of `team_id` in `event`, if the actor is one of its current members; else 404."""
    if actor.user is None:
        raise BoardNotFound
    team = await session.scalar(
        select(Team)
        .join(TeamMember, (TeamMember.team_id == Team.id) & (TeamMember.user_id == actor.user.id))
        .where(Team.id == team_id, Team.event_id == event.id, Team.disbanded_at.is_(None))
    )
    if team is None:
        raise BoardNotFound
    return Board(team=team)


def personal_board(user_id: uuid.UUID) -> Board:
    return Board(owner_id=user_id)


async def get_task(session: AsyncSession, board: Board, task_id: uuid.UUID) -> Task:
    task = await session.scalar(select(Task).where(Task.id == task_id, board.scope()))
    if task is None:
        raise TaskNotFound
    return task


# --- changes ---------------------------------------------------------------------------------


def _board_lock(key: uuid.UUID | ColumnElement[Any]) -> ColumnElement[Any]:
    """SQL: take the lock that serializes appends and moves on one board (until the transaction
    ends)."""
    return func.pg_advisory_xact_lock(func.hashtextextended(func.concat("tasks:", key), 0))


async def _lock_board(session: AsyncSession, board: Board) -> None:
    await session.execute(select(_board_lock(board.key)))


def _assignee_row(team_id: Any, assignee_id: Any) -> ColumnElement[Any]:
    """SQL: the assignee's membership row of the team, locked FOR SHARE (NULL: not a member)."""
    return (
        select(TeamMember.id)
        .where(TeamMember.team_id == team_id, TeamMember.user_id == assignee_id)
        .with_for_update(read=True)
        .correlate_except(TeamMember)  # its own row, never the caller's joined membership
        .scalar_subquery()
    )


async def check_assignee(session: AsyncSession, board: Board, assignee_id: uuid.UUID) -> None:
    if board.team is None:
        if assignee_id != board.owner_id:
            raise AssigneeNotSelf
        return
    if await session.scalar(select(_assignee_row(board.team.id, assignee_id))) is None:
        raise AssigneeNotMember


async def _lock_and_check_assignee(
    session: AsyncSession, board: Board, assignee_id: uuid.UUID | None
) -> None:
    """The assignee's check and the board's lock in one round trip (membership row first, then
    the board lock, as `update_task` and `move_task` take them)."""
    if board.team is None or assignee_id is None:
        if assignee_id is not None and assignee_id != board.owner_id:
            raise AssigneeNotSelf
        await _lock_board(session, board)
        return
    checked = select(_assignee_row(board.team.id, assignee_id).label("member")).subquery()
    row = (await session.execute(select(checked.c.member, _board_lock(board.key)))).one()
    if row.member is None:
        raise AssigneeNotMember


#: The columns a new task is written with, bound as `task_<name>`.
APPENDED = (
    "id", "org_id", "team_id", "owner_id", "title", "description", "priority", "priority_rank",
    "status", "assignee_id", "due_date", "created_by_id",
)  # fmt: skip


def _task_param(name: str) -> BindParameter[Any]:
    return bindparam(f"task_{name}", type_=Task.__table__.c[name].type)


def _append_statement(on_team_board: bool) -> ReturningInsert[Any]:
    """One statement: the task at the end of its board (the position computed in the INSERT,
    under the board lock taken by an earlier statement, so its snapshot sees every append
    committed before) and its audit row (`audit_…`); RETURNING the task."""
    scope = (
        Task.team_id == _task_param("team_id")
        if on_team_board
        else (Task.owner_id == _task_param("owner_id")) & Task.org_id.is_(None)
    )
    last = (
        select(func.coalesce(func.max(Task.position), 0) + GAP)
        .where(scope)
        .correlate_except(Task)
        .scalar_subquery()
    )
    values: dict[str, Any] = {name: _task_param(name) for name in APPENDED}
    inserted = (
        insert(Task)
        .values({**values, "position": last})
        .add_cte(audit_row().cte("audited"))
        .returning(*Task.__table__.columns)
    )
    return inserted


def _board_statement(with_assignee: bool) -> Select[Any]:
    """One statement: the team's board if the actor is a current member (no row: 404), the
    assignee's membership locked FOR SHARE (NULL: not a member), then the board lock."""
    member = (
        _assignee_row(Team.id, bindparam("assignee_id", type_=Uuid))
        if with_assignee
        else literal(None, Uuid)
    )
    board = (
        select(Team.org_id, member.label("member"))
        .join(
            TeamMember,
            (TeamMember.team_id == Team.id) & (TeamMember.user_id == bindparam("actor_id")),
        )
        .where(
            Team.id == bindparam("team_id"),
            Team.event_id == bindparam("event_id"),
            Team.disbanded_at.is_(None),
        )
        .offset(0)  # a fence: the assignee's row is locked before the board is
        .subquery()
    )
    return select(board.c.org_id, board.c.member, _board_lock(bindparam("team_id", type_=Uuid)))


# Built once: a write then pays no statement construction nor cache key, only its parameters.
APPEND = {
    True: select(Task).from_statement(_append_statement(True)),
    False: select(Task).from_statement(_append_statement(False)),
}
# A team task's two statements go to the driver (`hackops.rows`): the board's row is its
# organization, the assignee's membership and the lock; the append's row is the task's columns.
TEAM_APPEND = Compiled(_append_statement(True))
BOARD = {True: Compiled(_board_statement(True)), False: Compiled(_board_statement(False))}


def _append_params(
    actor: Actor,
    *,
    org_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    owner_id: uuid.UUID | None,
    title: str,
    description: str,
    priority: TaskPriority,
    status: TaskStatus,
    assignee_id: uuid.UUID | None,
    due_date: date | None,
) -> dict[str, Any]:
    assert actor.user is not None
    task_id = new_id()
    task = {
        "id": task_id,
        "org_id": org_id,
        "team_id": team_id,
        "owner_id": owner_id,
        "title": title,
        "description": description,
        "priority": priority.value,
        "priority_rank": PRIORITY_RANK[priority],
        "status": status.value,
        "assignee_id": assignee_id,
        "due_date": due_date,
        "created_by_id": actor.user.id,
    }
    audit = audit_params(
        actor,
        "task.created",
        resource_type="task",
        resource_id=task_id,
        org_id=org_id,
        details={"team_id": str(team_id) if team_id else None, "title": title},
    )
    return {**{f"task_{k}": v for k, v in task.items()}, **audit}


async def create_task(
    session: AsyncSession,
    actor: Actor,
    board: Board,
    *,
    title: str,
    description: str = "",
    priority: TaskPriority = TaskPriority.MEDIUM,
    status: TaskStatus = TaskStatus.TODO,
    assignee_id: uuid.UUID | None = None,
    due_date: date | None = None,
) -> Task:
    """Add a task at the end of a loaded board: two statements (lock with the assignee check,
    then the task with its audit row)."""
    await _lock_and_check_assignee(session, board, assignee_id)
    params = _append_params(
        actor,
        org_id=board.org_id,
        team_id=board.team.id if board.team is not None else None,
        owner_id=board.owner_id,
        title=title,
        description=description,
        priority=priority,
        status=status,
        assignee_id=assignee_id,
        due_date=due_date,
    )
    task: Task | None = await session.scalar(APPEND[board.team is not None], params)
    assert task is not None
    return task


async def create_team_task(
    session: AsyncSession,
    actor: Actor,
    event: Event,
    team_id: uuid.UUID,
    *,
    title: str,
    description: str = "",
    priority: TaskPriority = TaskPriority.MEDIUM,
    status: TaskStatus = TaskStatus.TODO,
    assignee_id: uuid.UUID | None = None,
    due_date: date | None = None,
) -> Task:
    """Add a task at the end of `team_id`'s board, if the actor is one of its current members
    (else 404, as `load_team_board`): two statements. The first finds the board through the
    actor's membership, locks the assignee's membership FOR SHARE, then takes the board lock;
    the second writes the task and its audit row."""
    if actor.user is None:
        raise BoardNotFound
    found = {"actor_id": actor.user.id, "team_id": team_id, "event_id": event.id}
    if assignee_id is not None:
        found["assignee_id"] = assignee_id
    row = await BOARD[assignee_id is not None].fetch_one(session, found)
    if row is None:
        raise BoardNotFound
    org_id, member = row[0], row[1]
    if assignee_id is not None and member is None:
        raise AssigneeNotMember
    params = _append_params(
        actor,
        org_id=org_id,
        team_id=team_id,
        owner_id=None,
        title=title,
        description=description,
        priority=priority,
        status=status,
        assignee_id=assignee_id,
        due_date=due_date,
    )
    written = await TEAM_APPEND.fetch_one(session, params)
    assert written is not None
    return hydrate(session, Task, written)


async def _locked_board_rows(session: AsyncSession, board: Board) -> list[Task]:
    query = (
        select(Task)
        .where(board.scope())
        .order_by(Task.position, Task.created_at, Task.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(query))


def _target_index(
    rows: Sequence[Task],
    task: Task,
    *,
    before: uuid.UUID | None,
    direction: Literal["up", "down"] | None,
) -> int | None:
    """Where `task` goes in the board without it, or None when it stays where it is."""
    others = [t for t in rows if t.id != task.id]
    if direction is not None:
        column = [t for t in rows if t.status == task.status]
        here = next(i for i, t in enumerate(column) if t.id == task.id)
        if direction == "up":
            if here == 0:
                return None
            return others.index(column[here - 1])
        if here == len(column) - 1:
            return None
        return others.index(column[here + 1]) + 1
    if before is None:
        return len(others)
    if before == task.id:
        return None
    for i, other in enumerate(others):
        if other.id == before:
            return i
    raise BeforeNotFound


async def move_task(
    session: AsyncSession,
    actor: Actor,
    board: Board,
    task: Task,
    *,
    before: uuid.UUID | None = None,
    direction: Literal["up", "down"] | None = None,
) -> Task:
    """Move a task before another one, to the end, or up/down within its status column.

    Writes one row when a free integer is left between the new neighbours, else renumbers the
    board (gaps of GAP again); either way one audit row. A move that changes nothing writes none.
    """
    await _lock_board(session, board)
    rows = await _locked_board_rows(session, board)
    index = _target_index(rows, task, before=before, direction=direction)
    others = [t for t in rows if t.id != task.id]
    if index is None or [t.id for t in rows] == [
        t.id for t in [*others[:index], task, *others[index:]]
    ]:
        return task
    low = others[index - 1].position if index > 0 else None
    high = others[index].position if index < len(others) else None
    renumbered = False
    if low is None and high is None:
        task.position = GAP
    elif low is None:
        assert high is not None
        task.position = high - GAP
    elif high is None:
        task.position = low + GAP
    elif high - low >= 2:
        task.position = (low + high) // 2
    else:
        renumbered = True
        for i, row in enumerate([*others[:index], task, *others[index:]], start=1):
            if row.position != i * GAP:
                row.position = i * GAP
    await session.flush()
    await session.refresh(task)
    await record(
        session,
        actor,
        "task.moved",
        resource_type="task",
        resource_id=task.id,
        org_id=board.org_id,
        details={"position": task.position, "renumbered": renumbered},
    )
    return task
