from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, field_validator

from hackops.models import OrgRole
from hackops.models.organization import SLUG_PATTERN
from hackops.schemas import InputModel, OutputModel

Slug = Annotated[str, Field(min_length=1, max_length=63, pattern=SLUG_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class Branding(InputModel):
    logo_url: Annotated[str, Field(max_length=500, pattern=r"^https://")] | None = None
    primary_color: Color | None = None
    accent_color: Color | None = None


class OrganizationPublic(OutputModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


class OrganizationOut(OrganizationPublic):
    plan: str
    max_active_events: int
    max_announcements_per_month: int
    feature_flags: dict[str, Any]
    branding: dict[str, Any]
    my_role: str | None = None


class OrganizationIn(InputModel):
    slug: Slug
    name: Name


class OrganizationUpdate(InputModel):
    name: Name | None = None
    branding: Branding | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent with a value (null means "leave it")."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class PlanUpdate(InputModel):
    plan: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    max_active_events: Annotated[int, Field(ge=0, le=10000)] | None = None
    max_announcements_per_month: Annotated[int, Field(ge=0, le=100_000)] | None = None
    feature_flags: dict[Annotated[str, Field(max_length=64)], bool] | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent with a value (null means "leave it")."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class MemberOut(OutputModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    since: datetime


class RoleUpdate(InputModel):
    role: OrgRole


class InvitationIn(InputModel):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    role: OrgRole = OrgRole.MEMBER


class InvitationOut(OutputModel):
    id: uuid.UUID
    email: str
    role: str
    created_at: datetime
    expires_at: datetime


class InvitationAccept(InputModel):
    org: Slug
    token: Annotated[str, Field(min_length=1, max_length=200)]


class MembershipOut(OutputModel):
    organization: OrganizationPublic
    role: str


class AuditEntryOut(OutputModel):
    id: uuid.UUID
    org_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    action: str
    resource_type: str
    resource_id: str | None
    details: dict[str, Any]
    ip: str | None
    user_agent: str
    created_at: datetime

    @field_validator("ip", mode="before")
    @classmethod
    def _ip_text(cls, value: object) -> str | None:
        return None if value is None else str(value)


class AuditPage(OutputModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
