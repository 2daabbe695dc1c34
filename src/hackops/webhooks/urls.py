"""Endpoint addresses: what an organization may point its webhooks at.

An organization chooses the URL we send to, so it is treated as hostile, with the link fetcher's
SSRF guard (`submissions.pipeline.ssrf`, reused as it is; webhooks sit above submissions):
- when an endpoint is saved: the address is normalised (`validate_submission_url`), must be
  https:// outside dev mode, and its host must resolve to public addresses only
  (`check_public`, run with no database connection held — see `router.py`);
- at every attempt: the connection goes through `GuardedTransport`, which resolves the host
  again, refuses any non-public address and connects to the very address it checked (no DNS
  rebinding between the check and the connection), and redirects are never followed
  (`sending.py`).
`TargetPolicy.allow_loopback` (WEBHOOK_ALLOW_LOOPBACK, dev mode only) lets tests and local
development reach 127.0.0.1; it never opens private, link-local or metadata ranges.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from hackops.config import Settings
from hackops.errors import ValidationFailed
from hackops.submissions.pipeline.ssrf import (
    HostNotFound,
    Resolver,
    TargetRefused,
    parse_ip_literal,
    resolve_public,
    system_resolver,
    validate_submission_url,
)

MAX_URL_LENGTH = 2000
#: The longest wait for the DNS answer when an endpoint is saved.
RESOLVE_TIMEOUT_S = 5.0


class InvalidEndpointUrl(ValidationFailed):
    code = "invalid_endpoint_url"
    message = "The endpoint's address cannot be used."


@dataclass(frozen=True, kw_only=True)
class TargetPolicy:
    """Where webhooks may go and how long one attempt may take."""

    require_https: bool = True
    allow_loopback: bool = False
    timeout: float = 10.0
    resolver: Resolver = system_resolver

    @classmethod
    def from_settings(cls, settings: Settings) -> TargetPolicy:
        return cls(
            require_https=not settings.is_dev,
            allow_loopback=settings.is_dev and settings.webhook_allow_loopback,
            timeout=settings.webhook_timeout_seconds,
        )


def normalize_url(url: str, policy: TargetPolicy) -> str:
    """The endpoint's address in normal form (no fragment); InvalidEndpointUrl when unfit."""
    candidate = url.strip()
    if not candidate:
        raise InvalidEndpointUrl("Enter the endpoint's address, like https://example.com/hooks.")
    if len(candidate) > MAX_URL_LENGTH:
        raise InvalidEndpointUrl(
            f"The address is longer than {MAX_URL_LENGTH} characters; use a shorter one."
        )
    scheme = candidate.partition(":")[0].lower()
    if scheme not in {"http", "https"}:
        raise InvalidEndpointUrl(
            "The address must start with https:// (webhooks are sent over the web)."
        )
    if policy.require_https and scheme != "https":
        raise InvalidEndpointUrl(
            "The address must start with https://: webhooks carry your organization's data, "
            "so they are only sent encrypted."
        )
    try:
        normalized = validate_submission_url(candidate)
    except ValueError as exc:
        message = str(exc).replace("The link", "The address").replace("Links", "Addresses")
        raise InvalidEndpointUrl(message.replace("links", "addresses")) from exc
    parts = urlsplit(normalized)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def display_url(url: str) -> str:
    """The address as shown in mail and audit records: a query (which may carry a token of the
    receiver's) is left out."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "…" if parts.query else "", ""))


def refusal_sentence(host: str, exc: TargetRefused) -> str:
    """Why the address is refused, for the organization's admins."""
    if exc.problem is None:
        return exc.reason
    subject = (
        "The address points to" if parse_ip_literal(host) is not None else f"{host} resolves to"
    )
    return (
        f"{subject} {exc.problem} ({exc.address}); webhooks are only sent to public internet "
        "addresses."
    )


async def check_public(url: str, policy: TargetPolicy) -> None:
    """Refuse an address whose host does not resolve, or resolves to any non-public address.

    Slow I/O (DNS): callers hold no database connection while it runs."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            await resolve_public(
                host, resolver=policy.resolver, allow_loopback=policy.allow_loopback
            )
    except TargetRefused as exc:
        raise InvalidEndpointUrl(refusal_sentence(host, exc)) from exc
    except HostNotFound as exc:
        raise InvalidEndpointUrl(
            f"The host name {host} could not be found; check the spelling of the address."
        ) from exc
    except TimeoutError as exc:
        raise InvalidEndpointUrl(
            f"Looking up the host name {host} took too long; check the address or try again."
        ) from exc
