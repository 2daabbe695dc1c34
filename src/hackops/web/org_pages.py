"""Organization pages: my organizations, create one, the organization (members and roles,
invitations, leaving), its settings (name, branding), its audit log, and accepting an invitation.

Loading and authorizing is `orgs.deps.org_access`, as for the API: not a member is a 404. The
services decide what a role may do; the pages only hide controls a role could not use. Forms
follow `account_pages` (savepoint, re-render with the message, flash + 303 on success).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import InvalidEmail
from hackops.accounts.deps import ActorDep, get_actor
from hackops.actor import Actor
from hackops.audit.service import list_entries
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.models import AuditEntry, OrgRole, User
from hackops.orgs import service
from hackops.orgs.deps import OrgAccess, org_access
from hackops.orgs.schemas import (
    InvitationAccept,
    InvitationIn,
    OrganizationIn,
    OrganizationUpdate,
    RoleUpdate,
)
from hackops.routing import Router, SlugPath
from hackops.web.forms import (
    Form,
    all_or_nothing,
    form_data,
    kept,
    redirect,
    refuse,
    render,
    settings_of,
    to_login,
    validated,
    with_next,
)

router = Router(
    dependencies=[Depends(csrf_protect), Depends(get_actor)],
    include_in_schema=False,
)

AUDIT_PAGE_SIZE = 50
AUDIT_ACTIONS = (
    "organization.created",
    "organization.updated",
    "organization.plan_changed",
    "membership.role_changed",
    "membership.removed",
    "membership.left",
    "invitation.created",
    "invitation.revoked",
    "invitation.accepted",
)
AUDIT_RESOURCE_TYPES = ("organization", "membership", "invitation")
SLUG_HINT = (
    "Lowercase letters, digits and hyphens, 1 to 63 characters, not starting or ending with a"
    " hyphen."
)
COLOR_HINT = "A colour as # and six hexadecimal digits, like #1f4fd1."


def at_least(access: OrgAccess, minimum: OrgRole) -> None:
    if service.rank(access.role) < service.rank(minimum):
        raise service.InsufficientRole


async def _access(slug: str, session: AsyncSession, actor: Actor) -> OrgAccess:
    assert actor.user is not None
    return await org_access(slug, session, actor.user, actor)


# --- my organizations, create ----------------------------------------------------------------


@router.get("/orgs", name="my_organizations")
async def my_organizations(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    if actor.user is None:
        return to_login(request)
    rows = await service.list_my_organizations(session, actor.user)
    return render(request, "orgs/list.html", {"rows": rows})


def _new_page(request: Request, form: Form, status_code: int = 200) -> Response:
    return render(request, "orgs/new.html", {"form": form}, status_code=status_code)


@router.get("/orgs/new", name="new_organization")
async def new_organization_form(request: Request, actor: ActorDep) -> Response:
    if actor.user is None:
        return to_login(request)
    return _new_page(request, Form())


@router.post("/orgs/new")
async def create_organization(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    if actor.user is None:
        return to_login(request)
    data = await form_data(request)
    form = Form(values=kept(data, "name", "slug"))
    body = validated(
        OrganizationIn,
        {"name": data.get("name", ""), "slug": data.get("slug", "").strip().lower()},
        form,
        hints={"slug": SLUG_HINT},
    )
    if body is None:
        return _new_page(request, form, 422)
    try:
        async with all_or_nothing(session):
            org, _ = await service.create_organization(
                session, actor, slug=body.slug, name=body.name
            )
    except AppError as exc:
        return _new_page(request, form, refuse(form, exc, {"slug_taken": "slug"}))
    flash(request, f"{org.name} is created; you are its owner.", "success")
    return redirect(f"/orgs/{org.slug}")


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
    invite: Form | None = None,
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
        "invite": invite or Form(values={"role": OrgRole.MEMBER.value}),
        "members_error": members_error,
        "tab": "members",
    }
    return render(request, "orgs/show.html", context, status_code=status_code)


@router.get("/orgs/{slug}", name="organization")
async def organization(
    slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    return await _org_page(request, session, await _access(slug, session, actor))


@router.post("/orgs/{slug}/members/{user_id}/role")
async def change_role(
    slug: SlugPath, user_id: uuid.UUID, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _access(slug, session, actor)
    at_least(access, OrgRole.ADMIN)
    data = await form_data(request)
    form = Form()
    body = validated(RoleUpdate, {"role": data.get("role", "")}, form)
    if body is None:
        return await _org_page(
            request, session, access, members_error="Choose one of the roles.", status_code=422
        )
    try:
        async with all_or_nothing(session):
            await service.change_role(
                session, actor, access.org, access.role, user_id=user_id, role=body.role
            )
    except AppError as exc:
        status = refuse(form, exc)
        return await _org_page(
            request, session, access, members_error=form.error, status_code=status
        )
    flash(request, f"The role is now {body.role.value}.", "success")
    return redirect(f"/orgs/{access.org.slug}")


async def _remove(
    request: Request, session: AsyncSession, actor: Actor, access: OrgAccess, user_id: uuid.UUID
) -> Response:
    try:
        async with all_or_nothing(session):
            await service.remove_member(session, actor, access.org, access.role, user_id=user_id)
    except AppError as exc:
        form = Form()
        status = refuse(form, exc)
        return await _org_page(
            request, session, access, members_error=form.error, status_code=status
        )
    if actor.user is not None and actor.user.id == user_id:
        flash(request, f"You left {access.org.name}.", "success")
        return redirect("/orgs")
    flash(request, "The member is removed.", "success")
    return redirect(f"/orgs/{access.org.slug}")


@router.post("/orgs/{slug}/members/{user_id}/remove")
async def remove_member(
    slug: SlugPath, user_id: uuid.UUID, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    return await _remove(request, session, actor, await _access(slug, session, actor), user_id)


@router.post("/orgs/{slug}/leave")
async def leave(slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _access(slug, session, actor)
    return await _remove(request, session, actor, access, actor.user.id)


@router.post("/orgs/{slug}/invitations")
async def create_invitation(
    slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _access(slug, session, actor)
    at_least(access, OrgRole.ADMIN)
    data = await form_data(request)
    form = Form(values=kept(data, "email", "role"))
    body = validated(
        InvitationIn,
        {"email": data.get("email", ""), "role": data.get("role") or OrgRole.MEMBER.value},
        form,
        hints={"role": "Choose one of the roles."},
    )
    if body is None:
        return await _org_page(request, session, access, invite=form, status_code=422)
    try:
        async with all_or_nothing(session):
            invitation = await service.invite(
                session,
                actor,
                access.org,
                access.role,
                email=body.email,
                role=body.role,
                base_url=settings_of(request).base_url,
            )
    except AppError as exc:
        status = refuse(form, exc, {InvalidEmail: "email", "already_member": "email"})
        return await _org_page(request, session, access, invite=form, status_code=status)
    flash(request, f"Invitation sent to {invitation.email} as {invitation.role}.", "success")
    return redirect(f"/orgs/{access.org.slug}")


@router.post("/orgs/{slug}/invitations/{invitation_id}/revoke")
async def revoke_invitation(
    slug: SlugPath,
    invitation_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _access(slug, session, actor)
    try:
        async with all_or_nothing(session):
            await service.revoke_invitation(session, actor, access.org, access.role, invitation_id)
    except AppError as exc:
        form = Form()
        status = refuse(form, exc)
        return await _org_page(
            request, session, access, members_error=form.error, status_code=status
        )
    flash(request, "The invitation is revoked.", "success")
    return redirect(f"/orgs/{access.org.slug}")


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
    request: Request, access: OrgAccess, form: Form, status_code: int = 200
) -> Response:
    context = {
        "org": access.org,
        "role": access.role,
        "form": form,
        "is_admin": True,
        "can_audit": True,
        "tab": "settings",
    }
    return render(request, "orgs/settings.html", context, status_code=status_code)


@router.get("/orgs/{slug}/settings", name="organization_settings")
async def organization_settings(
    slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _access(slug, session, actor)
    at_least(access, OrgRole.ADMIN)
    return _settings_page(request, access, Form(values=_settings_values(access)))


@router.post("/orgs/{slug}/settings")
async def update_settings(
    slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _access(slug, session, actor)
    at_least(access, OrgRole.ADMIN)
    data = await form_data(request)
    form = Form(values=kept(data, "name", "logo_url", "primary_color", "accent_color"))
    branding = {
        key: data[key].strip()
        for key in ("logo_url", "primary_color", "accent_color")
        if data.get(key, "").strip()
    }
    body = validated(
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
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    await service.update_organization(session, actor, access.org, changes)
    flash(request, "The settings are saved.", "success")
    return redirect(f"/orgs/{access.org.slug}/settings")


# --- the audit log ---------------------------------------------------------------------------


def _moment(value: str) -> datetime:
    """A datetime-local value (or any ISO 8601 time); without an offset it is UTC."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/orgs/{slug}/audit", name="organization_audit")
async def organization_audit(
    slug: SlugPath,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    actor_id: Annotated[str, Query(alias="actor", max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    resource_type: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _access(slug, session, actor)
    at_least(access, OrgRole.ORGANIZER)
    filters = {
        "actor": actor_id.strip(),
        "action": action.strip(),
        "resource_type": resource_type.strip(),
        "since": since.strip(),
        "until": until.strip(),
    }
    form = Form(values=filters)
    parsed: dict[str, Any] = {}
    try:
        parsed["actor_id"] = uuid.UUID(filters["actor"]) if filters["actor"] else None
    except ValueError:
        form.errors["actor"] = "Choose someone from the list."
    for key in ("since", "until"):
        try:
            parsed[key] = _moment(filters[key]) if filters[key] else None
        except ValueError:
            form.errors[key] = "A date and time like 2026-11-23T07:30."
    entries: list[AuditEntry] = []
    next_cursor: str | None = None
    status_code = 200
    if form.errors:
        status_code = 422
    else:
        try:
            entries, next_cursor = await list_entries(
                session,
                org_id=access.org.id,
                action=filters["action"] or None,
                resource_type=filters["resource_type"] or None,
                cursor=cursor or None,
                limit=AUDIT_PAGE_SIZE,
                **parsed,
            )
        except AppError as exc:
            status_code = refuse(form, exc)
    members = await service.list_members(session, access.org)
    people = {user.id: user.name or user.email for _, user in members}
    unknown = {e.actor_id for e in entries if e.actor_id is not None} - people.keys()
    if unknown:
        rows = await session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(unknown))
        )
        people.update({row.id: row.name or row.email for row in rows})
    active = {k: v for k, v in filters.items() if v}
    context = {
        "org": access.org,
        "role": access.role,
        "is_admin": service.rank(access.role) >= service.rank(OrgRole.ADMIN),
        "can_audit": True,
        "tab": "audit",
        "form": form,
        "entries": entries,
        "people": people,
        "members": [(user.id, user.name or user.email) for _, user in members],
        "actions": AUDIT_ACTIONS,
        "resource_types": AUDIT_RESOURCE_TYPES,
        "details": {e.id: json.dumps(e.details, ensure_ascii=False) for e in entries},
        "older_url": (f"?{urlencode({**active, 'cursor': next_cursor})}" if next_cursor else None),
        "newest_url": f"?{urlencode(active)}" if cursor else None,
        "filtered": bool(active),
    }
    return render(request, "orgs/audit.html", context, status_code=status_code)


# --- accepting an invitation -----------------------------------------------------------------


async def _accept_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    org_slug: str,
    token: str,
    form: Form | None = None,
    status_code: int = 200,
) -> Response:
    organization = None
    if org_slug:
        try:
            organization = await service.get_organization_by_slug(session, org_slug)
        except service.OrganizationNotFound:
            organization = None
    here = "/invitations/accept?" + urlencode({"org": org_slug, "token": token})
    context = {
        "org_slug": org_slug,
        "token": token,
        "organization": organization,
        "user": actor.user,
        "complete": bool(org_slug and token),
        "login_url": with_next("/login", here),
        "signup_url": with_next("/signup", here),
        "form": form or Form(),
    }
    return render(request, "orgs/accept.html", context, status_code=status_code)


@router.get("/invitations/accept", name="accept_invitation")
async def accept_invitation_page(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    org: Annotated[str, Query(max_length=63)] = "",
    token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    status_code = 200 if org and token else 400
    return await _accept_page(request, session, actor, org, token, status_code=status_code)


@router.post("/invitations/accept")
async def accept_invitation(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    data = await form_data(request)
    org_slug, token = data.get("org", "")[:63], data.get("token", "")[:200]
    if actor.user is None:
        return redirect(
            with_next(
                "/login", "/invitations/accept?" + urlencode({"org": org_slug, "token": token})
            )
        )
    form = Form()
    body = validated(InvitationAccept, {"org": org_slug, "token": token}, form)
    if body is None:
        form.error = "This invitation link is incomplete; open the link from the email again."
        return await _accept_page(request, session, actor, org_slug, token, form, 422)
    try:
        async with all_or_nothing(session):
            joined, membership = await service.accept_invitation(
                session, actor, org_slug=body.org, token=body.token
            )
    except AppError as exc:
        status = refuse(form, exc)
        return await _accept_page(request, session, actor, org_slug, token, form, status)
    flash(request, f"Welcome to {joined.name}! You joined as {membership.role}.", "success")
    return redirect(f"/orgs/{joined.slug}")
