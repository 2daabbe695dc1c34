"""One-click unsubscribe: `GET /unsubscribe/{token}` (a page with one button) and
`POST /unsubscribe/{token}` (that button, and RFC 8058 one-click from mail clients, which POST
`List-Unsubscribe=One-Click` to the link of the `List-Unsubscribe` header).

No sign-in and no CSRF check, on these two routes only: the signed token in the address is the
credential. It names one person and one category (`notifications/unsubscribe.py`, signed with
SECRET_KEY) and lets its holder do exactly one thing — turn that category's email off for that
person — so a forged cross-site POST would need the token, and with it could do no more than the
link itself. A mail client's one-click POST carries no cookie and no CSRF token, and must work.
(Every other page keeps `csrf_protect`, `web.deps.page_router`.) A token that is not ours (or
whose account is gone) is the 404 page; a transactional category says it cannot be turned off.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.responses import Response

from hackops.accounts.deps import client_ip, get_actor
from hackops.db import SessionDep
from hackops.models import User
from hackops.notifications import preferences
from hackops.notifications.categories import CATEGORIES, Category
from hackops.notifications.unsubscribe import read_token
from hackops.routing import Router
from hackops.web import kit

# The visitor is resolved (the header shows who is signed in) but not required; no CSRF check
# (see the module's docstring).
router = Router(dependencies=[Depends(get_actor)], include_in_schema=False)

#: A link this long is none of ours (ours are about 110 characters): the 404 page at once.
Token = Annotated[str, Path(min_length=1, max_length=200)]


async def _link(request: Request, session: SessionDep, token: Token) -> tuple[uuid.UUID, Category]:
    """The person and category the link names, or the 404 page."""
    found = read_token(kit.settings_of(request), token)
    category = CATEGORIES.get(found[1]) if found is not None else None
    if found is None or category is None or await session.get(User, found[0]) is None:
        raise preferences.UnsubscribeLinkInvalid
    return found[0], category


Link = Annotated[tuple[uuid.UUID, Category], Depends(_link)]


def _page(
    request: Request, category: Category, *, done: bool, form: kit.Form, status_code: int = 200
) -> Response:
    context = {"category": category, "done": done, "form": form, "action": request.url.path}
    return kit.render(request, "notifications/unsubscribe.html", context, status_code=status_code)


@router.get("/unsubscribe/{token}", name="unsubscribe")
async def unsubscribe_page(request: Request, link: Link) -> Response:
    _, category = link
    form = kit.Form()
    if category.transactional:
        form.error = preferences.CannotUnsubscribe.message
    return _page(request, category, done=False, form=form)


@router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, session: SessionDep, link: Link) -> Response:
    user_id, category = link
    return await kit.attempt(
        session,
        kit.Form(),
        lambda: preferences.unsubscribe(
            session,
            user_id,
            category.key,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        ),
        page=lambda form, status: _page(
            request, category, done=False, form=form, status_code=status
        ),
        reply=lambda _: _page(request, category, done=True, form=kit.Form()),
    )
