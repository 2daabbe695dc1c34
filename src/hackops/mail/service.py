"""Queue an email in the current transaction; a job sends it after commit. Platform admins
list the mail that has not gone out (`list_unsent`).

A mail is its text part (`body`), usually an HTML part (`html`; both rendered by
`mail.render.render` from one template), small attachments, and for a mail of a category the
person can turn off, its one-click unsubscribe address (`unsubscribe_url`: the caller makes it,
mail knows nothing of notification preferences).

Every mail passes through `queue_email`, so its subject is made safe here, once: subjects are
built from names people typed (events, teams, submissions), and a CR/LF would be refused by the
mail library (or inject a header), one over the column's 300 characters would fail the whole
transaction that sends it.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from procrastinate.types import JSONValue
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import jobs
from hackops.db import raw_connection
from hackops.mail.parts import UNSUBSCRIBE_URL, Attachment, stored_attachments
from hackops.mail.render import PLATFORM, Brand, render
from hackops.mail.tasks import send_email
from hackops.models import OutboundEmail, new_id

SUBJECT_MAX_CHARS = 200
_SPACES = re.compile(r"\s+")


def clean_subject(subject: str) -> str:
    """One line of at most SUBJECT_MAX_CHARS characters: control and separator characters
    become spaces, runs of spaces one, and a longer subject ends with an ellipsis."""
    printable = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in subject
    )
    line = _SPACES.sub(" ", printable).strip()
    if len(line) > SUBJECT_MAX_CHARS:
        line = line[: SUBJECT_MAX_CHARS - 1].rstrip() + "…"
    return line


def checked_unsubscribe_url(url: str | None) -> str | None:
    """The address as it goes into the `List-Unsubscribe` header: one line of URL characters."""
    if url is not None and not UNSUBSCRIBE_URL.match(url):
        raise ValueError("an unsubscribe address is an http(s) URL without spaces or line breaks")
    return url


async def queue_email(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    unsubscribe_url: str | None = None,
    category: str | None = None,
    user_id: uuid.UUID | None = None,
) -> OutboundEmail:
    email = OutboundEmail(
        to_address=to,
        subject=clean_subject(subject),
        body_text=body,
        body_html=html,
        attachments=stored_attachments(list(attachments)),
        list_unsubscribe=checked_unsubscribe_url(unsubscribe_url),
        category=category,
        user_id=user_id,
    )
    session.add(email)
    await session.flush()
    await jobs.enqueue(session, send_email, queue="notifications", email_id=str(email.id))
    return email


async def queue_mail(
    session: AsyncSession,
    template: str,
    *,
    to: str,
    subject: str,
    base_url: str,
    context: Mapping[str, Any],
    brand: Brand = PLATFORM,
    user_id: uuid.UUID | None = None,
) -> OutboundEmail:
    """Render the mail `template` (both parts, `mail.render`) and queue it: a system mail
    (a link to confirm, an invitation), which the person cannot turn off."""
    rendered = render(template, subject=subject, base_url=base_url, brand=brand, **context)
    return await queue_email(
        session, to=to, subject=subject, body=rendered.text, html=rendered.html, user_id=user_id
    )


@dataclass(frozen=True)
class EmailDraft:
    """One mail of a batch (`queue_emails`); `dedupe_key` makes queueing it again a no-op."""

    to: str
    subject: str
    body: str
    user_id: uuid.UUID | None = None
    dedupe_key: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    unsubscribe_url: str | None = None
    category: str | None = None


#: Rows per INSERT statement of a batch (parameters stay far under PostgreSQL's 65,535).
_BATCH_ROWS = 1000


def _job_args(email_id: object) -> dict[str, JSONValue]:
    return {"email_id": str(email_id)}


#: One statement per chunk whatever its size: the rows arrive as one array per column
#: (`unnest`), so PostgreSQL parses and plans it once and the driver sends plain arrays (a
#: thousand-row VALUES list cost more to build and compile than to run).
_INSERT_MAILS = text(
    """
    INSERT INTO outbound_emails (id, to_address, subject, body_text, body_html, attachments,
                                 list_unsubscribe, category, user_id, dedupe_key)
    SELECT * FROM unnest(
        CAST(:ids AS uuid[]), CAST(:tos AS text[]), CAST(:subjects AS text[]),
        CAST(:texts AS text[]), CAST(:htmls AS text[]),
        CAST(CAST(:attachments AS text[]) AS jsonb[]),
        CAST(:unsubscribes AS text[]), CAST(:categories AS text[]), CAST(:users AS uuid[]),
        CAST(:keys AS text[])
    )
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
    """
)


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {
        "ids": [row["id"] for row in rows],
        "tos": [row["to_address"] for row in rows],
        "subjects": [row["subject"] for row in rows],
        "texts": [row["body_text"] for row in rows],
        "htmls": [row["body_html"] for row in rows],
        "attachments": [json.dumps(row["attachments"]) for row in rows],
        "unsubscribes": [row["list_unsubscribe"] for row in rows],
        "categories": [row["category"] for row in rows],
        "users": [row["user_id"] for row in rows],
        "keys": [row["dedupe_key"] for row in rows],
    }


async def queue_emails(session: AsyncSession, drafts: Sequence[EmailDraft]) -> list[EmailDraft]:
    """Queue many mails in the session's transaction: one INSERT per thousand rows, skipping
    any whose `dedupe_key` was queued before, and one batch of send jobs. Returns the drafts
    that were queued now."""
    queued: list[EmailDraft] = []
    for start in range(0, len(drafts), _BATCH_ROWS):
        chunk = drafts[start : start + _BATCH_ROWS]
        rows = [
            {
                "id": new_id(),
                "to_address": draft.to,
                "subject": clean_subject(draft.subject),
                "body_text": draft.body,
                "body_html": draft.html,
                "attachments": stored_attachments(draft.attachments),
                "list_unsubscribe": checked_unsubscribe_url(draft.unsubscribe_url),
                "category": draft.category,
                "user_id": draft.user_id,
                "dedupe_key": draft.dedupe_key,
            }
            for draft in chunk
        ]
        inserted = set(await session.scalars(_INSERT_MAILS, _columns(rows)))
        if not inserted:
            continue
        connection = await raw_connection(session)
        await send_email.configure(connection=connection, queue="notifications").batch_defer_async(
            *(_job_args(row["id"]) for row in rows if row["id"] in inserted)
        )
        queued += [draft for draft, row in zip(chunk, rows, strict=True) if row["id"] in inserted]
    return queued


@dataclass(frozen=True)
class UnsentMail:
    id: uuid.UUID
    to: str
    subject: str
    created_at: datetime
    last_error: str
    state: str
    attempts: int
    next_attempt_at: datetime | None


#: The send job's status → what an administrator reads.
_STATES = {"todo": "waiting", "doing": "sending", "failed": "given_up", "cancelled": "given_up"}

_UNSENT = text(
    """
    SELECT e.id, e.to_address, e.subject, e.created_at, e.last_error,
           j.status::text, coalesce(j.attempts, 0), j.scheduled_at
    FROM outbound_emails e
    LEFT JOIN LATERAL (
        SELECT status, attempts, scheduled_at FROM procrastinate_jobs
        WHERE task_name = 'mail.send_email' AND args ->> 'email_id' = e.id::text
        ORDER BY id DESC LIMIT 1
    ) j ON true
    WHERE e.sent_at IS NULL
    ORDER BY e.created_at, e.id
    LIMIT :limit
    """
)


async def list_unsent(session: AsyncSession, *, limit: int = 100) -> list[UnsentMail]:
    """Mail not sent yet, oldest first, with why the last attempt failed and what happens next
    (`waiting` for a retry or the first attempt, `sending`, or `given_up`)."""
    rows = await session.execute(_UNSENT, {"limit": limit})
    return [
        UnsentMail(
            id=row[0],
            to=row[1],
            subject=row[2],
            created_at=row[3],
            last_error=row[4],
            state=_STATES.get(row[5] or "", "given_up"),
            attempts=row[6],
            next_attempt_at=row[7] if row[5] == "todo" else None,
        )
        for row in rows
    ]
