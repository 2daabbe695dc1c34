"""Linked sign-in providers: /api/v1/me/identities and the enabled providers for the login page."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import Request, Response, status

from hackops.accounts import oauth, oauth_service
from hackops.accounts.deps import ActorDep, CurrentUserDep
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.routing import Router
from hackops.schemas import OutputModel

router = Router()


class IdentityOut(OutputModel):
    id: uuid.UUID
    provider: str
    email: str
    created_at: datetime


class ProviderOut(OutputModel):
    name: str
    label: str
    start_url: str
    link_url: str


@router.get(
    "/me/identities",
    tags=["me"],
    response_model=list[IdentityOut],
    summary="My linked sign-in providers",
    responses=error_responses(401),
)
async def list_identities(session: SessionDep, user: CurrentUserDep) -> list[IdentityOut]:
    rows = await oauth_service.list_identities(session, user)
    return [IdentityOut.model_validate(row) for row in rows]


@router.delete(
    "/me/identities/{identity_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["me"],
    summary="Unlink a sign-in provider (refused for the last way to sign in)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def unlink_identity(
    identity_id: uuid.UUID, session: SessionDep, user: CurrentUserDep, actor: ActorDep
) -> Response:
    await oauth_service.unlink_identity(session, actor, user, identity_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/auth/providers",
    tags=["auth"],
    response_model=list[ProviderOut],
    summary="The sign-in providers enabled here, with the pages that start sign-in and linking",
)
async def list_providers(request: Request) -> list[ProviderOut]:
    return [
        ProviderOut(
            name=provider.name,
            label=provider.label,
            start_url=f"/auth/oauth/{provider.name}/start",
            link_url=f"/auth/oauth/{provider.name}/link",
        )
        for provider in oauth.get_registry(request).providers.values()
    ]
