"""Every write endpoint with a JSON body rejects fields it does not know (org_id, role,
is_platform_admin, ...) with 422, and nothing is written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import User
from tests.accounts.helpers import bearer
from tests.security.test_isolation import fill
from tests.security.world import build_tenant, example

SMUGGLED = {
    "org_id": "00000000-0000-0000-0000-000000000000",
    "is_platform_admin": True,
    "is_admin": True,
    "role_override": "owner",
    "id": "x",
    "user_id": "x",
}


async def row_counts(connection: AsyncConnection) -> dict[str, int]:
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    counts = {}
    for table in (
        "users",
        "organizations",
        "org_memberships",
        "org_invitations",
        "auth_tokens",
        "one_time_tokens",
        "oauth_identities",
        "audit_log",
        "outbound_emails",
    ):
        counts[table] = (
            await connection.execute(text(f"SELECT count(*) FROM {table}"))
        ).scalar_one()
    await connection.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))
    return counts


async def test_unknown_fields_are_rejected_everywhere(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, app: Any
) -> None:
    tenant = await build_tenant(client, session, "mass")
    owner = bearer(tenant.tokens["owner"])
    # A platform administrator, so that no route refuses before it reads the body.
    await session.execute(
        update(User)
        .where(User.id == uuid.UUID(tenant.user_ids["owner"]))
        .values(is_platform_admin=True)
    )
    spec = app.openapi()
    components = spec["components"]["schemas"]
    checked = []
    before = await row_counts(connection)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if method not in {"post", "patch", "put", "delete"} or content is None:
                continue
            body = example(content["schema"], components)
            assert isinstance(body, dict), path
            url = fill(path, tenant, "owner")
            schema = content["schema"]
            if "$ref" in schema:
                schema = components[schema["$ref"].rsplit("/", 1)[-1]]
            declared = set(schema.get("properties", {}))
            for key, value in SMUGGLED.items():
                if key in declared:  # a real field of this body (e.g. a member's user_id)
                    continue
                response = await client.request(
                    method.upper(), url, headers=owner, json={**body, key: value}
                )
                assert response.status_code == 422, (method, path, key, response.text)
                error = response.json()["error"]
                assert error["code"] == "validation_error"
                assert any(d["type"] == "extra_forbidden" for d in error["details"]), error
            checked.append((method, path))
    assert len(checked) >= 15
    assert await row_counts(connection) == before
