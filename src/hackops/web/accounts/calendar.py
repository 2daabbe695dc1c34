"""My calendar feed: the account page that makes, renews and turns off the private address of
the ICS of my events (`/account/calendar`), and the feed itself (`/calendar/<token>.ics`).

The address is shown once, in the answer to the POST that made it (no-store, never in a
cookie), as an API token's secret: only its SHA-256 is stored (`hackops.exports.calendar`).
The feed route asks for no sign-in and takes no cookie: calendar programs fetch it on their
own, and the token in the address is the credential; an unknown or revoked token is the 404
page, as an address that never existed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response

from hackops.accounts.deps import ActorDep
from hackops.db import SessionDep
from hackops.errors import NotFound
from hackops.exports import calendar
from hackops.models import User
from hackops.routing import Router
from hackops.web import kit
from hackops.web.deps import PageUserDep, page_router

router = page_router()
# The feed: no sign-in, no CSRF check (a GET), no cookie read (see the module).
feed = Router(include_in_schema=False)

PAGE = "/account/calendar"
#: Our tokens are 43 characters; anything much longer is none of ours (the 404 page at once).
Token = Annotated[str, Path(min_length=1, max_length=100)]


class NoSuchCalendar(NotFound):
    code = "calendar_not_found"
    message = "No such calendar. Its address may have been replaced by a newer one."


async def _page(
    request: Request, session: SessionDep, user: User, *, new_address: str | None = None
) -> Response:
    settings = kit.settings_of(request)
    context = {
        "current": await calendar.feed_of(session, user),
        "events": await calendar.my_events(session, user),
        "new_address": calendar.feed_url(settings.base_url, new_address) if new_address else None,
    }
    headers = {"Cache-Control": "no-store"} if new_address else None
    return kit.render(request, "account/calendar.html", context, headers=headers)


@router.get(PAGE, name="account_calendar")
async def calendar_page(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    return await _page(request, session, user)


@router.post(PAGE + "/new")
async def new_calendar_address(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    """A new address, shown in this answer only; the old one (if any) stops working."""
    raw = await calendar.new_address(session, actor, user)
    return await _page(request, session, user, new_address=raw)


@router.post(PAGE + "/off")
async def turn_calendar_off(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    return await kit.act(
        request,
        session,
        PAGE,
        lambda: calendar.turn_off(session, actor, user),
        lambda was_on: (
            "Your calendar address no longer works."
            if was_on
            else "Your calendar was already turned off."
        ),
    )


@feed.get(calendar.FEED_PATH)
async def calendar_feed(token: Token, request: Request, session: SessionDep) -> Response:
    user = await calendar.owner_of(session, token)
    if user is None:
        raise NoSuchCalendar
    body = await calendar.feed_ics(session, user, kit.settings_of(request).base_url)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="my-events.ics"',
            "Cache-Control": "private, max-age=300",
            "X-Robots-Tag": "noindex",
        },
    )
