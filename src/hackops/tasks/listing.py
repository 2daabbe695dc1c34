"""Listing a task board: filters, sorts and one page (two queries, whatever the page's size)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Task, TaskPriority, TaskStatus
from hackops.tasks.schemas import SortOrder, TaskSort
from hackops.tasks.service import Board


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
