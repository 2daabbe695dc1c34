"""The notification centre (`/notifications`) and the notification preferences
(`/account/notifications`, a tab of the account pages).

The centre lists the person's notifications newest first (keyset pages), each linking to the
page it is about; "Mark as read" buttons, and "Mark all as read" up to the newest one shown (one
that arrives after the page was drawn stays unread). `static/notifications.js` marks an item
read when its link is followed and keeps the header badge live. The preferences page saves
through the API's own input model (`PreferencesIn`), so it refuses what the API refuses.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from hackops.accounts.deps import ActorDep
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.models import Notification
from hackops.notifications import centre, preferences
from hackops.notifications.categories import CATEGORIES
from hackops.notifications.schemas import PreferencesIn, ReadAllIn
from hackops.web import kit
from hackops.web.deps import PageUserDep, page_router

router = page_router()

CENTRE = "/notifications"
PREFERENCES = "/account/notifications"
PAGE_SIZE = 20


def _item(row: Notification) -> dict[str, Any]:
    category = CATEGORIES.get(row.category)
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        # Only a path on this site is a link (a notification never sends anyone elsewhere).
        "href": kit.safe_next(row.link),
        "category": category.label if category is not None else row.category,
        "created_at": row.created_at,
        "unread": row.read_at is None,
    }


def _back(value: str) -> str:
    """Where a button on the centre goes back to: the centre page it was pressed on."""
    back = kit.safe_next(value)
    return back if back is not None and back.startswith(CENTRE) else CENTRE


@router.get(CENTRE, name="notifications")
async def centre_page(
    request: Request,
    session: SessionDep,
    user: PageUserDep,
    cursor: Annotated[str, Query(max_length=200)] = "",
    unread: Annotated[bool, Query()] = False,
) -> Response:
    try:
        page = await centre.list_mine(
            session, user, cursor=cursor or None, limit=PAGE_SIZE, unread_only=unread
        )
    except centre.BadCursor:
        return kit.flash_redirect(
            request,
            CENTRE,
            "That page of notifications no longer exists; here are your newest.",
            "warning",
        )
    filters = {"unread": "true"} if unread else {}
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    context = {
        "items": [_item(row) for row in page.items],
        "unread_only": unread,
        "unread_count": getattr(request.state, "unread_count", None),
        "older_url": (
            f"?{urlencode({**filters, 'cursor': page.next_cursor})}" if page.next_cursor else None
        ),
        "newest_url": f"?{urlencode(filters)}" if cursor else None,
        # "Mark all as read" on the first page marks up to the newest shown; on later pages,
        # every unread one.
        "up_to": centre.cursor_of(page.items[0]) if page.items and not cursor else "",
        "here": here,
    }
    return kit.render(request, "notifications/centre.html", context)


@router.post(CENTRE + "/read-all")
async def read_all(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    data = await kit.form_data(request)

    async def mark(body: ReadAllIn) -> int:
        return await centre.mark_all_read(session, actor, user, up_to=body.up_to)

    return await kit.act_checked(
        request,
        session,
        _back(data.get("back", "")),
        model=ReadAllIn,
        data={"up_to": data.get("up_to") or None},
        action=mark,
        done=lambda marked: (
            f"Marked {marked} notification{'s' if marked != 1 else ''} as read."
            if marked
            else "Nothing was unread."
        ),
    )


@router.post(CENTRE + "/{notification_id}/read")
async def read_one(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    user: PageUserDep,
    notification_id: uuid.UUID,
) -> Response:
    data = await kit.form_data(request)
    return await kit.act(
        request,
        session,
        _back(data.get("back", "")),
        lambda: centre.mark_read(session, actor, user, notification_id),
        "Marked as read.",
    )


# --- preferences ------------------------------------------------------------------------------


def _values(choices: list[preferences.CategoryChoice]) -> dict[str, str]:
    values: dict[str, str] = {}
    for choice in choices:
        for channel in ("in_app", "email", "digest"):
            if getattr(choice, channel):
                values[f"{choice.category.key}.{channel}"] = "on"
    return values


def _preferences_page(request: Request, form: kit.Form, status_code: int = 200) -> Response:
    context = {
        "categories": list(CATEGORIES.values()),
        "form": form,
        "account_tab": "notifications",
    }
    return kit.render(request, "notifications/preferences.html", context, status_code=status_code)


@router.get(PREFERENCES, name="notification_preferences")
async def preferences_page(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    form = kit.Form(values=_values(await preferences.mine(session, user)))
    return _preferences_page(request, form)


def _submitted(data: dict[str, str]) -> dict[str, Any]:
    """The form as the API's body: every category that can be changed (a checkbox not ticked
    is not sent, so it is off)."""
    return {
        "categories": [
            {
                "category": key,
                "in_app": data.get(f"{key}.in_app") == "on",
                "email": data.get(f"{key}.email") == "on",
                "digest": data.get(f"{key}.digest") == "on",
            }
            for key, category in CATEGORIES.items()
            if not category.transactional
        ]
    }


@router.post(PREFERENCES)
async def save_preferences(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    data = await kit.form_data(request)
    form = kit.Form(values={k: v for k, v in data.items() if v == "on"})

    async def save(body: PreferencesIn) -> list[preferences.CategoryChoice]:
        return await preferences.update(session, actor, user, body)

    def refused(form: kit.Form, exc: AppError) -> int:
        key = exc.details.get("category") if isinstance(exc.details, dict) else None
        category = CATEGORIES.get(key) if isinstance(key, str) else None
        form.error = exc.message
        if category is not None:
            form.errors[category.key] = exc.message
        return kit.status_of(exc)

    return await kit.form_action(
        request,
        session,
        form,
        model=PreferencesIn,
        data=_submitted(data),
        call=save,
        page=lambda form, status: _preferences_page(request, form, status),
        done="Your notification preferences are saved.",
        then=PREFERENCES,
        refused=refused,
    )
