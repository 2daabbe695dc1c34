from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, HttpUrl, field_validator

from hackops.schemas import InputModel, OutputModel

Tag = Annotated[str, Field(min_length=1, max_length=64)]
Password = Annotated[str, Field(min_length=1, max_length=256)]
Email = Annotated[str, Field(min_length=3, max_length=320)]


class RegisterIn(InputModel):
    email: Email
    password: Password
    name: Annotated[str, Field(max_length=200)] = ""


class RegisterAccepted(OutputModel):
    """The answer to registering, the same for a fresh and a taken address."""

    email: str
    message: str


class TokenOut(OutputModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int


class UserOut(OutputModel):
    id: uuid.UUID
    email: str
    email_verified: bool
    name: str
    bio: str
    skills: list[str]
    interests: list[str]
    links: list[str]
    is_platform_admin: bool
    created_at: datetime


class ProfileIn(InputModel):
    name: Annotated[str, Field(max_length=200)] | None = None
    bio: Annotated[str, Field(max_length=2000)] | None = None
    skills: Annotated[list[Tag], Field(max_length=30)] | None = None
    interests: Annotated[list[Tag], Field(max_length=30)] | None = None
    links: Annotated[list[HttpUrl], Field(max_length=10)] | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent with a value (null means "leave it"), links as plain strings."""
        data = self.model_dump(exclude_unset=True, exclude_none=True)
        if "links" in data:
            data["links"] = [str(link) for link in data["links"]]
        return data


class PasswordChangeIn(InputModel):
    current_password: Password
    new_password: Password


class EmailChangeIn(InputModel):
    password: Password
    new_email: Email


class DeleteAccountIn(InputModel):
    password: Password | None = None


class TokenIn(InputModel):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class ResetRequestIn(InputModel):
    email: Email


class ResetConfirmIn(InputModel):
    token: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class SessionOut(OutputModel):
    id: uuid.UUID
    kind: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    ip: str | None
    user_agent: str
    current: bool = False

    @field_validator("ip", mode="before")
    @classmethod
    def _ip_text(cls, value: object) -> str | None:
        return None if value is None else str(value)


class ApiTokenIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Literal["read", "write"]], Field(min_length=1, max_length=2)]
    expires_in_days: Annotated[int, Field(ge=1, le=365)] = 90


class ApiTokenCreated(SessionOut):
    token: str


class Accepted(OutputModel):
    status: Literal["accepted"] = "accepted"
    message: str


class SignInLinkIn(InputModel):
    email: Email
