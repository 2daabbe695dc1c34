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

from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import NotFound, ValidationFailed
from hackops.models import PRIORITY_RANK, Event, Task, TaskPriority, TaskStatus, Team, TeamMember
from hackops.tasks.schemas import SortOrder, TaskSort, TaskUpdate

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


# --- listing ---------------------------------------------------------------------------------


def _sort_keys(sort: TaskSort, order: SortOrder) -> list[Any]:
    desc = order is SortOrder.DESC
    keys: list[Any]
    if sort is TaskSort.CREATED:
        keys = [Task.created_at]
    elif sort is TaskSort.DUE:
        # Tasks without a due date come last in both directions.
        keys = [(Task.due_date.desc() if desc else Task.due_date.asc()).nulls_last()]
        return [*keys, Task.position, Task.id]
    elif sort is TaskSort.PRIORITY:
        keys = [Task.priority_rank]
    elif sort is TaskSort.TITLE:
        keys = [func.lower(Task.title), Task.title]
    else:
        keys = [Task.position, Task.created_at]
    directed = [k.desc() if desc else k.asc() for k in keys]
    return [*directed, Task.position, Task.id]


def _filtered(
    board: Board,
    *,
    status: TaskStatus | None,
    priority: TaskPriority | None,
    assignee_id: uuid.UUID | None,
    unassigned: bool,
) -> Select[Task]:
    query = select(Task).where(board.scope())
    if status is not None:
        query = query.where(Task.status == status.value)
    if priority is not None:
        query = query.where(Task.priority == priority.value)
    if assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    if unassigned:
        query = query.where(Task.assignee_id.is_(None))
    return query


async def list_tasks(
    session: AsyncSession,
    board: Board,
    *,
    status: TaskStatus | None = None,
    priority: TaskPriority | None = None,
    assignee_id: uuid.UUID | None = None,
    unassigned: bool = False,
    sort: TaskSort = TaskSort.POSITION,
    order: SortOrder = SortOrder.ASC,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Task], int]:
    """One page of the board and the number of tasks matching the filters (two queries)."""
    query = _filtered(
        board, status=status, priority=priority, assignee_id=assignee_id, unassigned=unassigned
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(*_sort_keys(sort, order)).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


# --- changes ---------------------------------------------------------------------------------


async def _lock_board(session: AsyncSession, board: Board) -> None:
    """Serialize appends and moves on one board (released when the transaction ends)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"tasks:{board.key}"},
    )


async def _check_assignee(session: AsyncSession, board: Board, assignee_id: uuid.UUID) -> None:
    if board.team is None:
        if assignee_id != board.owner_id:
            raise AssigneeNotSelf
        return
    member = await session.scalar(
        select(TeamMember.id)
        .where(TeamMember.team_id == board.team.id, TeamMember.user_id == assignee_id)
        .with_for_update(read=True)
    )
    if member is None:
        raise AssigneeNotMember


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
    """Add a task at the end of the board."""
    assert actor.user is not None
    if assignee_id is not None:
        await _check_assignee(session, board, assignee_id)
    await _lock_board(session, board)
    last = await session.scalar(select(func.max(Task.position)).where(board.scope()))
    task = Task(
        org_id=board.org_id,
        team_id=board.team.id if board.team is not None else None,
        owner_id=board.owner_id,
        title=title,
        description=description,
        priority=priority.value,
        priority_rank=PRIORITY_RANK[priority],
        status=status.value,
        assignee_id=assignee_id,
        due_date=due_date,
        position=(last or 0) + GAP,
        created_by_id=actor.user.id,
    )
    session.add(task)
    await session.flush()
    await session.refresh(task)
    await record(
        session,
        actor,
        "task.created",
        resource_type="task",
        resource_id=task.id,
        org_id=board.org_id,
        details={"team_id": str(task.team_id) if task.team_id else None, "title": title},
    )
    return task


UPDATABLE = frozenset({"title", "description", "priority", "status", "assignee_id", "due_date"})


async def update_task(
    session: AsyncSession, actor: Actor, board: Board, task: Task, body: TaskUpdate
) -> Task:
    """Apply the fields sent (only those that differ are written and audited)."""
    changes = body.changes()
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignee = changes.get("assignee_id")
    if "assignee_id" in changes and assignee is not None and assignee != task.assignee_id:
        await _check_assignee(session, board, assignee)
    changed: list[str] = []
    for name, value in changes.items():
        stored = value.value if isinstance(value, TaskPriority | TaskStatus) else value
        if getattr(task, name) != stored:
            setattr(task, name, stored)
            changed.append(name)
    if "priority" in changed:
        task.priority_rank = PRIORITY_RANK[TaskPriority(task.priority)]
    if not changed:
        return task
    await session.flush()
    await session.refresh(task)
    await record(
        session,
        actor,
        "task.updated",
        resource_type="task",
        resource_id=task.id,
        org_id=board.org_id,
        details={"fields": sorted(changed)},
    )
    return task


async def delete_task(session: AsyncSession, actor: Actor, board: Board, task: Task) -> None:
    await session.delete(task)
    await session.flush()
    await record(
        session,
        actor,
        "task.deleted",
        resource_type="task",
        resource_id=task.id,
        org_id=board.org_id,
        details={"title": task.title},
    )


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
