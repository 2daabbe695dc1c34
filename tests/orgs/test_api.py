from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.db import db_now
from tests.factories import create_organization
from tests.helpers import count_queries


async def test_get_organization(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    org = await create_organization(session, slug="acme", name="ACME Hack Club")
    await session.refresh(org)
    response = await client.get("/api/v1/organizations/acme")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(org.id),
        "slug": "acme",
        "name": "ACME Hack Club",
        "created_at": org.created_at.isoformat().replace("+00:00", "Z"),
    }


async def test_unknown_organization_is_a_404_in_the_error_format(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.get("/api/v1/organizations/nobody")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "organization_not_found",
            "message": "No such organization.",
            "details": None,
        }
    }


async def test_deleted_organization_is_not_found(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    org = await create_organization(session, slug="gone")
    org.deleted_at = await db_now(session)
    await session.flush()
    assert (await client.get("/api/v1/organizations/gone")).status_code == 404


async def test_over_long_slug_is_a_validation_error(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/v1/organizations/" + "a" * 64)
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert body["details"][0]["field"] == "path.slug"


async def test_read_is_one_query(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    await create_organization(session, slug="one-query")
    with count_queries(connection) as queries:
        response = await client.get("/api/v1/organizations/one-query")
    assert response.status_code == 200
    assert queries.count == 1, queries.statements
