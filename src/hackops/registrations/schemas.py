"""Request and response models of registrations and check-in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from hackops.schemas import InputModel, OutputModel

AnswerValue = str | bool | list[str]
StatusName = Literal["registered", "waitlisted", "cancelled", "checked_in", "pending", "declined"]
SortName = Literal["created", "name", "email", "status", "queue", "checked_in"]
MAX_PAGE = 200


class RegistrationIn(InputModel):
    answers: Annotated[
        dict[Annotated[str, Field(max_length=64)], AnswerValue], Field(max_length=100)
    ] = Field(default_factory=dict)


class RegistrationOut(OutputModel):
    """The participant's own registration (with the check-in code)."""

    id: uuid.UUID
    event_id: uuid.UUID
    status: str
    answers: dict[str, Any]
    #: None while the registration awaits approval or was declined (no seat, no code).
    checkin_code: str | None
    checked_in_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    waitlist_position: int | None = None


class PersonOut(OutputModel):
    id: uuid.UUID
    email: str
    name: str


class RegistrationAdminOut(OutputModel):
    """A registration as organizers see it."""

    id: uuid.UUID
    user: PersonOut
    status: str
    queue_seq: int
    answers: dict[str, Any]
    source: str
    checked_in_at: datetime | None
    checked_in_by_id: uuid.UUID | None
    cancelled_at: datetime | None
    created_at: datetime


class RegistrationPage(OutputModel):
    items: list[RegistrationAdminOut]
    total: int
    limit: int
    offset: int


class MyRegistrationOut(OutputModel):
    id: uuid.UUID
    status: str
    checkin_code: str | None
    created_at: datetime
    org_slug: str | None
    event_slug: str | None
    event_name: str | None
    starts_at: datetime | None


class CheckinIn(InputModel):
    code: Annotated[str, Field(min_length=4, max_length=64)]


class CheckinOut(OutputModel):
    registration_id: uuid.UUID
    user: PersonOut
    checked_in_at: datetime
    checked_in_by_id: uuid.UUID | None
    already_checked_in: bool


class UndoCheckinIn(InputModel):
    reason: Annotated[str, Field(max_length=500)] = ""


class PromoteIn(InputModel):
    #: With no free seat, add one to the capacity for this person (else 409 `no_free_seat`).
    raise_capacity: bool = False


class WaitlistEntryOut(RegistrationAdminOut):
    """A waitlisted person with their place in line (1 = the next free seat is theirs)."""

    position: int


class DeskOut(OutputModel):
    """The check-in desk: who matches the search (at most 20), and the event's counts."""

    items: list[RegistrationAdminOut]
    checked_in: int
    registered: int


class ImportRowError(OutputModel):
    row: int
    column: str
    message: str


class ImportOut(OutputModel):
    rows: int
    registered: int
    waitlisted: int
    unchanged: int
    not_seated: list[int]
    errors: list[ImportRowError]
