"""The judging datasets of the organizer exports (`exports.service.open_table`): `evaluations`,
one row per evaluation and one column per criterion, anonymizable; `judges`, one row per judge
and assigned project (a judge with none has one row).

With `anonymize`, judges are "Judge 1", "Judge 2" … numbered by their first evaluation of the
event (then by id, `judge_numbers`), so a judge keeps their number from one export to the next;
no name, address or id of a judge, and no private comment (judges' notes to organizers, which
often name them), is written.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.access import EventAccess
from hackops.exports.table import Dataset, Row, Table, stream_rows, unique_names, when
from hackops.judging.criteria import list_criteria
from hackops.models import (
    Criterion,
    Evaluation,
    EventRole,
    EventRoleGrant,
    JudgeAssignment,
    Submission,
    Team,
    User,
)


async def judge_numbers(session: AsyncSession, access: EventAccess) -> dict[uuid.UUID, int]:
    """Each judge's stable number in this event: by their first evaluation, then by id."""
    first = func.min(Evaluation.created_at)
    rows = await session.execute(
        select(Evaluation.judge_id)
        .where(Evaluation.event_id == access.event.id)
        .group_by(Evaluation.judge_id)
        .order_by(first, Evaluation.judge_id)
    )
    return {judge_id: n for n, (judge_id,) in enumerate(rows, start=1)}


async def evaluations(session: AsyncSession, access: EventAccess, *, anonymize: bool) -> Table:
    """Every evaluation of the event, one column per criterion (the criteria read first)."""
    criteria: list[Criterion] = await list_criteria(session, access)
    keys = [str(c.id) for c in criteria]
    who = ["judge"] if anonymize else ["judge_name", "judge_email"]
    fixed = [*who, "submission_id", "title", "team", "status", "raw_score", "submitted_at"]
    tail = ["feedback"] if anonymize else ["feedback", "private_comment"]
    labels = unique_names([f"{c.name} (of {c.max_score})" for c in criteria], [*fixed, *tail])
    columns = [*fixed, *labels, *tail]
    numbers = await judge_numbers(session, access) if anonymize else {}
    query = (
        select(
            Evaluation.judge_id,
            User.name,
            User.email,
            Evaluation.submission_id,
            Submission.title,
            Team.name,
            Evaluation.status,
            Evaluation.raw_score,
            Evaluation.submitted_at,
            Evaluation.scores,
            Evaluation.feedback,
            Evaluation.private_comment,
        )
        .join(User, User.id == Evaluation.judge_id)
        .join(Submission, Submission.id == Evaluation.submission_id)
        .join(Team, Team.id == Evaluation.team_id)
        .where(Evaluation.event_id == access.event.id)
        .order_by(Team.name, Evaluation.submission_id, Evaluation.created_at, Evaluation.id)
    )

    def shape(r: Any) -> Row:
        judge: list[Any] = [f"Judge {numbers[r[0]]}"] if anonymize else [r[1], r[2]]
        scores = [r[9].get(k) for k in keys]
        notes = [r[10]] if anonymize else [r[10], r[11]]
        return (*judge, r[3], r[4], r[5], r[6], r[7], when(r[8]), *scores, *notes)

    return Table(Dataset.EVALUATIONS, columns, stream_rows(session, query, shape))


JUDGE_COLUMNS = [
    "judge_name",
    "judge_email",
    "submission_id",
    "title",
    "team",
    "assignment",
    "assigned_at",
    "evaluation",
    "raw_score",
]


def judges(session: AsyncSession, access: EventAccess) -> Table:
    """Every judge of the event with each project assigned to them and its evaluation."""
    event_id = access.event.id
    query = (
        select(
            User.name,
            User.email,
            JudgeAssignment.submission_id,
            Submission.title,
            Team.name,
            JudgeAssignment.state,
            JudgeAssignment.created_at,
            Evaluation.status,
            Evaluation.raw_score,
        )
        .select_from(EventRoleGrant)
        .join(User, User.id == EventRoleGrant.user_id)
        .outerjoin(
            JudgeAssignment,
            (JudgeAssignment.event_id == event_id)
            & (JudgeAssignment.judge_id == EventRoleGrant.user_id),
        )
        .outerjoin(Submission, Submission.id == JudgeAssignment.submission_id)
        .outerjoin(Team, Team.id == Submission.team_id)
        .outerjoin(
            Evaluation,
            (Evaluation.judge_id == EventRoleGrant.user_id)
            & (Evaluation.submission_id == JudgeAssignment.submission_id),
        )
        .where(EventRoleGrant.event_id == event_id, EventRoleGrant.role == EventRole.JUDGE)
        .order_by(User.name, User.id, Team.name, JudgeAssignment.id)
    )

    def shape(r: Any) -> Row:
        return (
            r[0], r[1], r[2] or "", r[3] or "", r[4] or "", r[5] or "", when(r[6]),
            r[7] or ("not started" if r[2] else ""), r[8],
        )  # fmt: skip

    return Table(Dataset.JUDGES, list(JUDGE_COLUMNS), stream_rows(session, query, shape))
