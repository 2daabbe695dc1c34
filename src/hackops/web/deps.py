"""Page dependencies: who is signed in, and what they may see, loaded and authorized before a
page route runs — so no page route checks sign-in or access by hand.

Built on the same framework-free loaders as the API (`events.access`, `orgs.deps.org_access`,
`teams.access.load_team`, `judging.service.require_judge`), so a page refuses exactly what the
API refuses:
- nobody signed in: `LoginRequired`, which `install` turns into a 303 to the log-in page (back
  to this page afterwards when it was a GET);
- an object the visitor may not see: the loaders' `NotFound` (the 404 page); one they know
  exists but may not change: their `Forbidden` (the 403 page).

Sign-in comes before the address: a dependency that needs a signed-in visitor takes `PageUserDep`
as its first parameter, which FastAPI resolves before it reads the dependency's own path
parameters (and a route's dependencies before the route's own). So a signed-out visitor is sent
to log in whatever the address; then an id or slug that cannot be one (`not-a-uuid`, a slug too
long to exist) is the 404 page (`errors._validation_handler`), as an id that names nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import gate
from hackops.accounts.deps import ActorDep, get_actor
from hackops.actor import Actor
from hackops.browser import csrf_protect
from hackops.db import SessionDep
from hackops.errors import Unauthorized
from hackops.events.access import EventAccess, load_event_access
from hackops.events.deps import organizer_access
from hackops.judging.service import require_judge
from hackops.models import OrgRole, User
from hackops.notifications.centre import BADGE_CAP, unread_count
from hackops.orgs.deps import OrgAccess, org_access
from hackops.orgs.service import (
    InsufficientRole,
    OrganizationNotFound,
    get_public_profile,
    rank,
)
from hackops.routing import Router, SlugPath
from hackops.teams.access import TeamView, load_team
from hackops.web.eventkit import AdminPage
from hackops.web.kit import to_login


class LoginRequired(Unauthorized):
    """Raised by a page dependency when nobody is signed in; `install` answers it with the
    log-in page (never a 401: the browser is not asked for HTTP authentication)."""

    code = "login_required"
    message = "Sign in first."


def signed_in(actor: Actor) -> User:
    """The signed-in user, or LoginRequired."""
    if actor.user is None:
        raise LoginRequired
    return actor.user


async def _login_required_handler(request: Request, exc: Exception) -> Response:
    return to_login(request)


def install(app: FastAPI) -> None:
    """Register what the page dependencies need from the app: LoginRequired → the log-in page."""
    app.add_exception_handler(LoginRequired, _login_required_handler)


@gate.loads(gate.UNREAD)
async def unread_badge(request: Request, session: SessionDep, actor: ActorDep) -> None:
    """The header's unread badge on the pages a signed-in person reads (GET): one count on
    `ix_notifications_unread`, capped (`centre.BADGE_CAP`, shown as "99+") — counted by the
    request gate's statement when it resolved the caller."""
    if actor.user is not None and request.method in ("GET", "HEAD"):
        total: int | None = getattr(request.state, "unread_total", None)
        if total is not None:
            request.state.unread_count = min(total, BADGE_CAP)
        else:
            request.state.unread_count = await unread_count(session, actor.user.id, cap=BADGE_CAP)


def page_router() -> Router:
    """The router of a page module: transactional, CSRF-checked, the caller resolved once (and
    their unread badge counted), and not in the OpenAPI document."""
    return Router(
        dependencies=[Depends(csrf_protect), Depends(get_actor), Depends(unread_badge)],
        include_in_schema=False,
    )


# --- who is signed in -------------------------------------------------------------------------


async def page_user(actor: ActorDep) -> User:
    return signed_in(actor)


#: The signed-in user (else the log-in page).
PageUserDep = Annotated[User, Depends(page_user)]


# --- events -----------------------------------------------------------------------------------


async def organizer_event(
    session: AsyncSession, actor: Actor, slug: str, event_slug: str
) -> EventAccess:
    """The event, for whoever runs it (as the API's `EventOrganizerDep`): 404 to the public, 403
    to judges and mentors."""
    return await organizer_access(await load_event_access(session, actor, slug, event_slug))


@gate.loads(gate.EVENT)
async def public_event(
    slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> EventAccess:
    return await load_event_access(session, actor, slug, event_slug)


@gate.loads(gate.EVENT)
async def signed_in_event(
    user: PageUserDep, slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> EventAccess:
    return await load_event_access(session, actor, slug, event_slug)


@gate.loads(gate.EVENT)
async def event_for_organizer(
    user: PageUserDep, slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> EventAccess:
    return await organizer_event(session, actor, slug, event_slug)


async def event_for_judge(access: Annotated[EventAccess, Depends(signed_in_event)]) -> EventAccess:
    require_judge(access)
    return access


#: The event as the visitor (signed in or not) may see it.
PublicEventDep = Annotated[EventAccess, Depends(public_event)]
#: The event, for a signed-in visitor who may see it.
EventPageDep = Annotated[EventAccess, Depends(signed_in_event)]
#: The event, for its organizers (org organizers and up, event organizers, platform admins).
OrganizerEventDep = Annotated[EventAccess, Depends(event_for_organizer)]
#: The event, for one of its judges (403 to other staff, 404 to everyone else).
JudgeEventDep = Annotated[EventAccess, Depends(event_for_judge)]


async def organizer_page(
    request: Request, session: SessionDep, access: OrganizerEventDep
) -> AdminPage:
    return AdminPage(request, session, access)


#: An event admin page: the request, its transaction and the organizer's access in one.
OrganizerPageDep = Annotated[AdminPage, Depends(organizer_page)]


# --- teams ------------------------------------------------------------------------------------


async def visible_team(team_id: uuid.UUID, session: SessionDep, access: EventPageDep) -> TeamView:
    return await load_team(session, access, team_id)


#: A team the signed-in visitor may see (its members, the event's organizers and mentors, its
#: registered participants, a judge its work is handed to); `.is_member` says whether they are
#: in it.
TeamPageDep = Annotated[TeamView, Depends(visible_team)]


# --- organizations ----------------------------------------------------------------------------


@gate.loads(gate.ORG)
async def org_member(
    user: PageUserDep, slug: SlugPath, session: SessionDep, actor: ActorDep
) -> OrgAccess:
    return await org_access(slug, session, user, actor)


def at_least(access: OrgAccess, minimum: OrgRole) -> OrgAccess:
    """The access, when its role is `minimum` or above; else InsufficientRole (403)."""
    if rank(access.role) < rank(minimum):
        raise InsufficientRole
    return access


async def org_organizer(access: Annotated[OrgAccess, Depends(org_member)]) -> OrgAccess:
    return at_least(access, OrgRole.ORGANIZER)


async def org_admin(access: Annotated[OrgAccess, Depends(org_member)]) -> OrgAccess:
    return at_least(access, OrgRole.ADMIN)


@gate.loads(gate.ORG)
async def org_visitor(slug: SlugPath, session: SessionDep, actor: ActorDep) -> OrgAccess | None:
    """The organization for a signed-in member, None for anyone else (signed out, not a member:
    the organization's public page is theirs); an unknown organization is 404."""
    if actor.user is not None:
        try:
            return await org_access(slug, session, actor.user, actor)
        except OrganizationNotFound:
            pass
    await get_public_profile(session, slug)  # OrganizationNotFound when there is none
    return None


#: The organization, for a signed-in member (platform admins act as owners); else 404.
OrgMemberPageDep = Annotated[OrgAccess, Depends(org_member)]
#: … for its organizers and up (403 to plain members).
OrgOrganizerPageDep = Annotated[OrgAccess, Depends(org_organizer)]
#: … for its admins and owners (403 to organizers and members).
OrgAdminPageDep = Annotated[OrgAccess, Depends(org_admin)]
#: The organization for a member, or None for a visitor (sent to its public page).
OrgVisitorDep = Annotated[OrgAccess | None, Depends(org_visitor)]


# --- invitation links -------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationLink:
    """What an invitation link carries (an organization's or an event role's): the organization's
    slug and the token, cut to the lengths that can exist."""

    org: str
    token: str

    @property
    def complete(self) -> bool:
        return bool(self.org and self.token)

    def at(self, path: str) -> str:
        """The accept page at `path` for this link."""
        return path + "?" + urlencode({"org": self.org, "token": self.token})

    @classmethod
    def posted(cls, data: Mapping[str, str]) -> InvitationLink:
        """The link as the accept button posts it back."""
        return cls(org=data.get("org", "")[:63], token=data.get("token", "")[:200])


async def invitation_link(
    org: Annotated[str, Query(max_length=63)] = "",
    token: Annotated[str, Query(max_length=200)] = "",
) -> InvitationLink:
    return InvitationLink(org=org, token=token)


#: The invitation link an accept page was opened with (its query string).
InvitationLinkDep = Annotated[InvitationLink, Depends(invitation_link)]
