"""Task board pages: a team's board and my own list, as three columns (todo, doing, done).

Usable with the keyboard alone: every action is a plain form with a button (add, edit, move up,
move down, change status, delete); after an action the page comes back focused on the task's
card (`#task-<id>`, the card is focusable). No script is needed.

Loading and authorizing are dependencies (`team_board_page`, `my_board_page`: the same routes
for both boards, `_board_routes`) on the API's loaders: `EventPageDep` +
`tasks.service.load_team_board`, so only the team's current members see its board (everyone
else gets the 404 page); signed-out visitors are sent to log in. Forms go through
`kit.form_action` (savepoint, re-render with the message, flash + 303 on success), checked with
the API's own input models.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ActorDep
from hackops.actor import Actor
from hackops.browser import flash
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.models import Task, TaskPriority, TaskStatus, TeamMember, User
from hackops.tasks import edits, listing, service
from hackops.tasks.schemas import MAX_PAGE, TaskIn, TaskMove, TaskUpdate
from hackops.web import eventkit, kit
from hackops.web.deps import EventPageDep, PageUserDep, page_router

router = page_router()

TEAM_BASE = kit.EVENT_BASE + "/teams/{team_id}/tasks"
MY_BASE = "/tasks"
FIELDS = ("title", "description", "priority", "status", "assignee_id", "due_date")
STATUS_LABELS = {"todo": "To do", "doing": "Doing", "done": "Done"}
ASSIGNEE_ERRORS: dict[type[AppError] | str, str] = {
    "assignee_not_member": "assignee_id",
    "assignee_not_self": "assignee_id",
}


@dataclass(frozen=True)
class Page:
    """A board as a page shows it: where it lives, what to call it, who can be assigned."""

    actor: Actor
    board: service.Board
    base: str
    heading: str
    subheading: str
    back: tuple[str, str] | None = None  # (address, label) of the page this board belongs to


async def team_board_page(team_id: uuid.UUID, session: SessionDep, access: EventPageDep) -> Page:
    """A team's board, for its current members (404 to everyone else)."""
    board = await service.load_team_board(session, access.actor, access.event, team_id)
    assert board.team is not None
    team_url = f"{eventkit.event_url(access)}/teams/{team_id}"
    return Page(
        actor=access.actor,
        board=board,
        base=f"{team_url}/tasks",
        heading=f"{board.team.name} · tasks",
        subheading=access.event.name,
        back=(team_url, f"Team {board.team.name}"),
    )


async def my_board_page(user: PageUserDep, actor: ActorDep) -> Page:
    """The signed-in user's own list."""
    return Page(
        actor=actor,
        board=service.personal_board(user.id),
        base=MY_BASE,
        heading="My tasks",
        subheading="Only you can see this list.",
    )


async def _people(session: AsyncSession, page: Page, actor: Actor) -> list[tuple[str, str]]:
    """(id, name) of whom a task can be assigned to."""
    if page.board.team is None:
        assert actor.user is not None
        return [(str(actor.user.id), "Me")]
    rows = await session.execute(
        select(User.id, User.name, User.email)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == page.board.team.id)
        .order_by(User.name, User.email)
    )
    return [(str(uid), name or email) for uid, name, email in rows]


def _options(people: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    return {
        "priority": [(p.value, p.value.capitalize()) for p in TaskPriority],
        "status": list(STATUS_LABELS.items()),
        "assignee": [("", "Nobody"), *people],
    }


def _filters(request: Request) -> dict[str, Any]:
    query = request.query_params
    priority = query.get("priority", "")
    assignee = query.get("assignee", "")
    return {
        "priority": priority if priority in {p.value for p in TaskPriority} else None,
        "assignee": assignee,
    }


async def _board(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    page: Page,
    *,
    add: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    chosen = _filters(request)
    assignee_id: uuid.UUID | None = None
    if chosen["assignee"] not in ("", "none"):
        try:
            assignee_id = uuid.UUID(chosen["assignee"])
        except ValueError:
            chosen["assignee"] = ""
    tasks, total = await listing.list_tasks(
        session,
        page.board,
        priority=TaskPriority(chosen["priority"]) if chosen["priority"] else None,
        assignee_id=assignee_id,
        unassigned=chosen["assignee"] == "none",
        limit=MAX_PAGE,
    )
    people = await _people(session, page, actor)
    columns = [
        (status, STATUS_LABELS[status.value], [t for t in tasks if t.status == status.value])
        for status in TaskStatus
    ]
    context = {
        "page": page,
        "columns": columns,
        "total": total,
        "shown": len(tasks),
        "people": people,
        "names": dict(people),
        "status_labels": STATUS_LABELS,
        "options": _options(people),
        "chosen": chosen,
        "add": add or kit.Form(values={"priority": "medium", "status": "todo"}),
    }
    return kit.render(request, "tasks/board.html", context, status_code=status_code)


def _task_input(data: dict[str, str]) -> dict[str, Any]:
    """Form fields as the API's JSON would carry them (empty selects and dates are null)."""
    values: dict[str, Any] = {name: data.get(name, "") for name in FIELDS}
    for name in ("assignee_id", "due_date"):
        values[name] = values[name] or None
    return values


# --- actions shared by both boards -----------------------------------------------------------


async def _create(request: Request, session: AsyncSession, actor: Actor, page: Page) -> Response:
    data = await kit.form_data(request)
    form = kit.Form(values=kit.kept(data, *FIELDS))
    return await kit.form_action(
        request,
        session,
        form,
        model=TaskIn,
        data=_task_input(data),
        call=lambda body: service.create_task(session, actor, page.board, **body.model_dump()),
        page=lambda form, status: _board(
            request, session, actor, page, add=form, status_code=status
        ),
        done=lambda task: f"Added “{task.title}”.",
        then=lambda task: f"{page.base}#task-{task.id}",
        fields=ASSIGNEE_ERRORS,
    )


def _edit_page(
    request: Request,
    page: Page,
    task: Task,
    form: kit.Form,
    people: list[tuple[str, str]],
    code: int,
) -> Response:
    context = {
        "page": page,
        "task": task,
        "form": form,
        "options": _options(people),
    }
    return kit.render(request, "tasks/edit.html", context, status_code=code)


def _task_values(task: Task) -> dict[str, str]:
    return {
        "title": task.title,
        "description": task.description,
        "priority": task.priority,
        "status": task.status,
        "assignee_id": str(task.assignee_id or ""),
        "due_date": task.due_date.isoformat() if task.due_date else "",
    }


async def _edit_form(
    request: Request, session: AsyncSession, actor: Actor, page: Page, task_id: uuid.UUID
) -> Response:
    task = await service.get_task(session, page.board, task_id)
    people = await _people(session, page, actor)
    return _edit_page(request, page, task, kit.Form(values=_task_values(task)), people, 200)


async def _edit(
    request: Request, session: AsyncSession, actor: Actor, page: Page, task_id: uuid.UUID
) -> Response:
    task = await service.get_task(session, page.board, task_id)
    data = await kit.form_data(request)
    form = kit.Form(values=kit.kept(data, *FIELDS))

    async def edit_page(form: kit.Form, status: int) -> Response:
        return _edit_page(request, page, task, form, await _people(session, page, actor), status)

    return await kit.form_action(
        request,
        session,
        form,
        model=TaskUpdate,
        data=_task_input(data),
        call=lambda body: edits.update_task(session, actor, page.board, task, body),
        page=edit_page,
        done=lambda _: f"Saved “{task.title}”.",
        then=f"{page.base}#task-{task.id}",
        fields=ASSIGNEE_ERRORS,
        expire=(task,),
    )


async def _set_status(
    request: Request, session: AsyncSession, actor: Actor, page: Page, task_id: uuid.UUID
) -> Response:
    task = await service.get_task(session, page.board, task_id)
    data = await kit.form_data(request)
    body = kit.validated(TaskUpdate, {"status": data.get("status", "")}, kit.Form())
    if body is None or body.status is None:
        flash(request, "Choose one of the statuses.", "error")
        return kit.redirect(f"{page.base}#task-{task.id}")
    await edits.update_task(session, actor, page.board, task, body)
    flash(request, f"“{task.title}” is now in {STATUS_LABELS[body.status.value]}.", "success")
    return kit.redirect(f"{page.base}#task-{task.id}")


async def _move(
    request: Request, session: AsyncSession, actor: Actor, page: Page, task_id: uuid.UUID
) -> Response:
    task = await service.get_task(session, page.board, task_id)
    data = await kit.form_data(request)
    body = kit.validated(TaskMove, {"direction": data.get("direction", "")}, kit.Form())
    if body is None or body.direction is None:
        flash(request, "Move a task up or down.", "error")
        return kit.redirect(f"{page.base}#task-{task.id}")
    await service.move_task(session, actor, page.board, task, direction=body.direction)
    return kit.redirect(f"{page.base}#task-{task.id}")


async def _delete(
    request: Request, session: AsyncSession, actor: Actor, page: Page, task_id: uuid.UUID
) -> Response:
    task = await service.get_task(session, page.board, task_id)
    title = task.title
    await edits.delete_task(session, actor, page.board, task)
    flash(request, f"Deleted “{title}”.", "success")
    return kit.redirect(page.base)


class PageNotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "There is no page at this address."


async def _dispatch(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    page: Page,
    task_id: uuid.UUID,
    action: str,
) -> Response:
    """One route per board for the task actions: GET edit shows the form, POST does the rest."""
    if request.method == "GET":
        if action != "edit":
            raise PageNotFound
        return await _edit_form(request, session, actor, page, task_id)
    handlers = {"edit": _edit, "status": _set_status, "move": _move, "delete": _delete}
    handler = handlers.get(action)
    if handler is None:
        raise PageNotFound
    return await handler(request, session, actor, page, task_id)


# --- a team's board, and my own list ---------------------------------------------------------


def _board_routes(base: str, name: str, load: Callable[..., Awaitable[Page]]) -> None:
    """A board's routes at `base` (its page, adding a task, a task's actions), the board
    loaded and authorized by `load`: the same pages for a team's board and for my own list."""
    loaded = Depends(load)

    @router.get(base, name=name)
    async def board(request: Request, session: SessionDep, page: Page = loaded) -> Response:
        return await _board(request, session, page.actor, page)

    @router.post(base)
    async def create(request: Request, session: SessionDep, page: Page = loaded) -> Response:
        return await _create(request, session, page.actor, page)

    @router.api_route(base + "/{task_id}/{action}", methods=["GET", "POST"])
    async def task_action(
        task_id: uuid.UUID, action: str, request: Request, session: SessionDep, page: Page = loaded
    ) -> Response:
        return await _dispatch(request, session, page.actor, page, task_id, action)


#: A team's board (signed in, a current member of the team), and my own list (signed in).
_board_routes(TEAM_BASE, "team_tasks", team_board_page)
_board_routes(MY_BASE, "my_tasks", my_board_page)
