"""The daily digest: one mail a day listing the news of the categories a person chose to get
as a digest, instead of one mail each.

- `hold` (called by `service.deliver` for the people whose email for the message's category is
  set to digest) keeps the news in `notification_digest_items`, once per person and key.
- `send` (the daily job, `tasks.send_daily_digests`) gathers each person's held items, queues
  ONE mail keyed `digest:<person>:<day>` (`mail.queue_emails`: a second queueing of the same
  key is dropped) and deletes the items it lists, in one transaction with the items locked.
  So each person gets at most one digest a day, and each item is mailed once, even with
  several workers or a job run twice: a second run waits on the locks, then finds the items
  gone; a run whose mail for the day was already queued leaves the items for the next day.
- Items of a category whose email the person has turned off since are dropped unmailed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.mail.render import PLATFORM, render
from hackops.mail.service import EmailDraft, queue_emails
from hackops.models import Channel, NotificationDigestItem, NotificationPreference, User, new_id
from hackops.notifications.categories import CATEGORIES
from hackops.notifications.unsubscribe import unsubscribe_url

#: People per transaction of the daily job.
BATCH = 200
PREFERENCES_PATH = "/account/notifications"


async def hold(
    session: AsyncSession,
    user_ids: Iterable[uuid.UUID],
    *,
    category: str,
    title: str,
    body: str,
    link: str,
    dedupe_key: str,
) -> None:
    """Keep one piece of news for the daily digest of `user_ids` (once per person and key)."""
    rows = [
        {
            "id": new_id(),
            "user_id": user_id,
            "dedupe_key": dedupe_key,
            "category": category,
            "title": title[:300],
            "body": body,
            "link": link[:1000],
        }
        for user_id in dict.fromkeys(user_ids)
    ]
    if rows:
        await session.execute(
            insert(NotificationDigestItem)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        )


async def people_waiting(
    session: AsyncSession, *, before: datetime, after: uuid.UUID | None = None, limit: int = BATCH
) -> list[uuid.UUID]:
    """The next `limit` people (by id, after `after`) with news held from before `before`."""
    query = select(NotificationDigestItem.user_id).where(NotificationDigestItem.created_at < before)
    if after is not None:
        query = query.where(NotificationDigestItem.user_id > after)
    query = query.group_by(NotificationDigestItem.user_id).order_by(NotificationDigestItem.user_id)
    return list(await session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class Sent:
    mailed: list[uuid.UUID]
    items: int


def digest_key(user_id: uuid.UUID, day: date) -> str:
    return f"digest:{user_id}:{day.isoformat()}"


async def send(
    session: AsyncSession,
    settings: Settings,
    user_ids: Sequence[uuid.UUID],
    *,
    day: date,
    before: datetime,
) -> Sent:
    """Queue the digest of `day` for each of `user_ids` with news held from before `before`,
    and delete what it lists (see the module's docstring for why this happens at most once)."""
    items = list(
        await session.scalars(
            select(NotificationDigestItem)
            .where(
                NotificationDigestItem.user_id.in_(user_ids),
                NotificationDigestItem.created_at < before,
            )
            .order_by(NotificationDigestItem.created_at, NotificationDigestItem.id)
            .with_for_update()
        )
    )
    if not items:
        return Sent([], 0)
    waiting = {item.user_id for item in items}
    turned_off = {
        (row.user_id, row.category)
        for row in await session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_(waiting),
                NotificationPreference.channel == Channel.EMAIL,
                NotificationPreference.enabled.is_(False),
            )
        )
    }
    people = {
        row.id: row
        for row in await session.execute(
            select(User.id, User.email, User.email_verified_at).where(
                User.id.in_(waiting), User.disabled_at.is_(None)
            )
        )
    }
    per_person: dict[uuid.UUID, list[NotificationDigestItem]] = defaultdict(list)
    dropped: list[uuid.UUID] = []
    for item in items:
        person = people.get(item.user_id)
        if (
            person is None
            or person.email_verified_at is None
            or (item.user_id, item.category) in turned_off
        ):
            dropped.append(item.id)
        else:
            per_person[item.user_id].append(item)
    drafts = [
        draft(settings, people[user_id].email, user_id, listed, day)
        for user_id, listed in per_person.items()
    ]
    queued = [mail.user_id for mail in await queue_emails(session, drafts) if mail.user_id]
    mailed_items = [item.id for user_id in queued for item in per_person[user_id]]
    gone = dropped + mailed_items
    if gone:
        await session.execute(
            delete(NotificationDigestItem).where(NotificationDigestItem.id.in_(gone))
        )
    return Sent(queued, len(mailed_items))


def _subject(count: int) -> str:
    return f"Your daily digest: {count} update{'s' if count != 1 else ''}"


def draft(
    settings: Settings,
    to: str,
    user_id: uuid.UUID,
    items: Sequence[NotificationDigestItem],
    day: date,
) -> EmailDraft:
    """One person's digest mail, in the mail layout (text and HTML): the news grouped by
    category, oldest first, with absolute links; how to change it; and one-click unsubscribe
    (the `List-Unsubscribe` header when the digest is about one category, a link per category
    in the text otherwise)."""
    base = settings.base_url.rstrip("/")
    categories = list(dict.fromkeys(item.category for item in items))
    labels = [CATEGORIES[key].label.lower() if key in CATEGORIES else key for key in categories]
    body = listing(base, items)
    single = unsubscribe_url(settings, user_id, categories[0]) if len(categories) == 1 else None
    if single is None:
        body += "\n\n" + "\n".join(
            f"Stop emails about {label}: {unsubscribe_url(settings, user_id, key)}"
            for key, label in zip(categories, labels, strict=True)
        )
    subject = _subject(len(items))
    rendered = render(
        "notification",
        subject=subject,
        base_url=base,
        brand=PLATFORM,
        unsubscribe_url=single,
        title="Here is what happened since your last digest",
        body=body,
        link=base + PREFERENCES_PATH,
        link_label="Choose how you are told",
        reason=(
            "You get this digest once a day because you chose it for " + ", ".join(labels) + "."
        ),
    )
    return EmailDraft(
        to=to,
        subject=subject,
        body=rendered.text,
        html=rendered.html,
        unsubscribe_url=single,
        category=categories[0] if single else None,
        user_id=user_id,
        dedupe_key=digest_key(user_id, day),
    )


def listing(base_url: str, items: Sequence[NotificationDigestItem]) -> str:
    """The news as text, a paragraph per category (a heading line, then one line per item with
    its time, its lines and its absolute link)."""
    by_category: dict[str, list[NotificationDigestItem]] = defaultdict(list)
    for item in items:
        by_category[item.category].append(item)
    paragraphs = []
    for key, listed in by_category.items():
        category = CATEGORIES.get(key)
        lines = [category.label if category is not None else key]
        for item in listed:
            lines.append(f"• {item.title} ({item.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)")
            if item.body:
                lines.append("  " + " ".join(item.body.split()))
            if item.link.startswith("/") and not item.link.startswith("//"):
                lines.append(f"  {base_url}{item.link}")
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)
