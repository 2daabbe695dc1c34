"""Task board pages through HTTP: forms with CSRF, columns, move, status, edit, delete, access."""

from __future__ import annotations

import re

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Task
from tests.tasks.world import World, build_world
from tests.web.test_account_pages import alert_of, csrf_from, follow, submit, use_session

ORIGIN = {"Origin": "http://testserver"}


def page_base(w: World) -> str:
    return f"/orgs/{w.org.slug}/events/{w.event.slug}/teams/{w.team.id}/tasks"


def column(html: str, status: str) -> list[str]:
    """The task titles in one column, in order."""
    start = html.index(f'id="column-{status}"')
    end = html.find("</section>", start)
    return re.findall(r'class="card-title" id="task-[^"]+-title">([^<]*)</h3>', html[start:end])


@pytest.fixture
async def w(session: AsyncSession, client: httpx2.AsyncClient) -> World:
    world = await build_world(session)
    use_session(client, world.tokens["alice"])
    return world


async def task_id(session: AsyncSession, title: str) -> str:
    found = await session.scalar(select(Task.id).where(Task.title == title))
    assert found is not None
    return str(found)


async def post(client: httpx2.AsyncClient, base: str, url: str, **fields: str) -> httpx2.Response:
    token = await csrf_from(client, base)
    return await client.post(url, data={**fields, "csrf_token": token}, headers=ORIGIN)


@pytest.mark.parametrize("board", ["team", "mine"])
async def test_add_move_status_edit_delete(
    client: httpx2.AsyncClient, session: AsyncSession, w: World, board: str
) -> None:
    base = page_base(w) if board == "team" else "/tasks"
    page = await client.get(base)
    assert page.status_code == 200
    assert '<label for="add-title">' in page.text
    for title in ("one", "two", "three"):
        added = await submit(client, base, title=title, priority="high", status="todo")
        assert added.status_code == 303, added.text
    one, two, three = [await task_id(session, t) for t in ("one", "two", "three")]
    assert (await follow(client, added)).status_code == 200
    assert column((await client.get(base)).text, "todo") == ["one", "two", "three"]

    moved = await post(client, base, f"{base}/{three}/move", direction="up")
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{base}#task-{three}"
    assert column((await client.get(base)).text, "todo") == ["one", "three", "two"]
    await post(client, base, f"{base}/{one}/move", direction="down")
    assert column((await client.get(base)).text, "todo") == ["three", "one", "two"]

    await post(client, base, f"{base}/{one}/status", status="doing")
    html = (await client.get(base)).text
    assert column(html, "todo") == ["three", "two"]
    assert column(html, "doing") == ["one"]

    edit = await client.get(f"{base}/{two}/edit")
    assert edit.status_code == 200
    assert 'value="two"' in edit.text
    refused = await post(client, base, f"{base}/{two}/edit", title="", status="todo")
    assert refused.status_code == 422
    saved = await post(
        client,
        base,
        f"{base}/{two}/edit",
        title="two, renamed",
        description="with notes",
        priority="low",
        status="done",
        assignee_id=str(w.alice.id),
        due_date="2026-12-24",
    )
    assert saved.status_code == 303, saved.text
    html = (await client.get(base)).text
    assert column(html, "done") == ["two, renamed"]
    assert "with notes" in html
    assert "2026-12-24" in html
    assert (" · Alice" if board == "team" else " · Me") in html

    deleted = await post(client, base, f"{base}/{three}/delete")
    assert deleted.status_code == 303
    assert column((await client.get(base)).text, "todo") == []


async def test_form_errors_are_shown_on_the_form(
    client: httpx2.AsyncClient, session: AsyncSession, w: World
) -> None:
    base = page_base(w)
    too_long = await submit(client, base, title="x" * 201, priority="medium", status="todo")
    assert too_long.status_code == 422
    assert 'id="add-title"' in too_long.text
    assert 'aria-invalid="true"' in too_long.text
    outsider = await submit(
        client, base, title="t", priority="medium", status="todo", assignee_id=str(w.carol.id)
    )
    assert outsider.status_code == 422
    assert "current member" in outsider.text
    assert await session.scalar(select(Task.id).where(Task.team_id == w.team.id)) is None
    assert alert_of(outsider)


async def test_only_members_see_the_board_page(
    client: httpx2.AsyncClient, session: AsyncSession, w: World
) -> None:
    base = page_base(w)
    await submit(client, base, title="secret", priority="medium", status="todo")
    secret = await task_id(session, "secret")
    for who in ("carol", "organizer", "stranger"):
        use_session(client, w.tokens[who])
        assert (await client.get(base)).status_code == 404, who
        assert (await client.get(f"{base}/{secret}/edit")).status_code == 404, who
        assert "secret" not in (await client.get("/tasks")).text
    client.cookies.clear()
    signed_out = await client.get(base)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=")


async def test_forms_need_the_csrf_token(client: httpx2.AsyncClient, w: World) -> None:
    response = await client.post(
        page_base(w), data={"title": "x", "priority": "low", "status": "todo"}, headers=ORIGIN
    )
    assert response.status_code == 403
