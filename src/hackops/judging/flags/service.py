"""Judges' flags: a judge tells the organizers that a project in their queue is broken, breaks
the code of conduct, looks ineligible, or something else.

Lifecycle of a flag (`judging_flags` row):

    (none) ──flag──► open ──resolve (organizer, with a note)──► resolved
                       └────withdraw (the judge who flagged)────► resolved ("withdrawn")

- Flagging needs the project in the judge's queue (`evaluations.assigned_submission`: a project not
  assigned to them, or one they are conflicted with, is 404 — conflicts never leak). The reason
  is one of `FlagReason`; a note (at most 2000 characters) is required for a code-of-conduct
  report and for "other". One OPEN flag per judge per project: the partial unique index
  `uq_judging_flags_open_per_judge` holds it under races (`constraints.savepoint`, 409); after a
  resolution the judge may flag again. Flagging stays open after judging closes: a code-of-conduct
  problem does not wait for the scores.
- Flagging emails the event's organizers (the same people the processing-failure mail reaches)
  in the same transaction: the outbox is transactional, a refused flag sends nothing.
- Organizers see every flag of the event with the project, the team and the judge; the judge
  sees only their own flags of a project in their queue, with the resolution note. Nothing here
  carries a score, so the publish gate is not concerned.
- Every transition is audited: `judging_flag.created`, `judging_flag.resolved`,
  `judging_flag.withdrawn`; and written to the outbox: `judging.flag_raised`,
  `judging.flag_resolved` (`withdrawn` true when the judge took it back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hackops.audit.service import record
from hackops.constraints import ConstraintErrors, savepoint
from hackops.errors import Conflict, NotFound, ValidationFailed
from hackops.events.access import EventAccess
from hackops.judging.scoring.service import assigned_submission
from hackops.judging.service import require_judge
from hackops.mail.render import org_brand, render
from hackops.mail.service import queue_email
from hackops.models import FlagReason, FlagState, JudgingFlag, Submission, Team, User
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.submissions.pipeline.notify import organizer_recipients

NOTE_MAX = 2000
WITHDRAWN_NOTE = "Withdrawn by the judge."


REASON_LABELS = {
    FlagReason.BROKEN: "Broken (it does not run or cannot be opened)",
    FlagReason.CODE_OF_CONDUCT: "Code of conduct",
    FlagReason.INELIGIBLE: "Ineligible (rules, deadline, prior work)",
    FlagReason.OTHER: "Something else",
}
SHORT_LABELS = {
    FlagReason.BROKEN: "broken",
    FlagReason.CODE_OF_CONDUCT: "code of conduct",
    FlagReason.INELIGIBLE: "ineligible",
    FlagReason.OTHER: "other",
}
#: Reasons the organizers cannot act on without the judge's words.
NOTE_REQUIRED = frozenset({FlagReason.CODE_OF_CONDUCT, FlagReason.OTHER})


class FlagNotFound(NotFound):
    code = "judging_flag_not_found"
    message = "No such flag."


class AlreadyFlagged(Conflict):
    code = "already_flagged"
    message = (
        "You already have an open flag on this project; the organizers have it. "
        "Withdraw it or wait for their answer before flagging again."
    )


#: The one-open-flag index (migration) and the error it means: a concurrent flag won the race.
CONSTRAINT_ERRORS: ConstraintErrors = {"uq_judging_flags_open_per_judge": AlreadyFlagged}


class FlagAlreadyResolved(Conflict):
    code = "flag_already_resolved"
    message = "This flag is already resolved."


class FlagNoteRequired(ValidationFailed):
    code = "flag_note_required"
    message = "Say what happened: a note is required for a code-of-conduct report or “other”."


class FlagNoteTooLong(ValidationFailed):
    code = "flag_note_too_long"
    message = f"A note is at most {NOTE_MAX} characters."


@dataclass(frozen=True)
class FlagRow:
    """A flag as organizers list it: the project, its team, who flagged and who resolved."""

    flag: JudgingFlag
    submission_title: str
    team_id: uuid.UUID
    team_name: str
    judge_name: str
    judge_email: str
    resolver_name: str | None


def _checked_note(note: str, *, required: bool) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise FlagNoteTooLong
    if required and not note:
        raise FlagNoteRequired
    return note


async def _audit(
    session: AsyncSession, access: EventAccess, action: str, flag: JudgingFlag, **details: Any
) -> None:
    await record(
        session,
        access.actor,
        action,
        resource_type="judging_flag",
        resource_id=flag.id,
        org_id=access.event.org_id,
        details={"event": access.event.slug, "submission_id": str(flag.submission_id), **details},
    )


# --- the judge ----------------------------------------------------------------------------------


async def flag_submission(
    session: AsyncSession,
    access: EventAccess,
    submission_id: uuid.UUID,
    *,
    reason: FlagReason | str,
    note: str,
    base_url: str,
) -> JudgingFlag:
    """A judge flags a project of their queue: open flag, organizers emailed, audited."""
    submission = await assigned_submission(session, access, submission_id)
    judge_id = require_judge(access)
    reason = FlagReason(reason)
    note = _checked_note(note, required=reason.value in NOTE_REQUIRED)
    existing = await session.scalar(
        select(JudgingFlag.id).where(
            JudgingFlag.judge_id == judge_id,
            JudgingFlag.submission_id == submission.id,
            JudgingFlag.status == FlagState.OPEN,
        )
    )
    if existing is not None:
        raise AlreadyFlagged(details={"flag_id": str(existing)})
    flag = JudgingFlag(
        org_id=access.event.org_id,
        event_id=access.event.id,
        submission_id=submission.id,
        judge_id=judge_id,
        reason=reason.value,
        note=note,
    )
    async with savepoint(session, CONSTRAINT_ERRORS):  # a concurrent flag may win the race
        session.add(flag)
        await session.flush()
    await session.refresh(flag)
    await _audit(session, access, "judging_flag.created", flag, reason=reason.value)
    await _mail_organizers(session, access, flag, submission, base_url=base_url)
    await emit(
        session,
        access.actor,
        catalog.FlagRaised(
            flag_id=flag.id,
            submission_id=flag.submission_id,
            judge_id=judge_id,
            reason=reason.value,
        ),
        org_id=access.event.org_id,
        event_id=access.event.id,
    )
    return flag


async def _mail_organizers(
    session: AsyncSession,
    access: EventAccess,
    flag: JudgingFlag,
    submission: Submission,
    *,
    base_url: str,
) -> None:
    # The processing-failure mail's recipients: the event's organizer role and the
    # organization's organizers, admins and owners.
    judge = access.actor.user
    assert judge is not None  # require_judge passed
    team_name = await session.scalar(select(Team.name).where(Team.id == submission.team_id))
    title = submission.title or "Untitled"
    link = (
        f"{base_url.rstrip('/')}/orgs/{access.org.slug}/events/{access.event.slug}"
        "/admin/judging/flags"
    )
    event_name = access.event.name
    subject = f"[{event_name}] A judge flagged “{title}” ({SHORT_LABELS[flag.reason]})"
    mail = render(
        "judging/flag_raised",
        subject=subject,
        base_url=base_url,
        brand=org_brand(access.org),
        judge=judge.name or judge.email,
        event_name=event_name,
        title=title,
        team_name=team_name,
        flag_reason=REASON_LABELS[flag.reason],
        note=flag.note,
        link=link,
    )
    for user_id, email in await organizer_recipients(session, access.event.org_id, access.event.id):
        if user_id == judge.id:  # an organizer who also judges knows already
            continue
        await queue_email(
            session, to=email, subject=subject, body=mail.text, html=mail.html, user_id=user_id
        )


async def my_flags(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID
) -> list[JudgingFlag]:
    """The caller's own flags of a project in their queue, newest first (404 otherwise)."""
    submission = await assigned_submission(session, access, submission_id)
    return await own_flags(session, access, submission)


async def own_flags(
    session: AsyncSession, access: EventAccess, submission: Submission
) -> list[JudgingFlag]:
    """The caller's flags of a project the caller already reached through their queue."""
    rows = await session.scalars(
        select(JudgingFlag)
        .where(
            JudgingFlag.event_id == access.event.id,
            JudgingFlag.submission_id == submission.id,
            JudgingFlag.judge_id == require_judge(access),
        )
        .order_by(JudgingFlag.created_at.desc(), JudgingFlag.id.desc())
    )
    return list(rows)


async def withdraw(session: AsyncSession, access: EventAccess, flag_id: uuid.UUID) -> JudgingFlag:
    """The judge who flagged takes it back (kept as resolved, by them, "withdrawn")."""
    judge_id = require_judge(access)
    flag = await _locked(session, access, flag_id, judge_id=judge_id)
    if flag.status != FlagState.OPEN:
        raise FlagAlreadyResolved
    flag.status = FlagState.RESOLVED
    flag.resolved_by = judge_id
    flag.resolved_at = func.app_now()
    flag.resolution = WITHDRAWN_NOTE
    await session.flush()
    await session.refresh(flag)
    await _audit(session, access, "judging_flag.withdrawn", flag)
    await _tell_resolved(session, access, flag, withdrawn=True)
    return flag


# --- the organizers -----------------------------------------------------------------------------


async def _locked(
    session: AsyncSession,
    access: EventAccess,
    flag_id: uuid.UUID,
    *,
    judge_id: uuid.UUID | None = None,
) -> JudgingFlag:
    query = select(JudgingFlag).where(
        JudgingFlag.id == flag_id, JudgingFlag.event_id == access.event.id
    )
    if judge_id is not None:
        query = query.where(JudgingFlag.judge_id == judge_id)
    flag = await session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if flag is None:
        raise FlagNotFound
    return flag


async def resolve(
    session: AsyncSession, access: EventAccess, flag_id: uuid.UUID, *, resolution: str
) -> JudgingFlag:
    """An organizer resolves an open flag with a note (the judge reads it); once."""
    user = access.actor.user
    assert user is not None  # organizer_access passed
    note = resolution.strip()
    if not note:
        raise ValidationFailed(
            "Say how the flag was resolved: the judge who raised it reads this note.",
            code="resolution_required",
        )
    if len(note) > NOTE_MAX:
        raise FlagNoteTooLong
    flag = await _locked(session, access, flag_id)
    if flag.status != FlagState.OPEN:
        raise FlagAlreadyResolved
    flag.status = FlagState.RESOLVED
    flag.resolved_by = user.id
    flag.resolved_at = func.app_now()
    flag.resolution = note
    await session.flush()
    await session.refresh(flag)
    await _audit(session, access, "judging_flag.resolved", flag)
    await _tell_resolved(session, access, flag, withdrawn=False)
    return flag


async def _tell_resolved(
    session: AsyncSession, access: EventAccess, flag: JudgingFlag, *, withdrawn: bool
) -> None:
    await emit(
        session,
        access.actor,
        catalog.FlagResolved(
            flag_id=flag.id,
            submission_id=flag.submission_id,
            judge_id=flag.judge_id,
            withdrawn=withdrawn,
        ),
        org_id=access.event.org_id,
        event_id=access.event.id,
    )


async def list_flags(
    session: AsyncSession,
    access: EventAccess,
    *,
    status: FlagState | str | None = None,
    submission_id: uuid.UUID | None = None,
    flag_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[FlagRow]:
    """The event's flags, open ones first then newest first; one query for any page size."""
    resolver = aliased(User)
    query = (
        select(JudgingFlag, Submission.title, Team.id, Team.name, User.name, User.email)
        .add_columns(func.coalesce(func.nullif(resolver.name, ""), resolver.email))
        .join(Submission, Submission.id == JudgingFlag.submission_id)
        .join(Team, Team.id == Submission.team_id)
        .join(User, User.id == JudgingFlag.judge_id)
        .outerjoin(resolver, resolver.id == JudgingFlag.resolved_by)
        .where(JudgingFlag.event_id == access.event.id)
    )
    if status is not None:
        query = query.where(JudgingFlag.status == FlagState(status).value)
    if submission_id is not None:
        query = query.where(JudgingFlag.submission_id == submission_id)
    if flag_id is not None:
        query = query.where(JudgingFlag.id == flag_id)
    rows = await session.execute(
        query.order_by(
            (JudgingFlag.status == FlagState.OPEN).desc(),
            JudgingFlag.created_at.desc(),
            JudgingFlag.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return [
        FlagRow(
            flag=r[0],
            submission_title=r[1],
            team_id=r[2],
            team_name=r[3],
            judge_name=r[4] or r[5],
            judge_email=r[5],
            resolver_name=r[6],
        )
        for r in rows
    ]


async def flag_row(session: AsyncSession, access: EventAccess, flag_id: uuid.UUID) -> FlagRow:
    rows = await list_flags(session, access, flag_id=flag_id, limit=1)
    if not rows:
        raise FlagNotFound
    return rows[0]


async def count_open(session: AsyncSession, access: EventAccess) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                JudgingFlag.event_id == access.event.id,
                JudgingFlag.status == FlagState.OPEN,
            )
        )
        or 0
    )


async def open_counts(
    session: AsyncSession, access: EventAccess, submission_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Open judges' flags per project (for the review queue), in one query."""
    if not submission_ids:
        return {}
    rows = await session.execute(
        select(JudgingFlag.submission_id, func.count())
        .where(
            JudgingFlag.event_id == access.event.id,
            JudgingFlag.status == FlagState.OPEN,
            JudgingFlag.submission_id.in_(submission_ids),
        )
        .group_by(JudgingFlag.submission_id)
    )
    return {sid: int(n) for sid, n in rows}
