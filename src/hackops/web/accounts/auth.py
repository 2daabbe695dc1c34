"""Sign-in pages: sign up, log in and out, email verification, password reset, and sign-in
links by email for accounts without a password (`accounts.magic_link`).

They call the same services as the API; form handling is in `hackops.web.kit`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from hackops.accounts import auth_tokens, magic_link, service
from hackops.accounts.credentials import InvalidEmail, WeakPassword, normalize_email
from hackops.accounts.deps import (
    ActorDep,
    ServicesDep,
    clear_session_cookie,
    client_ip,
    current_token,
    set_session_cookie,
)
from hackops.accounts.router import RESET_ANSWER
from hackops.accounts.schemas import (
    RegisterIn,
    ResetConfirmIn,
    ResetRequestIn,
    SignInLinkIn,
    TokenIn,
)
from hackops.actor import Actor
from hackops.browser import flash
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.models import TokenKind
from hackops.ratelimit import MAIL_PER_IP, REGISTER_PER_IP
from hackops.web import kit
from hackops.web.deps import page_router

# Every page resolves who is signed in: the header shows it.
router = page_router()

DEFAULT_AFTER_LOGIN = "/orgs"


# --- sign up, log in, log out ----------------------------------------------------------------


SIGNUP_FIELDS: dict[type[AppError] | str, str] = {
    "email_taken": "email",
    InvalidEmail: "email",
    WeakPassword: "password",
}


def _entry_page(
    template: str,
    request: Request,
    form: kit.Form,
    next_path: str | None,
    status_code: int = 200,
    **kw: Any,
) -> Response:
    """The sign-up or log-in page: the form, where to go next, the provider buttons."""
    context = {
        "form": form,
        "link_form": kit.Form(),  # the log-in page's "email me a sign-in link"
        "next_path": next_path,
        "providers": kit.oauth_providers(kit.settings_of(request)),
    }
    return kit.render(request, template, context, status_code=status_code, **kw)


def _signup_page(
    request: Request, form: kit.Form, next_path: str | None, status_code: int = 200, **kw: Any
) -> Response:
    return _entry_page("account/signup.html", request, form, next_path, status_code, **kw)


def _login_page(
    request: Request, form: kit.Form, next_path: str | None, status_code: int = 200, **kw: Any
) -> Response:
    return _entry_page("account/login.html", request, form, next_path, status_code, **kw)


def _entry_form(
    page: Callable[[Request, kit.Form, str | None], Response],
    request: Request,
    actor: Actor,
    next_value: str | None,
) -> Response:
    next_path = kit.safe_next(next_value)
    if actor.user is not None:  # already signed in: straight on
        return kit.redirect(next_path or DEFAULT_AFTER_LOGIN)
    return page(request, kit.Form(), next_path)


@router.get("/signup", name="signup")
async def signup_form(request: Request, actor: ActorDep, next: str | None = None) -> Response:
    return _entry_form(_signup_page, request, actor, next)


@router.post("/signup")
async def signup(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    next_path = kit.safe_next(data.get("next"))
    form = kit.Form(values=kit.kept(data, "name", "email"))
    body = kit.validated(RegisterIn, kit.kept_all(data, "email", "password", "name"), form)
    if body is None:
        return _signup_page(request, form, next_path, 422)
    try:
        async with kit.all_or_nothing(session):
            await services.limiter.consume(REGISTER_PER_IP, client_ip(request) or "unknown")
            email = normalize_email(body.email)
            await service.register(
                session, actor, services, email=email, password=body.password, name=body.name
            )
    except AppError as exc:
        status = kit.refuse(form, exc, SIGNUP_FIELDS)
        return _signup_page(request, form, next_path, status, headers=kit.retry_headers(exc))
    # The same words whether or not the address was taken (its owner got a mail instead).
    flash(request, service.registration_answer(email), "success")
    return kit.redirect(kit.with_next("/login", next_path))


@router.get("/login", name="login")
async def login_form(request: Request, actor: ActorDep, next: str | None = None) -> Response:
    return _entry_form(_login_page, request, actor, next)


@router.post("/login")
async def login(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    next_path = kit.safe_next(data.get("next"))
    form = kit.Form(values=kit.kept(data, "email"))
    email, password = data.get("email", "").strip(), data.get("password", "")
    if not email:
        form.errors["email"] = "Enter your email address."
    if not password:
        form.errors["password"] = "Enter your password."  # noqa: S105 - a message
    if len(email) > 320 or len(password) > 256:
        form.error = "Wrong email address or password."
    if form.failed:
        return _login_page(request, form, next_path, 422)
    try:
        async with kit.all_or_nothing(session):
            user = await service.authenticate(
                session, actor, services, email=email, password=password
            )
            previous = current_token(request)
            if previous is not None and actor.user is not None:
                await auth_tokens.revoke_token(session, actor, actor.user, previous.id)
            raw, _ = await auth_tokens.create_token(
                session,
                actor,
                user,
                kind=TokenKind.SESSION,
                lifetime=services.session_lifetime,
                name="Browser sign-in",
            )
    except AppError as exc:
        status = kit.refuse(form, exc)
        return _login_page(request, form, next_path, status, headers=kit.retry_headers(exc))
    response = kit.redirect(next_path or DEFAULT_AFTER_LOGIN)
    set_session_cookie(response, raw, kit.settings_of(request))
    flash(request, f"Welcome back, {user.name or user.email}.", "success")
    return response


@router.post("/logout", name="logout")
async def logout(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    token = current_token(request)
    if actor.user is not None and token is not None and token.kind == TokenKind.SESSION.value:
        await auth_tokens.revoke_token(session, actor, actor.user, token.id)
    response = kit.redirect("/")
    clear_session_cookie(response, kit.settings_of(request))
    flash(request, "You are signed out.", "info")
    return response


# --- email verification and password reset ---------------------------------------------------


def _verify_page(
    request: Request, token: str | None, form: kit.Form | None = None, status_code: int = 200
) -> Response:
    context = {"token": token, "form": form or kit.Form()}
    return kit.render(request, "account/verify_email.html", context, status_code=status_code)


@router.get("/verify-email", name="verify_email")
async def verify_email_form(request: Request, token: str | None = None) -> Response:
    # Never verify on GET: mail scanners open links; only the person pressing the button counts.
    return _verify_page(request, (token or "")[:200] or None)


@router.post("/verify-email")
async def verify_email(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    data = await kit.form_data(request)
    form = kit.Form()
    body = kit.validated(TokenIn, kit.kept_all(data, "token"), form)
    if body is None:
        form.error = "This link is incomplete; open the link from the email again."
        return _verify_page(request, None, form, 400)
    try:
        async with kit.all_or_nothing(session):
            await service.verify_email(session, actor, body.token)
    except AppError as exc:
        status = kit.refuse(form, exc)
        return _verify_page(request, None, form, status)
    if actor.user is not None:
        flash(request, "Your email address is confirmed.", "success")
        return kit.redirect(DEFAULT_AFTER_LOGIN)
    flash(request, "Your email address is confirmed. You can log in now.", "success")
    return kit.redirect("/login")


def _reset_page(
    request: Request,
    form: kit.Form,
    token: str | None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    template = "account/reset_confirm.html" if token else "account/reset_request.html"
    context = {"form": form, "token": token}
    return kit.render(request, template, context, status_code=status_code, headers=headers)


@router.get("/reset-password", name="reset_password")
async def reset_password_form(request: Request, token: str | None = None) -> Response:
    return _reset_page(request, kit.Form(), (token or "")[:200] or None)


@router.post("/reset-password")
async def request_password_reset(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    form = kit.Form(values=kit.kept(data, "email"))
    body = kit.validated(ResetRequestIn, kit.kept_all(data, "email"), form)
    if body is None:
        return _reset_page(request, form, None, 422)
    try:
        async with kit.all_or_nothing(session):
            await services.limiter.consume(MAIL_PER_IP, actor.ip or "unknown")
            await service.request_password_reset(session, actor, services, email=body.email)
    except AppError as exc:
        status = kit.refuse(form, exc)
        return _reset_page(request, form, None, status, kit.retry_headers(exc))
    flash(request, RESET_ANSWER, "info")
    return kit.redirect("/login")


@router.post("/reset-password/confirm")
async def confirm_password_reset(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    form = kit.Form()
    token = data.get("token", "")[:200]
    body = kit.validated(ResetConfirmIn, kit.kept_all(data, "token", "new_password"), form)
    if body is None:
        if "token" in form.errors:
            form.error = "This link is incomplete; open the link from the email again."
        return _reset_page(request, form, token or "missing", 422)
    try:
        async with kit.all_or_nothing(session):
            await service.reset_password(
                session, actor, services, token=body.token, new_password=body.new_password
            )
    except AppError as exc:
        status = kit.refuse(form, exc, {WeakPassword: "new_password"})
        return _reset_page(request, form, token, status)
    response = kit.redirect("/login")
    clear_session_cookie(response, kit.settings_of(request))
    flash(
        request,
        "Your password is changed and every session was signed out. Log in with the new one.",
        "success",
    )
    return response


# --- sign-in links by email (accounts without a password) -------------------------------------


def _link_page(
    request: Request,
    form: kit.Form,
    token: str | None,
    next_path: str | None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    context = {"form": form, "token": token, "next_path": next_path}
    return kit.render(
        request, "account/sign_in_link.html", context, status_code=status_code, headers=headers
    )


@router.get("/sign-in-link", name="sign_in_link")
async def sign_in_link_form(
    request: Request, token: str | None = None, next: str | None = None
) -> Response:
    # Never sign in on GET: mail scanners open links; only the person pressing the button counts.
    return _link_page(request, kit.Form(), (token or "")[:200] or None, kit.safe_next(next))


@router.post("/sign-in-link")
async def request_sign_in_link(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    next_path = kit.safe_next(data.get("next"))
    form = kit.Form(values=kit.kept(data, "email"))
    body = kit.validated(SignInLinkIn, kit.kept_all(data, "email"), form)
    if body is None:
        return _link_page(request, form, None, next_path, 422)
    try:
        async with kit.all_or_nothing(session):
            await services.limiter.consume(MAIL_PER_IP, actor.ip or "unknown")
            await magic_link.request_link(
                session, actor, services, email=body.email, next_path=next_path
            )
    except AppError as exc:
        status = kit.refuse(form, exc)
        return _link_page(request, form, None, next_path, status, kit.retry_headers(exc))
    flash(request, magic_link.ANSWER, "info")
    return kit.redirect(kit.with_next("/login", next_path))


@router.post("/sign-in-link/confirm")
async def confirm_sign_in_link(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    next_path = kit.safe_next(data.get("next"))
    form = kit.Form()
    body = kit.validated(TokenIn, kit.kept_all(data, "token"), form)
    if body is None:
        form.error = "This link is incomplete; open the link from the email again."
        return _link_page(request, form, None, next_path, 400)
    try:
        async with kit.all_or_nothing(session):
            previous = current_token(request)
            if previous is not None and actor.user is not None:
                await auth_tokens.revoke_token(session, actor, actor.user, previous.id)
            raw, user = await magic_link.sign_in(session, actor, services, token=body.token)
    except AppError as exc:
        status = kit.refuse(form, exc)
        return _link_page(request, form, None, next_path, status)
    response = kit.redirect(next_path or DEFAULT_AFTER_LOGIN)
    set_session_cookie(response, raw, kit.settings_of(request))
    flash(request, f"Welcome back, {user.name or user.email}.", "success")
    return response
