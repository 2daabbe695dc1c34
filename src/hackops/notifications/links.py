"""The pages notifications link to (paths; mail makes them absolute with BASE_URL)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Organization

EVENT_PAGE = "/orgs/{org}/events/{event}"


async def event_path(session: AsyncSession, event: Event, suffix: str = "") -> str:
    org = await session.get(Organization, event.org_id)
    slug = org.slug if org is not None else ""
    return EVENT_PAGE.format(org=slug, event=event.slug) + suffix


# The pages of web/ a notification links to, under the event's page (`EVENT_PAGE`).
REGISTRATION = "/registration"  # web/registrations/pages.py, the person's registration
TEAMS = "/teams"  # web/teams/pages.py, the event's teams
TEAM = "/teams/{team_id}"  # web/teams/pages.py, one team
SUBMISSION = "/teams/{team_id}/submission"  # web/submissions/pages.py, the team's project
REVIEW = "/admin/submissions/{submission_id}"  # web/submissions/review.py, organizers
JUDGING = "/judging"  # web/judging/score.py, the judge's queue
SCORE = "/judging/{submission_id}"  # web/judging/score.py, one project of the queue
FLAGS = "/admin/judging/flags"  # web/judging/flags.py, organizers
RESULTS = "/results"  # web/results/pages.py


async def registration_path(session: AsyncSession, event: Event) -> str:
    return await event_path(session, event, REGISTRATION)


async def teams_path(session: AsyncSession, event: Event) -> str:
    return await event_path(session, event, TEAMS)


async def team_path(session: AsyncSession, event: Event, team_id: uuid.UUID) -> str:
    return await event_path(session, event, TEAM.format(team_id=team_id))


async def submission_path(session: AsyncSession, event: Event, team_id: uuid.UUID) -> str:
    return await event_path(session, event, SUBMISSION.format(team_id=team_id))


async def review_path(session: AsyncSession, event: Event, submission_id: uuid.UUID) -> str:
    return await event_path(session, event, REVIEW.format(submission_id=submission_id))


async def judging_path(session: AsyncSession, event: Event) -> str:
    return await event_path(session, event, JUDGING)


async def score_path(session: AsyncSession, event: Event, submission_id: uuid.UUID) -> str:
    return await event_path(session, event, SCORE.format(submission_id=submission_id))


async def flags_path(session: AsyncSession, event: Event) -> str:
    return await event_path(session, event, FLAGS)


async def results_path(session: AsyncSession, event: Event) -> str:
    return await event_path(session, event, RESULTS)
