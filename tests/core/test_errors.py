"""Every error a client can cause has a status, a stable code and a message, in one format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx2
import pytest
from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hackops.config import Settings
from hackops.db import Database, SessionDep, TransactionalRoute
from hackops.errors import Conflict
from hackops.main import create_app
from hackops.schemas import InputModel
from tests.helpers import database_on, serving


class ProbeIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=10)]
    count: Annotated[int, Field(ge=0)]


def probe_routes() -> tuple[APIRouter, APIRouter]:
    api = APIRouter(prefix="/api/v1/probe", route_class=TransactionalRoute)
    pages = APIRouter(prefix="/probe", route_class=TransactionalRoute)

    @api.post("/items")
    async def create_item(body: ProbeIn) -> dict[str, Any]:
        return body.model_dump()

    @api.get("/boom")
    async def api_boom() -> None:
        raise RuntimeError("unexpected")

    @api.get("/conflict")
    async def api_conflict() -> None:
        raise Conflict("Already taken.", code="probe_taken", details={"field": "name"})

    @pages.get("/boom")
    async def page_boom() -> None:
        raise RuntimeError("unexpected")

    @api.post("/deferred")
    async def deferred(session: SessionDep) -> dict[str, str]:
        # Both rows pass at insert time; the deferred unique constraint fails at COMMIT.
        await session.execute(text("INSERT INTO probe_deferred (v) VALUES (1), (1)"))
        return {"status": "written"}

    return api, pages


@pytest.fixture
async def probe(
    settings: Settings, bound_database: Database, connection: AsyncConnection
) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(settings, database=database_on(bound_database.engine, connection))
    for router in probe_routes():
        app.include_router(router)
    async with serving(app) as http:
        yield http


async def test_unknown_fields_are_rejected(probe: httpx2.AsyncClient) -> None:
    response = await probe.post(
        "/api/v1/probe/items", json={"name": "a", "count": 1, "admin": True}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {
            "field": "body.admin",
            "message": "“admin” is not something this accepts; leave it out.",
            "type": "extra_forbidden",
        }
    ]


async def test_field_errors_are_listed(probe: httpx2.AsyncClient) -> None:
    response = await probe.post("/api/v1/probe/items", json={"name": "x" * 11, "count": -1})
    assert response.status_code == 422
    fields = {d["field"]: d["type"] for d in response.json()["error"]["details"]}
    assert fields == {"body.name": "string_too_long", "body.count": "greater_than_equal"}


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 422, "validation_error"),
        (b"", "application/json", 422, "validation_error"),
        (b"\xff\xfe\x00", "application/json", 400, "bad_request"),
        (b"[1, 2, 3]", "application/json", 422, "validation_error"),
        (b"name=a&count=1", "application/x-www-form-urlencoded", 422, "validation_error"),
        (b"null", "application/json", 422, "validation_error"),
    ],
)
async def test_malformed_bodies_get_a_clear_error(
    probe: httpx2.AsyncClient, content: bytes, content_type: str, status: int, code: str
) -> None:
    response = await probe.post(
        "/api/v1/probe/items", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


async def test_app_errors_keep_their_code_and_details(probe: httpx2.AsyncClient) -> None:
    response = await probe.get("/api/v1/probe/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "probe_taken", "message": "Already taken.", "details": {"field": "name"}}
    }


async def test_unexpected_error_is_a_500_in_the_error_format(probe: httpx2.AsyncClient) -> None:
    response = await probe.get("/api/v1/probe/boom", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-123"
    assert response.json()["error"] == {
        "code": "internal_error",
        "message": "Something went wrong on our side. Quote request id req-123.",
        "details": None,
    }


async def test_unexpected_error_on_a_page_is_an_html_page(probe: httpx2.AsyncClient) -> None:
    response = await probe.get("/probe/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in response.text
    assert response.headers["x-request-id"] in response.text


async def test_unknown_api_route_and_method(probe: httpx2.AsyncClient) -> None:
    missing = await probe.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = await probe.delete("/api/v1/probe/items")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


async def test_unknown_page_is_an_html_404(probe: httpx2.AsyncClient) -> None:
    response = await probe.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text


@pytest.fixture
async def deferred_table(
    committed_db: Database, admin_engine: AsyncEngine
) -> AsyncIterator[Database]:
    async with admin_engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE probe_deferred (v int, UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)")
        )
    try:
        yield committed_db
    finally:
        async with admin_engine.begin() as conn:
            await conn.execute(text("DROP TABLE probe_deferred"))


async def test_failed_commit_is_an_error_response_and_nothing_is_written(
    settings: Settings, deferred_table: Database
) -> None:
    app = create_app(settings, database=deferred_table)
    for router in probe_routes():
        app.include_router(router)
    async with serving(app) as http:
        response = await http.post("/api/v1/probe/deferred")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "constraint_violation"
    async with deferred_table.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM probe_deferred"))).scalar_one() == 0
