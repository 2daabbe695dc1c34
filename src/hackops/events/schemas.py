"""Request and response models of events, their tracks, awards and roles."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, Field, field_validator

from hackops.events.lifecycle import EventState, SignUp, registration_open, state_at
from hackops.events.questions.service import MAX_QUESTIONS, Question, check_question_list
from hackops.models import Event, EventMode, EventRole, Visibility
from hackops.models.organization import SLUG_PATTERN
from hackops.schemas import InputModel, OutputModel

Slug = Annotated[str, Field(min_length=1, max_length=63, pattern=SLUG_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Tagline = Annotated[str, Field(max_length=300)]
Description = Annotated[str, Field(max_length=20_000)]
Venue = Annotated[str, Field(max_length=300)]
Capacity = Annotated[int, Field(ge=0, le=1_000_000)]
TeamSize = Annotated[int, Field(ge=1, le=100)]
GraceMinutes = Annotated[int, Field(ge=0, le=1440)]

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime:
    # Bounded so that deadline arithmetic (grace minutes) can never overflow.
    if not EARLIEST <= moment < LATEST:
        raise ValueError("must be between the years 2000 and 2099")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError("unknown time zone; use an IANA name such as Europe/Berlin")
    return value


def _domains(values: list[str]) -> list[str]:
    seen: list[str] = []
    for raw in values:
        domain = raw.strip().lower().removeprefix("@")
        if not DOMAIN.match(domain):
            raise ValueError(f"{raw!r} is not an email domain such as example.org")
        if domain not in seen:
            seen.append(domain)
    return seen


Timezone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]
Domains = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=255)]],
    Field(max_length=100),
    AfterValidator(_domains),
]
Questions = Annotated[
    list[Question], Field(max_length=MAX_QUESTIONS), AfterValidator(check_question_list)
]

#: Fields an organizer may set (create and patch); the windows are checked together.
WINDOW_FIELDS = (
    "registration_opens_at",
    "registration_closes_at",
    "starts_at",
    "submissions_close_at",
    "judging_closes_at",
)


class EventUpdate(InputModel):
    """Every field optional; leaving one out keeps it, `null` clears a window or the capacity."""

    name: Name | None = None
    tagline: Tagline | None = None
    description: Description | None = None
    mode: EventMode | None = None
    venue: Venue | None = None
    timezone: Timezone | None = None
    registration_opens_at: Moment | None = None
    registration_closes_at: Moment | None = None
    starts_at: Moment | None = None
    submissions_close_at: Moment | None = None
    grace_minutes: GraceMinutes | None = None
    judging_closes_at: Moment | None = None
    capacity: Capacity | None = None
    waitlist_enabled: bool | None = None
    # New registrations wait for an organizer's approval (pending: no seat until approved).
    approval_required: bool | None = None
    team_min: TeamSize | None = None
    team_max: TeamSize | None = None
    visibility: Visibility | None = None
    allowed_email_domains: Domains | None = None
    questions: Questions | None = None
    # Submissions: file limits, late submissions; public voting window.
    file_max_bytes: Annotated[int, Field(ge=1024, le=2 * 1024**3)] | None = None
    file_max_count: Annotated[int, Field(ge=0, le=50)] | None = None
    file_types: (
        Annotated[list[Literal["pdf", "png", "jpeg", "zip", "mp4"]], Field(min_length=1)] | None
    ) = None
    late_submissions: bool | None = None
    voting_opens_at: Moment | None = None
    voting_closes_at: Moment | None = None
    # Published results: show each project's per-criterion scores, judges anonymized.
    results_show_breakdown: bool | None = None

    @field_validator(
        "name",
        "tagline",
        "description",
        "mode",
        "venue",
        "timezone",
        "grace_minutes",
        "waitlist_enabled",
        "approval_required",
        "team_min",
        "team_max",
        "visibility",
        "allowed_email_domains",
        "questions",
        "file_max_bytes",
        "file_max_count",
        "file_types",
        "late_submissions",
        "results_show_breakdown",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as plain values for the model."""
        data = self.model_dump(exclude_unset=True, mode="python")
        if "questions" in data and self.questions is not None:
            data["questions"] = [q.model_dump(mode="json") for q in self.questions]
        for key in ("mode", "visibility"):
            if key in data:
                data[key] = str(data[key])
        return data


class EventIn(EventUpdate):
    slug: Slug
    name: Name


class EventOut(OutputModel):
    id: uuid.UUID
    org_slug: str
    slug: str
    name: str
    tagline: str
    description: str
    description_html: str
    mode: str
    venue: str
    timezone: str
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    starts_at: datetime | None
    submissions_close_at: datetime | None
    grace_minutes: int
    judging_closes_at: datetime | None
    capacity: int | None
    registered_count: int
    waitlist_enabled: bool
    approval_required: bool
    team_min: int
    team_max: int
    visibility: str
    allowed_email_domains: list[str]
    questions: list[dict[str, Any]]
    file_max_bytes: int
    file_max_count: int
    file_types: list[str]
    late_submissions: bool
    voting_opens_at: datetime | None
    voting_closes_at: datetime | None
    gallery_opened_at: datetime | None
    published_at: datetime | None
    results_published_at: datetime | None
    results_show_breakdown: bool
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    state: EventState
    registration_open: bool


def event_out(org_slug: str, event: Event, now: datetime) -> EventOut:
    """An event as the API shows it, with its state and registration window at `now`."""
    return EventOut.model_validate(
        {
            **{
                name: getattr(event, name) for name in EventOut.model_fields if hasattr(event, name)
            },
            "org_slug": org_slug,
            "state": state_at(event, now),
            "registration_open": registration_open(event, now),
        }
    )


class EventSummary(OutputModel):
    id: uuid.UUID
    org_slug: str
    org_name: str
    slug: str
    name: str
    tagline: str
    mode: str
    venue: str
    timezone: str
    visibility: str
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    starts_at: datetime | None
    submissions_close_at: datetime | None
    capacity: int | None
    registered_count: int
    state: EventState


class PublicEventOut(OutputModel):
    """A public event as the landing page and an organization's public page list it."""

    org_slug: str
    org_name: str
    slug: str
    name: str
    tagline: str
    mode: str
    venue: str
    timezone: str
    starts_at: datetime | None
    submissions_close_at: datetime | None
    results_published_at: datetime | None
    state: EventState
    sign_up: SignUp | None
    results_published: bool
    gallery_open: bool


class PublicOrganizationOut(OutputModel):
    slug: str
    name: str
    created_at: datetime
    primary_color: str | None
    accent_color: str | None


class OrgShowcaseOut(OutputModel):
    """An organization's public page: its public events, up to 50 per section."""

    organization: PublicOrganizationOut
    upcoming: list[PublicEventOut]
    happening: list[PublicEventOut]
    past: list[PublicEventOut]


class EventPage(OutputModel):
    items: list[EventSummary]
    next_offset: int | None


class TrackIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=2000)] = ""
    position: Annotated[int, Field(ge=0, le=10_000)] = 0


class TrackUpdate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None

    @field_validator("name", "description", "position")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class TrackOut(OutputModel):
    id: uuid.UUID
    name: str
    description: str
    position: int


class AwardIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=2000)] = ""
    prize: Annotated[str, Field(max_length=300)] = ""
    position: Annotated[int, Field(ge=0, le=10_000)] = 0
    track_id: uuid.UUID | None = None


class AwardUpdate(InputModel):
    """`track_id: null` detaches the award from its track."""

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    prize: Annotated[str, Field(max_length=300)] | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None
    track_id: uuid.UUID | None = None

    @field_validator("name", "description", "prize", "position")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class AwardOut(OutputModel):
    id: uuid.UUID
    name: str
    description: str
    prize: str
    position: int
    track_id: uuid.UUID | None


class RoleGrantIn(InputModel):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    role: EventRole


class RoleGrantOut(OutputModel):
    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    created_at: datetime
