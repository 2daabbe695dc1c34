"""Form handling shared by the page modules.

- A service call runs inside a SAVEPOINT (`all_or_nothing`): when the service refuses, nothing it
  wrote survives (a reset link is not spent by a too-weak new password) and the form comes back
  with the message and the input (never a password), with the error's status. 401 becomes 400 on
  a form: the browser is not asked for HTTP authentication.
- Input is checked with the API's own pydantic models (`validated`), so a page accepts exactly
  what the API accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.errors import AppError, RateLimited
from hackops.tenancy import forget_tenant

M = TypeVar("M", bound=BaseModel)

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
            message = (hints or {}).get(name) or str(item["msg"]).removeprefix("Value error, ")
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
