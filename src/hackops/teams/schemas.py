"""Request and response models of teams, invitations, join requests and the team finder."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, model_validator

from hackops.schemas import InputModel, OutputModel

MAX_SKILLS = 20


def normalize_skills(skills: list[str]) -> list[str]:
    """Trimmed, case-folded, without blanks or repeats, in the order given: `Python` and
    ` python ` are one skill, so array overlap (`&&`) matches them."""
    seen: dict[str, None] = {}
    for skill in skills:
        folded = " ".join(skill.split()).casefold()
        if folded:
            seen.setdefault(folded, None)
    return list(seen)


Skill = Annotated[str, Field(min_length=1, max_length=64)]
Skills = Annotated[list[Skill], Field(max_length=MAX_SKILLS), AfterValidator(normalize_skills)]
TeamName = Annotated[str, Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=2000)]


class TeamIn(InputModel):
    name: TeamName
    description: Description = ""
    recruiting: bool = True
    skills_wanted: Skills = Field(default_factory=list)


class TeamUpdate(InputModel):
    name: TeamName | None = None
    description: Description | None = None
    recruiting: bool | None = None
    skills_wanted: Skills | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (what the service applies)."""
        return self.model_dump(exclude_unset=True)


class MemberOut(OutputModel):
    user_id: uuid.UUID
    name: str
    role: str
    joined_at: datetime


class TeamOut(OutputModel):
    id: uuid.UUID
    event_id: uuid.UUID
    name: str
    description: str
    captain_id: uuid.UUID
    recruiting: bool
    skills_wanted: list[str]
    member_count: int
    max_members: int
    created_at: datetime
    #: Shown to the team's members only.
    join_code: str | None = None


class TeamDetail(TeamOut):
    members: list[MemberOut]
    my_role: str | None = None


class TeamPage(OutputModel):
    items: list[TeamOut]
    limit: int
    offset: int


class JoinByCode(InputModel):
    code: Annotated[str, Field(min_length=4, max_length=16)]


class CaptainTransfer(InputModel):
    user_id: uuid.UUID


class TeamInvitationIn(InputModel):
    """Invite by email address or by a user's id (e.g. someone found with the team finder)."""

    email: Annotated[str, Field(min_length=3, max_length=320)] | None = None
    user_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.email is None) == (self.user_id is None):
            raise ValueError("give either email or user_id")
        return self


class TeamInvitationOut(OutputModel):
    """Never the invitee's address, nor whether an address has an account: `invitee` is the
    display name of someone invited by user id, or a hint of the address (`a•••@example.org`)
    the captain typed; `invited_user_id` is set only for invitations by user id."""

    id: uuid.UUID
    team_id: uuid.UUID
    invited_user_id: uuid.UUID | None
    by_email: bool
    invitee: str
    status: str
    created_at: datetime
    expires_at: datetime


def address_hint(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def invitation_out(invitation: Any, invitee_name: str | None) -> TeamInvitationOut:
    """`invitation` a TeamInvitation; `invitee_name` the invited account's name (user id)."""
    by_email = invitation.invited_user_id is None or invitee_name is None
    return TeamInvitationOut(
        id=invitation.id,
        team_id=invitation.team_id,
        invited_user_id=None if by_email else invitation.invited_user_id,
        by_email=by_email,
        invitee=address_hint(invitation.email) if by_email else (invitee_name or "Someone"),
        status=invitation.status,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


class InvitationToken(InputModel):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class JoinRequestIn(InputModel):
    message: Annotated[str, Field(max_length=500)] = ""


class JoinRequestOut(OutputModel):
    id: uuid.UUID
    team_id: uuid.UUID
    user_id: uuid.UUID
    message: str
    status: str
    created_at: datetime
    decided_at: datetime | None


class MembershipOut(OutputModel):
    team_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    joined_at: datetime


class LeaveOut(OutputModel):
    team_id: uuid.UUID
    disbanded: bool


# --- the team finder ---------------------------------------------------------------------------


class FinderProfileIn(InputModel):
    looking_for_team: bool | None = None
    skills: Skills | None = None
    note: Annotated[str, Field(max_length=500)] | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (what the service applies)."""
        return self.model_dump(exclude_unset=True)


class FinderProfileOut(OutputModel):
    looking_for_team: bool
    skills: list[str]
    note: str


class TeamMatch(OutputModel):
    team: TeamOut
    matching_skills: list[str]
    overlap: int
    rank: float


class PersonMatch(OutputModel):
    user_id: uuid.UUID
    name: str
    skills: list[str]
    note: str
    matching_skills: list[str]
    overlap: int
    rank: float


class TeamMatchPage(OutputModel):
    items: list[TeamMatch]
    limit: int
    offset: int


class PersonMatchPage(OutputModel):
    items: list[PersonMatch]
    limit: int
    offset: int
