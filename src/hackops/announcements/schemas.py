"""Request and response models of announcements and event reminders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from hackops.announcements import content
from hackops.announcements.service import Deliver, Draft
from hackops.models import Audience
from hackops.schemas import InputModel, OutputModel

ChannelName = Literal["in_app", "email"]
AUDIENCES = ", ".join(a.value for a in Audience)
BOTH_CHANNELS: tuple[ChannelName, ...] = ("in_app", "email")


class AnnouncementContent(InputModel):
    """What an announcement says and to whom (a draft's fields)."""

    title: Annotated[str, Field(description="Plain text, 1 to 200 characters.")]
    body: Annotated[
        str, Field(description="Markdown, 1 to 20,000 characters; raw HTML is refused.")
    ]
    audience: Annotated[str, Field(description=f"One of: {AUDIENCES}.")]
    track_id: uuid.UUID | None = Field(
        default=None, description="The track whose teams hear it (audience `track` only)."
    )
    channels: list[ChannelName] = Field(default_factory=lambda: list(BOTH_CHANNELS))

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return content.check_title(value)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return content.check_body(value)

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: str) -> str:
        if value not in {a.value for a in Audience}:
            raise ValueError(f"Unknown audience {value[:40]!r}; choose one of: {AUDIENCES}.")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[ChannelName]) -> list[ChannelName]:
        unique = list(dict.fromkeys(value))
        if not unique:
            raise ValueError("Choose at least one channel: in_app, email or both.")
        return unique

    @model_validator(mode="after")
    def _track(self) -> AnnouncementContent:
        if self.audience == Audience.TRACK and self.track_id is None:
            raise ValueError("Choose the track whose teams should hear this (track_id).")
        if self.audience != Audience.TRACK and self.track_id is not None:
            raise ValueError("A track_id only goes with the audience 'track'.")
        return self

    def draft(self) -> Draft:
        return Draft(
            title=self.title,
            body=self.body,
            audience=Audience(self.audience),
            track_id=self.track_id,
            channels=list(self.channels),
        )


class AnnouncementIn(AnnouncementContent):
    deliver: Deliver = Field(
        default="draft",
        description="`draft` keeps it; `now` sends it; `at` schedules it for `send_at`.",
    )
    send_at: datetime | None = Field(
        default=None,
        description=(
            "When to send it (`deliver: at`): with an offset, or without one to be read on"
            " the event's wall clock (its time zone)."
        ),
    )

    @model_validator(mode="after")
    def _when(self) -> AnnouncementIn:
        if self.deliver == "at" and self.send_at is None:
            raise ValueError("Say when to send it (send_at), or send it now.")
        if self.deliver != "at" and self.send_at is not None:
            raise ValueError("send_at only goes with deliver 'at'.")
        return self


class ScheduleIn(InputModel):
    send_at: datetime = Field(
        description="With an offset, or without one to be read on the event's wall clock."
    )


class FiguresOut(OutputModel):
    recipients: int
    in_app_delivered: int
    in_app_read: int
    mails_queued: int
    mails_sent: int
    mails_failed: int


class AnnouncementOut(OutputModel):
    id: uuid.UUID
    title: str
    body: str
    body_html: str
    audience: Audience
    track_id: uuid.UUID | None
    channels: list[str]
    status: str
    send_at: datetime | None
    #: `send_at` on the event's wall clock with its offset: "2026-11-24 18:00 CET (UTC+01:00)".
    send_at_local: str
    sent_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    #: Whether the fan-out has run (its audience resolved, people told).
    dispatched: bool
    figures: FiguresOut | None


class PreviewOut(OutputModel):
    """Exactly what people will read: the mail's subject, the notification's title, text and
    link (the mail carries the same), and the body as the event's page shows it."""

    subject: str
    title: str
    text: str
    html: str
    link: str
    audience: str
    audience_label: str
    channels: list[str]
    #: How many people the audience holds now (it is resolved again when it goes out).
    recipients_now: int


class ReceivedOut(OutputModel):
    id: uuid.UUID
    title: str
    body_html: str
    sent_at: datetime | None
    sent_at_local: str


class RemindersIn(InputModel):
    registration_closing: bool = False
    submissions_closing: bool = False
    judging_daily: bool = False
    judging_hour: Annotated[int, Field(ge=0, le=23)] = 9


class RemindersOut(OutputModel):
    registration_closing: bool
    submissions_closing: bool
    judging_daily: bool
    judging_hour: int
