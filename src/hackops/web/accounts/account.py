"""Account pages: the account page (profile, password, email, export, deletion) and sessions
and API tokens.

Pages call the same services as the API and validate input with the API's own models, so a page
accepts exactly what the API accepts. Form handling (also used by the organization pages):

- Form handling is in `hackops.web.kit` (savepoint per service call, errors back on the form).
- Sign-in is the `PageUserDep` dependency (signed out: the log-in page), never checked by hand.
- The forms that check the password (password, email, deletion) are on `password_forms`, which
  takes a password hashing slot before `get_actor` touches the database: a form queued for
  hashing holds no pooled connection (as the API's routes, `accounts.deps.hashing_slot`).
- Success flashes a message and redirects (303, POST/redirect/GET). The exception is a new API
  token: its secret is shown once, in the response to the POST (no-store), and never put in a
  cookie.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import timedelta

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts import auth_tokens, oauth_service, profile, service
from hackops.accounts.credentials import InvalidEmail, WeakPassword
from hackops.accounts.deps import (
    ActorDep,
    ServicesDep,
    clear_session_cookie,
    current_token,
    get_actor,
    hashing_slot,
)
from hackops.accounts.schemas import (
    ApiTokenIn,
    DeleteAccountIn,
    EmailChangeIn,
    PasswordChangeIn,
    ProfileIn,
)
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.models import TokenKind, User
from hackops.routing import Router
from hackops.web import kit
from hackops.web.deps import PageUserDep, page_router

# Every page resolves who is signed in: the header shows it.
router = page_router()
# The same, with the hashing slot taken first (router dependencies run before a route's own).
password_forms = Router(
    dependencies=[Depends(csrf_protect), Depends(hashing_slot), Depends(get_actor)],
    include_in_schema=False,
)

DEFAULT_AFTER_LOGIN = "/orgs"


# --- the account page ------------------------------------------------------------------------


ACCOUNT_FORMS = ("profile", "password", "email", "delete", "resend")


def _profile_values(user: User) -> dict[str, str]:
    return {
        "name": user.name,
        "bio": user.bio,
        "skills": ", ".join(user.skills),
        "interests": ", ".join(user.interests),
        "links": "\n".join(user.links),
    }


async def _account_page(
    request: Request,
    session: AsyncSession,
    user: User,
    forms: dict[str, kit.Form] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    forms = dict(forms or {})
    for name in ACCOUNT_FORMS:
        forms.setdefault(name, kit.Form(values=_profile_values(user) if name == "profile" else {}))
    context = {"user": user, "forms": forms, "has_password": user.password_hash is not None}
    return kit.render(
        request, "account/account.html", context, status_code=status_code, headers=headers
    )


@router.get("/account", name="account")
async def account(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    return await _account_page(request, session, user)


def _tags(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@router.post("/account/profile")
async def update_profile(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    data = await kit.form_data(request)

    async def save(body: ProfileIn) -> None:
        await profile.update_profile(session, actor, user, body)

    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, "name", "bio", "skills", "interests", "links")),
        model=ProfileIn,
        data={
            "name": data.get("name", ""),
            "bio": data.get("bio", ""),
            "skills": _tags(data.get("skills", "")),
            "interests": _tags(data.get("interests", "")),
            "links": [line.strip() for line in data.get("links", "").splitlines() if line.strip()],
        },
        call=save,
        page=lambda form, status: _account_page(request, session, user, {"profile": form}, status),
        done="Your profile is saved.",
        then="/account",
        hints={
            "skills": "Up to 30 skills, separated by commas, each at most 64 characters.",
            "interests": "Up to 30 interests, separated by commas, each at most 64 characters.",
            "links": "Up to 10 links, one per line, each a full http(s):// address.",
        },
        expire=(user,),
    )


@password_forms.post("/account/password")
async def change_password(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)

    async def change(body: PasswordChangeIn) -> None:
        token = current_token(request)
        await service.change_password(
            session,
            actor,
            services,
            user,
            current_password=body.current_password,
            new_password=body.new_password,
            keep_token_id=token.id if token else None,
        )

    async def page(form: kit.Form, status: int) -> Response:
        return await _account_page(request, session, user, {"password": form}, status)

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=PasswordChangeIn,
        data=kit.kept_all(data, "current_password", "new_password"),
        call=change,
        page=page,
        done="Your password is changed; your other sessions were signed out.",
        then="/account",
        fields={"wrong_password": "current_password", WeakPassword: "new_password"},
        expire=(user,),
    )


@password_forms.post("/account/email")
async def change_email(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    previous = user.email

    def reply(_: User) -> Response:
        if user.email == previous:
            return kit.flash_redirect(
                request, "/account", "That is already your email address.", "info"
            )
        return kit.flash_redirect(
            request,
            "/account",
            f"Your email address is now {user.email}. We sent it a confirmation link.",
        )

    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, "new_email")),
        model=EmailChangeIn,
        data=kit.kept_all(data, "password", "new_email"),
        call=lambda body: service.change_email(
            session, actor, services, user, password=body.password, new_email=body.new_email
        ),
        page=lambda form, status: _account_page(request, session, user, {"email": form}, status),
        reply=reply,
        fields={
            "wrong_password": "password",
            "email_taken": "new_email",
            InvalidEmail: "new_email",
        },
        expire=(user,),
    )


@router.get("/account/export", name="account_export")
async def export_account(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    data = await profile.export_data(session, user)
    day = (await db_now(session)).date().isoformat()
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="hackops-export-{day}.json"',
            "Cache-Control": "no-store",
        },
    )


@password_forms.post("/account/delete")
async def delete_account(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)

    def reply(_: None) -> Response:
        response = kit.flash_redirect(
            request, "/", "Your account is deleted. Thank you for having been with us.", "info"
        )
        clear_session_cookie(response, kit.settings_of(request))
        return response

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=DeleteAccountIn,
        data={"password": data.get("password") or None},
        call=lambda body: profile.delete_account(
            session, actor, services, user, password=body.password
        ),
        page=lambda form, status: _account_page(request, session, user, {"delete": form}, status),
        reply=reply,
        fields={"wrong_password": "password"},
        expire=(user,),
    )


# --- sessions and API tokens -----------------------------------------------------------------


async def _security_page(
    request: Request,
    session: AsyncSession,
    user: User,
    form: kit.Form | None = None,
    new_token: str | None = None,
    status_code: int = 200,
    identity_error: str | None = None,
) -> Response:
    token = current_token(request)
    identities = await oauth_service.list_identities(session, user)
    # A provider linked before the address was confirmed can be linked again (which keeps it).
    linked = {
        i.provider for i in identities if not (i.linked_while_unproven and user.email_verified)
    }
    context = {
        "sessions": await auth_tokens.list_tokens(session, user, TokenKind.SESSION),
        "api_tokens": await auth_tokens.list_tokens(session, user, TokenKind.API),
        "current_id": token.id if token else None,
        "form": form or kit.Form(values={"expires_in_days": "90", "scope_read": "on"}),
        "new_token": new_token,
        "identities": identities,
        "linkable": [
            p for p in kit.oauth_providers(kit.settings_of(request)) if p[0] not in linked
        ],
        "identity_error": identity_error,
    }
    headers = {"Cache-Control": "no-store"} if new_token else None
    return kit.render(
        request, "account/security.html", context, status_code=status_code, headers=headers
    )


@router.get("/account/security", name="account_security")
async def security(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    return await _security_page(request, session, user)


@router.post("/account/security/sessions/{token_id}/revoke")
async def revoke_session(
    token_id: uuid.UUID, request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    await auth_tokens.revoke_token(session, actor, user, token_id)
    token = current_token(request)
    if token is not None and token.id == token_id:
        response = kit.redirect("/login")
        clear_session_cookie(response, kit.settings_of(request))
        flash(request, "This session is signed out.", "info")
        return response
    flash(request, "The session is signed out.", "success")
    return kit.redirect("/account/security")


@router.post("/account/security/tokens")
async def create_api_token(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    """The new token's secret is shown once, in the answer to this POST (no-store)."""
    data = await kit.form_data(request)
    scopes = [s for s in (await request.form()).getlist("scopes") if isinstance(s, str)]

    async def create(body: ApiTokenIn) -> str:
        raw, _ = await auth_tokens.create_token(
            session,
            actor,
            user,
            kind=TokenKind.API,
            lifetime=timedelta(days=body.expires_in_days),
            name=body.name,
            scopes=frozenset(body.scopes),
        )
        return raw

    return await kit.form_action(
        request,
        session,
        kit.Form(
            values={
                "name": data.get("name", ""),
                "expires_in_days": data.get("expires_in_days", ""),
                **{f"scope_{s}": "on" for s in scopes},
            }
        ),
        model=ApiTokenIn,
        data={
            "name": data.get("name", ""),
            "scopes": scopes,
            "expires_in_days": data.get("expires_in_days") or 90,
        },
        call=create,
        page=lambda form, status: _security_page(request, session, user, form, status_code=status),
        reply=lambda raw: _security_page(request, session, user, new_token=raw),
        hints={
            "scopes": "Choose read, write or both.",
            "expires_in_days": "A number of days from 1 to 365.",
        },
    )


@router.post("/account/security/tokens/{token_id}/revoke")
async def revoke_api_token(
    token_id: uuid.UUID, request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep
) -> Response:
    await auth_tokens.revoke_token(session, actor, user, token_id)
    flash(request, "The API token is revoked.", "success")
    return kit.redirect("/account/security")


@router.post("/verify-email/resend", name="resend_verification")
async def resend_verification(
    request: Request, session: SessionDep, actor: ActorDep, user: PageUserDep, services: ServicesDep
) -> Response:
    async def refused(exc: AppError) -> Response:
        form = kit.Form()
        status = kit.refuse(form, exc)
        return await _account_page(
            request, session, user, {"resend": form}, status, headers=kit.retry_headers(exc)
        )

    return await kit.act(
        request,
        session,
        "/account",
        lambda: service.request_verification(session, actor, services, user),
        f"A new confirmation link is on its way to {user.email}.",
        refused=refused,
        expire=(user,),
    )


@router.post("/account/security/identities/{identity_id}/unlink")
async def unlink_identity(
    identity_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    user: PageUserDep,
) -> Response:
    return await kit.act(
        request,
        session,
        "/account/security",
        lambda: oauth_service.unlink_identity(session, actor, user, identity_id),
        "The account is unlinked.",
        refused=lambda exc: _security_page(
            request, session, user, status_code=kit.status_of(exc), identity_error=exc.message
        ),
        expire=(user,),
    )
