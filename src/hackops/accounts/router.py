"""Accounts API: /api/v1/auth (sign-up, tokens, verification, reset) and /api/v1/me."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Request, Response, status

from hackops.accounts import auth_tokens, profile, service
from hackops.accounts.credentials import normalize_email
from hackops.accounts.deps import (
    ActorDep,
    CurrentUserDep,
    ServicesDep,
    client_ip,
    current_token,
    hashing_slot,
)
from hackops.accounts.schemas import (
    Accepted,
    ApiTokenCreated,
    ApiTokenIn,
    DeleteAccountIn,
    EmailChangeIn,
    PasswordChangeIn,
    ProfileIn,
    RegisterAccepted,
    RegisterIn,
    ResetConfirmIn,
    ResetRequestIn,
    SessionOut,
    TokenIn,
    TokenOut,
    UserOut,
)
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.models import TokenKind, User
from hackops.ratelimit import MAIL_PER_IP, REGISTER_PER_IP
from hackops.routing import Router

auth = Router(prefix="/auth", tags=["auth"])
me = Router(prefix="/me", tags=["me"])

RESET_ANSWER = "If an account exists for that address, we sent it a link to reset the password."


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(
        {
            **{k: getattr(user, k) for k in UserOut.model_fields if k != "email_verified"},
            "email_verified": user.email_verified,
        }
    )


@auth.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RegisterAccepted,
    summary="Create an account: check your mail",
    description=(
        "The answer is the same whether or not the address already has an account: a new"
        " account gets the verification link by mail; the owner of a taken address is mailed"
        " that someone tried to register with it, and nothing changes. Log in once the address"
        " is confirmed."
    ),
    responses=error_responses(400, 422, 429),
)
async def register(
    body: RegisterIn, request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> RegisterAccepted:
    await services.limiter.consume(REGISTER_PER_IP, client_ip(request) or "unknown")
    email = normalize_email(body.email)
    await service.register(
        session, actor, services, email=email, password=body.password, name=body.name
    )
    return RegisterAccepted(email=email, message=service.registration_answer(email))


@auth.post(
    "/token",
    response_model=TokenOut,
    summary="OAuth2 password flow: exchange email and password for a bearer token",
    responses=error_responses(400, 401, 422, 429),
)
async def token(
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=256)],
    session: SessionDep,
    actor: ActorDep,
    services: ServicesDep,
) -> TokenOut:
    user = await service.authenticate(session, actor, services, email=username, password=password)
    raw, _ = await auth_tokens.create_token(
        session,
        actor,
        user,
        kind=TokenKind.SESSION,
        lifetime=services.session_lifetime,
        name="API sign-in",
    )
    return TokenOut(access_token=raw, expires_in=int(services.session_lifetime.total_seconds()))


@auth.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the token (or session cookie) this request carries",
    responses=error_responses(401, 403),
)
async def logout(
    request: Request, session: SessionDep, user: CurrentUserDep, actor: ActorDep
) -> Response:
    token = current_token(request)
    if token is not None:
        await auth_tokens.revoke_token(session, actor, user, token.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth.post(
    "/verify-email",
    response_model=UserOut,
    summary="Confirm an email address with the token from the mail",
    responses=error_responses(400, 422),
)
async def verify_email(body: TokenIn, session: SessionDep, actor: ActorDep) -> UserOut:
    return user_out(await service.verify_email(session, actor, body.token))


@auth.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Send a new verification mail (the previous link stops working)",
    responses=error_responses(401, 403, 429),
)
async def resend_verification(
    session: SessionDep, user: CurrentUserDep, actor: ActorDep, services: ServicesDep
) -> Accepted:
    await service.request_verification(session, actor, services, user)
    return Accepted(message="If your address is not yet confirmed, a new link is on its way.")


@auth.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Ask for a password reset link (same answer whether or not the account exists)",
    responses=error_responses(422, 429),
)
async def password_reset(
    body: ResetRequestIn, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Accepted:
    await services.limiter.consume(MAIL_PER_IP, actor.ip or "unknown")
    await service.request_password_reset(session, actor, services, email=body.email)
    return Accepted(message=RESET_ANSWER)


@auth.post(
    "/password-reset/confirm",
    response_model=UserOut,
    summary="Set a new password with the token from the mail (signs out everywhere)",
    responses=error_responses(400, 422),
)
async def password_reset_confirm(
    body: ResetConfirmIn, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> UserOut:
    user = await service.reset_password(
        session, actor, services, token=body.token, new_password=body.new_password
    )
    return user_out(user)


@me.get("", response_model=UserOut, summary="My account", responses=error_responses(401))
async def get_me(user: CurrentUserDep) -> UserOut:
    return user_out(user)


@me.patch(
    "", response_model=UserOut, summary="Edit my profile", responses=error_responses(401, 403, 422)
)
async def update_me(
    body: ProfileIn, session: SessionDep, user: CurrentUserDep, actor: ActorDep
) -> UserOut:
    return user_out(await profile.update_profile(session, actor, user, body))


@me.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password (other sessions are signed out)",
    dependencies=[Depends(hashing_slot)],
    responses=error_responses(400, 401, 403, 422),
)
async def change_password(
    body: PasswordChangeIn,
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    actor: ActorDep,
    services: ServicesDep,
) -> Response:
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
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me.post(
    "/email",
    response_model=UserOut,
    summary="Change my email address (needs the password; the new one must be confirmed)",
    dependencies=[Depends(hashing_slot)],
    responses=error_responses(400, 401, 403, 409, 422),
)
async def change_email(
    body: EmailChangeIn,
    session: SessionDep,
    user: CurrentUserDep,
    actor: ActorDep,
    services: ServicesDep,
) -> UserOut:
    updated = await service.change_email(
        session, actor, services, user, password=body.password, new_email=body.new_email
    )
    return user_out(updated)


@me.post(
    "/delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete my account: personal data erased, history kept anonymous",
    dependencies=[Depends(hashing_slot)],
    responses=error_responses(401, 403, 409, 422),
)
async def delete_me(
    body: DeleteAccountIn,
    session: SessionDep,
    user: CurrentUserDep,
    actor: ActorDep,
    services: ServicesDep,
) -> Response:
    await profile.delete_account(session, actor, services, user, password=body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me.get("/export", summary="Export all my data (JSON)", responses=error_responses(401))
async def export_me(session: SessionDep, user: CurrentUserDep) -> dict[str, Any]:
    return await profile.export_data(session, user)


def _sessions_out(request: Request, rows: list[Any]) -> list[SessionOut]:
    token = current_token(request)
    return [
        SessionOut.model_validate(row).model_copy(
            update={"current": token is not None and row.id == token.id}
        )
        for row in rows
    ]


@me.get(
    "/sessions",
    response_model=list[SessionOut],
    summary="My active sign-in sessions",
    responses=error_responses(401),
)
async def list_sessions(
    request: Request, session: SessionDep, user: CurrentUserDep
) -> list[SessionOut]:
    return _sessions_out(request, await auth_tokens.list_tokens(session, user, TokenKind.SESSION))


@me.delete(
    "/sessions/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out one session",
    responses=error_responses(401, 403, 404, 422),
)
async def revoke_session(
    token_id: uuid.UUID, session: SessionDep, user: CurrentUserDep, actor: ActorDep
) -> Response:
    await auth_tokens.revoke_token(session, actor, user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me.get(
    "/tokens",
    response_model=list[SessionOut],
    summary="My personal API tokens",
    responses=error_responses(401),
)
async def list_api_tokens(
    request: Request, session: SessionDep, user: CurrentUserDep
) -> list[SessionOut]:
    return _sessions_out(request, await auth_tokens.list_tokens(session, user, TokenKind.API))


@me.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiTokenCreated,
    summary="Create a personal API token (shown once)",
    responses=error_responses(401, 403, 422),
)
async def create_api_token(
    body: ApiTokenIn, session: SessionDep, user: CurrentUserDep, actor: ActorDep
) -> ApiTokenCreated:
    raw, token = await auth_tokens.create_token(
        session,
        actor,
        user,
        kind=TokenKind.API,
        lifetime=timedelta(days=body.expires_in_days),
        name=body.name,
        scopes=frozenset(body.scopes),
    )
    data = SessionOut.model_validate(token).model_dump()
    return ApiTokenCreated(**data, token=raw)


@me.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a personal API token",
    responses=error_responses(401, 403, 404, 422),
)
async def revoke_api_token(
    token_id: uuid.UUID, session: SessionDep, user: CurrentUserDep, actor: ActorDep
) -> Response:
    await auth_tokens.revoke_token(session, actor, user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
