"""Results: organizers preview the ranking, pick winners per award (default: the top ranks),
then publish. Publishing freezes the ranking and the winners into `event_results`, so what was
published does not move when a score is edited afterwards, and mails every participant.

The gate: until `events.results_published_at` is set, scores, ranks and winners are readable by
organizers only — the results route answers 404 to everyone else, and no other participant or
public route carries them (tests/results/test_gate.py walks the route table).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.events import service as events_service
from hackops.events.children import list_awards
from hackops.events.deps import EventAccess
from hackops.judging import ranking
from hackops.judging.service import compute_ranking
from hackops.mail.service import queue_email
from hackops.models import (
    Award,
    AwardWinner,
    Event,
    EventResult,
    Submission,
    Team,
    TeamMember,
    User,
)


class ResultsNotPublished(NotFound):
    code = "results_not_published"
    message = "The results of this event are not published yet."


class AwardNotFound(NotFound):
    code = "award_not_found"
    message = "No such award."


class NotEligible(Conflict):
    code = "submission_not_eligible"
    message = "Winners must be submissions of this event."


class ResultsFrozen(Conflict):
    code = "results_already_published"
    message = "Results are published; winners can no longer change."


async def _ranking_rows(
    session: AsyncSession, access: EventAccess
) -> tuple[str, list[dict[str, Any]]]:
    method = ranking.DEFAULT_METHOD
    ranked, _ = await compute_ranking(session, access, method)
    info = {
        s.id: (s.title, team_name, s.track_ids)
        for s, team_name in await session.execute(
            select(Submission, Team.name)
            .join(Team, Team.id == Submission.team_id)
            .where(Submission.event_id == access.event.id)
        )
    }
    rows = []
    for item in ranked:
        sid = uuid.UUID(str(item.submission_id))
        title, team_name, tracks = info.get(sid, ("", "", []))
        rows.append(
            {
                "rank": item.rank,
                "submission_id": str(sid),
                "title": title,
                "team_name": team_name,
                "track_ids": [str(t) for t in tracks],
                "score": round(item.score, 4),
                "raw_mean": round(item.raw_mean, 4),
                "evaluations": item.evaluations,
            }
        )
    return method.value, rows


def default_winners(
    awards: Sequence[Award], rows: list[dict[str, Any]], picked: dict[uuid.UUID, list[str]]
) -> list[dict[str, Any]]:
    """Picked winners where an organizer chose; otherwise the top ranks: overall awards take
    ranks 1, 2, 3 … in award order; a track's award takes the best project of that track."""
    winners: list[dict[str, Any]] = []
    by_id = {r["submission_id"]: r for r in rows}
    overall_used: set[str] = set()
    for award in awards:
        if award.id in picked:
            chosen = picked[award.id]
            source = "picked"
        elif award.track_id is None:
            nxt = next((r for r in rows if r["submission_id"] not in overall_used), None)
            chosen = [nxt["submission_id"]] if nxt else []
            source = "ranking"
        else:
            best = next((r for r in rows if str(award.track_id) in r["track_ids"]), None)
            chosen = [best["submission_id"]] if best else []
            source = "ranking"
        for sid in chosen:
            if award.track_id is None:
                overall_used.add(sid)
            row = by_id.get(sid, {})
            winners.append(
                {
                    "award_id": str(award.id),
                    "award": award.name,
                    "prize": award.prize,
                    "submission_id": sid,
                    "title": row.get("title", ""),
                    "team_name": row.get("team_name", ""),
                    "source": source,
                }
            )
    return winners


async def preview(session: AsyncSession, access: EventAccess) -> dict[str, Any]:
    """What publishing would freeze now (organizers)."""
    method, rows = await _ranking_rows(session, access)
    awards = await list_awards(session, access.event)
    picked: dict[uuid.UUID, list[str]] = {}
    for winner in await session.scalars(
        select(AwardWinner).where(AwardWinner.event_id == access.event.id)
    ):
        picked.setdefault(winner.award_id, []).append(str(winner.submission_id))
    return {
        "method": method,
        "published_at": None,
        "ranking": rows,
        "winners": default_winners(awards, rows, picked),
    }


async def pick_winners(
    session: AsyncSession, access: EventAccess, award_id: uuid.UUID, submission_ids: list[uuid.UUID]
) -> list[AwardWinner]:
    event = access.event
    if event.results_published_at is not None:
        raise ResultsFrozen
    award = await session.scalar(
        select(Award).where(Award.id == award_id, Award.event_id == event.id)
    )
    if award is None:
        raise AwardNotFound
    wanted = list(dict.fromkeys(submission_ids))
    found = set(
        await session.scalars(
            select(Submission.id).where(
                Submission.event_id == event.id,
                Submission.id.in_(wanted),
                Submission.version_count > 0,
            )
        )
    )
    if len(found) != len(wanted):
        raise NotEligible
    await session.execute(delete(AwardWinner).where(AwardWinner.award_id == award.id))
    rows = [
        AwardWinner(org_id=event.org_id, event_id=event.id, award_id=award.id, submission_id=s)
        for s in wanted
    ]
    session.add_all(rows)
    await session.flush()
    await record(
        session,
        access.actor,
        "award_winners.picked",
        resource_type="award",
        resource_id=award.id,
        org_id=event.org_id,
        details={"submissions": [str(s) for s in wanted]},
    )
    return rows


async def publish(session: AsyncSession, access: EventAccess) -> Event:
    """Publish (the events lifecycle checks the state), freeze the results, mail everyone."""
    event = await events_service.publish_results(session, access.actor, access.event)
    frozen = await preview(session, access)
    session.add(
        EventResult(
            org_id=event.org_id,
            event_id=event.id,
            method=frozen["method"],
            ranking=frozen["ranking"],
            winners=frozen["winners"],
        )
    )
    await session.flush()
    members = await session.execute(
        select(User.email, User.name)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.event_id == event.id)
    )
    for email, name in members:
        await queue_email(
            session,
            to=email,
            subject=f"The results of {event.name} are out",
            body=(
                f"Hello {name or email},\n\nThe results of {event.name} are published.\n"
                f"See them at /orgs/{access.org.slug}/events/{event.slug}/results\n"
            ),
        )
    return event


async def public_results(session: AsyncSession, access: EventAccess) -> dict[str, Any]:
    """The frozen results once published; organizers see a live preview before."""
    if access.event.results_published_at is None:
        if access.is_organizer:
            return await preview(session, access)
        raise ResultsNotPublished
    result = await session.scalar(
        select(EventResult).where(EventResult.event_id == access.event.id)
    )
    if result is None:  # published before results existed (no judging): nothing to show
        return {
            "method": None,
            "published_at": access.event.results_published_at,
            "ranking": [],
            "winners": [],
        }
    return {
        "method": result.method,
        "published_at": result.published_at,
        "ranking": result.ranking,
        "winners": result.winners,
    }
