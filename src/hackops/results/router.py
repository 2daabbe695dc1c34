"""Results API: the published results (public once published), a submission's place in them,
the team's feedback (its members, once published), winner picks and exports (organizers).
`event_actions` routes publishing the results, an action of the event's lifecycle: under the
events API's path and tag, here because it calls `service.publish`, which builds on judging
(above events)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Annotated, Any

from fastapi import Path, Request, Response
from sqlalchemy import select

from hackops.db import SessionDep, db_now
from hackops.errors import error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.events.schemas import EventOut, event_out
from hackops.events.tracks.service import list_tracks
from hackops.judging.scoring import ranking
from hackops.judging.scoring.service import compute_ranking
from hackops.judging.scoring.tracks import rank_in_track, submission_facts
from hackops.models import Evaluation, Submission, Team, User
from hackops.publiccache import content_scope, declare, org_scope
from hackops.results import service
from hackops.results.schemas import ResultsOut, TeamFeedbackOut, WinnersIn
from hackops.routing import Router
from hackops.spreadsheet import defuse
from hackops.submissions.schemas import StandingOut
from hackops.teams.deps import TeamDep

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["results"],
)
event_actions = Router(prefix="/organizations", tags=["events"])
RANKING_COLUMNS = ("rank", "submission_id", "title", "team", "score", "raw_mean", "evaluations")


@router.get(
    "/results",
    response_model=ResultsOut,
    summary="Results and winners (everyone once published; organizers preview before)",
    responses=error_responses(401, 404, 422),
)
async def results(request: Request, session: SessionDep, access: EventDep) -> ResultsOut:
    shown = ResultsOut.model_validate(await service.public_results(session, access))
    if access.actor.user is None:  # published results, the same for every visitor
        declare(request, (content_scope(access.event.id), org_scope(access.event.org_id)))
    return shown


@event_actions.post(
    "/{slug}/events/{event_slug}/publish-results",
    response_model=EventOut,
    summary="Publish the results, once submissions have closed (organizers)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def publish_results(
    request: Request, session: SessionDep, access: EventOrganizerDep
) -> EventOut:
    """Freezes the ranking and winners and closes judging: a judging window still open ends
    now (`judging_closes_at`), and from then on no score or pairwise judgment is accepted
    (409 `judging_closed`)."""
    event = await service.publish(session, access, request.app.state.settings.base_url)
    return event_out(access.org.slug, event, await db_now(session))


@router.put(
    "/results/awards/{award_id}/winners",
    response_model=ResultsOut,
    summary="Pick the winners of an award (organizers, before publishing)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def pick(
    award_id: uuid.UUID, body: WinnersIn, session: SessionDep, access: EventOrganizerDep
) -> ResultsOut:
    await service.pick_winners(session, access, award_id, body.submission_ids)
    return ResultsOut.model_validate(await service.preview(session, access))


@router.get(
    "/results/submissions/{submission_id}",
    response_model=StandingOut,
    summary="A submission's awards and places in the published results (everyone, once published)",
    responses=error_responses(401, 404, 422),
)
async def submission_standing(
    submission_id: uuid.UUID, session: SessionDep, access: EventDep
) -> StandingOut:
    return StandingOut.model_validate(await service.public_standing(session, access, submission_id))


@router.get(
    "/teams/{team_id}/submission/feedback",
    response_model=TeamFeedbackOut,
    summary="The judges' feedback to the team, anonymized (its members, once published)",
    responses=error_responses(401, 404, 422),
)
async def team_feedback(session: SessionDep, view: TeamDep) -> TeamFeedbackOut:
    return TeamFeedbackOut.model_validate(await service.team_feedback(session, view))


@router.get(
    "/results/export.{fmt}",
    summary="Export the ranking (overall and per track) and every evaluation, CSV or JSON "
    "(organizers)",
    responses={
        **error_responses(401, 403, 404, 422),
        200: {"content": {"text/csv": {}, "application/json": {}}},
    },
)
async def export(
    fmt: Annotated[str, Path(pattern="^(csv|json)$")],
    session: SessionDep,
    access: EventOrganizerDep,
) -> Response:
    """The current ranking (judge effect, raw mean beside it), each track's own ranking, and
    the evaluations behind them: judge, submission, team, raw score, per-criterion scores,
    status, when."""
    ranked, _ = await compute_ranking(session, access, ranking.DEFAULT_METHOD)
    titles = {
        sid: (title, team)
        for sid, title, team in await session.execute(
            select(Submission.id, Submission.title, Team.name)
            .join(Team, Team.id == Submission.team_id)
            .where(Submission.event_id == access.event.id)
        )
    }
    rows = await session.execute(
        select(Evaluation, User.email)
        .join(User, User.id == Evaluation.judge_id)
        .where(Evaluation.event_id == access.event.id)
        .order_by(Evaluation.submission_id, User.email)
    )
    evaluations = [
        {
            "submission_id": str(e.submission_id),
            "judge": email,
            "raw_score": e.raw_score,
            "scores": e.scores,
            "status": e.status,
            "submitted_at": e.submitted_at.isoformat() if e.submitted_at else None,
        }
        for e, email in rows
    ]

    def row_of(item: ranking.RankedItem) -> dict[str, Any]:
        title, team = titles.get(item.submission_id, ("", ""))  # type: ignore[call-overload]
        return {
            "rank": item.rank,
            "submission_id": str(item.submission_id),
            "title": title,
            "team": team,
            "score": round(item.score, 4),
            "raw_mean": round(item.raw_mean, 4),
            "evaluations": item.evaluations,
        }

    ranking_rows = [row_of(item) for item in ranked]
    tracks_of, submitted_at = await submission_facts(session, access.event.id)
    per_track: list[dict[str, Any]] = [
        {
            "track_id": str(track.id),
            "name": track.name,
            "ranking": [
                row_of(item) for item in rank_in_track(ranked, tracks_of, submitted_at, track.id)
            ],
        }
        for track in await list_tracks(session, access.event)
    ]
    name = f"{access.event.slug}-results.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "json":
        body = json.dumps(
            {
                "method": ranking.DEFAULT_METHOD.value,
                "ranking": ranking_rows,
                "tracks": per_track,
                "evaluations": evaluations,
            }
        )
        return Response(body, media_type="application/json", headers=headers)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RANKING_COLUMNS)
    for row in ranking_rows:
        writer.writerow([defuse(row[k]) for k in RANKING_COLUMNS])
    writer.writerow([])
    writer.writerow(["track", *RANKING_COLUMNS])
    for section in per_track:
        for track_row in section["ranking"]:
            cells = [section["name"], *(track_row[k] for k in RANKING_COLUMNS)]
            writer.writerow([defuse(v) for v in cells])
    writer.writerow([])
    writer.writerow(["submission_id", "judge", "raw_score", "scores", "status", "submitted_at"])
    for ev in evaluations:
        writer.writerow(
            [
                defuse(ev[k] if k != "scores" else json.dumps(ev[k]))
                for k in ("submission_id", "judge", "raw_score", "scores", "status", "submitted_at")
            ]
        )
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
