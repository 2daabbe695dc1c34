"""FastAPI dependencies of the webhooks API: the endpoint in the admin's organization."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hackops.db import SessionDep
from hackops.models import WebhookEndpoint
from hackops.orgs.deps import OrgAccess, OrgAdminDep
from hackops.webhooks import service
from hackops.webhooks.urls import TargetPolicy


@dataclass(frozen=True)
class EndpointAccess:
    access: OrgAccess
    endpoint: WebhookEndpoint


async def webhook_endpoint(
    endpoint_id: uuid.UUID, session: SessionDep, access: OrgAdminDep
) -> EndpointAccess:
    return EndpointAccess(access, await service.get_endpoint(session, access, endpoint_id))


def target_policy(request: Request) -> TargetPolicy:
    return TargetPolicy.from_settings(request.app.state.settings)


def secret_key(request: Request) -> str:
    key: str = request.app.state.settings.secret_key.get_secret_value()
    return key


EndpointDep = Annotated[EndpointAccess, Depends(webhook_endpoint)]
PolicyDep = Annotated[TargetPolicy, Depends(target_policy)]
SecretKeyDep = Annotated[str, Depends(secret_key)]
