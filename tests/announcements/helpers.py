"""A crowd for announcements: one event (in Asia/Kolkata, UTC+05:30) with someone in every
audience and people who belong to none, plus a second event of the same organization whose
people must never be told; and helpers to dispatch the outbox and read past RLS."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Notification, OutboundEmail, OutboxEvent, Team, Track, User
from hackops.outbox.tasks import fan_out
from tests.accounts.helpers import bearer
from tests.factories import (
    create_event,
    create_event_role,
    create_judge_assignment,
    create_registration,
    create_submission,
    create_submitted,
    create_team,
    create_team_member,
    create_track,
)
from tests.factories.judging import create_evaluation
from tests.people import person
from tests.registrations.helpers import Scene, as_admin, scene

ZONE = "Asia/Kolkata"
#: Every audience and who is in it (names of `Crowd.people`).
EXPECTED: dict[str, set[str]] = {
    "registered": {
        "registered",
        "checked_in",
        "a_captain",
        "a_member",
        "b_captain",
        "c_captain",
        "c_member",
        "d_captain",
        "e_captain",
    },
    "waitlisted": {"waitlisted"},
    "checked_in": {"checked_in"},
    "teams_without_submission": {"a_captain", "a_member", "b_captain"},
    "judges_unfinished": {"judge_busy", "judge_draft"},
    "track": {"c_captain", "c_member"},
    "mentors": {"mentor"},
}


@dataclass
class Crowd:
    scene: Scene
    track: Track
    other_event: Event
    people: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.scene.base + "/announcements"

    @property
    def organizer(self) -> dict[str, str]:
        return bearer(self.scene.organizer_token)

    def auth(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name])

    def names(self, user_ids: set[uuid.UUID]) -> set[str]:
        by_id = {u.id: name for name, u in self.people.items()}
        return {by_id.get(uid, f"stranger:{uid}") for uid in user_ids}


async def _someone(crowd: Crowd, session: AsyncSession, name: str) -> User:
    user, token = await person(session, verified=True, name=name)
    crowd.people[name], crowd.tokens[name] = user, token
    return user


async def build_crowd(session: AsyncSession, **event_values: Any) -> Crowd:
    values: dict[str, Any] = {"timezone": ZONE, "capacity": 100, **event_values}
    s = await scene(session, **values)
    event = s.event
    track = await create_track(session, event, name="Climate")
    other = await create_event(
        session, s.org, published_at=datetime.now(UTC) - timedelta(days=3), timezone=ZONE
    )
    crowd = Crowd(scene=s, track=track, other_event=other)

    async def registered(name: str, status: str = "registered", on: Event = event) -> User:
        user = await _someone(crowd, session, name)
        extra = {"checked_in_at": datetime.now(UTC)} if status == "checked_in" else {}
        await create_registration(session, on, user, status=status, **extra)
        return user

    await registered("registered")
    await registered("checked_in", "checked_in")
    await registered("waitlisted", "waitlisted")
    await registered("cancelled", "cancelled")
    # Team a: no submission; b: a working copy never submitted; c: submitted in the track;
    # d: submitted, no track; e: disbanded.
    crowd.teams["a"] = await create_team(session, event, await registered("a_captain"))
    await create_team_member(session, crowd.teams["a"], await registered("a_member"))
    crowd.teams["b"] = await create_team(session, event, await registered("b_captain"))
    await create_submission(session, crowd.teams["b"])
    crowd.teams["c"] = await create_team(session, event, await registered("c_captain"))
    await create_team_member(session, crowd.teams["c"], await registered("c_member"))
    in_track = await create_submitted(session, crowd.teams["c"], track_ids=[track.id])
    crowd.teams["d"] = await create_team(session, event, await registered("d_captain"))
    no_track = await create_submitted(session, crowd.teams["d"])
    crowd.teams["e"] = await create_team(
        session, event, await registered("e_captain"), disbanded_at=datetime.now(UTC)
    )
    # Judges: busy (nothing scored), draft (a draft only), done (submitted), idle (no work).
    for name in ("judge_busy", "judge_draft", "judge_done", "judge_idle"):
        await create_event_role(session, event, await _someone(crowd, session, name), role="judge")
    await create_judge_assignment(session, in_track, crowd.people["judge_busy"])
    await create_judge_assignment(session, no_track, crowd.people["judge_draft"])
    await create_evaluation(session, no_track, crowd.people["judge_draft"], status="draft")
    await create_judge_assignment(session, no_track, crowd.people["judge_done"])
    await create_evaluation(session, no_track, crowd.people["judge_done"])
    await create_event_role(session, event, await _someone(crowd, session, "mentor"), role="mentor")
    await _someone(crowd, session, "outsider")
    # The other event: someone in every audience, none of whom may ever hear of this one.
    await registered("elsewhere_registered", on=other)
    await registered("elsewhere_waitlisted", "waitlisted", on=other)
    elsewhere = await create_team(session, other, await registered("elsewhere_captain", on=other))
    theirs = await create_submitted(session, elsewhere)
    judge = await _someone(crowd, session, "elsewhere_judge")
    await create_event_role(session, other, judge, role="judge")
    await create_judge_assignment(session, theirs, judge)
    mentor = await _someone(crowd, session, "elsewhere_mentor")
    await create_event_role(session, other, mentor, role="mentor")
    return crowd


async def dispatch(session: AsyncSession) -> list[str]:
    """Fan out every event not dispatched yet (as the dispatcher does); their types."""
    await as_admin(session)
    ids = list(
        await session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.seq)
        )
    )
    done = [await fan_out(session, event_id) for event_id in ids]
    return [d for d in done if d is not None]


async def told(session: AsyncSession, outbox_event_id: uuid.UUID) -> list[Notification]:
    """The in-app notifications of one outbox event."""
    await as_admin(session)
    return list(
        await session.scalars(
            select(Notification).where(Notification.outbox_event_id == outbox_event_id)
        )
    )


async def mails(session: AsyncSession, outbox_event_id: uuid.UUID) -> list[OutboundEmail]:
    await as_admin(session)
    return list(
        await session.scalars(
            select(OutboundEmail).where(OutboundEmail.dedupe_key.like(f"{outbox_event_id}:%"))
        )
    )


async def outbox(session: AsyncSession, type_: str) -> list[OutboxEvent]:
    await as_admin(session)
    return list(
        await session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.seq)
        )
    )


async def jobs_of(session: AsyncSession, task: str) -> list[tuple[dict[str, Any], datetime]]:
    rows = await session.execute(
        text(
            "SELECT args, scheduled_at FROM procrastinate_jobs WHERE task_name = :t"
            " AND status = 'todo' ORDER BY id"
        ),
        {"t": task},
    )
    return [(args, at) for args, at in rows]


def body(audience: str = "registered", **overrides: Any) -> dict[str, Any]:
    """A valid announcement body."""
    values: dict[str, Any] = {
        "title": "Room change",
        "body": "The final pitches are in **Hall B**, not Hall A.\n\n- doors at 17:30\n",
        "audience": audience,
        "channels": ["in_app", "email"],
        "deliver": "now",
    }
    values.update(overrides)
    return values
