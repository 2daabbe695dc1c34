"""Organization pages: my organizations, create one, the organization (members and roles,
invitations, leaving) and its settings (name, branding). The audit log: `web.orgs.audit`;
accepting an invitation: `web.orgs.accept`.

Loading and authorizing are the page dependencies (`OrgMemberPageDep` and up, on
`orgs.deps.org_access`, as for the API): not a member is a 404, too low a role a 403 — except
at `/orgs/{slug}` itself, the address every "organization" link points at, where a visitor who
is not a member (or not signed in) is sent to the public page (`web.orgs.public`). The
services decide what a role may do; the pages only hide controls a role could not use. Form
posts go through `kit.form_action`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import InvalidEmail
from hackops.accounts.deps import ActorDep
from hackops.browser import flash
from hackops.db import SessionDep
from hackops.models import Organization, OrgRole
from hackops.orgs import service
from hackops.orgs.deps import OrgAccess
from hackops.orgs.schemas import InvitationIn, OrganizationIn, OrganizationUpdate, RoleUpdate
from hackops.routing import SlugPath
from hackops.web import kit
from hackops.web.deps import (
    OrgAdminPageDep,
    OrgMemberPageDep,
    OrgVisitorDep,
    PageUserDep,
    page_router,
)

router = page_router()

SLUG_HINT = (
    "Lowercase letters, digits and hyphens, 1 to 63 characters, not starting or ending with a"
    " hyphen."
)
COLOR_HINT = "A colour as # and six hexadecimal digits, like #1f4fd1."


# --- my organizations, create ----------------------------------------------------------------


@router.get("/orgs", name="my_organizations")
async def my_organizations(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    rows = await service.list_my_organizations(session, user)
    return kit.render(request, "orgs/list.html", {"rows": rows})


async def _new_page(request: Request, form: kit.Form, status_code: int = 200) -> Response:
    return kit.render(request, "orgs/new.html", {"form": form}, status_code=status_code)


@router.get("/orgs/new", name="new_organization")
async def new_organization_form(request: Request, user: PageUserDep) -> Response:
    return await _new_page(request, kit.Form())


@router.post("/orgs/new")
async def create_organization(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    data = await kit.form_data(request)

    async def create(body: OrganizationIn) -> Organization:
        org, _ = await service.create_organization(session, actor, slug=body.slug, name=body.name)
        return org

    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, "name", "slug")),
        model=OrganizationIn,
        data={"name": data.get("name", ""), "slug": data.get("slug", "").strip().lower()},
        hints={"slug": SLUG_HINT},
        call=create,
        page=lambda form, status: _new_page(request, form, status),
        fields={"slug_taken": "slug"},
        done=lambda org: f"{org.name} is created; you are its owner.",
        then=lambda org: f"/orgs/{org.slug}",
    )


# --- the organization: members, roles, invitations -------------------------------------------


def _assignable_roles(actor_role: str) -> list[str]:
    """Roles this actor may give (owners give any; admins all but owner)."""
    if actor_role == OrgRole.OWNER:
        return [r.value for r in OrgRole]
    return [r.value for r in OrgRole if r is not OrgRole.OWNER]


async def _org_page(
    request: Request,
    session: AsyncSession,
    access: OrgAccess,
    *,
    invite: kit.Form | None = None,
    members_error: str | None = None,
    status_code: int = 200,
) -> Response:
    is_admin = service.rank(access.role) >= service.rank(OrgRole.ADMIN)
    context = {
        "org": access.org,
        "role": access.role,
        "me": access.actor.user,
        "members": await service.list_members(session, access.org),
        "invitations": await service.list_invitations(session, access.org) if is_admin else [],
        "is_admin": is_admin,
        "is_owner": access.role == OrgRole.OWNER,
        "can_audit": service.rank(access.role) >= service.rank(OrgRole.ORGANIZER),
        "roles": _assignable_roles(access.role),
        "role_options": [(r, r.capitalize()) for r in _assignable_roles(access.role)],
        "invite": invite or kit.Form(values={"role": OrgRole.MEMBER}),
        "members_error": members_error,
        "tab": "members",
    }
    return kit.render(request, "orgs/show.html", context, status_code=status_code)


@router.get("/orgs/{slug}", name="organization")
async def organization(
    request: Request, session: SessionDep, access: OrgVisitorDep, slug: SlugPath
) -> Response:
    if access is None:  # signed out or not a member: the public page (web.orgs.public)
        return kit.redirect(f"/orgs/{slug}/public")
    return await _org_page(request, session, access)


@router.post("/orgs/{slug}/members/{user_id}/role")
async def change_role(
    user_id: uuid.UUID, request: Request, session: SessionDep, access: OrgAdminPageDep
) -> Response:
    data = await kit.form_data(request)

    async def change(body: RoleUpdate) -> str:
        await service.change_role(session, access, user_id=user_id, role=body.role)
        return body.role.value

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=RoleUpdate,
        data={"role": data.get("role", "")},
        call=change,
        # The members table has no form of its own: one message above it.
        page=lambda form, status: _org_page(
            request,
            session,
            access,
            members_error=form.error or "Choose one of the roles.",
            status_code=status,
        ),
        done=lambda role: f"The role is now {role}.",
        then=f"/orgs/{access.org.slug}",
    )


async def _members_action(
    request: Request,
    session: AsyncSession,
    access: OrgAccess,
    action: Callable[[], Awaitable[Any]],
    done: str,
    then: str,
) -> Response:
    """A button on the members page: run it in a savepoint; a refusal shows above the members
    table (with its status), success flashes `done` and goes to `then`."""
    return await kit.act(
        request,
        session,
        then,
        action,
        done,
        refused=lambda exc: _org_page(
            request,
            session,
            access,
            members_error=kit.describe(exc),
            status_code=kit.status_of(exc),
        ),
    )


async def _remove(
    request: Request, session: AsyncSession, access: OrgAccess, user_id: uuid.UUID
) -> Response:
    user = access.actor.user
    leaving = user is not None and user.id == user_id
    return await _members_action(
        request,
        session,
        access,
        lambda: service.remove_member(session, access, user_id=user_id),
        f"You left {access.org.name}." if leaving else "The member is removed.",
        "/orgs" if leaving else f"/orgs/{access.org.slug}",
    )


@router.post("/orgs/{slug}/members/{user_id}/remove")
async def remove_member(
    user_id: uuid.UUID, request: Request, session: SessionDep, access: OrgMemberPageDep
) -> Response:
    return await _remove(request, session, access, user_id)


@router.post("/orgs/{slug}/leave")
async def leave(
    request: Request, session: SessionDep, access: OrgMemberPageDep, user: PageUserDep
) -> Response:
    return await _remove(request, session, access, user.id)


@router.post("/orgs/{slug}/invitations")
async def create_invitation(
    request: Request, session: SessionDep, access: OrgAdminPageDep
) -> Response:
    data = await kit.form_data(request)
    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, "email", "role")),
        model=InvitationIn,
        data={"email": data.get("email", ""), "role": data.get("role") or OrgRole.MEMBER},
        hints={"role": "Choose one of the roles."},
        call=lambda body: service.invite(
            session,
            access,
            email=body.email,
            role=body.role,
            base_url=kit.settings_of(request).base_url,
        ),
        page=lambda form, status: _org_page(
            request, session, access, invite=form, status_code=status
        ),
        fields={InvalidEmail: "email", "already_member": "email"},
        done=lambda invitation: f"Invitation sent to {invitation.email} as {invitation.role}.",
        then=f"/orgs/{access.org.slug}",
    )


@router.post("/orgs/{slug}/invitations/{invitation_id}/revoke")
async def revoke_invitation(
    invitation_id: uuid.UUID, request: Request, session: SessionDep, access: OrgMemberPageDep
) -> Response:
    return await _members_action(
        request,
        session,
        access,
        lambda: service.revoke_invitation(session, access, invitation_id),
        "The invitation is revoked.",
        f"/orgs/{access.org.slug}",
    )


# --- settings --------------------------------------------------------------------------------


def _settings_values(access: OrgAccess) -> dict[str, str]:
    branding = access.org.branding or {}
    return {
        "name": access.org.name,
        "logo_url": str(branding.get("logo_url") or ""),
        "primary_color": str(branding.get("primary_color") or ""),
        "accent_color": str(branding.get("accent_color") or ""),
    }


def _settings_page(
    request: Request, access: OrgAccess, form: kit.Form, status_code: int = 200
) -> Response:
    context = {
        "org": access.org,
        "role": access.role,
        "form": form,
        "is_admin": True,
        "can_audit": True,
        "tab": "settings",
    }
    return kit.render(request, "orgs/settings.html", context, status_code=status_code)


@router.get("/orgs/{slug}/settings", name="organization_settings")
async def organization_settings(request: Request, access: OrgAdminPageDep) -> Response:
    return _settings_page(request, access, kit.Form(values=_settings_values(access)))


@router.post("/orgs/{slug}/settings")
async def update_settings(
    request: Request, session: SessionDep, access: OrgAdminPageDep
) -> Response:
    data = await kit.form_data(request)
    form = kit.Form(values=kit.kept(data, "name", "logo_url", "primary_color", "accent_color"))
    branding = {
        key: data[key].strip()
        for key in ("logo_url", "primary_color", "accent_color")
        if data.get(key, "").strip()
    }
    body = kit.validated(
        OrganizationUpdate,
        {"name": data.get("name", ""), "branding": branding},
        form,
        hints={
            "logo_url": "A full https:// address, at most 500 characters.",
            "primary_color": COLOR_HINT,
            "accent_color": COLOR_HINT,
        },
    )
    if body is None:
        return _settings_page(request, access, form, 422)
    await service.update_organization(session, access.actor, access.org, body)
    flash(request, "The settings are saved.", "success")
    return kit.redirect(f"/orgs/{access.org.slug}/settings")
