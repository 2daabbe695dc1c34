"""Request and response models of the notification centre and the preferences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from hackops.models import Notification
from hackops.notifications.centre import cursor_of
from hackops.schemas import InputModel, OutputModel

Cursor = Annotated[str, Field(min_length=1, max_length=200)]


class NotificationOut(OutputModel):
    id: uuid.UUID
    category: str
    title: str
    body: str
    #: The page the notification is about: a path on this site ("" when about nothing).
    link: str
    created_at: datetime
    read_at: datetime | None
    #: This notification's position: `up_to` of "mark all read" marks it and older ones.
    cursor: str


def notification_out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        category=row.category,
        title=row.title,
        body=row.body,
        link=row.link,
        created_at=row.created_at,
        read_at=row.read_at,
        cursor=cursor_of(row),
    )


class NotificationPage(OutputModel):
    items: list[NotificationOut]
    #: Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: str | None


class UnreadCount(OutputModel):
    unread: int


class ReadAllIn(InputModel):
    #: A notification's `cursor`: mark it and every older one (what the reader has seen), not
    #: those that arrived since. Absent: every unread notification.
    up_to: Cursor | None = None


class ReadAllOut(OutputModel):
    marked: int
    unread: int


class CategoryPreferenceOut(OutputModel):
    category: str
    label: str
    description: str
    #: Cannot be turned off (it answers something the person did).
    transactional: bool
    #: Email may be gathered into one daily digest.
    digest_allowed: bool
    in_app: bool
    email: bool
    #: Email comes as one daily digest instead of one mail each.
    digest: bool


class PreferencesOut(OutputModel):
    categories: list[CategoryPreferenceOut]


class CategoryPreferenceIn(InputModel):
    category: Annotated[str, Field(min_length=1, max_length=40)]
    in_app: bool
    email: bool
    #: One daily digest instead of one mail each (categories with `digest_allowed`; needs email).
    digest: bool = False


class PreferencesIn(InputModel):
    #: The categories to change (others stay as they are), each once.
    categories: Annotated[list[CategoryPreferenceIn], Field(min_length=1, max_length=50)]

    @field_validator("categories")
    @classmethod
    def _each_once(cls, value: list[CategoryPreferenceIn]) -> list[CategoryPreferenceIn]:
        keys = [item.category for item in value]
        if len(set(keys)) != len(keys):
            raise ValueError("each category may appear once")
        return value
