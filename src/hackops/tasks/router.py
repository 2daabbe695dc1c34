"""Task boards API: a team's board (its current members only; everyone else gets 404, whatever
their role) and my own list (signed-in users; 401 otherwise, like every /me route)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response, status

from hackops.accounts.deps import ActorDep, CurrentUserDep
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep
from hackops.models import Task, TaskPriority, TaskStatus
from hackops.routing import Router
from hackops.tasks import edits, listing, service
from hackops.tasks.schemas import (
    MAX_PAGE,
    SortOrder,
    TaskIn,
    TaskMove,
    TaskOut,
    TaskPage,
    TaskSort,
    TaskUpdate,
)

team_tasks = Router(
    prefix="/organizations/{slug}/events/{event_slug}/teams/{team_id}/tasks",
    tags=["tasks"],
)
my_tasks = Router(prefix="/me/tasks", tags=["me", "tasks"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 422)


async def team_board(team_id: uuid.UUID, access: EventDep, session: SessionDep) -> service.Board:
    return await service.load_team_board(session, access.actor, access.event, team_id)


async def my_board(user: CurrentUserDep) -> service.Board:
    return service.personal_board(user.id)


TeamBoardDep = Annotated[service.Board, Depends(team_board)]
MyBoardDep = Annotated[service.Board, Depends(my_board)]


class ListQuery:
    """Filters, sort and page of a task list (shared by both boards)."""

    def __init__(
        self,
        status: TaskStatus | None = None,
        priority: TaskPriority | None = None,
        assignee_id: uuid.UUID | None = None,
        unassigned: bool = False,
        sort: TaskSort = TaskSort.POSITION,
        order: SortOrder = SortOrder.ASC,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> None:
        self.status = status
        self.priority = priority
        self.assignee_id = assignee_id
        self.unassigned = unassigned
        self.sort = sort
        self.order = order
        self.limit = limit
        self.offset = offset


ListQueryDep = Annotated[ListQuery, Depends()]


async def _page(session: SessionDep, board: service.Board, q: ListQuery) -> TaskPage:
    items, total = await listing.list_tasks(
        session,
        board,
        status=q.status,
        priority=q.priority,
        assignee_id=q.assignee_id,
        unassigned=q.unassigned,
        sort=q.sort,
        order=q.order,
        limit=q.limit,
        offset=q.offset,
    )
    return TaskPage(
        items=[TaskOut.model_validate(t) for t in items],
        total=total,
        limit=q.limit,
        offset=q.offset,
    )


async def _create(
    session: SessionDep, actor: ActorDep, board: service.Board, body: TaskIn
) -> TaskOut:
    task = await service.create_task(session, actor, board, **body.model_dump())
    return TaskOut.model_validate(task)


async def _move(
    session: SessionDep, actor: ActorDep, board: service.Board, task: Task, body: TaskMove
) -> TaskOut:
    moved = await service.move_task(
        session, actor, board, task, before=body.before, direction=body.direction
    )
    return TaskOut.model_validate(moved)


# --- a team's board --------------------------------------------------------------------------


@team_tasks.get(
    "", response_model=TaskPage, summary="The team's tasks (members)", responses=READ_ERRORS
)
async def list_team_tasks(session: SessionDep, board: TeamBoardDep, q: ListQueryDep) -> TaskPage:
    return await _page(session, board, q)


@team_tasks.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskOut,
    summary="Add a task at the end of the team's board (members)",
    responses=WRITE_ERRORS,
)
async def create_team_task(
    team_id: uuid.UUID, body: TaskIn, session: SessionDep, access: EventDep
) -> TaskOut:
    # The board is found (members only, else 404) in the write's own first statement.
    task = await service.create_team_task(
        session, access.actor, access.event, team_id, **body.model_dump()
    )
    return TaskOut.model_validate(task)


@team_tasks.get(
    "/{task_id}", response_model=TaskOut, summary="One task (members)", responses=READ_ERRORS
)
async def get_team_task(task_id: uuid.UUID, session: SessionDep, board: TeamBoardDep) -> TaskOut:
    return TaskOut.model_validate(await service.get_task(session, board, task_id))


@team_tasks.patch(
    "/{task_id}",
    response_model=TaskOut,
    summary="Edit a task; the assignee must be a current member (members)",
    responses=WRITE_ERRORS,
)
async def update_team_task(
    task_id: uuid.UUID,
    body: TaskUpdate,
    session: SessionDep,
    actor: ActorDep,
    board: TeamBoardDep,
) -> TaskOut:
    task = await service.get_task(session, board, task_id)
    return TaskOut.model_validate(await edits.update_task(session, actor, board, task, body))


@team_tasks.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a task (members)",
    responses=WRITE_ERRORS,
)
async def delete_team_task(
    task_id: uuid.UUID, session: SessionDep, actor: ActorDep, board: TeamBoardDep
) -> Response:
    task = await service.get_task(session, board, task_id)
    await edits.delete_task(session, actor, board, task)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@team_tasks.post(
    "/{task_id}/move",
    response_model=TaskOut,
    summary="Move a task before another, to the end, or up/down in its column (members)",
    responses=WRITE_ERRORS,
)
async def move_team_task(
    task_id: uuid.UUID,
    body: TaskMove,
    session: SessionDep,
    actor: ActorDep,
    board: TeamBoardDep,
) -> TaskOut:
    task = await service.get_task(session, board, task_id)
    return await _move(session, actor, board, task, body)


# --- my own list -----------------------------------------------------------------------------


@my_tasks.get("", response_model=TaskPage, summary="My own tasks", responses=READ_ERRORS)
async def list_my_tasks(session: SessionDep, board: MyBoardDep, q: ListQueryDep) -> TaskPage:
    return await _page(session, board, q)


@my_tasks.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskOut,
    summary="Add a task at the end of my list (assignee: only me)",
    responses=WRITE_ERRORS,
)
async def create_my_task(
    body: TaskIn, session: SessionDep, actor: ActorDep, board: MyBoardDep
) -> TaskOut:
    return await _create(session, actor, board, body)


@my_tasks.get(
    "/{task_id}", response_model=TaskOut, summary="One of my tasks", responses=READ_ERRORS
)
async def get_my_task(task_id: uuid.UUID, session: SessionDep, board: MyBoardDep) -> TaskOut:
    return TaskOut.model_validate(await service.get_task(session, board, task_id))


@my_tasks.patch(
    "/{task_id}", response_model=TaskOut, summary="Edit one of my tasks", responses=WRITE_ERRORS
)
async def update_my_task(
    task_id: uuid.UUID, body: TaskUpdate, session: SessionDep, actor: ActorDep, board: MyBoardDep
) -> TaskOut:
    task = await service.get_task(session, board, task_id)
    return TaskOut.model_validate(await edits.update_task(session, actor, board, task, body))


@my_tasks.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete one of my tasks",
    responses=WRITE_ERRORS,
)
async def delete_my_task(
    task_id: uuid.UUID, session: SessionDep, actor: ActorDep, board: MyBoardDep
) -> Response:
    task = await service.get_task(session, board, task_id)
    await edits.delete_task(session, actor, board, task)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@my_tasks.post(
    "/{task_id}/move",
    response_model=TaskOut,
    summary="Move one of my tasks before another, to the end, or up/down in its column",
    responses=WRITE_ERRORS,
)
async def move_my_task(
    task_id: uuid.UUID, body: TaskMove, session: SessionDep, actor: ActorDep, board: MyBoardDep
) -> TaskOut:
    task = await service.get_task(session, board, task_id)
    return await _move(session, actor, board, task, body)
