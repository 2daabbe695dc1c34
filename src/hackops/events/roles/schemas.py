"""Request and response bodies of event role invitations (`role_invitations_router`; the 202 of
granting a role to an address without a confirmed account, `children_router`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from hackops.accounts.schemas import UserOut
from hackops.models import EventRoleInvitation
from hackops.schemas import InputModel, OutputModel


class RoleInvitationOut(OutputModel):
    id: uuid.UUID
    email: str
    role: str
    status: Literal["invited"] = "invited"
    created_at: datetime
    expires_at: datetime
    expired: bool


def invitation_out(invitation: EventRoleInvitation, now: datetime) -> RoleInvitationOut:
    return RoleInvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        expired=invitation.expires_at <= now,
    )


class RoleInvitationSent(RoleInvitationOut):
    """The 202 of granting a role by email when an invitation was mailed instead."""

    message: str


class RoleInvitationAcceptIn(InputModel):
    org: Annotated[str, Field(min_length=1, max_length=63)]
    token: Annotated[str, Field(min_length=1, max_length=200)]
    #: The new account's name, when the invitation creates one (ignored otherwise).
    name: Annotated[str, Field(max_length=200)] = ""


class RoleInvitationAccepted(OutputModel):
    organization: str
    event: str
    event_name: str
    role: str
    grant_id: uuid.UUID
    user: UserOut
    account_created: bool
    #: A bearer session for a caller who was not signed in (shown once), else null.
    access_token: str | None
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int | None
