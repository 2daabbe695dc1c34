"""Results: organizers preview the ranking, pick winners per award (default: the top ranks),
then publish. Publishing freezes the ranking (overall and per track), the winners, each
submission's per-criterion breakdown with anonymized judges and the judges' feedback into
`event_results` (shape: `results.frozen`), mails every participant their team's place and
writes `results.published` to the outbox.

Frozen, not recomputed: what was published does not move when a judge edits a score or a
feedback text afterwards (judging is normally closed by then, but `judging_closes_at` may lie
later) — the breakdown always agrees with the published ranks, and "Judge 2" stays Judge 2.

The gate: until `events.results_published_at` is set, scores, ranks, winners, breakdowns and
feedback are readable by organizers only — the results routes answer 404 to everyone else, and
no other participant or public route carries them (tests/results/test_gate.py walks the route
table). After publishing, the breakdown is public only while `results_show_breakdown` is on;
feedback is only ever shown to the team's own members.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.events import service as events_service
from hackops.events.access import EventAccess
from hackops.events.tracks.service import list_awards, list_tracks
from hackops.judging.criteria import list_criteria
from hackops.judging.scoring import ranking
from hackops.judging.scoring.service import compute_ranking
from hackops.judging.scoring.tracks import rank_in_track, submission_facts
from hackops.models import (
    Award,
    AwardWinner,
    Evaluation,
    Event,
    EventResult,
    Submission,
    Team,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.results import frozen
from hackops.results.notify import mail_participants
from hackops.submissions.hooks import StandingAsked
from hackops.submissions.intake.service import SubmissionNotFound
from hackops.teams.access import TeamView, require_member


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


class NotInResults(NotFound):
    code = "submission_not_in_results"
    message = "This submission has no place or award in the published results."


async def _evaluation_facts(
    session: AsyncSession, access: EventAccess
) -> tuple[dict[str, list[frozen.ScoredEvaluation]], list[frozen.CriterionInfo]]:
    rows = await session.execute(
        select(
            Evaluation.judge_id, Evaluation.submission_id, Evaluation.scores, Evaluation.feedback
        ).where(Evaluation.event_id == access.event.id, Evaluation.status == "submitted")
    )
    by_submission: dict[str, list[frozen.ScoredEvaluation]] = {}
    for judge_id, submission_id, scores, feedback in rows:
        by_submission.setdefault(str(submission_id), []).append(
            frozen.ScoredEvaluation(
                str(judge_id),
                str(submission_id),
                {str(k): float(v) for k, v in (scores or {}).items()},
                feedback or "",
            )
        )
    criteria = [
        frozen.CriterionInfo(str(c.id), c.name, c.max_score)
        for c in await list_criteria(session, access)
    ]
    return by_submission, criteria


async def _ranking_rows(
    session: AsyncSession, access: EventAccess, *, salt: str
) -> tuple[str, list[dict[str, Any]]]:
    """The rows publishing would freeze now (see `results.frozen`)."""
    method = ranking.DEFAULT_METHOD
    ranked, _ = await compute_ranking(session, access, method)
    info = {
        sid: (title, team_name)
        for sid, title, team_name in await session.execute(
            select(Submission.id, Submission.title, Team.name)
            .join(Team, Team.id == Submission.team_id)
            .where(Submission.event_id == access.event.id)
        )
    }
    tracks_of, submitted_at = await submission_facts(session, access.event.id)
    track_names = {t.id: t.name for t in await list_tracks(session, access.event)}
    places: dict[Any, list[dict[str, Any]]] = {}
    for track_id, name in track_names.items():
        for item in rank_in_track(ranked, tracks_of, submitted_at, track_id):
            places.setdefault(item.submission_id, []).append(
                {"id": str(track_id), "name": name, "rank": item.rank}
            )
    evaluations, criteria = await _evaluation_facts(session, access)
    rows = []
    for item in ranked:
        sid = uuid.UUID(str(item.submission_id))
        title, team_name = info.get(sid, ("", ""))
        breakdown, feedback = frozen.breakdown_and_feedback(
            str(sid), evaluations.get(str(sid), []), criteria, salt
        )
        rows.append(
            {
                "rank": item.rank,
                "submission_id": str(sid),
                "title": title,
                "team_name": team_name,
                "track_ids": [str(t) for t in tracks_of.get(sid, [])],
                "tracks": places.get(item.submission_id, []),
                "score": round(item.score, 4),
                "raw_mean": round(item.raw_mean, 4),
                "evaluations": item.evaluations,
                "breakdown": breakdown,
                "feedback": feedback,
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


async def _frozen_now(session: AsyncSession, access: EventAccess, *, salt: str) -> dict[str, Any]:
    method, rows = await _ranking_rows(session, access, salt=salt)
    awards = await list_awards(session, access.event)
    picked: dict[uuid.UUID, list[str]] = {}
    for winner in await session.scalars(
        select(AwardWinner).where(AwardWinner.event_id == access.event.id)
    ):
        picked.setdefault(winner.award_id, []).append(str(winner.submission_id))
    return {"method": method, "ranking": rows, "winners": default_winners(awards, rows, picked)}


async def _present(
    session: AsyncSession,
    event: Event,
    method: str | None,
    published_at: datetime | None,
    rows: Sequence[dict[str, Any]],
    winners: list[dict[str, Any]],
) -> dict[str, Any]:
    """Frozen (or previewed) results as readers see them: public rows, one section per track."""
    tracks = await list_tracks(session, event)
    ranked = frozen.with_track_ranks(list(rows), {str(t.id): t.name for t in tracks})
    shown = [frozen.public_row(r, breakdown=event.results_show_breakdown) for r in ranked]
    return {
        "method": method,
        "published_at": published_at,
        "breakdown_shown": event.results_show_breakdown,
        "ranking": shown,
        "tracks": frozen.track_sections(shown, [str(t.id) for t in tracks]),
        "winners": winners,
    }


async def preview(session: AsyncSession, access: EventAccess) -> dict[str, Any]:
    """What publishing would freeze now, as it would be shown (organizers)."""
    now = await _frozen_now(session, access, salt="")
    return await _present(
        session, access.event, now["method"], None, now["ranking"], now["winners"]
    )


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


async def publish(session: AsyncSession, access: EventAccess, base_url: str) -> Event:
    """Publish (the events lifecycle checks the state), freeze the results, mail everyone."""
    event = await events_service.publish_results(session, access.actor, access.event)
    # A fresh salt per event: the judges' numbers cannot be recomputed from ids (frozen.py).
    result = await _frozen_now(session, access, salt=secrets.token_hex(16))
    session.add(
        EventResult(
            org_id=event.org_id,
            event_id=event.id,
            method=result["method"],
            ranking=result["ranking"],
            winners=result["winners"],
        )
    )
    await session.flush()
    await mail_participants(
        session, access.org, event, result["ranking"], result["winners"], base_url
    )
    await emit(
        session,
        access.actor,
        catalog.ResultsPublished(event_id=event.id),
        org_id=event.org_id,
        event_id=event.id,
    )
    return event


async def published_result(session: AsyncSession, event: Event) -> EventResult | None:
    """The frozen results, or None while they are not published (or nothing was frozen)."""
    if event.results_published_at is None:
        return None
    return await session.scalar(select(EventResult).where(EventResult.event_id == event.id))


async def public_results(session: AsyncSession, access: EventAccess) -> dict[str, Any]:
    """The frozen results once published; organizers see a live preview before."""
    event = access.event
    if event.results_published_at is None:
        if access.is_organizer:
            return await preview(session, access)
        raise ResultsNotPublished
    result = await published_result(session, event)
    if result is None:  # published before results existed (no judging): nothing to show
        return await _present(session, event, None, event.results_published_at, [], [])
    return await _present(
        session, event, result.method, result.published_at, result.ranking, result.winners
    )


async def _rows(session: AsyncSession, event: Event, result: EventResult) -> list[dict[str, Any]]:
    tracks = await list_tracks(session, event)
    return frozen.with_track_ranks(list(result.ranking), {str(t.id): t.name for t in tracks})


async def _standing(
    session: AsyncSession, event: Event, result: EventResult, submission_id: uuid.UUID
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the submission's standing with the breakdown while shown, its frozen row or {})."""
    found = frozen.standing(await _rows(session, event, result), result.winners, str(submission_id))
    if found is None:
        return None, {}
    row = found.pop("row") or {}
    found["breakdown"] = (row.get("breakdown") or None) if event.results_show_breakdown else None
    return found, row


async def submission_standing(
    session: AsyncSession, event: Event, submission_id: uuid.UUID | None
) -> dict[str, Any] | None:
    """A submission's awards and places once published (None before, or without any); the
    breakdown rides along only while the event shows it."""
    result = await published_result(session, event)
    if result is None or submission_id is None:
        return None
    return (await _standing(session, event, result, submission_id))[0]


async def standing_asked(
    session: AsyncSession, actor: Actor, asked: StandingAsked
) -> dict[str, Any] | None:
    """Handler of `submissions.hooks.standing` (a lookup: the actor is not needed)."""
    event = await session.get_one(Event, asked.event_id)
    return await submission_standing(session, event, asked.submission_id)


async def public_standing(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID
) -> dict[str, Any]:
    """The API's view of one submission in the published results (404 before, or if absent)."""
    if access.event.results_published_at is None:
        raise ResultsNotPublished
    found = await submission_standing(session, access.event, submission_id)
    if found is None:
        raise NotInResults
    return found


async def team_submission_id(session: AsyncSession, view: TeamView) -> uuid.UUID | None:
    return await session.scalar(
        select(Submission.id).where(
            Submission.event_id == view.access.event.id, Submission.team_id == view.team.id
        )
    )


async def team_results(session: AsyncSession, view: TeamView) -> dict[str, Any] | None:
    """What the team's pages show once published: the standing (for whoever sees the page) and,
    for the team's own members only, the judges' feedback. None before publishing."""
    event = view.access.event
    result = await published_result(session, event)
    if result is None:
        return None
    submission_id = await team_submission_id(session, view)
    standing: dict[str, Any] | None = None
    row: dict[str, Any] = {}
    if submission_id is not None:
        standing, row = await _standing(session, event, result, submission_id)
    return {
        "submission_id": submission_id,
        "standing": standing,
        "feedback": list(row.get("feedback", [])) if view.is_member else [],
        "results_url": f"/orgs/{view.access.org.slug}/events/{event.slug}/results",
    }


async def team_feedback(session: AsyncSession, view: TeamView) -> dict[str, Any]:
    """The judges' feedback to the team (and its breakdown while shown), for its members once
    results are published: 404 to anyone else, and to everyone before publishing."""
    require_member(view)
    if view.access.event.results_published_at is None:
        raise ResultsNotPublished
    shown = await team_results(session, view)
    submission_id = shown["submission_id"] if shown else await team_submission_id(session, view)
    if submission_id is None:
        raise SubmissionNotFound
    standing = (shown or {}).get("standing") or {}
    return {
        "submission_id": submission_id,
        "feedback": (shown or {}).get("feedback", []),
        "breakdown": standing.get("breakdown"),
    }
