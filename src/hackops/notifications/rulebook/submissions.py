"""Submissions: a version submitted, processed or failed, a decision by the organizers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboxEvent, Submission, SubmissionVersion, Team
from hackops.notifications.audiences import but, name_of, organizers, team_members
from hackops.notifications.links import review_path, submission_path
from hackops.notifications.rulebook.common import IN_APP_ONLY, event_of
from hackops.notifications.service import Message
from hackops.notifications.telling import Telling, rule
from hackops.outbox.catalog import (
    Payload,
    SubmissionApproved,
    SubmissionProcessed,
    SubmissionProcessingFailed,
    SubmissionRejected,
    SubmissionSubmitted,
)
from hackops.submissions.pipeline.notify import STEP_LABELS


async def _title(session: AsyncSession, version_id: object, submission: Submission) -> str:
    """The project's title as that version froze it (the working copy may differ since)."""
    version = await session.get(SubmissionVersion, version_id)
    title = version.snapshot.get("title") if version is not None else None
    return str(title or submission.title or "Untitled")


@rule(SubmissionSubmitted.type)
async def submission_submitted(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The teammates of whoever submitted."""
    assert isinstance(payload, SubmissionSubmitted)
    event = await event_of(session, row)
    submission = await session.get(Submission, payload.submission_id)
    if event is None or submission is None:
        return []
    title = await _title(session, payload.version_id, submission)
    who = await name_of(session, row.actor_id, "A teammate")
    late = " It arrived after the deadline and is marked late." if payload.late else ""
    message = Message(
        category="submission",
        title=f"{who} submitted “{title}” (version {payload.version_number})",
        body=f"Your team's project for {event.name} is in; its checks run now.{late}",
        link=await submission_path(session, event, payload.team_id),
    )
    members = but(await team_members(session, payload.team_id), row.actor_id)
    return [Telling(members, message)]


@rule(SubmissionProcessed.type)
async def submission_processed(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The team. In-app only: progress the team watches on its page; a mail per version would
    double every submit (mail is for what went wrong, which has its own)."""
    assert isinstance(payload, SubmissionProcessed)
    event = await event_of(session, row)
    submission = await session.get(Submission, payload.submission_id)
    if event is None or submission is None:
        return []
    title = await _title(session, payload.version_id, submission)
    message = Message(
        category="submission",
        title=f"“{title}” (version {payload.version_number}) is processed",
        body="Its files, text, links and similarity were checked. The results are on its page.",
        link=await submission_path(session, event, payload.team_id),
        channels=IN_APP_ONLY,
    )
    return [Telling(await team_members(session, payload.team_id), message)]


@rule(SubmissionProcessingFailed.type)
async def submission_processing_failed(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The team and the event's organizers. In-app only: `submissions.pipeline.notify` mails
    the same people the failure and its reason already."""
    assert isinstance(payload, SubmissionProcessingFailed)
    event = await event_of(session, row)
    submission = await session.get(Submission, payload.submission_id)
    team = await session.get(Team, payload.team_id)
    if event is None or submission is None or team is None:
        return []
    title = await _title(session, payload.version_id, submission)
    label = STEP_LABELS[payload.step]
    members = await team_members(session, team.id)
    return [
        Telling(
            members,
            Message(
                category="submission",
                title=f"Processing of “{title}” failed",
                body=(
                    f"The {label} of version {payload.version_number} failed. The organizers "
                    "have been told and can run it again."
                ),
                link=await submission_path(session, event, team.id),
                channels=IN_APP_ONLY,
            ),
        ),
        Telling(
            but(await organizers(session, event), *members),
            Message(
                category="submission",
                title=f"Processing failed for the team {team.name}",
                body=(
                    f"The {label} of “{title}” (version {payload.version_number}) failed "
                    "after its attempts. You can run it again from the review page."
                ),
                link=await review_path(session, event, submission.id),
                channels=IN_APP_ONLY,
            ),
        ),
    ]


@rule(SubmissionApproved.type, SubmissionRejected.type)
async def submission_decided(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The team (the organizer who decided knows)."""
    assert isinstance(payload, SubmissionApproved | SubmissionRejected)
    event = await event_of(session, row)
    submission = await session.get(Submission, payload.submission_id)
    if event is None or submission is None:
        return []
    title = submission.title or "Untitled"
    if isinstance(payload, SubmissionApproved):
        headline = f"“{title}” was approved"
        body = f"The organizers of {event.name} approved your team's project."
    else:
        verb = "disqualified" if payload.disqualified else "rejected"
        headline = f"“{title}” was {verb}"
        reason = submission.decision_reason.strip()
        body = f"The organizers of {event.name} {verb} your team's project." + (
            f" Their reason: {reason}" if reason else ""
        )
    message = Message(
        category="submission",
        title=headline,
        body=body,
        link=await submission_path(session, event, payload.team_id),
    )
    return [Telling(but(await team_members(session, payload.team_id), row.actor_id), message)]
