"""Demo data for judging: an event being judged (criteria, judges, assignments, some scores; the
demo organizer is a judge with an unscored queue) and a finished one with published results and
an open project gallery."""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import db_now
from hackops.judging.assignment.solver import JudgeSlot, SubmissionSlot, assign
from hackops.judging.scoring import ranking
from hackops.judging.scoring.service import raw_score
from hackops.models import (
    Award,
    Criterion,
    Evaluation,
    Event,
    EventResult,
    EventRoleGrant,
    JudgeAssignment,
    Registration,
    Submission,
    SubmissionVersion,
    Team,
    TeamMember,
    User,
)
from hackops.results import frozen
from hackops.results.service import default_winners

PROJECTS = (
    ("Flood Watch", "River sensors that warn a street before the water comes"),
    ("Bus Buddy", "Live crowding for every city bus"),
    ("Tutor Swap", "Students teach each other, one hour for one hour"),
    ("Compost Map", "Where to drop food waste near you"),
    ("Quiet Rooms", "Find a free study room on campus now"),
    ("Heat Shade", "Cool walking routes on hot days"),
)
FEEDBACK = (
    "Clear problem and a working demo. Next: test it with the people who need it.",
    "Great pitch; the data pipeline needs error handling before a real launch.",
    "",
    "Strong idea. Show numbers on how many people it would reach.",
)


async def seed_judging(
    session: AsyncSession, org_id: uuid.UUID, organizer_id: uuid.UUID
) -> list[Event]:
    now = await db_now(session)
    judged = await _event(
        session,
        org_id,
        organizer_id,
        slug="demo-judging-2026",
        name="Demo Judging Night 2026",
        closed=now - timedelta(days=1),
        judging_closes=now + timedelta(days=3),
        status="submitted",
    )
    finished = await _event(
        session,
        org_id,
        organizer_id,
        slug="demo-finished-2025",
        name="Demo Hack 2025 (finished)",
        closed=now - timedelta(days=60),
        judging_closes=now - timedelta(days=55),
        status="approved",
    )
    return [judged, finished]


async def _event(
    session: AsyncSession,
    org_id: uuid.UUID,
    organizer_id: uuid.UUID,
    *,
    slug: str,
    name: str,
    closed: datetime,
    judging_closes: datetime,
    status: str,
) -> Event:
    existing = await session.scalar(select(Event).where(Event.org_id == org_id, Event.slug == slug))
    if existing is not None:
        if status == "approved" and existing.gallery_opened_at is None:
            # demo data seeded before the gallery opened: open it now (idempotent)
            existing.gallery_opened_at = existing.results_published_at or closed
            await session.flush()
        return existing
    rng = random.Random(slug)  # noqa: S311 - demo scores, not secrets
    event = Event(
        org_id=org_id,
        slug=slug,
        name=name,
        tagline="Projects judged with a weighted rubric and judge-effect normalization",
        registration_opens_at=closed - timedelta(days=20),
        starts_at=closed - timedelta(days=2),
        submissions_close_at=closed,
        judging_closes_at=judging_closes,
        published_at=closed - timedelta(days=20),
    )
    session.add(event)
    await session.flush()
    criteria = [
        Criterion(org_id=org_id, event_id=event.id, name=n, weight=w, max_score=10, position=i)
        for i, (n, w) in enumerate((("Impact", 2.0), ("Execution", 1.0), ("Originality", 1.0)))
    ]
    session.add_all(criteria)
    session.add(Award(org_id=org_id, event_id=event.id, name="Best project", prize="Trophy"))
    session.add(Award(org_id=org_id, event_id=event.id, name="Runner-up", position=1))
    session.add(
        EventRoleGrant(org_id=org_id, event_id=event.id, user_id=organizer_id, role="organizer")
    )
    submissions = []
    for n, (title, tagline) in enumerate(PROJECTS):
        people = []
        for m in range(2):
            person = User(
                email=f"{slug}-p{n * 2 + m + 1}@example.com",
                name=f"{title} maker {m + 1}",
                email_verified_at=closed,
            )
            session.add(person)
            await session.flush()
            session.add(
                Registration(
                    org_id=org_id,
                    event_id=event.id,
                    user_id=person.id,
                    status="registered",
                    checkin_code=secrets.token_hex(6).upper(),
                )
            )
            people.append(person)
        await session.flush()
        team = Team(
            org_id=org_id,
            event_id=event.id,
            name=f"Team {title}",
            captain_id=people[0].id,
            join_code=secrets.token_hex(5).upper(),
            max_members=4,
            recruiting=False,
        )
        session.add(team)
        await session.flush()
        for m, person in enumerate(people):
            session.add(
                TeamMember(
                    org_id=org_id,
                    event_id=event.id,
                    team_id=team.id,
                    user_id=person.id,
                    role="captain" if m == 0 else "member",
                )
            )
        submission = Submission(
            org_id=org_id,
            event_id=event.id,
            team_id=team.id,
            status=status,
            title=title,
            tagline=tagline,
            description=f"{tagline}.",
            description_html=f"<p>{tagline}.</p>",
            technologies=["python", "postgres"],
            submitted_at=closed - timedelta(hours=n + 1),
        )
        session.add(submission)
        await session.flush()
        version = SubmissionVersion(
            org_id=org_id,
            event_id=event.id,
            submission_id=submission.id,
            number=1,
            snapshot={"title": title, "tagline": tagline},
            submitted_by=people[0].id,
            submitted_at=submission.submitted_at,
        )
        session.add(version)
        await session.flush()
        submission.version_count = 1
        submission.latest_version_id = version.id
        submissions.append(submission)
    judges = []
    for j in range(3):
        judge = User(email=f"{slug}-judge{j + 1}@example.com", name=f"Judge {j + 1}")
        session.add(judge)
        await session.flush()
        judges.append(judge.id)
    if status == "submitted":
        judges.append(organizer_id)  # the demo account has a queue to try
    for judge_id in judges:
        session.add(
            EventRoleGrant(org_id=org_id, event_id=event.id, user_id=judge_id, role="judge")
        )
    await session.flush()
    plan = assign(
        [SubmissionSlot(s.id) for s in submissions], [JudgeSlot(j) for j in judges], k=2, seed=7
    )
    quality = {s.id: rng.uniform(4, 9) for s in submissions}
    leniency = {j: rng.uniform(-1.5, 1.5) for j in judges}
    evaluations = []
    for judge_any, submission_any in plan.pairs:
        judge_id, submission_id = uuid.UUID(str(judge_any)), uuid.UUID(str(submission_any))
        session.add(
            JudgeAssignment(
                org_id=org_id, event_id=event.id, judge_id=judge_id, submission_id=submission_id
            )
        )
        if judge_id == organizer_id:
            continue
        scores = {
            str(c.id): max(0, min(10, round(quality[submission_id] + leniency[judge_id])))
            for c in criteria
        }
        evaluation = Evaluation(
            org_id=org_id,
            event_id=event.id,
            judge_id=judge_id,
            submission_id=submission_id,
            team_id=next(s.team_id for s in submissions if s.id == submission_id),
            scores=scores,
            raw_score=raw_score(criteria, {k: float(v) for k, v in scores.items()}),
            status="submitted",
            submitted_at=closed + timedelta(days=1),
            feedback=rng.choice(FEEDBACK),
            private_comment="Demo: a note only organizers read.",
        )
        session.add(evaluation)
        evaluations.append(evaluation)
    await session.flush()
    if status == "approved":
        await _publish(session, event, submissions, evaluations, criteria, judging_closes)
        # The finished event's projects are on show: its gallery is open, as an organizer
        # would open it (`submissions.review.service.set_gallery`) once results are out.
        event.gallery_opened_at = judging_closes
        await session.flush()
    return event


async def _publish(
    session: AsyncSession,
    event: Event,
    submissions: list[Submission],
    evaluations: list[Evaluation],
    criteria: list[Criterion],
    when: datetime,
) -> None:
    """Freeze results as `results.service.publish` would, with the breakdown shown."""
    infos = [frozen.CriterionInfo(str(c.id), c.name, c.max_score) for c in criteria]
    salt = secrets.token_hex(16)

    def details(submission_id: object) -> dict[str, object]:
        mine = [
            frozen.ScoredEvaluation(
                str(e.judge_id),
                str(e.submission_id),
                {k: float(v) for k, v in e.scores.items()},
                e.feedback,
            )
            for e in evaluations
            if e.submission_id == submission_id
        ]
        breakdown, feedback = frozen.breakdown_and_feedback(str(submission_id), mine, infos, salt)
        return {"breakdown": breakdown, "feedback": feedback}

    ranked = ranking.compute(
        ranking.DEFAULT_METHOD,
        [
            ranking.Evaluation(e.judge_id, e.submission_id, float(e.raw_score or 0))
            for e in evaluations
        ],
        {s.id: s.submitted_at for s in submissions if s.submitted_at is not None},
    )
    titles = {s.id: s for s in submissions}
    teams = dict((await session.execute(select(Team.id, Team.name))).all())
    rows = [
        {
            "rank": item.rank,
            "submission_id": str(item.submission_id),
            "title": titles[item.submission_id].title,  # type: ignore[index]
            "team_name": teams.get(titles[item.submission_id].team_id, ""),  # type: ignore[index]
            "track_ids": [],
            "tracks": [],
            "score": round(item.score, 4),
            "raw_mean": round(item.raw_mean, 4),
            "evaluations": item.evaluations,
            **details(item.submission_id),
        }
        for item in ranked
    ]
    awards = list(
        await session.scalars(
            select(Award).where(Award.event_id == event.id).order_by(Award.position)
        )
    )
    session.add(
        EventResult(
            org_id=event.org_id,
            event_id=event.id,
            method=ranking.DEFAULT_METHOD.value,
            ranking=rows,
            winners=default_winners(awards, rows, {}),
            published_at=when,
        )
    )
    event.results_published_at = when
    event.results_show_breakdown = True
    await session.flush()
