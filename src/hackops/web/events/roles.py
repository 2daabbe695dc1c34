"""Event roles pages: the admin tab (who organizes, judges and mentors; granting by email, which
invites an address without an account; pending invitations with resend and revoke) and the page
an invitation link opens (accepting it: the magic-link sign-in).

Same rules as `web.events.admin`: the tab is for the event's organizers (`OrganizerPageDep`);
granting, revoking and handling invitations take an organization organizer (`GrantingPageDep`:
`children_router.org_organizer_access`, as the API). The accept page never acts on GET (mail
scanners open links): its button POSTs.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import invitations
from hackops.accounts.deps import ActorDep, ServicesDep, set_session_cookie
from hackops.actor import Actor
from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events.deps import org_organizer_access
from hackops.events.roles import invitations as role_invitations
from hackops.events.roles import service as children
from hackops.events.roles.hooks import Reassigned
from hackops.events.roles.schemas import RoleInvitationAcceptIn
from hackops.events.roles.service import Granted
from hackops.events.schemas import RoleGrantIn
from hackops.judging import service as judging
from hackops.models import EventRole, EventRoleInvitation
from hackops.web import eventkit, kit
from hackops.web.deps import InvitationLink, InvitationLinkDep, OrganizerPageDep, page_router

router = page_router()

ROLE_OPTIONS = [(r.value, r.value.capitalize()) for r in EventRole]
ROLE_ERRORS: dict[type[AppError] | str, str] = {
    children.RoleAlreadyGranted: "email",
    role_invitations.InvitationPending: "email",
    "invalid_email": "email",
}


def rebalanced(report: Reassigned | None) -> str:
    """A sentence for the flash when granting or revoking re-balanced the assignment."""
    if report is None:
        return ""
    return (
        f" The judging assignment is re-balanced: {report.assigned} reviews,"
        f" {report.load_min} to {report.load_max} per judge."
    )


# --- the admin tab ------------------------------------------------------------------------------


async def _roles_page(
    page: eventkit.AdminPage,
    form: kit.Form | None = None,
    status_code: int = 200,
    *,
    participant: str | None = None,
) -> Response:
    session, event = page.session, page.access.event
    return await page.render(
        "events/admin/roles.html",
        "roles",
        status_code=status_code,
        grants=await children.list_role_grants(session, event),
        invitations=await role_invitations.list_invitations(session, event),
        now=await db_now(session),
        role_options=ROLE_OPTIONS,
        form=form or kit.Form(values={"role": EventRole.JUDGE}),
        # Making a participant a judge: the conflict it means, before the organizer confirms.
        participant=participant,
        confirm_participant=CONFIRM_PARTICIPANT,
    )


@router.get(kit.ADMIN + "/roles", name="event_roles")
async def event_roles(page: OrganizerPageDep) -> Response:
    return await _roles_page(page)


async def granting_page(page: OrganizerPageDep) -> eventkit.AdminPage:
    """Granting, revoking and invitations take an organization organizer (as the API)."""
    await org_organizer_access(page.access)
    return page


GrantingPageDep = Annotated[eventkit.AdminPage, Depends(granting_page)]


def _granted(outcome: Granted | EventRoleInvitation, role: str) -> str:
    if isinstance(outcome, EventRoleInvitation):
        return role_invitations.sent_message(outcome)
    who = outcome.user.name or outcome.user.email
    message = f"{who} is now {role} of this event. We told them by email."
    return message + rebalanced(outcome.rebalance)


#: The hidden field of the form that confirms making a participant a judge.
CONFIRM_PARTICIPANT = "participant_judge"


@router.post(kit.ADMIN + "/roles")
async def grant_role(page: GrantingPageDep, services: ServicesDep) -> Response:
    """Grants a role by email; making a participant (registered, or in a team) a judge first
    shows what that conflict means, and is done when the organizer confirms."""
    data = await kit.form_data(page.request)
    email = data.get("email", "").strip()
    if data.get("role") == EventRole.JUDGE and data.get("confirm") != CONFIRM_PARTICIPANT:
        found = await judging.participation(page.session, page.access, email) if email else None
        if found is not None:
            return await _roles_page(
                page,
                kit.Form(values={"email": email, "role": EventRole.JUDGE}),
                participant=found.consequence(),
            )

    async def grant(body: RoleGrantIn) -> str:
        role = body.role.value
        outcome = await role_invitations.grant_or_invite(
            page.session, page.access, services, email=body.email, role=role
        )
        return _granted(outcome, role)

    return await page.form_action(
        kit.Form(values=kit.kept(data, "email", "role")),
        model=RoleGrantIn,
        data={"email": data.get("email", ""), "role": data.get("role", "")},
        hints={"role": "Choose one of the roles.", "email": "An email address."},
        call=grant,
        page=lambda form, status: _roles_page(page, form, status),
        fields=ROLE_ERRORS,
        done=kit.said,
        then=page.at("/roles"),
    )


@router.post(kit.ADMIN + "/roles/{grant_id}/revoke")
async def revoke_role(grant_id: uuid.UUID, page: GrantingPageDep) -> Response:
    session, access = page.session, page.access
    return await page.act(
        page.at("/roles"),
        lambda: children.revoke_role(session, access.actor, access.event, grant_id),
        lambda outcome: "The role is revoked." + rebalanced(outcome),
    )


@router.post(kit.ADMIN + "/roles/invitations/{invitation_id}/resend")
async def resend_invitation(
    invitation_id: uuid.UUID, page: GrantingPageDep, services: ServicesDep
) -> Response:
    return await page.act(
        page.at("/roles"),
        lambda: role_invitations.resend_invitation(
            page.session, page.access, services, invitation_id
        ),
        "The invitation is sent again, valid 7 days; the previous link no longer works.",
    )


@router.post(kit.ADMIN + "/roles/invitations/{invitation_id}/revoke")
async def revoke_invitation(invitation_id: uuid.UUID, page: GrantingPageDep) -> Response:
    access = page.access
    return await page.act(
        page.at("/roles"),
        lambda: role_invitations.revoke_invitation(
            page.session, access.actor, access.event, invitation_id
        ),
        "The invitation is revoked; its link no longer works.",
    )


# --- accepting an invitation --------------------------------------------------------------------

ACCEPT = role_invitations.ACCEPT_PATH
INCOMPLETE = "This invitation link is incomplete; open the link from the email again."


def _accept_page(
    request: Request,
    context: dict[str, Any],
    form: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    page = {"form": form or kit.Form(), "mode": "error", "found": None, **context}
    return kit.render(request, "events/accept_role.html", page, status_code=status_code)


async def _accept_context(
    session: AsyncSession, actor: Actor, link: InvitationLink
) -> tuple[dict[str, Any], AppError | None]:
    """What the page shows for this link and this visitor, or why the link cannot be used."""
    here = link.at(ACCEPT)
    context: dict[str, Any] = {"org_slug": link.org, "token": link.token, "here": here}
    try:
        found = await role_invitations.find(session, org_slug=link.org, token=link.token)
    except AppError as exc:
        return context, exc
    context["found"] = found
    context["inviter"] = await invitations.inviter_name(session, found.invitation)
    context["login_url"] = kit.with_next("/login", here)
    user = actor.user
    if user is not None and not invitations.is_addressee(
        role_invitations.ROLE_INVITATIONS, found.invitation, user
    ):
        return context, role_invitations.InvitationForAnotherAddress()
    account = found.account
    if user is None and account is not None:
        if not account.is_active:
            return context, role_invitations.AccountDisabled()
        if account.password_hash is not None:
            context["mode"] = "login"
            return context, None
    context["mode"] = "confirm"
    context["new_account"] = user is None and account is None
    return context, None


@router.get(ACCEPT, name="accept_role_invitation")
async def accept_page(
    request: Request, session: SessionDep, actor: ActorDep, link: InvitationLinkDep
) -> Response:
    if not link.complete:
        return _accept_page(request, {}, kit.Form(error=INCOMPLETE), 400)
    context, problem = await _accept_context(session, actor, link)
    if problem is not None:
        return _accept_page(request, context, kit.Form(error=problem.message), problem.status_code)
    return _accept_page(request, context)


@router.post(ACCEPT)
async def accept(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    link = InvitationLink.posted(data)
    form = kit.Form(values=kit.kept(data, "name"))
    body = kit.validated(RoleInvitationAcceptIn, kit.kept(data, "org", "token", "name"), form)
    if body is None:
        if "name" in form.errors and link.complete:
            context, _ = await _accept_context(session, actor, link)
            return _accept_page(request, context, form, 422)
        return _accept_page(request, {}, kit.Form(error=INCOMPLETE), 400)

    async def page(form: kit.Form, status: int) -> Response:
        context, _ = await _accept_context(session, actor, link)
        mode = "login" if context.get("mode") == "login" else "error"
        return _accept_page(request, {**context, "mode": mode}, form, status)

    def reply(accepted: role_invitations.Accepted) -> Response:
        role = accepted.grant.role
        welcome = "Welcome to HackOps! " if accepted.account_created else ""
        response = kit.flash_redirect(
            request,
            role_invitations.landing_path(accepted.org, accepted.event, role),
            f"{welcome}You are now {role} of {accepted.event.name}.",
        )
        if accepted.session_token is not None:
            set_session_cookie(response, accepted.session_token, kit.settings_of(request))
        return response

    checked = body
    return await kit.attempt(
        session,
        form,
        lambda: role_invitations.accept(
            session, actor, services, org_slug=checked.org, token=checked.token, name=checked.name
        ),
        page=page,
        reply=reply,
    )
