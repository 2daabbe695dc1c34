"""Public voting: during the event's voting window, each verified account casts one vote per
track (or one overall) for a submitted project; changing the vote replaces it (one row, UNIQUE).
No self-votes (the voter's own team). Votes by accounts created after voting opened are counted
and flagged for organizers. Counts are shown to organizers at any time and to everyone else only
after the window closed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.errors import Conflict, Forbidden, NotFound, Unauthorized
from hackops.events.access import EventAccess
from hackops.models import OVERALL, PublicVote, Submission, SubmissionStatus, TeamMember

VOTABLE = (
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.UNDER_REVIEW,
    SubmissionStatus.APPROVED,
)


class VotingClosed(Conflict):
    code = "voting_closed"
    message = "Public voting is not open for this event."


class VerifiedAccountRequired(Forbidden):
    code = "verified_account_required"
    message = "Confirm your email address to vote."


class OwnTeam(Conflict):
    code = "own_team"
    message = "You cannot vote for your own team's project."


class NotVotable(NotFound):
    code = "submission_not_found"
    message = "No such project in this vote."


class CountsHidden(NotFound):
    code = "vote_counts_hidden"
    message = "Vote counts are shown when voting closes."


async def cast(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID, track_id: uuid.UUID | None
) -> PublicVote:
    user = access.actor.user
    if user is None:
        raise Unauthorized
    if not user.email_verified:
        raise VerifiedAccountRequired
    event = access.event
    now = await session.scalar(select(func.app_now()))
    assert now is not None
    if (
        event.voting_opens_at is None
        or now < event.voting_opens_at
        or (event.voting_closes_at is not None and now >= event.voting_closes_at)
    ):
        raise VotingClosed
    submission = await session.scalar(
        select(Submission).where(
            Submission.id == submission_id,
            Submission.event_id == event.id,
            Submission.status.in_(VOTABLE),
        )
    )
    if submission is None or (track_id is not None and track_id not in submission.track_ids):
        raise NotVotable
    own = await session.scalar(
        select(TeamMember.id).where(
            TeamMember.team_id == submission.team_id, TeamMember.user_id == user.id
        )
    )
    if own is not None:
        raise OwnTeam
    values = {"submission_id": submission.id, "flagged": user.created_at > event.voting_opens_at}
    vote = await session.scalar(
        pg_insert(PublicVote)
        .values(
            org_id=event.org_id,
            event_id=event.id,
            track_key=track_id or OVERALL,
            user_id=user.id,
            **values,
        )
        .on_conflict_do_update(index_elements=["event_id", "track_key", "user_id"], set_=values)
        .returning(PublicVote)
        .execution_options(populate_existing=True)
    )
    assert vote is not None
    await record(
        session,
        access.actor,
        "vote.cast",
        resource_type="public_vote",
        resource_id=vote.id,
        org_id=event.org_id,
        details={"track_id": str(track_id) if track_id else None},
    )
    return vote


async def counts(session: AsyncSession, access: EventAccess) -> list[dict[str, Any]]:
    event = access.event
    if not access.is_organizer:
        now = await session.scalar(select(func.app_now()))
        if event.voting_closes_at is None or now is None or now < event.voting_closes_at:
            raise CountsHidden
    rows = await session.execute(
        select(
            PublicVote.track_key,
            PublicVote.submission_id,
            func.count(),
            func.count().filter(PublicVote.flagged),
        )
        .where(PublicVote.event_id == event.id)
        .group_by(PublicVote.track_key, PublicVote.submission_id)
        .order_by(PublicVote.track_key, func.count().desc(), PublicVote.submission_id)
    )
    return [
        {
            "track_id": None if track == OVERALL else str(track),
            "submission_id": str(sid),
            "votes": total,
            "flagged": flagged if access.is_organizer else None,
        }
        for track, sid, total, flagged in rows
    ]
