"""The page toolkit: what every page module uses to render, read a form, act and go back.

- `form_action` is THE way a form post is handled: the input is checked with the API's own input
  model, the service runs in a savepoint, a refusal re-renders the form with the messages and
  the error's status, success flashes and answers 303 (or gives its own `reply`: a cookie, a
  report). `attempt` is its second half, for input checked another way. `act` is the same for a
  button (no form to re-render: the refusal is flashed, or shown by the page's `refused`).
- `act_confirmed` is `act` for an action that is hard to take back (publish, archive, disband):
  the button is a link to a confirmation page saying what will happen (`Confirmation`, shown by
  `confirm_page`), whose form carries `CONFIRM_FIELD`; a post without it does nothing and goes
  to that page. No script is needed, so the CSP stays `script-src 'self'`; the API is unchanged.
- The event pages' addresses, clock and admin header (`AdminPage`) are in `web/eventkit.py`.
- Loading and authorizing are not here: they are the dependencies of `web/deps.py`.

Form handling:
- A service call runs inside a SAVEPOINT (`all_or_nothing`): when the service refuses, nothing it
  wrote survives (a reset link is not spent by a too-weak new password) and the form comes back
  with the message and the input (never a password), with the error's status. 401 becomes 400 on
  a form: the browser is not asked for HTTP authentication.
- Input is checked with the API's own pydantic models (`validated`), so a page accepts exactly
  what the API accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import validation
from hackops.accounts import auth_tokens
from hackops.accounts.service import Services
from hackops.actor import Actor
from hackops.browser import flash
from hackops.config import Settings
from hackops.errors import AppError, RateLimited
from hackops.models import RegistrationStatus, TokenKind, User
from hackops.tenancy import forget_tenant

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

#: Where an event's pages live: its public page, and the organizers' admin under it.
EVENT_BASE = "/orgs/{slug}/events/{event_slug}"
ADMIN = EVENT_BASE + "/admin"

#: A registration's status as a sentence says it ("you are on the waitlist").
REGISTRATION_STATUS_LABELS: dict[str, str] = {
    RegistrationStatus.REGISTERED: "registered",
    RegistrationStatus.WAITLISTED: "on the waitlist",
    RegistrationStatus.CANCELLED: "cancelled",
    RegistrationStatus.CHECKED_IN: "checked in",
    RegistrationStatus.PENDING: "awaiting approval",
    RegistrationStatus.DECLINED: "declined",
}

OAUTH_PROVIDERS = (("github", "GitHub"), ("google", "Google"), ("microsoft", "Microsoft"))
PASSWORD_FIELDS = frozenset({"password", "current_password", "new_password"})


# --- helpers shared by the page modules ------------------------------------------------------


@dataclass
class Form:
    """What a form shows: the input to put back, messages per field, and one for the form."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.error)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, template, dict(context or {}), status_code=status_code, headers=dict(headers or {})
    )
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str | None:
    """A path on this site to continue to, or None (another host, a scheme, control chars)."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value or any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return None
    parts = urlsplit(value)
    return None if parts.scheme or parts.netloc else value


def with_next(path: str, next_path: str | None) -> str:
    return f"{path}?{urlencode({'next': next_path})}" if next_path else path


def to_login(request: Request) -> RedirectResponse:
    """Send a signed-out visitor to the log-in page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(with_next("/login", here if request.method == "GET" else None))


async def form_data(request: Request) -> dict[str, str]:
    """The submitted fields as text (files and repeated fields beyond the first are ignored)."""
    data: dict[str, str] = {}
    for key, value in (await request.form()).multi_items():
        if isinstance(value, str) and key not in data:
            data[key] = value
    return data


def kept(data: Mapping[str, str], *names: str) -> dict[str, str]:
    """The fields to show again after a refusal; passwords are never sent back."""
    return {name: data.get(name, "") for name in names if name not in PASSWORD_FIELDS}


def kept_all(data: Mapping[str, str], *names: str) -> dict[str, str]:
    """The named fields, passwords included (for validation, never for display)."""
    return {name: data.get(name, "") for name in names}


def validated(
    model: type[M], data: Mapping[str, Any], form: Form, hints: Mapping[str, str] | None = None
) -> M | None:
    """`data` checked by an API input model; on failure the messages land in `form.errors`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for item in exc.errors():
            # ("skills", 3) is about skills; ("branding", "logo_url") about the logo URL field.
            name = next((str(p) for p in reversed(item["loc"]) if isinstance(p, str)), "")
            message = (hints or {}).get(name) or validation.sentence(item)
            form.errors.setdefault(name, message)
        return None


def describe(exc: AppError) -> str:
    if isinstance(exc, RateLimited) and isinstance(exc.details, dict):
        seconds = int(exc.details.get("retry_after") or 0)
        if seconds:
            minutes = max(1, round(seconds / 60))
            unit = "minute" if minutes == 1 else "minutes"
            return f"Too many attempts; try again in about {minutes} {unit}."
    return exc.message


def refuse(
    form: Form, exc: AppError, fields: Mapping[type[AppError] | str, str] | None = None
) -> int:
    """Put the service's refusal on the form (on a field when it is about one); the status."""
    for key, name in (fields or {}).items():
        if (isinstance(key, str) and exc.code == key) or (
            isinstance(key, type) and isinstance(exc, key)
        ):
            form.errors[name] = describe(exc)
            break
    else:
        form.error = describe(exc)
    return status_of(exc)


def status_of(exc: AppError) -> int:
    """The status a page answers a refusal with: 401 is 400 on a page (the browser is not asked
    for HTTP authentication)."""
    return 400 if exc.status_code == 401 else exc.status_code


def retry_headers(exc: AppError) -> dict[str, str]:
    return {k: v for k, v in exc.headers.items() if k.lower() == "retry-after"}


@asynccontextmanager
async def all_or_nothing(session: AsyncSession) -> AsyncIterator[None]:
    """Run service calls in a SAVEPOINT: when they raise, whatever they wrote is undone."""
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        # The rollback also undid any set_config() made inside.
        forget_tenant(session)
        raise


async def fresh(session: AsyncSession, obj: object) -> None:
    """Reload an object a rolled-back savepoint expired, so a template can read it."""
    if inspect(obj).expired_attributes:
        await session.refresh(obj)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def oauth_providers(settings: Settings) -> list[tuple[str, str]]:
    """The sign-in providers this installation has a client id AND secret for."""
    return [
        (name, label)
        for name, label in OAUTH_PROVIDERS
        if getattr(settings, f"oauth_{name}_client_id")
        and getattr(settings, f"oauth_{name}_client_secret")
    ]


async def reload(session: AsyncSession, obj: object) -> None:
    """After a refused change: drop what the service set on the object but never wrote."""
    session.expire(obj)
    await session.refresh(obj)


def number(value: Any) -> str:
    """A number as people write it: 7, 7.5 (never 7.0)."""
    return f"{float(value):g}"


async def session_token(
    session: AsyncSession, actor: Actor, user: User, services: Services, *, name: str
) -> str:
    """A new browser session for `user` (log-in, OAuth): the secret its cookie carries."""
    raw, _ = await auth_tokens.create_token(
        session, actor, user, kind=TokenKind.SESSION, lifetime=services.session_lifetime, name=name
    )
    return raw


# --- the form action and the button action ---------------------------------------------------

#: What a page callback or a reply gives: a response, or a coroutine making one.
Answer = Response | Awaitable[Response]


async def answered(answer: Answer) -> Response:
    return await answer if isawaitable(answer) else answer


def flash_redirect(request: Request, url: str, message: str, kind: str = "success") -> Response:
    """Flash `message` and answer 303 to `url` (POST/redirect/GET)."""
    flash(request, message, kind)
    return redirect(url)


async def form_action(
    request: Request,
    session: AsyncSession,
    form: Form,
    *,
    model: type[M],
    data: Mapping[str, Any],
    call: Callable[[M], Awaitable[R]],
    page: Callable[[Form, int], Answer],
    done: str | Callable[[R], str] = "",
    then: str | Callable[[R], str] = "",
    reply: Callable[[R], Answer] | None = None,
    hints: Mapping[str, str] | None = None,
    fields: Mapping[type[AppError] | str, str] | None = None,
    refused: Callable[[Form, AppError], int] | None = None,
    invalid: Callable[[Form], None] | None = None,
    invalid_status: int = 422,
    expire: Sequence[object] = (),
) -> Response:
    """A form post: `data` (the form's text as the API's JSON would carry it) checked by the
    API's input `model` → `call(body)` in a savepoint → flash `done`, 303 to `then` (each a
    text, or what it says of the call's result); or, for an answer of another kind (a cookie
    set, a report shown, a flash of another kind), `reply(result)`.

    Refused input re-renders with `page(form, invalid_status)` (also when the caller already put
    a message on `form`, e.g. a date it could not parse), after `invalid(form)` rearranged the
    model's messages when the form shows them elsewhere; a refusal by the service re-renders
    with the message — on the field `fields` maps it to, else on the form, or as `refused`
    places it — the error's status and its Retry-After, after reloading the objects in `expire`
    the service had changed."""
    body = validated(model, data, form, hints)
    if body is None and invalid is not None:
        invalid(form)
    if body is None or form.failed:
        return await answered(page(form, invalid_status))
    checked = body

    def saved(result: R) -> Response:
        message = done if isinstance(done, str) else done(result)
        return flash_redirect(request, then if isinstance(then, str) else then(result), message)

    return await attempt(
        session,
        form,
        lambda: call(checked),
        page=page,
        reply=reply or saved,
        fields=fields,
        refused=refused,
        expire=expire,
    )


async def attempt(
    session: AsyncSession,
    form: Form,
    call: Callable[[], Awaitable[R]],
    *,
    page: Callable[[Form, int], Answer],
    reply: Callable[[R], Answer],
    fields: Mapping[type[AppError] | str, str] | None = None,
    refused: Callable[[Form, AppError], int] | None = None,
    expire: Sequence[object] = (),
) -> Response:
    """The second half of `form_action`, for input checked another way (the log-in form, a
    file): `call()` in a savepoint → `reply(result)`; a refusal re-renders as `form_action`
    says."""
    try:
        async with all_or_nothing(session):
            result = await call()
    except AppError as exc:
        for obj in expire:
            await reload(session, obj)
        status = refused(form, exc) if refused is not None else refuse(form, exc, fields)
        response = await answered(page(form, status))
        response.headers.update(retry_headers(exc))
        return response
    return await answered(reply(result))


async def act(
    request: Request,
    session: AsyncSession,
    back: str,
    action: Callable[[], Awaitable[R]],
    done: str | Callable[[R], str],
    *,
    then: Callable[[R], str] | None = None,
    refused: Callable[[AppError], Answer] | None = None,
    expire: Sequence[object] = (),
) -> Response:
    """A button's action: run it in a savepoint, flash `done` (or what it says of the result)
    and go back (or where `then` says for the result). A refusal is flashed and goes back; or,
    with `refused`, the page shows it (`refused(exc)`), after reloading the objects in `expire`.
    """
    try:
        async with all_or_nothing(session):
            result = await action()
    except AppError as exc:
        if refused is None:
            return flash_redirect(request, back, exc.message, "error")
        for obj in expire:
            await reload(session, obj)
        return await answered(refused(exc))
    message = done if isinstance(done, str) else done(result)
    return flash_redirect(request, back if then is None else then(result), message)


def said(message: str) -> str:
    """`done` for an action that returns its own message."""
    return message


#: The field a confirmation page's form sends (value "yes"); an action post without it is refused.
CONFIRM_FIELD = "confirm"


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page says before an action: the question, what will happen, the
    button that does it and where "Cancel" leads."""

    question: str
    consequences: Sequence[str]
    button: str
    cancel: str
    danger: bool = False


def confirmed(data: Mapping[str, str]) -> bool:
    return data.get(CONFIRM_FIELD) == "yes"


async def act_confirmed(
    request: Request,
    session: AsyncSession,
    back: str,
    action: Callable[[], Awaitable[R]],
    done: str | Callable[[R], str],
    **options: Any,
) -> Response:
    """`act` once the confirmation page's form was sent; a post without its field (an old page,
    a stray form) does nothing and goes to the confirmation page (the same address), flashed."""
    if not confirmed(await form_data(request)):
        message = "Nothing was done yet: read what will happen, then confirm."
        return flash_redirect(request, request.url.path, message, "error")
    return await act(request, session, back, action, done, **options)


def confirm_page(
    request: Request,
    template: str,
    confirmation: Confirmation,
    context: Mapping[str, Any] | None = None,
) -> Response:
    """The confirmation page of the action at this address (`template` includes
    `_confirm.html`); its form posts back here with the confirmation field."""
    return render(request, template, {**(context or {}), "confirmation": confirmation})


async def act_checked(
    request: Request,
    session: AsyncSession,
    back: str,
    *,
    model: type[M],
    data: Mapping[str, Any],
    action: Callable[[M], Awaitable[R]],
    done: str | Callable[[R], str],
    then: Callable[[R], str] | None = None,
) -> Response:
    """A small form with no page of its own (a button with a field or two): `data` checked by
    the API's input `model` — refused, its messages are flashed and it goes back — then
    `act(action(body))`."""
    form = Form()
    body = validated(model, data, form)
    if body is None:
        message = " ".join(form.errors.values())  # each sentence names its field
        return flash_redirect(request, back, message or "The form is not valid.", "error")
    checked = body
    return await act(request, session, back, lambda: action(checked), done, then=then)
