"""Sign-in pages: sign up, log in and out, email verification, password reset, and sign-in
links by email for accounts without a password (`accounts.magic_link`).

They call the same services as the API; form handling is in `hackops.web.kit`.
"""

from __future__ import annotations

from collections.abc import Callable

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
from hackops.models import TokenKind, User
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
) -> Response:
    """The sign-up or log-in page: the form, where to go next, the provider buttons."""
    context = {
        "form": form,
        "link_form": kit.Form(),  # the log-in page's "email me a sign-in link"
        "next_path": next_path,
        "providers": kit.oauth_providers(kit.settings_of(request)),
    }
    return kit.render(request, template, context, status_code=status_code)


def _signup_page(
    request: Request, form: kit.Form, next_path: str | None, status_code: int = 200
) -> Response:
    return _entry_page("account/signup.html", request, form, next_path, status_code)


def _login_page(
    request: Request, form: kit.Form, next_path: str | None, status_code: int = 200
) -> Response:
    return _entry_page("account/login.html", request, form, next_path, status_code)


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

    async def register(body: RegisterIn) -> str:
        await services.limiter.consume(REGISTER_PER_IP, client_ip(request) or "unknown")
        email = normalize_email(body.email)
        await service.register(
            session, actor, services, email=email, password=body.password, name=body.name
        )
        return email

    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, "name", "email")),
        model=RegisterIn,
        data=kit.kept_all(data, "email", "password", "name"),
        call=register,
        page=lambda form, status: _signup_page(request, form, next_path, status),
        # The same words whether or not the address was taken (its owner got a mail instead).
        done=service.registration_answer,
        then=kit.with_next("/login", next_path),
        fields=SIGNUP_FIELDS,
    )


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

    async def sign_in() -> tuple[str, User]:
        user = await service.authenticate(session, actor, services, email=email, password=password)
        previous = current_token(request)
        if previous is not None and actor.user is not None:
            await auth_tokens.revoke_token(session, actor, actor.user, previous.id)
        return await kit.session_token(session, actor, user, services, name="Browser sign-in"), user

    return await kit.attempt(
        session,
        form,
        sign_in,
        page=lambda form, status: _login_page(request, form, next_path, status),
        reply=lambda signed: _signed_in(request, next_path, *signed),
    )


def _signed_in(request: Request, next_path: str | None, raw: str, user: User) -> Response:
    """Welcome, with the new session's cookie, on to where the visitor was going."""
    response = kit.flash_redirect(
        request, next_path or DEFAULT_AFTER_LOGIN, f"Welcome back, {user.name or user.email}."
    )
    set_session_cookie(response, raw, kit.settings_of(request))
    return response


@router.post("/logout", name="logout")
async def logout(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    token = current_token(request)
    if actor.user is not None and token is not None and token.kind == TokenKind.SESSION:
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


def _incomplete_link(form: kit.Form) -> None:
    form.error = "This link is incomplete; open the link from the email again."


@router.post("/verify-email")
async def verify_email(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    data = await kit.form_data(request)

    def reply(_: object) -> Response:
        if actor.user is not None:
            return kit.flash_redirect(
                request, DEFAULT_AFTER_LOGIN, "Your email address is confirmed."
            )
        return kit.flash_redirect(
            request, "/login", "Your email address is confirmed. You can log in now."
        )

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=TokenIn,
        data=kit.kept_all(data, "token"),
        call=lambda body: service.verify_email(session, actor, body.token),
        page=lambda form, status: _verify_page(request, None, form, status),
        reply=reply,
        invalid=_incomplete_link,
        invalid_status=400,
    )


def _reset_page(
    request: Request,
    form: kit.Form,
    token: str | None,
    status_code: int = 200,
) -> Response:
    template = "account/reset_confirm.html" if token else "account/reset_request.html"
    context = {"form": form, "token": token}
    return kit.render(request, template, context, status_code=status_code)


@router.get("/reset-password", name="reset_password")
async def reset_password_form(request: Request, token: str | None = None) -> Response:
    return _reset_page(request, kit.Form(), (token or "")[:200] or None)


@router.post("/reset-password")
async def request_password_reset(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)

    async def request_reset(body: ResetRequestIn) -> None:
        await services.limiter.consume(MAIL_PER_IP, actor.ip or "unknown")
        await service.request_password_reset(session, actor, services, email=body.email)

    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, "email")),
        model=ResetRequestIn,
        data=kit.kept_all(data, "email"),
        call=request_reset,
        page=lambda form, status: _reset_page(request, form, None, status),
        reply=lambda _: kit.flash_redirect(request, "/login", RESET_ANSWER, "info"),
    )


@router.post("/reset-password/confirm")
async def confirm_password_reset(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    token = data.get("token", "")[:200]

    def reply(_: object) -> Response:
        response = kit.flash_redirect(
            request,
            "/login",
            "Your password is changed and every session was signed out. Log in with the new one.",
        )
        clear_session_cookie(response, kit.settings_of(request))
        return response

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=ResetConfirmIn,
        data=kit.kept_all(data, "token", "new_password"),
        call=lambda body: service.reset_password(
            session, actor, services, token=body.token, new_password=body.new_password
        ),
        # A valid input has a token; a refused one shows the form again, with or without it.
        page=lambda form, status: _reset_page(request, form, token or "missing", status),
        reply=reply,
        invalid=lambda form: _incomplete_link(form) if "token" in form.errors else None,
        fields={WeakPassword: "new_password"},
    )


# --- sign-in links by email (accounts without a password) -------------------------------------


def _link_page(
    request: Request,
    form: kit.Form,
    token: str | None,
    next_path: str | None,
    status_code: int = 200,
) -> Response:
    context = {"form": form, "token": token, "next_path": next_path}
    return kit.render(request, "account/sign_in_link.html", context, status_code=status_code)


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

    async def request_link(body: SignInLinkIn) -> None:
        await services.limiter.consume(MAIL_PER_IP, actor.ip or "unknown")
        await magic_link.request_link(
            session, actor, services, email=body.email, next_path=next_path
        )

    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, "email")),
        model=SignInLinkIn,
        data=kit.kept_all(data, "email"),
        call=request_link,
        page=lambda form, status: _link_page(request, form, None, next_path, status),
        reply=lambda _: kit.flash_redirect(
            request, kit.with_next("/login", next_path), magic_link.ANSWER, "info"
        ),
    )


@router.post("/sign-in-link/confirm")
async def confirm_sign_in_link(
    request: Request, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> Response:
    data = await kit.form_data(request)
    next_path = kit.safe_next(data.get("next"))

    async def sign_in(body: TokenIn) -> tuple[str, User]:
        previous = current_token(request)
        if previous is not None and actor.user is not None:
            await auth_tokens.revoke_token(session, actor, actor.user, previous.id)
        return await magic_link.sign_in(session, actor, services, token=body.token)

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=TokenIn,
        data=kit.kept_all(data, "token"),
        call=sign_in,
        page=lambda form, status: _link_page(request, form, None, next_path, status),
        reply=lambda signed: _signed_in(request, next_path, *signed),
        invalid=_incomplete_link,
        invalid_status=400,
    )
