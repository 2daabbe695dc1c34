"""The notification centre's API, under /api/v1/me: my notifications (keyset pages, unread
count, mark read) and my notification preferences. A person only ever reads and changes their
own (the services name them; row-level security holds the same with them as the actor).
The live socket is `socket.py`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Query

from hackops.accounts.deps import ActorDep, CurrentUserDep
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.notifications import centre, preferences
from hackops.notifications.schemas import (
    CategoryPreferenceOut,
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    ReadAllIn,
    ReadAllOut,
    UnreadCount,
    notification_out,
)
from hackops.routing import Router

router = Router(prefix="/me", tags=["notifications"])


@router.get(
    "/notifications",
    response_model=NotificationPage,
    summary="My notifications, newest first (keyset pages)",
    responses=error_responses(401, 403, 422),
)
async def list_notifications(
    session: SessionDep,
    user: CurrentUserDep,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=centre.MAX_LIMIT)] = centre.DEFAULT_LIMIT,
    unread_only: Annotated[bool, Query(description="Only the unread ones.")] = False,
) -> NotificationPage:
    page = await centre.list_mine(
        session, user, cursor=cursor or None, limit=limit, unread_only=unread_only
    )
    return NotificationPage(
        items=[notification_out(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/notifications/unread-count",
    response_model=UnreadCount,
    summary="How many of my notifications are unread",
    responses=error_responses(401, 403),
)
async def unread_count(session: SessionDep, user: CurrentUserDep) -> UnreadCount:
    return UnreadCount(unread=await centre.unread_count(session, user.id))


@router.post(
    "/notifications/read-all",
    response_model=ReadAllOut,
    summary="Mark my notifications read (all, or up to one I have seen)",
    responses=error_responses(401, 403, 422),
)
async def mark_all_read(
    session: SessionDep,
    actor: ActorDep,
    user: CurrentUserDep,
    body: Annotated[ReadAllIn | None, Body()] = None,
) -> ReadAllOut:
    up_to = body.up_to if body is not None else None
    marked = await centre.mark_all_read(session, actor, user, up_to=up_to)
    return ReadAllOut(marked=marked, unread=await centre.unread_count(session, user.id))


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    summary="Mark one of my notifications read",
    responses=error_responses(401, 403, 404, 422),
)
async def mark_read(
    session: SessionDep, actor: ActorDep, user: CurrentUserDep, notification_id: uuid.UUID
) -> NotificationOut:
    return notification_out(await centre.mark_read(session, actor, user, notification_id))


def preferences_out(choices: list[preferences.CategoryChoice]) -> PreferencesOut:
    return PreferencesOut(
        categories=[
            CategoryPreferenceOut(
                category=choice.category.key,
                label=choice.category.label,
                description=choice.category.description,
                transactional=choice.category.transactional,
                digest_allowed=choice.category.digest_allowed,
                in_app=choice.in_app,
                email=choice.email,
                digest=choice.digest,
            )
            for choice in choices
        ]
    )


@router.get(
    "/notification-preferences",
    response_model=PreferencesOut,
    summary="My notification preferences, per category and channel",
    responses=error_responses(401, 403),
)
async def get_preferences(session: SessionDep, user: CurrentUserDep) -> PreferencesOut:
    return preferences_out(await preferences.mine(session, user))


@router.put(
    "/notification-preferences",
    response_model=PreferencesOut,
    summary="Change my notification preferences (the categories given; others stay)",
    description=(
        "Transactional categories (`transactional: true`) cannot be turned off (422 "
        "`category_required`); `digest` only where `digest_allowed` (422 "
        "`digest_not_available`) and with email on (422 `digest_needs_email`)."
    ),
    responses=error_responses(401, 403, 422),
)
async def put_preferences(
    session: SessionDep, actor: ActorDep, user: CurrentUserDep, body: PreferencesIn
) -> PreferencesOut:
    return preferences_out(await preferences.update(session, actor, user, body))
