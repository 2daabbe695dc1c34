"""The daily digest (one mail per person and day listing the news held for it, each item mailed
once, also with several workers at once) and the 90-day retention of notifications."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hackops import jobs
from hackops.config import Settings
from hackops.db import Database, db_now
from hackops.jobs import job_settings
from hackops.models import Notification, NotificationDigestItem, OutboundEmail, User
from hackops.notifications.digest import digest_key
from hackops.notifications.service import Message, deliver
from hackops.notifications.tasks import (
    prune,
    prune_old_notifications,
    run_digests,
    send_daily_digests,
)
from hackops.notifications.unsubscribe import unsubscribe_url
from tests.factories import (
    create_notification,
    create_notification_digest_item,
    create_notification_preference,
)
from tests.helpers import database_on
from tests.people import person


@pytest.fixture
async def jobs_in_test(
    engine: AsyncEngine, connection: AsyncConnection, settings: Settings
) -> AsyncIterator[None]:
    """Jobs run here join the test's (rolled-back) transaction."""
    previous = jobs.bind_database(database_on(engine, connection), settings)
    yield
    jobs.bind_database(*previous)


async def as_platform(session: AsyncSession) -> None:
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))


async def digest_mails(session: AsyncSession, user: User) -> list[OutboundEmail]:
    await as_platform(session)
    rows = await session.scalars(
        select(OutboundEmail)
        .where(OutboundEmail.user_id == user.id, OutboundEmail.dedupe_key.like("digest:%"))
        # one test transaction gives every mail the same created_at; the key ends with the day
        .order_by(OutboundEmail.created_at, OutboundEmail.dedupe_key)
    )
    return list(rows)


async def held(session: AsyncSession, user: User) -> int:
    await as_platform(session)
    return int(
        await session.scalar(
            select(func.count())
            .select_from(NotificationDigestItem)
            .where(NotificationDigestItem.user_id == user.id)
        )
        or 0
    )


async def choose_digest(session: AsyncSession, user: User, *categories: str) -> None:
    for category in categories:
        await create_notification_preference(
            session, user, category=category, channel="email", enabled=True, digest=True
        )


async def test_one_digest_lists_the_news_and_empties_the_hold(
    session: AsyncSession, settings: Settings, jobs_in_test: None
) -> None:
    ada, _ = await person(session, verified=True)
    bob, _ = await person(session, verified=True)
    carol, _ = await person(session)  # no confirmed address
    await choose_digest(session, ada, "team", "submission")
    await choose_digest(session, bob, "team")
    await choose_digest(session, carol, "team")
    await as_platform(session)
    people = [ada.id, bob.id, carol.id]
    for n, (category, title) in enumerate(
        [
            ("team", "Grace joined Byte Club"),
            ("submission", "Your project was approved"),
            ("team", "Alan left Byte Club"),
        ]
    ):
        sent = await deliver(
            session,
            org_id=None,
            user_ids=people,
            message=Message(category=category, title=title, body=f"Line {n}", link="/teams/x"),
            dedupe_key=f"news-{n}",
        )
        # nobody mailed one by one, but Bob for submissions (no digest chosen for them)
        assert sent.email == ([bob.id] if category == "submission" else [])
    assert (await held(session, ada), await held(session, bob)) == (3, 2)
    # Bob turns team email off before the digest goes: his held news is dropped unmailed
    await session.execute(
        text(
            "UPDATE notification_preferences SET enabled = false"
            " WHERE user_id = :bob AND channel = 'email'"
        ),
        {"bob": bob.id},
    )

    moment = await db_now(session) + timedelta(minutes=1)
    assert await run_digests(day_of=moment) == (1, 3)

    [mail] = await digest_mails(session, ada)
    assert mail.subject == "Your daily digest: 3 updates"
    assert mail.list_unsubscribe is None  # two categories: a link for each in the text
    assert "Your project was approved" in (mail.body_html or "")
    assert mail.dedupe_key == digest_key(ada.id, moment.date())
    body = mail.body_text or ""
    assert body.index("Team activity") < body.index("Submissions")
    assert body.index("Grace joined Byte Club") < body.index("Alan left Byte Club")
    assert "Line 1" in body
    assert "http://testserver/teams/x" in body
    assert "http://testserver/account/notifications" in body
    assert unsubscribe_url(settings, ada.id, "team") in body
    assert unsubscribe_url(settings, ada.id, "submission") in body
    assert (await held(session, ada), await held(session, bob), await held(session, carol)) == (
        0,
        0,
        0,
    )
    assert await digest_mails(session, bob) == []
    assert await digest_mails(session, carol) == []

    # the same day again: nothing more
    assert await run_digests(day_of=moment) == (0, 0)
    # news after today's digest waits for tomorrow's, even when the job runs again today
    await create_notification_digest_item(session, ada, title="Later that day")
    assert await run_digests(day_of=moment) == (0, 0)
    assert await held(session, ada) == 1
    tomorrow = moment + timedelta(days=1)
    assert await run_digests(day_of=tomorrow) == (1, 1)
    mails = await digest_mails(session, ada)
    assert [m.subject for m in mails] == [
        "Your daily digest: 3 updates",
        "Your daily digest: 1 update",
    ]
    assert "Later that day" in (mails[1].body_text or "")


async def test_news_held_after_the_run_started_waits(
    session: AsyncSession, jobs_in_test: None
) -> None:
    ada, _ = await person(session, verified=True)
    await create_notification_digest_item(session, ada)
    assert await run_digests(day_of=datetime(2000, 1, 1, tzinfo=UTC)) == (0, 0)
    assert await held(session, ada) == 1


async def test_several_workers_send_each_person_one_digest(
    committed_db: Database, settings: Settings
) -> None:
    """Workers racing over the same people and day: one mail each, every item mailed once."""
    async with committed_db.transaction() as session:
        await as_platform(session)
        people = []
        for n in range(30):
            user = User(
                email=f"digest-{n}-{uuid.uuid4().hex[:6]}@example.org",
                email_verified_at=datetime.now(UTC),
            )
            session.add(user)
            people.append(user)
        await session.flush()
        for user in people:
            for k in range(3):
                session.add(
                    NotificationDigestItem(
                        user_id=user.id, dedupe_key=f"k{k}", category="team", title=f"News {k}"
                    )
                )
    previous = jobs.bind_database(committed_db, settings)
    try:
        moment = datetime.now(UTC) + timedelta(minutes=1)
        for _ in range(3):  # racing runs, then the same day again
            results = await asyncio.gather(*(run_digests(day_of=moment) for _ in range(4)))
            assert sum(items for _, items in results) in (0, 90)
    finally:
        jobs.bind_database(*previous)
    async with committed_db.transaction() as session:
        await as_platform(session)
        per_person = dict(
            (
                await session.execute(
                    select(OutboundEmail.user_id, func.count())
                    .where(OutboundEmail.dedupe_key.like("digest:%"))
                    .group_by(OutboundEmail.user_id)
                )
            ).all()
        )
        assert per_person == {user.id: 1 for user in people}
        left = await session.scalar(select(func.count()).select_from(NotificationDigestItem))
        assert left == 0


async def test_notifications_older_than_90_days_are_deleted(
    session: AsyncSession, jobs_in_test: None
) -> None:
    ada, _ = await person(session)
    now = await db_now(session)
    kept = [
        await create_notification(session, ada, created_at=now - timedelta(days=89, hours=23)),
        await create_notification(session, ada, created_at=now),
    ]
    for days in (91, 120, 400):
        await create_notification(session, ada, created_at=now - timedelta(days=days))
    await create_notification_digest_item(session, ada, created_at=now - timedelta(days=95))
    fresh_item = await create_notification_digest_item(session, ada)

    assert await prune(batch=2) == {"notifications": 3, "notification_digest_items": 1}
    assert await prune() == {"notifications": 0, "notification_digest_items": 0}  # idempotent
    await as_platform(session)
    left = await session.scalars(select(Notification.id).where(Notification.user_id == ada.id))
    assert set(left) == {row.id for row in kept}
    items = await session.scalars(select(NotificationDigestItem.id))
    assert list(items) == [fresh_item.id]


async def test_the_jobs_run_daily_in_every_worker(
    session: AsyncSession, jobs_in_test: None
) -> None:
    assert "hackops.notifications.tasks" in jobs.TASK_MODULES  # `hackops worker` loads them
    schedules = {
        name: task.cron
        for (name, _), task in jobs.queue_app.periodic_registry.periodic_tasks.items()
    }
    assert schedules["notifications.send_daily_digests"] == "0 7 * * *"
    assert schedules["notifications.prune_old_notifications"] == "41 3 * * *"

    ada, _ = await person(session, verified=True)
    await create_notification_digest_item(session, ada, title="Grace joined Byte Club")
    scheduled = await db_now(session) + timedelta(minutes=1)
    # the job's day is its scheduled time's: a retry of the same run sends nothing twice
    for _ in range(2):
        await send_daily_digests(int(scheduled.timestamp()))
    [mail] = await digest_mails(session, ada)
    assert mail.dedupe_key == digest_key(ada.id, scheduled.astimezone(UTC).date())
    # one category: its one-click unsubscribe is the mail's List-Unsubscribe too
    assert mail.list_unsubscribe == unsubscribe_url(job_settings(), ada.id, "team")
    assert "Grace joined Byte Club" in (mail.body_html or "")
    assert mail.list_unsubscribe in (mail.body_text or "")
    old = await create_notification(session, ada, created_at=scheduled - timedelta(days=91))
    await prune_old_notifications(int(scheduled.timestamp()))
    assert await session.get(Notification, old.id, populate_existing=True) is None
