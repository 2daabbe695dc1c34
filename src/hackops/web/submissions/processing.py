"""What the team's submission page and the organizers' review pages both show of a
submission: its status and processing step labels, the processing of its latest version, the
links that could not be checked, who submitted the versions. Not a page module: both page
modules import it (they never import one another).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    LinkCheck,
    PipelineStep,
    PipelineStepName,
    StepState,
    Submission,
    SubmissionStatus,
    User,
)
from hackops.submissions.pipeline.tasks import pipeline_status
from hackops.teams.access import TeamView
from hackops.web import eventkit

ACTIVE_STATES = frozenset({StepState.QUEUED, StepState.RUNNING, StepState.RETRYING})
STATUS_LABELS: dict[str, str] = {
    SubmissionStatus.DRAFT: "draft",
    SubmissionStatus.SUBMITTED: "submitted",
    SubmissionStatus.UNDER_REVIEW: "under review",
    SubmissionStatus.APPROVED: "approved",
    SubmissionStatus.REJECTED: "rejected",
    SubmissionStatus.DISQUALIFIED: "disqualified",
}
STEP_LABELS: dict[str, str] = {
    PipelineStepName.VALIDATE_FILES: "File validation",
    PipelineStepName.EXTRACT_TEXT: "Text extraction",
    PipelineStepName.FETCH_LINKS: "Link checking",
    PipelineStepName.SIMILARITY: "Similarity check",
}
STEP_STATE_LABELS: dict[str, str] = {
    StepState.QUEUED: "queued",
    StepState.RUNNING: "running",
    StepState.RETRYING: "retrying",
    StepState.DONE: "done",
    StepState.FAILED: "failed",
}


def page_url(view: TeamView) -> str:
    access = view.access
    return eventkit.event_url(access) + f"/teams/{view.team.id}/submission"


def technologies_of(raw: str) -> list[str]:
    return [t for t in (part.strip() for part in raw.split(",")) if t]


def step_label(step: str) -> str:
    return STEP_LABELS.get(step, step.replace("_", " ").capitalize())


async def pipeline_steps(
    session: AsyncSession, submission: Submission | None
) -> list[PipelineStep]:
    """The steps of the latest version, in pipeline order (none before the first submit)."""
    if submission is None or submission.latest_version_id is None:
        return []
    return await pipeline_status(session, submission.id)


def processing(steps: Iterable[PipelineStep]) -> bool:
    return any(step.state in ACTIVE_STATES for step in steps)


async def failed_links(session: AsyncSession, submission: Submission | None) -> list[LinkCheck]:
    """The latest version's links that could not be checked (the team can fix them in time)."""
    if submission is None or submission.latest_version_id is None:
        return []
    rows = await session.scalars(
        select(LinkCheck)
        .where(
            LinkCheck.submission_id == submission.id,
            LinkCheck.version_id == submission.latest_version_id,
            LinkCheck.status != "ok",
        )
        .order_by(LinkCheck.url)
    )
    return list(rows)


async def user_names(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[Any, str]:
    """Names of the people who submitted versions, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {row[0]: row[1] or "Someone" for row in rows}
