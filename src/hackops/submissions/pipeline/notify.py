"""Who is told what about a version's processing, by email in the step's transaction (the
outbox is transactional: a rolled-back record sends nothing).

- Links that could not be checked: one email to each current team member, listing them.
- A failed step (after its attempts, or at once when permanent): the team members and the
  event's organizers (its organizer role and the organization's organizers, admins and owners),
  each told once. `organizer_recipients` is also the recipient list of judges' flags.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.jobs import job_settings
from hackops.mail.render import PLATFORM, Brand, org_brand
from hackops.mail.service import queue_mail
from hackops.models import (
    Event,
    EventRole,
    EventRoleGrant,
    Membership,
    Organization,
    OrgRole,
    PipelineStepName,
    Team,
    TeamMember,
    User,
)
from hackops.submissions.pipeline.links import LinkResult
from hackops.submissions.pipeline.runs import StepInput


async def team_recipients(session: AsyncSession, team_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(user id, email) of the team's current members."""
    rows = await session.execute(
        select(User.id, User.email)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id, User.deleted_at.is_(None))
        .order_by(User.email)
    )
    return [(row[0], row[1]) for row in rows]


async def _brand(session: AsyncSession, org_id: uuid.UUID) -> Brand:
    org = await session.get(Organization, org_id)
    return org_brand(org) if org is not None else PLATFORM


async def report_failed_links(
    session: AsyncSession, job: StepInput, failures: list[LinkResult]
) -> None:
    """One email to each team member listing the links that could not be checked, and why."""
    brand = await _brand(session, job.org_id)
    context = {
        "title": job.title,
        "version": job.version_number,
        "failures": [
            {"url": result.url, "why": result.reason or result.status} for result in failures
        ],
    }
    for user_id, email in await team_recipients(session, job.team_id):
        await queue_mail(
            session,
            "submissions/links_unreadable",
            to=email,
            subject=f"Links of “{job.title}” could not be checked",
            base_url=job_settings().base_url,
            brand=brand,
            context=context,
            user_id=user_id,
        )


STEP_LABELS: dict[str, str] = {
    PipelineStepName.VALIDATE_FILES: "file validation",
    PipelineStepName.EXTRACT_TEXT: "text extraction",
    PipelineStepName.FETCH_LINKS: "link checking",
    PipelineStepName.SIMILARITY: "similarity check",
}


async def organizer_recipients(
    session: AsyncSession, org_id: uuid.UUID, event_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """(user id, email) of the event's organizers: its organizer role, and the organization's
    organizers, admins and owners."""
    event_organizers = select(EventRoleGrant.user_id).where(
        EventRoleGrant.event_id == event_id, EventRoleGrant.role == EventRole.ORGANIZER
    )
    org_organizers = select(Membership.user_id).where(
        Membership.org_id == org_id,
        Membership.role.in_([OrgRole.ORGANIZER, OrgRole.ADMIN, OrgRole.OWNER]),
    )
    rows = await session.execute(
        select(User.id, User.email)
        .where(
            User.deleted_at.is_(None),
            User.id.in_(event_organizers) | User.id.in_(org_organizers),
        )
        .order_by(User.email)
    )
    return [(row[0], row[1]) for row in rows]


async def notify_failure(session: AsyncSession, claimed: StepInput, reason: str) -> None:
    """Email the team members and the event's organizers that a step failed, and why."""
    label = STEP_LABELS[claimed.step]
    team_name = await session.scalar(select(Team.name).where(Team.id == claimed.team_id))
    event_name = await session.scalar(select(Event.name).where(Event.id == claimed.event_id))
    team = await team_recipients(session, claimed.team_id)
    brand, base_url = await _brand(session, claimed.org_id), job_settings().base_url
    context = {
        "step": label,
        "title": claimed.title,
        "version": claimed.version_number,
        "why": reason,
        "event_name": event_name,
        "team_name": team_name,
    }
    for user_id, email in team:
        await queue_mail(
            session,
            "submissions/processing_failed",
            to=email,
            subject=f"Processing of “{claimed.title}” failed",
            base_url=base_url,
            brand=brand,
            context=context,
            user_id=user_id,
        )
    told = {user_id for user_id, _ in team}
    for user_id, email in await organizer_recipients(session, claimed.org_id, claimed.event_id):
        if user_id in told:
            continue
        await queue_mail(
            session,
            "submissions/processing_failed_organizers",
            to=email,
            subject=f"[{event_name}] Processing failed for team {team_name}",
            base_url=base_url,
            brand=brand,
            context=context,
            user_id=user_id,
        )
