"""The dev mailbox: every outbound email, newest first, so sign-up, reset and invitation links
can be followed without an SMTP server. Only in dev mode; anywhere else it does not exist (404).

Each mail shows its text part (links made clickable), its HTML part, its attachments and its
headers as `mail.tasks.build_message` makes them. The HTML part is served on its own address
(`/dev/mailbox/{id}/html`) into a sandboxed iframe: no script runs (sandbox, and a policy of its
own with `default-src 'none'`), its inline styles apply (mail has nothing else), its inline
images (`cid:`) are written as `data:` addresses, and its links open in a new tab.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy import select

from hackops.db import SessionDep
from hackops.errors import NotFound
from hackops.mail.parts import Attachment, loaded_attachments
from hackops.mail.tasks import build_message
from hackops.models import OutboundEmail
from hackops.web import kit
from hackops.web.deps import page_router

router = page_router()

MAILBOX_SIZE = 100
URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?)]}"


def linkify(text: str) -> Markup:
    """The text escaped, with each http(s) URL in it made a link (its text and href escaped)."""
    parts: list[Markup] = []
    position = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(TRAILING_PUNCTUATION)
        if "://" not in url or url.endswith("://"):
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup('<a href="{0}" rel="noreferrer">{0}</a>').format(url))
        position = match.start() + len(url)
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


#: The HTML part's own policy: nothing but its inline styles and `data:` images; framed only
#: by the mailbox; links may open a new tab outside the sandbox.
HTML_PART_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)


@dataclass(frozen=True)
class Shown:
    """One mail as the mailbox shows it."""

    email: OutboundEmail
    text: Markup
    headers: list[tuple[str, str]]
    structure: list[str]
    attachments: list[Attachment]


def _structure(message: EmailMessage) -> list[str]:
    """The MIME tree, one line per part, indented by depth."""
    lines: list[str] = []

    def walk(part: EmailMessage, depth: int) -> None:
        name = part.get_filename()
        lines.append("  " * depth + part.get_content_type() + (f" ({name})" if name else ""))
        if part.is_multipart():
            for child in part.iter_parts():
                walk(child, depth + 1)  # type: ignore[arg-type]

    walk(message, 0)
    return lines


def _shown(email: OutboundEmail, request: Request) -> Shown:
    message = build_message(email, kit.settings_of(request))
    return Shown(
        email=email,
        text=linkify(email.body_text or ""),
        headers=[(name, str(value)) for name, value in message.items()],
        structure=_structure(message),
        attachments=loaded_attachments(email.attachments),
    )


def _dev_only(request: Request) -> None:
    if not kit.settings_of(request).is_dev:
        raise NotFound("There is no page at this address.")


@router.get("/dev/mailbox", name="dev_mailbox")
async def mailbox(
    request: Request,
    session: SessionDep,
    to: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    _dev_only(request)
    query = select(OutboundEmail).order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
    recipient = to.strip().casefold()
    if recipient:
        query = query.where(OutboundEmail.to_address == recipient)
    emails = list(await session.scalars(query.limit(MAILBOX_SIZE)))
    context = {
        "mails": [_shown(email, request) for email in emails],
        "to": recipient,
        "limit": MAILBOX_SIZE,
    }
    return kit.render(request, "dev/mailbox.html", context)


async def _email(session: SessionDep, request: Request, email_id: uuid.UUID) -> OutboundEmail:
    _dev_only(request)
    email = await session.get(OutboundEmail, email_id)
    if email is None:
        raise NotFound("There is no mail at this address.")
    return email


_CID = re.compile(r"""(["'])cid:([^"']+)\1""")


@router.get("/dev/mailbox/{email_id}/html", name="dev_mailbox_html")
async def html_part(request: Request, session: SessionDep, email_id: uuid.UUID) -> Response:
    """The HTML part for the mailbox's sandboxed frame, its `cid:` images inlined."""
    email = await _email(session, request, email_id)
    if not email.body_html:
        raise NotFound("This mail has no HTML part.")
    inline = {a.content_id: a for a in loaded_attachments(email.attachments) if a.content_id}

    def data_url(match: re.Match[str]) -> str:
        found = inline.get(match.group(2))
        if found is None:
            return match.group(0)
        encoded = base64.b64encode(found.data).decode("ascii")
        return f"{match.group(1)}data:{found.content_type};base64,{encoded}{match.group(1)}"

    html = _CID.sub(data_url, email.body_html)
    html = html.replace("<head>", '<head>\n<base target="_blank">', 1)
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": HTML_PART_CSP,
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-store",
        },
    )


@router.get("/dev/mailbox/{email_id}/attachments/{index}", name="dev_mailbox_attachment")
async def attachment(
    request: Request, session: SessionDep, email_id: uuid.UUID, index: int
) -> Response:
    """One attachment of a mail, as the receiver would save it."""
    email = await _email(session, request, email_id)
    files = loaded_attachments(email.attachments)
    if not 0 <= index < len(files):
        raise NotFound("This mail has no such attachment.")
    found = files[index]
    disposition = "inline" if found.content_type.startswith("image/") else "attachment"
    return Response(
        found.data,
        media_type=found.content_type,
        headers={
            # names are the code's own (`mail.parts.Attachment`): no quoting needed
            "Content-Disposition": f'{disposition}; filename="{found.filename}"',
            "Cache-Control": "no-store",
        },
    )
