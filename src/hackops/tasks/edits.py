"""Editing and deleting a task (only the fields that differ are written and audited)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.models import PRIORITY_RANK, Task, TaskPriority, TaskStatus
from hackops.tasks.schemas import TaskUpdate
from hackops.tasks.service import Board, check_assignee

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
        await check_assignee(session, board, assignee)
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
