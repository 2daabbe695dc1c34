"""Judging and results: projects handed to a judge, judges' flags, published results."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import JudgingFlag, OutboxEvent, Submission
from hackops.notifications.audiences import (
    but,
    event_team_members,
    judges,
    name_of,
    organizers,
    participants,
)
from hackops.notifications.links import flags_path, judging_path, results_path, score_path
from hackops.notifications.rulebook.common import IN_APP_ONLY, event_of, plural
from hackops.notifications.service import Message
from hackops.notifications.telling import Telling, rule
from hackops.outbox.catalog import (
    FlagRaised,
    FlagResolved,
    JudgeAssigned,
    Payload,
    ResultsPublished,
)

#: How a flag's reason reads in a title (`judging.flags.service.SHORT_LABELS`' words).
REASONS = {
    "broken": "broken",
    "code_of_conduct": "code of conduct",
    "ineligible": "ineligible",
    "other": "other",
}


@rule(JudgeAssigned.type)
async def judge_assigned(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The judge, even when they acted (accepting a judge invitation re-balances the run and
    hands them work: that is news to them)."""
    assert isinstance(payload, JudgeAssigned)
    event = await event_of(session, row)
    if event is None:
        return []
    message = Message(
        category="judging",
        title=f"{plural(payload.assigned, 'new project')} to review at {event.name}",
        body="They are in your judging queue.",
        link=await judging_path(session, event),
    )
    return [Telling([payload.judge_id], message)]


async def _project_title(session: AsyncSession, submission_id: object) -> str:
    submission = await session.get(Submission, submission_id)
    return (submission.title if submission is not None else "") or "Untitled"


@rule(FlagRaised.type)
async def flag_raised(session: AsyncSession, row: OutboxEvent, payload: Payload) -> list[Telling]:
    """The event's organizers, but not the judge (an organizer who also judges). In-app only:
    `judging.flags` mails them the flag with the judge's note already."""
    assert isinstance(payload, FlagRaised)
    event = await event_of(session, row)
    if event is None:
        return []
    title = await _project_title(session, payload.submission_id)
    judge = await name_of(session, payload.judge_id, "A judge")
    message = Message(
        category="judging",
        title=f"A judge flagged “{title}” ({REASONS[payload.reason]})",
        body=f"{judge} flagged it to the organizers of {event.name}. Resolve it with a note.",
        link=await flags_path(session, event),
        channels=IN_APP_ONLY,
    )
    return [Telling(but(await organizers(session, event), payload.judge_id), message)]


@rule(FlagResolved.type)
async def flag_resolved(session: AsyncSession, row: OutboxEvent, payload: Payload) -> list[Telling]:
    """Resolved by an organizer: the judge who raised it reads the note. Withdrawn by that
    judge: the organizers learn it in the app (they had the flag by mail), the judge is not
    told what they did."""
    assert isinstance(payload, FlagResolved)
    event = await event_of(session, row)
    flag = await session.get(JudgingFlag, payload.flag_id)
    if event is None or flag is None:
        return []
    title = await _project_title(session, payload.submission_id)
    if payload.withdrawn:
        judge = await name_of(session, payload.judge_id, "A judge")
        message = Message(
            category="judging",
            title=f"{judge} withdrew their flag on “{title}”",
            body="Nothing is left to resolve for it.",
            link=await flags_path(session, event),
            channels=IN_APP_ONLY,
        )
        return [Telling(but(await organizers(session, event), payload.judge_id), message)]
    if row.actor_id == payload.judge_id:
        return []
    message = Message(
        category="judging",
        title=f"Your flag on “{title}” was resolved",
        body=f"The organizers' note: {flag.resolution}",
        link=await score_path(session, event, payload.submission_id),
    )
    return [Telling([payload.judge_id], message)]


@rule(ResultsPublished.type)
async def results_published(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """Every seated participant and every judge of the event. Team members get it in the app
    only (`results.notify` mails each team its own place); the others — participants without a
    team, judges — by their channels, mail included."""
    assert isinstance(payload, ResultsPublished)
    event = await event_of(session, row)
    if event is None:
        return []
    link = await results_path(session, event)
    title = f"The results of {event.name} are out"
    mailed = but(await event_team_members(session, event.id), row.actor_id)
    others = but(
        [*await participants(session, event.id), *await judges(session, event.id)],
        row.actor_id,
        *mailed,
    )
    body = "See the winners and the ranking."
    return [
        Telling(
            mailed,
            Message(category="results", title=title, body=body, link=link, channels=IN_APP_ONLY),
        ),
        Telling(others, Message(category="results", title=title, body=body, link=link)),
    ]
