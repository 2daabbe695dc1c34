"""Two organizations, each with a person in every role, a pending invitation and sign-in tokens:
the world the isolation and audit tests run in. Built through the real API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OAuthIdentity
from tests.accounts.helpers import bearer, verified_user
from tests.orgs.test_members import create_org, invite_and_join

ROLES = ("owner", "admin", "organizer", "member")


@dataclass
class Tenant:
    slug: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token
    user_ids: dict[str, str] = field(default_factory=dict)  # role -> user id
    invitation_id: str = ""
    session_ids: dict[str, str] = field(default_factory=dict)  # role -> a session token id
    api_token_ids: dict[str, str] = field(default_factory=dict)
    identity_id: str = ""


async def build_tenant(client: httpx2.AsyncClient, session: AsyncSession, slug: str) -> Tenant:
    tenant = Tenant(slug=slug)
    owner = await verified_user(client, session, f"owner@{slug}.example.com")
    await create_org(client, owner, slug)
    tenant.tokens["owner"] = owner
    for role in ROLES[1:]:
        tenant.tokens[role] = await invite_and_join(
            client, session, owner, slug, f"{role}@{slug}.example.com", role
        )
    members = (
        await client.get(f"/api/v1/organizations/{slug}/members", headers=bearer(owner))
    ).json()
    tenant.user_ids = {m["role"]: m["user_id"] for m in members}
    invited = await client.post(
        f"/api/v1/organizations/{slug}/invitations",
        headers=bearer(owner),
        json={"email": f"pending@{slug}.example.com", "role": "member"},
    )
    tenant.invitation_id = invited.json()["id"]
    for role, token in tenant.tokens.items():
        sessions = (await client.get("/api/v1/me/sessions", headers=bearer(token))).json()
        tenant.session_ids[role] = sessions[0]["id"]
        created = await client.post(
            "/api/v1/me/tokens",
            headers=bearer(token),
            json={"name": f"{role}-token", "scopes": ["read", "write"]},
        )
        tenant.api_token_ids[role] = created.json()["id"]
    identity = OAuthIdentity(
        user_id=uuid.UUID(tenant.user_ids["member"]),
        provider="github",
        subject=f"gh-{slug}",
        email=f"member@{slug}.example.com",
    )
    session.add(identity)
    await session.flush()
    tenant.identity_id = str(identity.id)
    return tenant


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A small valid value for a JSON schema (required fields only)."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return example(options[0], components)
    if "enum" in schema:
        return schema["enum"][-1]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: example(prop, components)
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [example(schema["items"], components)] * schema.get("minItems", 1)
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    return "someone@example.com" if "email" in schema.get("title", "").lower() else "x"
