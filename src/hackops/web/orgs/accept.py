"""Accepting an invitation to an organization: the page an invitation link opens, and its
button. The page never acts on GET (mail scanners open links); a signed-out visitor is sent to
log in (or sign up) and comes back to the link.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ActorDep
from hackops.actor import Actor
from hackops.db import SessionDep
from hackops.orgs import service
from hackops.orgs.schemas import InvitationAccept
from hackops.web import kit
from hackops.web.deps import InvitationLink, InvitationLinkDep, page_router

router = page_router()

ACCEPT = "/invitations/accept"


# --- accepting an invitation -----------------------------------------------------------------


async def _accept_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    link: InvitationLink,
    form: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    preview = await service.preview_invitation(session, org_slug=link.org, token=link.token)
    here = link.at(ACCEPT)
    context = {
        "org_slug": link.org,
        "token": link.token,
        "invitation": preview,
        "organization": preview.org if preview else None,
        "user": actor.user,
        "complete": link.complete,
        "login_url": kit.with_next("/login", here),
        "signup_url": kit.with_next("/signup", here),
        "form": form or kit.Form(),
    }
    return kit.render(request, "orgs/accept.html", context, status_code=status_code)


@router.get(ACCEPT, name="accept_invitation")
async def accept_invitation_page(
    request: Request, session: SessionDep, actor: ActorDep, link: InvitationLinkDep
) -> Response:
    status_code = 200 if link.complete else 400
    return await _accept_page(request, session, actor, link, status_code=status_code)


@router.post(ACCEPT)
async def accept_invitation(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    link = InvitationLink.posted(await kit.form_data(request))
    if actor.user is None:
        return kit.redirect(kit.with_next("/login", link.at(ACCEPT)))

    def invalid(form: kit.Form) -> None:
        form.error = "This invitation link is incomplete; open the link from the email again."

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=InvitationAccept,
        data={"org": link.org, "token": link.token},
        call=lambda body: service.accept_invitation(
            session, actor, org_slug=body.org, token=body.token
        ),
        page=lambda form, status: _accept_page(request, session, actor, link, form, status),
        done=lambda joined: f"Welcome to {joined[0].name}! You joined as {joined[1].role}.",
        then=lambda joined: f"/orgs/{joined[0].slug}",
        invalid=invalid,
    )
